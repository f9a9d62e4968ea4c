"""The water-level kind behind the plug-in contract."""

from __future__ import annotations

from typing import Any

from bantar.domain.readings import Reading
from bantar.kinds.contract import Chart, KindCoverage, KindNames, KindPlugin, KindRow, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common
from bantar.kinds.water_level.evidence import (
    ALERT_TEXTS,
    WaterLevelRules,
    danger_hours_per_month,
    day_figures,
    flood_alerts,
    period_figures,
)
from bantar.kinds.water_level.payload import WaterLevelPayload


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, WaterLevelPayload)
    return (*common(r), body.level_cm, body.battery_pct, r.digest)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    assert isinstance(body, WaterLevelPayload)
    return {"level_cm": float(body.level_cm), "battery_pct": float(body.battery_pct)}


def _row_of(device_id: str, ts_ms: int, seq: int, received_ms: int, level_cm: float) -> KindRow:
    return KindRow(device_id, ts_ms, seq, received_ms, (float(level_cm),))


PLUGIN = KindPlugin(
    kind=DeviceKind.water_level,
    names=KindNames("sensor tinggi air", "water level sensor"),
    parse=WaterLevelPayload.model_validate_json,
    series=Series(
        name="water_levels",
        columns="level_cm REAL NOT NULL, battery_pct REAL",
        values=("level_cm", "battery_pct"),
        row=_row,
        fields=_fields,
        present_field="level_cm",
        read=("seq", "received_ms", "level_cm"),
        row_of=_row_of,
    ),
    evidence=day_figures,
    totals=period_figures,
    metrics={"flood_danger_hours_per_month": danger_hours_per_month},
    alerts=flood_alerts,
    rules=WaterLevelRules,
    calibration=frozenset({"warning_cm", "danger_cm"}),
    chart=Chart(
        title_id="Tinggi air (cm) dan jam siaga/bahaya",
        title_en="Water level (cm) and hours at warning/danger",
        type="line",
        series=(
            ("max_level_cm", "Tertinggi (cm)", "Highest (cm)"),
            ("hours_above_warning", "Jam di atas siaga", "Hours above warning"),
            ("hours_above_danger", "Jam di atas bahaya", "Hours above danger"),
        ),
    ),
    simulator="bantar.kinds.water_level.simulate:water_levels",
    example={"ts": "2026-12-14T05:30:00+07:00", "seq": 1, "level_cm": 182.5, "battery_pct": 76},
    coverage=KindCoverage("flood_danger_hours_per_month", "pembacaan sensor banjir"),
    alert_texts=ALERT_TEXTS,
)
