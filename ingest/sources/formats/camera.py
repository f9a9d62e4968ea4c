"""Cameras and NVRs: ``<name>/available`` (Frigate: ``online``, ``offline`` Last Will, ``stopped``
on a clean shutdown) and Axis-style ``<name>/status`` heartbeats: the same words, or JSON with
``online`` and, where the camera reports them, ``recording`` and ``storage_free_pct``."""

from __future__ import annotations

from typing import Any

from bantar.domain.errors import Reason, Rejected
from bantar.domain.readings import AvailabilityState
from ingest.sources.formats._json import json_object, parse_time, text
from ingest.sources.observation import Observation, Quantity, availability_state, not_a_reading


def parse(topic: str, fields: dict[str, str], payload: bytes, _ctx: Any) -> Observation:
    ids = (("camera", fields["camera"]),)
    said = text(payload)
    if not said.startswith("{"):
        state = availability_state(said)
        if state is None:
            raise not_a_reading(f"{said[:40]!r} is not online, offline or stopped")
        return Observation(ids=ids, ts=None, state=state, content=payload)
    body = json_object(payload)
    online = body.get("online")
    if not isinstance(online, bool):
        raise Rejected(Reason.missing_field, "a camera heartbeat needs 'online' (true or false)")
    values = {}
    free = body.get("storage_free_pct")
    if isinstance(free, int | float) and not isinstance(free, bool):
        values["storage_free"] = Quantity(float(free), "%")
    recording = body.get("recording")
    return Observation(
        ids=ids,
        ts=parse_time(body.get("ts")),
        state=AvailabilityState.online if online else AvailabilityState.offline,
        recording=recording if isinstance(recording, bool) else None,
        values=values,
        content=payload,
        heartbeat=True,
    )
