"""ChirpStack integration events: v4 ``application/{id}/device/{devEui}/event/{up|status|join|...}``
(``deviceInfo``, ``object``, ``time``) and v3 (``devEUI`` in hex or base64, ``object`` or
``objectJSON``, ``rxInfo[].time``; before v3.11 uplinks on ``.../rx``)."""

from __future__ import annotations

import json
from typing import Any

from bantar.domain.readings import AvailabilityState
from ingest.sources.formats._json import json_object, parse_time
from ingest.sources.formats.lorawan import dev_eui_id, uplink
from ingest.sources.observation import Observation, Quantity, not_a_reading


def parse(topic: str, fields: dict[str, str], payload: bytes, _ctx: Any) -> Observation:
    body = json_object(payload)
    event = fields.get("event", "up")
    info = body.get("deviceInfo") if isinstance(body.get("deviceInfo"), dict) else None
    eui = info.get("devEui") if info else body.get("devEUI", body.get("devEui"))
    ids = [dev_eui_id(eui) or dev_eui_id(fields.get("dev_eui"))]
    ts = parse_time(body.get("time"))
    if ts is None and isinstance(body.get("rxInfo"), list) and body["rxInfo"]:
        first = body["rxInfo"][0]
        ts = parse_time(first.get("time")) if isinstance(first, dict) else None
    if event == "join":
        return Observation(ids=tuple(i for i in ids if i), ts=ts, joined=True)
    if event == "status":
        battery = body.get("batteryLevel")
        values = {}
        if (
            isinstance(battery, int | float)
            and not body.get("batteryLevelUnavailable")
            and not body.get("externalPowerSource")
        ):
            values["battery"] = Quantity(float(battery), "%")
        return Observation(
            ids=tuple(i for i in ids if i),
            ts=ts,
            state=AvailabilityState.online,
            values=values,
            content=payload,
        )
    if event not in ("up", "rx"):
        raise not_a_reading(f"ChirpStack {event!r} event: no measurement")
    decoded = body.get("object")
    if decoded is None and isinstance(body.get("objectJSON"), str):
        try:
            decoded = json.loads(body["objectJSON"])
        except ValueError:
            decoded = None
    return uplink(ids, ts, body.get("fCnt"), body.get("fPort"), body.get("data"), decoded)
