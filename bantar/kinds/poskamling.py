"""Poskamling (night watch posts): duty status, patrol checkpoints and incidents. Daily
figures: ``bantar.domain.evidence`` (``posts``, ``night_*``, ``patrols``, ``incidents``)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from bantar.domain.evidence import PoskamlingRow
from bantar.domain.readings import DutyEvent, IncidentEvent, PatrolEvent, PoskamlingPayload, Reading
from bantar.kinds.contract import KindPlugin, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common

_Event = DutyEvent | PatrolEvent | IncidentEvent
_EVENTS: TypeAdapter[_Event] = TypeAdapter(PoskamlingPayload)  # type: ignore[arg-type, unused-ignore]  # an Annotated union: older mypy reads it as no type, newer (TypeForm) accepts it


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    on_duty = guards = checkpoint = category = note = None
    if isinstance(body, DutyEvent):
        on_duty, guards = body.on_duty, body.guards
    elif isinstance(body, PatrolEvent):
        checkpoint = body.checkpoint
    else:
        assert isinstance(body, IncidentEvent)
        category, note = body.category.value, body.note
    return (*common(r), body.event, on_duty, guards, checkpoint, category, note, r.digest)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    if isinstance(body, DutyEvent):
        return {"event": body.event, "on_duty": body.on_duty, "guards": body.guards}
    if isinstance(body, PatrolEvent):
        return {"event": body.event, "checkpoint": body.checkpoint}
    assert isinstance(body, IncidentEvent)
    return {"event": body.event, "category": body.category.value, "note": body.note}


def _row_of(
    device_id: str, ts_ms: int, event: str, on_duty: Any, guards: Any, seq: int, received_ms: int
) -> PoskamlingRow:
    return PoskamlingRow(device_id, ts_ms, event, None if on_duty is None else bool(on_duty), guards, seq, received_ms)


PLUGIN = KindPlugin(
    kind=DeviceKind.poskamling,
    parse=_EVENTS.validate_json,
    series=Series(
        name="poskamling_events",
        columns="event TEXT NOT NULL, on_duty INTEGER, guards INTEGER, checkpoint TEXT, category TEXT, note TEXT",
        values=("event", "on_duty", "guards", "checkpoint", "category", "note"),
        row=_row,
        fields=_fields,
        present_field="event",
        read=("event", "on_duty", "guards", "seq", "received_ms"),
        row_of=_row_of,
    ),
    slot="poskamling",
    example={"ts": "2026-11-29T22:00:00+07:00", "seq": 1, "event": "duty", "on_duty": True, "guards": 3},
)
