"""Time conventions: store UTC, bucket days, nights and months in WIB (Asia/Jakarta, UTC+7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
PROGRAMME_START = datetime(2014, 1, 1, tzinfo=UTC)
"""Kampung BANTAR began with Perwali 47/2014: no device reading can predate it."""


def _with_offset(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every moment in BANTAR carries its offset")
    return moment


def to_utc(moment: datetime) -> datetime:
    return _with_offset(moment).astimezone(UTC)


def to_epoch_ms(moment: datetime) -> int:
    return int(_with_offset(moment).timestamp() * 1000)


def from_epoch_ms(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def wib_day(moment: datetime) -> date:
    """The WIB calendar day a moment falls on."""
    return moment.astimezone(WIB).date()


def wib_day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a WIB day, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=WIB)
    return to_utc(start), to_utc(start + timedelta(days=1))
