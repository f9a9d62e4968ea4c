"""Daily evidence per RT and WIB day, derived from stored readings. Pure functions.

Every figure comes with what was expected, so a dead sensor shows as low coverage
("insufficient evidence"), never as a silent zero. The night of day D is the poskamling shift
that starts on D (about 22:00 D to 04:00 D+1).

Readings the sensors cannot vouch for are flagged (``bantar.domain.quality``) and left out of
every figure: they count towards "bukti kurang", and the day carries the flag with its device.
Bin figures are weighted by the time each reading stands for (capped at the device's expected
interval), so a bin that reports more often when nearly full does not bias them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from statistics import median
from typing import NamedTuple, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from bantar.domain.availability import AvailabilityRow, online_ticks
from bantar.domain.quality import (
    DayFlag,
    FlagCode,
    QualityRules,
    ShiftRules,
    deposit_bursts,
    skewed_offset_s,
    stuck_runs,
)
from bantar.domain.registry import RT, Device
from bantar.domain.timebase import DAY_MS, HOUR_MS, WIB_OFFSET_MS, wib_day_bounds_utc, wib_day_of_ms
from bantar.domain.topics import DeviceKind
from bantar.kinds.contract import DayWindow, Figures, KindDay, KindRow, Source, source_of
from bantar.kinds.registry import plugins

LOOKBACK_MS = 2 * 3600 * 1000
"""Readings before the day that are needed to see a collection (or a stuck run) at its start."""
NIGHT_START_H, NIGHT_END_H = 20, 30
"""Shift reports count for the night of D from 20:00 D to 06:00 D+1 (WIB); the rest of D
(06:00-20:00) is its daytime, so every incident belongs to exactly one night or daytime."""


class BinRow(NamedTuple):
    device_id: str
    ts_ms: int
    fill_pct: float
    seq: int = 0
    received_ms: int = 0
    distance_cm: float | None = None


class CctvRow(NamedTuple):
    device_id: str
    ts_ms: int
    online: bool
    seq: int = 0
    received_ms: int = 0
    recording: bool = True


class PoskamlingRow(NamedTuple):
    device_id: str
    ts_ms: int
    event: str
    on_duty: bool | None
    guards: int | None
    seq: int = 0
    received_ms: int = 0


class DepositRow(NamedTuple):
    device_id: str
    ts_ms: int
    household: str
    kg: dict[str, float]
    value_idr: int
    seq: int = 0
    received_ms: int = 0


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
    kinds: Mapping[DeviceKind, Sequence[KindRow]] = {}
    """the rows of kinds added as plug-ins since (``bantar.kinds.contract``), by kind"""


class CollectionRules(BaseModel):
    """A collection is a fall in fill (levels: the means of the three readings before and from
    it, so noise on an almost empty bin is not one): ``drop_pct`` points to at most
    ``level_pct`` and at most ``relative_after`` of the level before, or, for a lightly used bin,
    from at least ``small_from_pct`` to at most ``small_level_pct`` (emptied from 9 % to 0.5 %)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drop_pct: float = Field(default=10.0, gt=0, le=100)
    level_pct: float = Field(default=20.0, gt=0, le=100)
    relative_after: float = Field(default=0.5, gt=0, lt=1)
    small_from_pct: float = Field(default=8.0, gt=0, le=100)
    small_level_pct: float = Field(default=3.0, ge=0, le=100)
    min_gap_h: float = Field(default=12.0, ge=0, le=72)
    """a second fall within this many hours of a collection is the same one (or noise on an
    almost empty bin), never a second collection"""

    def is_collection(self, before: float, after: float) -> bool:
        if after > before * self.relative_after:
            return False
        big = before - after >= self.drop_pct and after <= self.level_pct
        return big or (before >= self.small_from_pct and after <= self.small_level_pct)


class DerivationRules(NamedTuple):
    """What deriving a day needs from ``config/rules.yaml``."""

    overflow_pct: float
    coverage_min: float
    quality: QualityRules
    shift: ShiftRules
    collection: CollectionRules
    kinds: Mapping[str, BaseModel] = {}
    """each plug-in kind's rules (``Rules.kinds``)"""


class DayEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    rt_code: str
    day: date
    bins: int = 0
    bin_readings: int = 0
    """readings that count (flagged ones excluded)"""
    bin_readings_expected: int = 0
    bin_readings_flagged: int = 0
    bin_mean_fill: float | None = None
    """time-weighted"""
    bin_peak_fill: float | None = None
    bin_hours_observed: float = 0.0
    """bin-hours the counted readings stand for (each capped at its expected interval)"""
    bin_hours_expected: float = 0.0
    bin_overflow_hours: float = 0.0
    bin_collections: int = 0
    bin_observed: bool | None = None
    """enough bin-hours (``coverage_min``) to judge collections on this day; None: no bins"""
    cameras: int = 0
    cameras_reporting: int = 0
    cctv_heartbeats: int = 0
    cctv_heartbeats_expected: int = 0
    cctv_heartbeats_flagged: int = 0
    cctv_online_heartbeats: int = 0
    """online and recording"""
    posts: int = 0
    post_reports: int = 0
    post_reports_expected: int = 0
    post_reports_flagged: int = 0
    night_staffed: bool | None = None
    night_observed: bool | None = None
    """the night's duty reports reached ``coverage_min`` (or it was staffed): it can be judged"""
    night_shift_hours: float = 0.0
    patrols: int = 0
    incidents: int = 0
    """incidents of the night (20:00 D - 06:00 D+1)"""
    incidents_daytime: int = 0
    """incidents of the day's daytime (06:00-20:00 D)"""
    deposits: int = 0
    deposits_flagged: int = 0
    deposit_kg: dict[str, float] = {}
    households: int = 0
    deposit_value_idr: int = 0
    gotong_royong_events: int = 0
    gotong_royong_attendance: int = 0
    kinds: dict[str, Figures] = {}
    """the figures of kinds added as plug-ins (``bantar.kinds``), by kind"""
    in_progress: bool = False
    """the day is not over ("berjalan"): expected figures cover only the part that has passed"""
    late_readings: int = 0
    flags: list[DayFlag] = []
    sources: list[Source] = []
    revision: int = 0
    """1 for the first derivation; grows each time a finished day's figures change"""
    changed_at_ms: int | None = None
    change_reason: str | None = None
    """first, late_readings, device_switched, rule_change, new_readings"""
    household_ids: list[str] = Field(default=[], exclude=True)
    """who deposited (counted ones only): for period totals, never shown"""

    @property
    def cctv_uptime(self) -> float | None:
        counted = self.cctv_heartbeats_expected - self.cctv_heartbeats_flagged
        return min(1.0, self.cctv_online_heartbeats / counted) if counted > 0 else None

    @property
    def bin_coverage(self) -> float | None:
        return _share(self.bin_readings, self.bin_readings_expected)

    def figures(self) -> dict[str, object]:
        """Everything but the revision bookkeeping: what a re-derivation compares (no plug-in
        kinds: as before they existed, so stored days keep their digest)."""
        figures = self.model_dump(exclude={"revision", "changed_at_ms", "change_reason", "in_progress"})
        if not self.kinds:
            del figures["kinds"]
        return figures


def _share(part: float, whole: float) -> float | None:
    return min(1.0, part / whole) if whole else None


def readings_window(day: date) -> tuple[int, int]:
    """[start, end) in epoch ms of the readings the evidence of ``day`` needs."""
    start, end = wib_day_bounds_utc(day)
    return int(start.timestamp() * 1000) - LOOKBACK_MS, int(end.timestamp() * 1000) + 6 * HOUR_MS


def derive_day(
    rt: RT, devices: Sequence[Device], day: date, readings: RTReadings, rules: DerivationRules, now_ms: int
) -> DayEvidence:
    start, end = (int(t.timestamp() * 1000) for t in wib_day_bounds_utc(day))
    by_kind: dict[DeviceKind, list[Device]] = defaultdict(list)
    for device in devices:
        if device.active and device.channel == "mqtt":
            by_kind[device.kind].append(device)
    flags: list[DayFlag] = []
    sources: list[Source] = []
    q = rules.quality
    skewed = _skewed_devices(readings, start, end, q, flags)
    late_ms = q.late_after_s * 1000
    day_readings = DayWindow(start, end, min(end, max(start, now_ms)), skewed, late_ms, now_ms)
    bins = _bins(by_kind[DeviceKind.bin], readings.bins, day_readings, rules, flags, sources)
    cameras = _cameras(by_kind[DeviceKind.cctv], readings.cctv, day_readings, flags, sources, readings.availability)
    posts = _posts(by_kind[DeviceKind.poskamling], readings.poskamling, day_readings, rules, flags, sources)
    deposits = _deposits(readings.deposits, day_readings, q, flags, sources)
    kinds = _plugin_kinds(by_kind, readings, day_readings, rules, flags, sources)
    return DayEvidence(
        rt_code=rt.code,
        day=day,
        **bins,
        **cameras,
        **posts,
        **deposits,
        gotong_royong_events=sum(1 for g in readings.gotong_royong if start <= g.ts_ms < end),
        gotong_royong_attendance=sum(g.attendance for g in readings.gotong_royong if start <= g.ts_ms < end),
        kinds=kinds,
        in_progress=now_ms < end,
        late_readings=sum(s.late for s in sources),
        flags=sorted(flags, key=lambda f: (f.code, f.device_id)),
        sources=sorted(sources, key=lambda s: s.device_id),
    )


def _plugin_kinds(
    by_kind: Mapping[DeviceKind, list[Device]],
    readings: RTReadings,
    w: DayWindow,
    rules: DerivationRules,
    flags: list[DayFlag],
    sources: list[Source],
) -> dict[str, Figures]:
    """The figures of each plug-in kind the RT has devices or readings of."""
    found: dict[str, Figures] = {}
    for p in plugins().values():
        rows = readings.kinds.get(p.kind, ())
        if p.evidence is None or not (by_kind.get(p.kind) or rows):
            continue
        result = p.evidence(KindDay(by_kind.get(p.kind, []), rows, w, rules.kinds.get(p.kind.value)))
        found[p.kind.value] = result.figures
        flags.extend(result.flags)
        sources.extend(result.sources)
    return found


def _skewed_devices(
    readings: RTReadings, start: int, end: int, q: QualityRules, flags: list[DayFlag]
) -> frozenset[str]:
    """Devices whose clock, judged from their live readings of the day, is off by more than the
    allowed skew: all their readings of the day are flagged (they may sit on the wrong day)."""
    times: dict[str, list[tuple[int, int]]] = defaultdict(list)
    series: list[Sequence[BinRow | CctvRow | PoskamlingRow | DepositRow | KindRow]] = [
        readings.bins,
        readings.cctv,
        readings.poskamling,
        readings.deposits,
        *readings.kinds.values(),
    ]
    for rows in series:
        for row in rows:
            if start <= row.ts_ms < end and row.received_ms:
                times[row.device_id].append((row.ts_ms, row.received_ms))
    skewed = set()
    for device_id, pairs in times.items():
        offset = skewed_offset_s(pairs, q.clock_skew_max_s)
        if offset is not None:
            skewed.add(device_id)
            flags.append(DayFlag(code=FlagCode.clock_skew, device_id=device_id, readings=len(pairs), offset_s=offset))
    return frozenset(skewed)


class _BinFigures(TypedDict, total=False):
    bins: int
    bin_readings: int
    bin_readings_expected: int
    bin_readings_flagged: int
    bin_mean_fill: float | None
    bin_peak_fill: float | None
    bin_hours_observed: float
    bin_hours_expected: float
    bin_overflow_hours: float
    bin_collections: int
    bin_observed: bool | None


def _bins(
    devices: list[Device],
    rows: list[BinRow],
    w: DayWindow,
    rules: DerivationRules,
    flags: list[DayFlag],
    sources: list[Source],
) -> _BinFigures:
    if not devices:
        return {}
    q = rules.quality
    per_device: dict[str, list[BinRow]] = defaultdict(list)
    for row in rows:
        per_device[row.device_id].append(row)
    weighted = observed = overflow = 0.0
    peak: float | None = None
    collections = counted = flagged_total = 0
    depth = {d.id: d.depth_cm for d in devices}
    intervals = {d.id: d.interval_s * 1000 for d in devices}
    for device_id, series in per_device.items():
        interval = intervals.get(device_id)
        if interval is None:
            continue
        found = _bad_bin_readings(series, depth[device_id], q)
        for code, indexes in found.items():
            on_day = sum(1 for i in indexes if w.start <= series[i].ts_ms < w.end)
            if on_day and device_id not in w.skewed:
                flags.append(DayFlag(code=code, device_id=device_id, readings=on_day))
        bad = set().union(*found.values()) if device_id not in w.skewed else set(range(len(series)))
        good = [r for i, r in enumerate(series) if i not in bad]
        today = [r for r in series if w.start <= r.ts_ms < w.end]
        if today:
            flagged = sum(1 for i, r in enumerate(series) if i in bad and w.start <= r.ts_ms < w.end)
            sources.append(source_of(DeviceKind.bin, device_id, today, w.late_ms, flagged))
            flagged_total += flagged
        if device_id in w.skewed:
            continue
        smoothed = _median3([r.fill_pct for r in good])  # an isolated spike is noise, not a level
        gap_ms = rules.collection.min_gap_h * HOUR_MS
        last_collection = -gap_ms - 1
        for i, row in enumerate(good):
            following = good[i + 1].ts_ms if i + 1 < len(good) else row.ts_ms + interval
            before, after = smoothed[max(0, i - 3) : i], smoothed[i : i + 3]
            fell = i > 0 and rules.collection.is_collection(_mean(before), _mean(after))
            if fell and row.ts_ms - last_collection > gap_ms:
                collections += w.start <= row.ts_ms < w.end
                last_collection = row.ts_ms
            if not w.start <= row.ts_ms < w.end:
                continue
            counted += 1
            span_h = (min(following, row.ts_ms + interval, w.end) - row.ts_ms) / HOUR_MS
            observed += span_h
            weighted += smoothed[i] * span_h
            peak = smoothed[i] if peak is None else max(peak, smoothed[i])
            if smoothed[i] >= rules.overflow_pct:
                overflow += span_h
    expected_h = sum((w.until - w.start) / HOUR_MS for _ in devices)
    return {
        "bins": len(devices),
        "bin_readings": counted,
        "bin_readings_expected": sum((w.until - w.start) // intervals[d.id] for d in devices),
        "bin_readings_flagged": flagged_total,
        "bin_mean_fill": round(weighted / observed, 2) if observed else None,
        "bin_peak_fill": None if peak is None else round(peak, 2),
        "bin_hours_observed": round(observed, 3),
        "bin_hours_expected": round(expected_h, 3),
        "bin_overflow_hours": round(overflow, 3),
        "bin_collections": collections,
        "bin_observed": bool(expected_h) and observed >= rules.coverage_min * expected_h,
    }


def _bad_bin_readings(series: list[BinRow], depth_cm: float | None, q: QualityRules) -> dict[FlagCode, set[int]]:
    """Indexes of readings a bin cannot vouch for, by flag: an out-of-range sentinel, a distance
    beyond the bin's depth, a flat line (the same value, within tolerance, for a long run)."""
    sentinel, beyond = set(), set()
    for i, row in enumerate(series):
        if row.distance_cm is None:
            continue
        if any(abs(row.distance_cm - s) < 1e-6 for s in q.sentinel_distance_cm):
            sentinel.add(i)
        elif depth_cm is not None and row.distance_cm > depth_cm * (1 + q.beyond_depth_tolerance):
            beyond.add(i)
    rest = [i for i in range(len(series)) if i not in sentinel and i not in beyond]
    stuck = {rest[j] for j in stuck_runs([series[i].fill_pct for i in rest], q.stuck_readings, q.stuck_tolerance_pct)}
    return {FlagCode.sentinel: sentinel, FlagCode.beyond_depth: beyond, FlagCode.stuck: stuck}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _median3(values: list[float]) -> list[float]:
    if len(values) < 3:
        return values
    return [values[0], *(median(values[i - 1 : i + 2]) for i in range(1, len(values) - 1)), values[-1]]


class _CameraFigures(TypedDict, total=False):
    cameras: int
    cameras_reporting: int
    cctv_heartbeats: int
    cctv_heartbeats_expected: int
    cctv_heartbeats_flagged: int
    cctv_online_heartbeats: int


def _cameras(
    devices: list[Device],
    rows: list[CctvRow],
    w: DayWindow,
    flags: list[DayFlag],
    sources: list[Source],
    availability: Sequence[AvailabilityRow] = (),
) -> _CameraFigures:
    """A heartbeat counts as up when the camera is online and recording; one that is online but
    not recording is flagged (the camera is on, but nothing is kept)."""
    if not devices:
        return {}
    known = {d.id for d in devices}
    today: dict[str, list[CctvRow]] = defaultdict(list)
    for r in rows:
        if w.start <= r.ts_ms < w.end and r.device_id in known:
            today[r.device_id].append(r)
    # cameras that report availability (LWT, Frigate, ESPHome status): a heartbeat per interval online
    for device_id, t in online_ticks(devices, availability, w.start, w.end):
        today[device_id].append(CctvRow(device_id, t, True))
    flagged = up = 0
    reporting = 0
    for device_id, series in today.items():
        if device_id in w.skewed:
            bad = len(series)
        else:
            bad = sum(1 for r in series if r.online and not r.recording)
            up += sum(1 for r in series if r.online and r.recording)
            if bad:
                flags.append(DayFlag(code=FlagCode.not_recording, device_id=device_id, readings=bad))
        flagged += bad
        reporting += bad < len(series)
        sources.append(source_of(DeviceKind.cctv, device_id, series, w.late_ms, bad))
    return {
        "cameras": len(devices),
        "cameras_reporting": reporting,
        "cctv_heartbeats": sum(len(s) for s in today.values()),
        "cctv_heartbeats_expected": sum((w.until - w.start) // (d.interval_s * 1000) for d in devices),
        "cctv_heartbeats_flagged": flagged,
        "cctv_online_heartbeats": up,
    }


class _PostFigures(TypedDict, total=False):
    posts: int
    post_reports: int
    post_reports_expected: int
    post_reports_flagged: int
    night_staffed: bool | None
    night_observed: bool | None
    night_shift_hours: float
    patrols: int
    incidents: int
    incidents_daytime: int


def _posts(
    devices: list[Device],
    rows: list[PoskamlingRow],
    w: DayWindow,
    rules: DerivationRules,
    flags: list[DayFlag],
    sources: list[Source],
) -> _PostFigures:
    """``devices``: the RT's MQTT posts (web reports count as reports but expect nothing)."""
    if not devices and not rows:
        return {}
    night_start, night_end = w.start + NIGHT_START_H * HOUR_MS, w.start + NIGHT_END_H * HOUR_MS
    counted = [r for r in rows if r.device_id not in w.skewed]
    night = [r for r in counted if night_start <= r.ts_ms < night_end]
    today = [r for r in rows if w.start <= r.ts_ms < w.end]
    per_device: dict[str, list[PoskamlingRow]] = defaultdict(list)
    for r in today:
        per_device[r.device_id].append(r)
    for device_id, series in per_device.items():
        sources.append(
            source_of(DeviceKind.poskamling, device_id, series, w.late_ms, len(series) if device_id in w.skewed else 0)
        )
    flagged = sum(len(s) for d, s in per_device.items() if d in w.skewed)
    shift_h = rules.shift.longest_shift_h([(r.ts_ms, r.on_duty, r.guards) for r in night if r.event == "duty"])
    staffed = shift_h >= rules.shift.min_hours
    over = w.now >= night_end  # a night still under way may yet be staffed
    short = over and any(r.event == "duty" and r.on_duty for r in night) and not staffed
    if short:
        flags.append(DayFlag(code=FlagCode.short_shift, device_id=night[0].device_id, readings=0))
    night_reports = sum(1 for r in night if r.event == "duty")
    night_expected = sum((NIGHT_END_H - NIGHT_START_H) * 3600 // d.interval_s for d in devices)
    return {
        "posts": len(devices),
        "post_reports": sum(1 for r in today if r.event == "duty") - flagged_duty(per_device, w.skewed),
        "post_reports_expected": sum((w.until - w.start) // (d.interval_s * 1000) for d in devices),
        "post_reports_flagged": flagged,
        "night_staffed": staffed,
        "night_observed": staffed or (night_expected > 0 and night_reports >= rules.coverage_min * night_expected),
        "night_shift_hours": round(shift_h, 3),
        "patrols": sum(1 for r in night if r.event == "patrol") if staffed else 0,
        "incidents": sum(1 for r in night if r.event == "incident"),
        "incidents_daytime": sum(
            1 for r in counted if r.event == "incident" and w.start + 6 * HOUR_MS <= r.ts_ms < night_start
        ),
    }


def flagged_duty(per_device: dict[str, list[PoskamlingRow]], skewed: frozenset[str]) -> int:
    return sum(1 for d, s in per_device.items() if d in skewed for r in s if r.event == "duty")


class _DepositFigures(TypedDict):
    deposits: int
    deposits_flagged: int
    deposit_kg: dict[str, float]
    households: int
    deposit_value_idr: int
    household_ids: list[str]


def _deposits(
    rows: list[DepositRow], w: DayWindow, q: QualityRules, flags: list[DayFlag], sources: list[Source]
) -> _DepositFigures:
    today = [r for r in rows if w.start <= r.ts_ms < w.end]
    bursts = {i for i in deposit_bursts([(r.ts_ms, sum(r.kg.values())) for r in today], q)}
    per_device: dict[str, list[DepositRow]] = defaultdict(list)
    for r in today:
        per_device[r.device_id].append(r)
    burst_rows = {id(today[i]) for i in bursts}
    for device_id, series in per_device.items():
        bad = sum(1 for r in series if id(r) in burst_rows or device_id in w.skewed)
        sources.append(source_of(DeviceKind.bank_sampah, device_id, series, w.late_ms, bad))
        if bad and device_id not in w.skewed:
            flags.append(DayFlag(code=FlagCode.deposit_burst, device_id=device_id, readings=bad))
    counted = [r for r in today if id(r) not in burst_rows and r.device_id not in w.skewed]
    kg: dict[str, float] = defaultdict(float)
    for row in counted:
        for material, weight in row.kg.items():
            kg[material] += weight
    households = sorted({r.household for r in counted})
    return {
        "deposits": len(counted),
        "deposits_flagged": len(today) - len(counted),
        "deposit_kg": {m: round(wt, 3) for m, wt in sorted(kg.items())},
        "households": len(households),
        "deposit_value_idr": sum(r.value_idr for r in counted),
        "household_ids": households,
    }


def days_touched(ts_ms: int) -> list[date]:
    """The WIB days whose evidence a reading at ``ts_ms`` can change: its own day, the previous
    one when it falls in the tail of that day's night (before 06:00), and the next one when it
    is within the look-back of the next day's first readings."""
    day = wib_day_of_ms(ts_ms)
    ms_of_day = (ts_ms + WIB_OFFSET_MS) % DAY_MS
    days = [day]
    if ms_of_day < (NIGHT_END_H - 24) * HOUR_MS:
        days.append(day - timedelta(days=1))
    if ms_of_day >= DAY_MS - LOOKBACK_MS:
        days.append(day + timedelta(days=1))
    return days
