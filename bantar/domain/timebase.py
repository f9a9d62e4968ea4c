"""Time conventions: store UTC, bucket days, nights and months in WIB (Asia/Jakarta, UTC+7).

The one place for WIB and the clock: the offset in every form the code needs (a zone, a fixed
offset for formatting, milliseconds for arithmetic on epoch times and in SQL) and ``utc_now``,
the clock every composition injects."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
WIB_FIXED = timezone(timedelta(hours=7), "WIB")
"""WIB as a fixed offset (Indonesia keeps no daylight saving): cheap to format with"""
NS_PER_MS = 1_000_000
"""InfluxDB keeps time in nanoseconds"""
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
WIB_OFFSET_MS = 7 * HOUR_MS
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
PROGRAMME_START = datetime(2014, 1, 1, tzinfo=UTC)
"""Kampung BANTAR began with Perwali 47/2014: no device reading can predate it."""


def utc_now() -> datetime:
    """The wall clock, in UTC: what compositions inject where a clock is needed."""
    return datetime.now(UTC)


def wib_day_of_ms(ts_ms: int) -> date:
    """The WIB day of an epoch time in ms (``wib_day`` without building a datetime)."""
    return date.fromordinal(EPOCH_ORDINAL + (ts_ms + WIB_OFFSET_MS) // DAY_MS)


def wib_day_start_ms(day: date) -> int:
    """Epoch ms of a WIB day's midnight."""
    return (day.toordinal() - EPOCH_ORDINAL) * DAY_MS - WIB_OFFSET_MS


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
