"""Waste-bin fill sensors: the fill level (or the raw ultrasonic distance, with the bin's depth
from the registry) and the battery. Daily figures: ``bantar.domain.evidence`` (``bin_*``); its
metrics, chart and simulator model (``simulators.devices``) are named here."""

from __future__ import annotations

from typing import Any

from bantar.domain.errors import Reason, Rejected
from bantar.domain.evidence import BinRow
from bantar.domain.readings import BinPayload, Payload, Reading
from bantar.domain.registry import RT, Device
from bantar.domain.scoring import Measured, PeriodTotals, ratio
from bantar.kinds.contract import Chart, KindCoverage, KindNames, KindPlugin, Plot, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common


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
    slot="bins",
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
    archived=True,
)
