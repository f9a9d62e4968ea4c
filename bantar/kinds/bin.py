"""Waste-bin fill sensors: the fill level (or the raw ultrasonic distance, with the bin's depth
from the registry) and the battery. Daily figures: the named ``DayEvidence`` fields ``bins``
and ``bin_*``, weighted by the time each reading stands for (capped at the device's expected
interval), so a bin that reports more often when nearly full does not bias them; its bulk
kernel (``bantar.bulk.bins``), metrics, chart and simulator model (``simulators.devices``) are
named here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any, NamedTuple

from bantar.domain.errors import Reason, Rejected
from bantar.domain.evidence import DerivationRules
from bantar.domain.quality import DayFlag, FlagCode, QualityRules, stuck_runs
from bantar.domain.readings import BinPayload, Payload, Reading
from bantar.domain.registry import RT, Device
from bantar.domain.scoring import Measured, PeriodTotals, ratio
from bantar.domain.timebase import HOUR_MS
from bantar.kinds.contract import (
    Archived,
    Chart,
    DayWindow,
    Figures,
    KindCoverage,
    KindDay,
    KindEvidence,
    KindNames,
    KindPlugin,
    Plot,
    Series,
    Source,
    source_of,
)
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common


class BinRow(NamedTuple):
    device_id: str
    ts_ms: int
    fill_pct: float
    seq: int = 0
    received_ms: int = 0
    distance_cm: float | None = None


def fill_of(body: Payload, device: Device) -> float:
    """The fill in %: as reported, or from the ultrasonic distance and the bin's registered
    depth (clamped to 0..100)."""
    assert isinstance(body, BinPayload)
    if body.fill_pct is not None:
        return body.fill_pct
    assert body.distance_cm is not None  # guaranteed by BinPayload's validator
    if device.depth_cm is None:
        raise Rejected(
            Reason.invalid_field,
            f"distance_cm needs the bin's depth_cm in the registry; device {device.id!r} has none",
        )
    return max(0.0, min(100.0, 100.0 * (1 - body.distance_cm / device.depth_cm)))


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, BinPayload)
    return (*common(r), r.calibrated, body.battery_pct, r.digest, body.distance_cm)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    assert isinstance(body, BinPayload)
    assert r.calibrated is not None
    battery = None if body.battery_pct is None else float(body.battery_pct)
    distance = {} if body.distance_cm is None else {"distance_cm": float(body.distance_cm)}
    return {"fill_pct": float(r.calibrated), "battery_pct": battery, **distance}


def _row_of(device_id: str, ts_ms: int, fill: Any, seq: int, received_ms: int, distance: Any) -> BinRow:
    return BinRow(device_id, ts_ms, float(fill), seq, received_ms, None if distance is None else float(distance))


def day_figures(day: KindDay) -> KindEvidence:
    return _bins(day.devices, day.rows, day.window, day.derivation)


@dataclass
class _Sums:
    """The bin figures of a day as the readings add up, device after device."""

    observed: float = 0.0
    weighted: float = 0.0
    overflow: float = 0.0
    peak: float | None = None
    collections: int = 0
    counted: int = 0
    flagged: int = 0


def _bins(
    devices: Sequence[Device],
    rows: Sequence[BinRow],
    w: DayWindow,
    rules: DerivationRules,
) -> KindEvidence:
    if not devices:
        return KindEvidence({})
    flags: list[DayFlag] = []
    sources: list[Source] = []
    per_device: dict[str, list[BinRow]] = defaultdict(list)
    for row in rows:
        per_device[row.device_id].append(row)
    sums = _Sums()
    depth = {d.id: d.depth_cm for d in devices}
    intervals = {d.id: d.interval_s * 1000 for d in devices}
    for device_id, series in per_device.items():
        interval = intervals.get(device_id)
        if interval is None:
            continue
        good = _vouched(device_id, series, depth[device_id], w, rules.quality, flags, sources, sums)
        if device_id not in w.skewed:
            _add_levels(good, interval, w, rules, sums)
    expected_h = sum((w.until - w.start) / HOUR_MS for _ in devices)
    figures = {
        "bins": len(devices),
        "bin_readings": sums.counted,
        "bin_readings_expected": sum((w.until - w.start) // intervals[d.id] for d in devices),
        "bin_readings_flagged": sums.flagged,
        "bin_mean_fill": round(sums.weighted / sums.observed, 2) if sums.observed else None,
        "bin_peak_fill": None if sums.peak is None else round(sums.peak, 2),
        "bin_hours_observed": round(sums.observed, 3),
        "bin_hours_expected": round(expected_h, 3),
        "bin_overflow_hours": round(sums.overflow, 3),
        "bin_collections": sums.collections,
        "bin_observed": bool(expected_h) and sums.observed >= rules.coverage_min * expected_h,
    }
    return KindEvidence(figures, sources, flags)


def _vouched(
    device_id: str,
    series: list[BinRow],
    depth_cm: float | None,
    w: DayWindow,
    q: QualityRules,
    flags: list[DayFlag],
    sources: list[Source],
    sums: _Sums,
) -> list[BinRow]:
    """A bin's readings that count (none from a skewed clock); its flags and its source of the day."""
    found = _bad_readings(series, depth_cm, q)
    for code, indexes in found.items():
        on_day = sum(1 for i in indexes if w.start <= series[i].ts_ms < w.end)
        if on_day and device_id not in w.skewed:
            flags.append(DayFlag(code=code, device_id=device_id, readings=on_day))
    bad = set().union(*found.values()) if device_id not in w.skewed else set(range(len(series)))
    today = [r for r in series if w.start <= r.ts_ms < w.end]
    if today:
        flagged = sum(1 for i, r in enumerate(series) if i in bad and w.start <= r.ts_ms < w.end)
        sources.append(source_of(DeviceKind.bin, device_id, today, w.late_ms, flagged))
        sums.flagged += flagged
    return [r for i, r in enumerate(series) if i not in bad]


def _add_levels(good: list[BinRow], interval: int, w: DayWindow, rules: DerivationRules, sums: _Sums) -> None:
    """A bin's counted readings of the day, smoothed, each standing for the time until the next
    (at most its interval); the collections among them."""
    smoothed = _median3([r.fill_pct for r in good])  # an isolated spike is noise, not a level
    gap_ms = rules.collection.min_gap_h * HOUR_MS
    last_collection = -gap_ms - 1
    for i, row in enumerate(good):
        following = good[i + 1].ts_ms if i + 1 < len(good) else row.ts_ms + interval
        before, after = smoothed[max(0, i - 3) : i], smoothed[i : i + 3]
        fell = i > 0 and rules.collection.is_collection(_mean(before), _mean(after))
        if fell and row.ts_ms - last_collection > gap_ms:
            sums.collections += w.start <= row.ts_ms < w.end
            last_collection = row.ts_ms
        if not w.start <= row.ts_ms < w.end:
            continue
        sums.counted += 1
        span_h = (min(following, row.ts_ms + interval, w.end) - row.ts_ms) / HOUR_MS
        sums.observed += span_h
        sums.weighted += smoothed[i] * span_h
        sums.peak = smoothed[i] if sums.peak is None else max(sums.peak, smoothed[i])
        if smoothed[i] >= rules.overflow_pct:
            sums.overflow += span_h


def _bad_readings(series: list[BinRow], depth_cm: float | None, q: QualityRules) -> dict[FlagCode, set[int]]:
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


def expected(devices: Sequence[Device], seconds: int, _days: int) -> Figures:
    return {
        "bin_readings_expected": sum(seconds // d.interval_s for d in devices),
        "bin_hours_expected": len(devices) * seconds / 3600,
    }


def overflow_share(t: PeriodTotals, _rt: RT, kinds: dict[DeviceKind, int]) -> Measured:
    """Over the bin-hours observed: dead time neither overflows nor dilutes."""
    if not kinds.get(DeviceKind.bin):
        return None
    share = t.bin_overflow_hours / t.bin_hours_observed if t.bin_hours_observed else 0.0
    return share, ratio(t.bin_hours_observed, t.bin_hours_expected) or 0.0


def longest_gap(t: PeriodTotals, _rt: RT, kinds: dict[DeviceKind, int]) -> Measured:
    """Over observed days only: a dead day breaks a run (see ``scoring.longest_run_without``)."""
    if not kinds.get(DeviceKind.bin):
        return None
    coverage = ratio(t.bin_days_observed, t.days) or 0.0
    return float(t.longest_days_without_collection), coverage


PLUGIN = KindPlugin(
    kind=DeviceKind.bin,
    names=KindNames("tong sampah", "waste bin"),
    calibrate=fill_of,
    parse=BinPayload.model_validate_json,
    series=Series(
        name="bin_readings",
        columns="fill_pct REAL NOT NULL, battery_pct REAL",
        values=("fill_pct", "battery_pct"),
        added_columns=(("distance_cm", "REAL"),),
        row=_row,
        fields=_fields,
        present_field="fill_pct",
        read=("fill_pct", "seq", "received_ms", "distance_cm"),
        row_of=_row_of,
    ),
    named=True,
    evidence=day_figures,
    expected=expected,
    bulk="bantar.bulk.bins:KERNEL",
    simulator="simulators.devices:bins",
    metrics={"bin_overflow_share": overflow_share, "longest_days_without_collection": longest_gap},
    chart=Chart(
        title_id="Isi tong sampah (%)",
        title_en="Bin fill (%)",
        type="line",
        series=(
            ("bin_mean_fill", "rata-rata", "mean"),
            Plot("bin_peak_fill", "puncak", "peak", color="#dd6b20"),
            Plot("", "batas penuh {rule} %", "overflow line {rule} %", color="#c53030", rule="overflow_pct"),
            Plot("bin_collections", "pengangkutan", "collections", type="bar", axis="y2", color="#90cdf4"),
        ),
        named=True,
        canvas="c-fill",
        y_min=0,
        y_max=100,
    ),
    example={"ts": "2026-11-29T08:00:00+07:00", "seq": 1, "fill_pct": 42.5, "battery_pct": 87},
    coverage=KindCoverage("bin_overflow_share", "pembacaan tempat sampah"),
    archive=Archived(("received_ms", "fill_pct", "battery_pct", "distance_cm")),
)
