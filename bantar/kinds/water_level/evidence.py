"""A day of a flood sensor's readings as figures, their sums over a period, the alert and the
metric. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from bantar.domain.errors import Text
from bantar.domain.registry import Device
from bantar.domain.scoring import Basis
from bantar.kinds.contract import AlertWords, Figures, KindAlert, KindDay, KindEvidence, KindRow, Source, source_of
from bantar.kinds.registry import DeviceKind

HOUR_MS = 3_600_000


class WaterLevelRules(BaseModel):
    """``config/rules.yaml``: ``kinds: water_level``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_danger_minutes: float = Field(default=10, ge=0, le=24 * 60)
    """a device counts as crossing its danger level once it stood there this long in a day (a
    single wave or a floating branch on the sensor is not a flood)"""
    basis: Basis


def day_figures(day: KindDay) -> KindEvidence:
    """Each reading stands for the time until the next one, at most its device's interval (as a
    bin reading does); levels are compared with the device's own warning and danger levels."""
    w = day.window
    rules = day.rules if isinstance(day.rules, WaterLevelRules) else None
    devices = {d.id: d for d in day.devices}
    per_device: dict[str, list[KindRow]] = defaultdict(list)
    for row in day.rows:
        if row.device_id in devices and w.start <= row.ts_ms < w.end:
            per_device[row.device_id].append(row)
    observed = warning_h = danger_h = 0.0
    peak: float | None = None
    counted = 0
    danger_devices = []
    sources: list[Source] = []
    for device_id, series in sorted(per_device.items()):
        skewed = device_id in w.skewed
        sources.append(source_of(DeviceKind.water_level, device_id, series, w.late_ms, len(series) if skewed else 0))
        if skewed:
            continue
        device = devices[device_id]
        interval = device.interval_s * 1000
        warning, danger = device.calibration.get("warning_cm"), device.calibration.get("danger_cm")
        device_danger_h = 0.0
        for i, row in enumerate(series):
            following = series[i + 1].ts_ms if i + 1 < len(series) else row.ts_ms + interval
            span_h = (min(following, row.ts_ms + interval, w.end) - row.ts_ms) / HOUR_MS
            level = float(row.values[0])
            counted += 1
            observed += span_h
            peak = level if peak is None else max(peak, level)
            warning_h += span_h if warning is not None and level >= warning else 0.0
            device_danger_h += span_h if danger is not None and level >= danger else 0.0
        danger_h += device_danger_h
        min_h = (rules.min_danger_minutes if rules else 0.0) / 60
        if device_danger_h > 0 and device_danger_h >= min_h:
            danger_devices.append(device_id)
    expected_h = len(day.devices) * (w.until - w.start) / HOUR_MS
    figures: Figures = {
        "sensors": len(day.devices),
        "readings": counted,
        "readings_expected": sum((w.until - w.start) // (d.interval_s * 1000) for d in day.devices),
        "max_level_cm": None if peak is None else round(peak, 1),
        "hours_above_warning": round(warning_h, 3),
        "hours_above_danger": round(danger_h, 3),
        "hours_observed": round(observed, 3),
        "hours_expected": round(expected_h, 3),
        "coverage": round(min(1.0, observed / expected_h), 4) if expected_h else None,
        "danger_devices": danger_devices,
    }
    return KindEvidence(figures, sources)


def period_figures(days: Sequence[Figures]) -> Figures:
    peaks = [float(p) for d in days if (p := d.get("max_level_cm")) is not None]
    total = {
        name: round(sum(float(d.get(name) or 0) for d in days), 3)
        for name in ("hours_above_warning", "hours_above_danger", "hours_observed", "hours_expected")
    }
    return {**total, "days": len(days), "max_level_cm": max(peaks) if peaks else None}


ALERT_TEXTS = {
    "flood_danger": AlertWords(
        Text("Tingkat bahaya banjir", "Flood danger level"),
        Text(
            "Sensor banjir {device} mencapai tingkat bahaya pada {day} (tertinggi {level_cm} cm)",
            "Flood sensor {device} reached its danger level on {day} (highest {level_cm} cm)",
        ),
    )
}
"""the alerts' texts (``KindPlugin.alert_texts``)"""


def flood_alerts(rt_code: str, day: date, figures: Figures, devices: Sequence[Device]) -> list[KindAlert]:
    """One per device that stood at its danger level (a crossing needs readings, so the day has
    a highest level)."""
    crossed = figures.get("danger_devices") or []
    assert isinstance(crossed, list)
    level = figures.get("max_level_cm")
    return [
        KindAlert("flood_danger", device_id, day, {"device": device_id, "day": day.isoformat(), "level_cm": level})
        for device_id in crossed
    ]


def danger_hours_per_month(totals: object, _rt: object, kinds: dict[DeviceKind, int]) -> tuple[float, float] | None:
    """Hours at or above the danger level per 30 days, over the hours observed; coverage is
    the hours observed over those expected."""
    figures = getattr(totals, "kinds", {}).get(DeviceKind.water_level.value)
    if not kinds.get(DeviceKind.water_level):
        return None
    if not figures:
        return 0.0, 0.0  # sensors that sent nothing: insufficient evidence, not a dry month
    expected = float(figures.get("hours_expected") or 0)
    observed = float(figures.get("hours_observed") or 0)
    days = max(int(figures.get("days") or 0), 1)
    value = float(figures.get("hours_above_danger") or 0) / max(days / 30.0, 1.0)
    return value, min(1.0, observed / expected) if expected else 0.0
