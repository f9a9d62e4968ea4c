"""The Things Stack v3: ``v3/{application}@{tenant}/devices/{device}/up`` (and ``/join``).

Zero values are omitted (no ``f_cnt`` means 0); ``decoded_payload`` is there only when the
application or device has a payload formatter; times carry nanoseconds."""

from __future__ import annotations

from typing import Any

from ingest.sources.formats._json import json_object, parse_time
from ingest.sources.formats.lorawan import dev_eui_id, uplink
from ingest.sources.observation import Observation, not_a_reading


def parse(topic: str, fields: dict[str, str], payload: bytes, _ctx: Any) -> Observation:
    body = json_object(payload)
    found = body.get("end_device_ids")
    ids_block: dict[str, Any] = found if isinstance(found, dict) else {}
    device_id = ids_block.get("device_id") or fields.get("device")
    ids = [dev_eui_id(ids_block.get("dev_eui")), ("tts_device_id", device_id) if device_id else None]
    if topic.endswith("/join") or "join_accept" in body:
        return Observation(ids=tuple(i for i in ids if i), ts=parse_time(body.get("received_at")), joined=True)
    message = body.get("uplink_message")
    if not isinstance(message, dict):
        raise not_a_reading(f"TTS message on {topic[:80]!r} has no uplink_message")
    ts = parse_time(message.get("received_at")) or parse_time(body.get("received_at"))
    return uplink(
        ids,
        ts,
        message.get("f_cnt"),
        message.get("f_port"),
        message.get("frm_payload"),
        message.get("decoded_payload"),
    )
