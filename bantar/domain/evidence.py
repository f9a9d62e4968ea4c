"""Daily evidence per RT and WIB day, derived from stored readings. Pure functions.

Every figure comes with what was expected, so a dead sensor shows as low coverage
("insufficient evidence"), never as a silent zero. The night of day D is the poskamling shift
that starts on D (about 22:00 D to 04:00 D+1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from statistics import median
from typing import NamedTuple, TypedDict

from pydantic import BaseModel, ConfigDict

from bantar.domain.availability import AvailabilityRow, online_ticks
from bantar.domain.registry import RT, Device
from bantar.domain.timebase import wib_day_bounds_utc
from bantar.domain.topics import DeviceKind

COLLECTION_DROP_PCT = 10.0
"""A fall of at least this many points, to at most half the level before and at most
COLLECTION_LEVEL_PCT, is a collection (a lightly used bin is emptied from 15 % too)."""
COLLECTION_LEVEL_PCT = 20.0
LOOKBACK_MS = 2 * 3600 * 1000
"""Readings before the day that are needed to see a collection at its very start."""
NIGHT_START_H, NIGHT_END_H = 20, 30
"""Shift reports count for the night of D from 20:00 D to 06:00 D+1 (WIB)."""
DAY_MS = 86_400_000
WIB_OFFSET_MS = 7 * 3_600_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class BinRow(NamedTuple):
    device_id: str
    ts_ms: int
    fill_pct: float


class CctvRow(NamedTuple):
    device_id: str
    ts_ms: int
    online: bool


class PoskamlingRow(NamedTuple):
    device_id: str
    ts_ms: int
    event: str
    on_duty: bool | None
    guards: int | None


class DepositRow(NamedTuple):
    device_id: str
    ts_ms: int
    household: str
    kg: dict[str, float]
    value_idr: int


class GotongRoyongRow(NamedTuple):
    ts_ms: int
    attendance: int


class RTReadings(NamedTuple):
    """An RT's readings over a time range, each list sorted by time."""

    bins: list[BinRow]
    cctv: list[CctvRow]
    poskamling: list[PoskamlingRow]
    deposits: list[DepositRow]
    gotong_royong: list[GotongRoyongRow]
    availability: Sequence[AvailabilityRow] = ()
    """online/offline changes (issue #15), each device's last one before the range first"""


class DayEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    rt_code: str
    day: date
    bins: int = 0
    bin_readings: int = 0
    bin_readings_expected: int = 0
    bin_mean_fill: float | None = None
    bin_peak_fill: float | None = None
    bin_hours_observed: float = 0.0
    bin_overflow_hours: float = 0.0
    bin_collections: int = 0
    cameras: int = 0
    cameras_reporting: int = 0
    cctv_heartbeats: int = 0
    cctv_heartbeats_expected: int = 0
    cctv_online_heartbeats: int = 0
    posts: int = 0
    post_reports: int = 0
    post_reports_expected: int = 0
    night_staffed: bool | None = None
    patrols: int = 0
    incidents: int = 0
    deposits: int = 0
    deposit_kg: dict[str, float] = {}
    households: int = 0
    deposit_value_idr: int = 0
    gotong_royong_events: int = 0
    gotong_royong_attendance: int = 0

    @property
    def cctv_uptime(self) -> float | None:
        return self.cctv_online_heartbeats / self.cctv_heartbeats_expected if self.cctv_heartbeats_expected else None

    @property
    def bin_coverage(self) -> float | None:
        return _share(self.bin_readings, self.bin_readings_expected)


def _share(part: int, whole: int) -> float | None:
    return min(1.0, part / whole) if whole else None


def readings_window(day: date) -> tuple[int, int]:
    """[start, end) in epoch ms of the readings the evidence of ``day`` needs."""
    start, end = wib_day_bounds_utc(day)
    return int(start.timestamp() * 1000) - LOOKBACK_MS, int(end.timestamp() * 1000) + 6 * 3600 * 1000


def derive_day(rt: RT, devices: Sequence[Device], day: date, readings: RTReadings, overflow_pct: float) -> DayEvidence:
    start, end = (int(t.timestamp() * 1000) for t in wib_day_bounds_utc(day))
    by_kind: dict[DeviceKind, list[Device]] = defaultdict(list)
    for device in devices:
        if device.active and device.channel == "mqtt":
            by_kind[device.kind].append(device)
    return DayEvidence(
        rt_code=rt.code,
        day=day,
        **_bins(by_kind[DeviceKind.bin], readings.bins, start, end, overflow_pct),
        **_cameras(by_kind[DeviceKind.cctv], readings.cctv, start, end, readings.availability),
        **_posts(by_kind[DeviceKind.poskamling], readings.poskamling, start, end),
        **_deposits(readings.deposits, start, end),
        gotong_royong_events=sum(1 for g in readings.gotong_royong if start <= g.ts_ms < end),
        gotong_royong_attendance=sum(g.attendance for g in readings.gotong_royong if start <= g.ts_ms < end),
    )


class _BinFigures(TypedDict, total=False):
    bins: int
    bin_readings: int
    bin_readings_expected: int
    bin_mean_fill: float | None
    bin_peak_fill: float | None
    bin_hours_observed: float
    bin_overflow_hours: float
    bin_collections: int


class _CameraFigures(TypedDict, total=False):
    cameras: int
    cameras_reporting: int
    cctv_heartbeats: int
    cctv_heartbeats_expected: int
    cctv_online_heartbeats: int


class _PostFigures(TypedDict, total=False):
    posts: int
    post_reports: int
    post_reports_expected: int
    night_staffed: bool | None
    patrols: int
    incidents: int


class _DepositFigures(TypedDict):
    deposits: int
    deposit_kg: dict[str, float]
    households: int
    deposit_value_idr: int


def _bins(devices: list[Device], rows: list[BinRow], start: int, end: int, overflow_pct: float) -> _BinFigures:
    if not devices:
        return {}
    per_device: dict[str, list[BinRow]] = defaultdict(list)
    for row in rows:
        per_device[row.device_id].append(row)
    fills: list[float] = []
    observed_h = overflow_h = 0.0
    collections = readings = 0
    intervals = {d.id: d.interval_s * 1000 for d in devices}
    for device_id, series in per_device.items():
        interval = intervals.get(device_id)
        if interval is None:
            continue
        smoothed = _median3([r.fill_pct for r in series])  # an isolated spike is noise, not a level
        for i, row in enumerate(series):
            if not start <= row.ts_ms < end:
                continue
            readings += 1
            fills.append(smoothed[i])
            following = series[i + 1].ts_ms if i + 1 < len(series) else row.ts_ms + interval
            span_h = (min(following, row.ts_ms + 2 * interval, end) - row.ts_ms) / 3_600_000
            observed_h += span_h
            if smoothed[i] >= overflow_pct:
                overflow_h += span_h
            if i > 0 and _is_collection(smoothed[i - 1], smoothed[i]):
                collections += 1
    return {
        "bins": len(devices),
        "bin_readings": readings,
        "bin_readings_expected": sum((end - start) // intervals[d.id] for d in devices),
        "bin_mean_fill": round(sum(fills) / len(fills), 2) if fills else None,
        "bin_peak_fill": round(max(fills), 2) if fills else None,
        "bin_hours_observed": round(observed_h, 3),
        "bin_overflow_hours": round(overflow_h, 3),
        "bin_collections": collections,
    }


def _is_collection(before: float, after: float) -> bool:
    return before - after >= COLLECTION_DROP_PCT and after <= min(COLLECTION_LEVEL_PCT, before / 2)


def _median3(values: list[float]) -> list[float]:
    if len(values) < 3:
        return values
    return [values[0], *(median(values[i - 1 : i + 2]) for i in range(1, len(values) - 1)), values[-1]]


def _cameras(
    devices: list[Device], rows: list[CctvRow], start: int, end: int, availability: Sequence[AvailabilityRow] = ()
) -> _CameraFigures:
    if not devices:
        return {}
    known = {d.id for d in devices}
    today = [r for r in rows if start <= r.ts_ms < end and r.device_id in known]
    # issue #15: cameras that report availability (LWT, Frigate) count a heartbeat per interval online
    today += [CctvRow(device_id, t, True) for device_id, t in online_ticks(devices, availability, start, end)]
    return {
        "cameras": len(devices),
        "cameras_reporting": len({r.device_id for r in today}),
        "cctv_heartbeats": len(today),
        "cctv_heartbeats_expected": sum((end - start) // (d.interval_s * 1000) for d in devices),
        "cctv_online_heartbeats": sum(1 for r in today if r.online),
    }


def _posts(devices: list[Device], rows: list[PoskamlingRow], start: int, end: int) -> _PostFigures:
    """``devices``: the RT's MQTT posts (web reports count as reports but expect nothing)."""
    if not devices and not rows:
        return {}
    hour = 3_600_000
    night = [r for r in rows if start + NIGHT_START_H * hour <= r.ts_ms < start + NIGHT_END_H * hour]
    return {
        "posts": len(devices),
        "post_reports": sum(1 for r in rows if start <= r.ts_ms < end and r.event == "duty"),
        "post_reports_expected": sum((end - start) // (d.interval_s * 1000) for d in devices),
        "night_staffed": any(r.event == "duty" and r.on_duty and (r.guards or 0) > 0 for r in night),
        "patrols": sum(1 for r in night if r.event == "patrol"),
        "incidents": sum(1 for r in night if r.event == "incident"),
    }


def _deposits(rows: list[DepositRow], start: int, end: int) -> _DepositFigures:
    today = [r for r in rows if start <= r.ts_ms < end]
    kg: dict[str, float] = defaultdict(float)
    for row in today:
        for material, weight in row.kg.items():
            kg[material] += weight
    return {
        "deposits": len(today),
        "deposit_kg": {m: round(w, 3) for m, w in sorted(kg.items())},
        "households": len({r.household for r in today}),
        "deposit_value_idr": sum(r.value_idr for r in today),
    }


def days_touched(ts_ms: int) -> list[date]:
    """The WIB days whose evidence a reading at ``ts_ms`` can change: its own day, the previous
    one when it falls in the tail of that day's night (before 06:00), and the next one when it
    is within the look-back of the next day's first readings."""
    local_ms = ts_ms + WIB_OFFSET_MS
    day = date.fromordinal(EPOCH_ORDINAL + local_ms // DAY_MS)
    ms_of_day = local_ms % DAY_MS
    days = [day]
    if ms_of_day < (NIGHT_END_H - 24) * 3_600_000:
        days.append(day - timedelta(days=1))
    if ms_of_day >= DAY_MS - LOOKBACK_MS:
        days.append(day + timedelta(days=1))
    return days
