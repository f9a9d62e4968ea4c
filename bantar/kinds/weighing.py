"""Weighings: a connected scale's weight, before the field app pairs it into a deposit. A kind
of reading, not of device; no daily figures of its own."""

from __future__ import annotations

from typing import Any

from bantar.domain.readings import Reading, WeighingPayload
from bantar.kinds.contract import KindNames, KindPlugin, KindRow, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, WeighingPayload)
    return (*common(r), body.kg, r.digest)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    assert isinstance(body, WeighingPayload)
    return {"kg": float(body.kg)}


def _row_of(device_id: str, ts_ms: int, kg: float, seq: int, received_ms: int) -> KindRow:
    return KindRow(device_id, ts_ms, seq, received_ms, (kg,))


PLUGIN = KindPlugin(
    kind=DeviceKind.weighing,
    names=KindNames("timbangan terhubung", "connected scale"),
    parse=WeighingPayload.model_validate_json,
    series=Series(
        name="weighings",
        columns="kg REAL NOT NULL",
        values=("kg",),
        row=_row,
        fields=_fields,
        present_field="kg",
        read=("kg", "seq", "received_ms"),
        row_of=_row_of,
    ),
    example={"ts": "2026-11-29T09:14:40+07:00", "seq": 1, "kg": 3.7},
)
