"""Availability: whether any device is up (an LWT, a birth message, a status topic), mapped from
the devices' own formats. A kind of reading, not of device; it makes cameras' uptime
(``bantar.domain.availability``)."""

from __future__ import annotations

from typing import Any

from bantar.domain.availability import AvailabilityRow
from bantar.domain.readings import AvailabilityPayload, AvailabilityState, Reading
from bantar.kinds.contract import KindNames, KindPlugin, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, AvailabilityPayload)
    return (*common(r), body.state.value, body.battery_pct, r.digest)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    assert isinstance(body, AvailabilityPayload)
    level = None if body.battery_pct is None else float(body.battery_pct)
    return {"state": body.state.value, "battery_pct": level}


def _row_of(device_id: str, ts_ms: int, state: str) -> AvailabilityRow:
    return AvailabilityRow(device_id, ts_ms, state == AvailabilityState.online)


PLUGIN = KindPlugin(
    kind=DeviceKind.availability,
    names=KindNames("status perangkat", "device status"),
    parse=AvailabilityPayload.model_validate_json,
    series=Series(
        name="availability",
        columns="state TEXT NOT NULL, battery_pct REAL",
        values=("state", "battery_pct"),
        row=_row,
        fields=_fields,
        present_field="state",
        read=("state",),
        row_of=_row_of,
        state=True,
    ),
    example={"ts": "2026-11-29T08:00:00+07:00", "seq": 1, "state": "online"},
)
