"""Time conventions: store UTC, bucket days, nights and months in WIB (Asia/Jakarta, UTC+7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
PROGRAMME_START = datetime(2014, 1, 1, tzinfo=UTC)
"""Kampung BANTAR began with Perwali 47/2014: no device reading can predate it."""

NIGHT_START = time(22, 0)
"""Poskamling duty runs roughly 22:00-04:00 WIB; a night belongs to the WIB date it starts on."""


def to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every moment in BANTAR carries its offset")
    return moment.astimezone(UTC)


def to_epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every moment in BANTAR carries its offset")
    return int(moment.timestamp() * 1000)


def from_epoch_ms(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def wib_day(moment: datetime) -> date:
    """The WIB calendar day a moment falls on."""
    return moment.astimezone(WIB).date()


def wib_night(moment: datetime) -> date:
    """The WIB date of the night a moment belongs to (times before noon count to the previous
    evening, so 02:00 on the 5th belongs to the night of the 4th)."""
    local = moment.astimezone(WIB)
    return local.date() - timedelta(days=1) if local.hour < 12 else local.date()


def wib_month(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m")


def wib_day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a WIB day, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=WIB)
    return to_utc(start), to_utc(start + timedelta(days=1))
