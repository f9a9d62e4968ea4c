"""Daily evidence per RT and WIB day, derived from stored readings. Pure functions.

Every figure comes with what was expected, so a dead sensor shows as low coverage
("insufficient evidence"), never as a silent zero. Each kind derives its own figures (its
plug-in's ``evidence``, ``bantar.kinds``); here they are put together: the figures of the
programme's first kinds are named ``DayEvidence`` fields (the v1 API and the ledger's columns),
the others' are ``DayEvidence.kinds``. The night of day D is the night watch's shift that starts on
D (about 22:00 D to 04:00 D+1).

Readings the sensors cannot vouch for are flagged (``bantar.domain.quality``) and left out of
every figure: they count towards "bukti kurang", and the day carries the flag with its device.
A device whose clock is off (judged here, over every kind's readings) counts for nothing that day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from bantar.domain.quality import DayFlag, FlagCode, QualityRules, ShiftRules, skewed_offset_s
from bantar.domain.registry import RT, Device
from bantar.domain.timebase import DAY_MS, HOUR_MS, WIB_OFFSET_MS, wib_day_bounds_utc, wib_day_of_ms
from bantar.domain.topics import DeviceKind
from bantar.kinds.contract import DayWindow, Figures, KindDay, Source
from bantar.kinds.registry import plugins

LOOKBACK_MS = 2 * 3600 * 1000
"""Readings before the day that are needed to see a collection (or a stuck run) at its start."""
NIGHT_START_H, NIGHT_END_H = 20, 30
"""Shift reports count for the night of D from 20:00 D to 06:00 D+1 (WIB); the rest of D
(06:00-20:00) is its daytime, so every incident belongs to exactly one night or daytime."""


class RTReadings(NamedTuple):
    """An RT's readings over a time range: each kind's rows (its ``Series.row_of``), sorted by
    time; a state kind's (availability) with each device's last one before the range first."""

    rows: Mapping[DeviceKind, Sequence[Any]] = {}

    def of(self, kind: DeviceKind) -> Sequence[Any]:
        return self.rows.get(kind, ())


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


class DayParts(NamedTuple):
    """What the kinds' evidence found for a day: ``figures`` are named ``DayEvidence`` fields
    (the ``named`` kinds') and ``kinds``, the others' figures by kind."""

    figures: dict[str, Any]
    flags: list[DayFlag]
    sources: list[Source]


def derive_day(
    rt: RT, devices: Sequence[Device], day: date, readings: RTReadings, rules: DerivationRules, now_ms: int
) -> DayEvidence:
    parts = day_parts(devices, day, readings, rules, now_ms)
    return assembled(rt.code, day, parts, now_ms)


def assembled(rt_code: str, day: date, parts: DayParts, now_ms: int) -> DayEvidence:
    """A day's evidence from what its kinds found."""
    end = int(wib_day_bounds_utc(day)[1].timestamp() * 1000)
    return DayEvidence(
        rt_code=rt_code,
        day=day,
        **parts.figures,
        in_progress=now_ms < end,
        late_readings=sum(s.late for s in parts.sources),
        flags=sorted(parts.flags, key=lambda f: (f.code, f.device_id)),
        sources=sorted(parts.sources, key=lambda s: s.device_id),
    )


def day_parts(
    devices: Sequence[Device], day: date, readings: RTReadings, rules: DerivationRules, now_ms: int
) -> DayParts:
    """Each kind's figures of the day, from its plug-in's ``evidence``, for every kind the RT
    has active MQTT devices or readings of."""
    start, end = (int(t.timestamp() * 1000) for t in wib_day_bounds_utc(day))
    by_kind: dict[DeviceKind, list[Device]] = defaultdict(list)
    for device in devices:
        if device.active and device.channel == "mqtt":
            by_kind[device.kind].append(device)
    flags: list[DayFlag] = []
    sources: list[Source] = []
    q = rules.quality
    skewed = _skewed_devices(readings, start, end, q, flags)
    window = DayWindow(start, end, min(end, max(start, now_ms)), skewed, q.late_after_s * 1000, now_ms)
    figures: dict[str, Any] = {}
    kinds: dict[str, Figures] = {}
    for p in plugins().values():
        rows = readings.of(p.kind)
        if p.evidence is None or not (by_kind.get(p.kind) or rows):
            continue
        others = {kind: readings.of(kind) for kind in p.reads}
        day_of_kind = KindDay(by_kind.get(p.kind, []), rows, window, rules.kinds.get(p.kind.value), rules, others)
        result = p.evidence(day_of_kind)
        if p.named:
            figures.update(result.figures)
        else:
            kinds[p.kind.value] = result.figures
        flags.extend(result.flags)
        sources.extend(result.sources)
    return DayParts({**figures, "kinds": kinds}, flags, sources)


def _skewed_devices(
    readings: RTReadings, start: int, end: int, q: QualityRules, flags: list[DayFlag]
) -> frozenset[str]:
    """Devices whose clock, judged from their live readings of the day, is off by more than the
    allowed skew: all their readings of the day are flagged (they may sit on the wrong day)."""
    times: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for p in plugins().values():
        if p.evidence is None or not p.clock:
            continue
        for row in readings.of(p.kind):
            if start <= row.ts_ms < end and row.received_ms:
                times[row.device_id].append((row.ts_ms, row.received_ms))
    skewed = set()
    for device_id, pairs in times.items():
        offset = skewed_offset_s(pairs, q.clock_skew_max_s)
        if offset is not None:
            skewed.add(device_id)
            flags.append(DayFlag(code=FlagCode.clock_skew, device_id=device_id, readings=len(pairs), offset_s=offset))
    return frozenset(skewed)


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
