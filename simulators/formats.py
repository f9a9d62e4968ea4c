"""``bantar simulate --format``: the simulated fleet speaking real devices' formats instead of
``bantar/v1``, so the source path (config/sources.yaml) can be tested and shown end to end.

Bins become Milesight EM310-UDL uplinks behind The Things Stack (``tts``) or ChirpStack v4
(``chirpstack``: raw frames, decoded by the ingestor), Tasmota SR04 ``SENSOR`` messages (cm,
local time without offset) or ESPHome distance states (metres, no time: run paced, ``--speed``,
for truthful times); cameras send Axis-style ``<camera>/status`` heartbeats with their time.
Messages of other kinds, and hostile ones, stay on ``bantar/v1``. Needs the registry's external
ids (``bantar registry generate`` writes them)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bantar.domain.registry import Device, Registry
from bantar.domain.timebase import WIB
from simulators.devices import Message, encode

FORMATS = ("tts", "chirpstack", "tasmota", "esphome")
TTS_APPLICATION = "bantar@jambi"
CHIRPSTACK_APPLICATION = "bantar"


def em310_frame(battery_pct: float, distance_mm: int) -> bytes:
    """Milesight's channel records: battery %, distance mm (little-endian), position normal."""
    return bytes([0x01, 0x75, round(battery_pct)]) + b"\x03\x82" + distance_mm.to_bytes(2, "little") + b"\x04\x00\x00"


def reformat(messages: Iterable[Message], registry: Registry, fmt: str) -> Iterator[Message]:
    devices = {d.id: d for d in registry.devices}
    for message in messages:
        device = devices.get(message.device_id or "")
        try:
            body = json.loads(message.payload)
        except ValueError:
            body = None
        converted = _convert(fmt, device, body) if device and isinstance(body, dict) else None
        yield replace(message, topic=converted[0], payload=converted[1]) if converted else message


def _convert(fmt: str, device: Device, body: dict[str, Any]) -> tuple[str, bytes] | None:
    ids = device.external_ids
    try:
        ts = datetime.fromisoformat(body["ts"])
        seq = int(body["seq"])
    except (KeyError, TypeError, ValueError):
        return None
    if ids is None:
        return None
    if device.kind == "cctv" and ids.camera and isinstance(body.get("online"), bool):
        return f"{ids.camera}/status", encode({**{k: v for k, v in body.items() if k != "seq"}})
    fill = body.get("fill_pct")
    if device.kind != "bin" or device.depth_cm is None or not isinstance(fill, int | float):
        return None
    distance_cm = device.depth_cm * (1 - fill / 100)
    battery = body.get("battery_pct", 100)
    received = ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
    frame = base64.b64encode(em310_frame(battery, round(distance_cm * 10))).decode()
    if fmt == "tts" and ids.tts_device_id:
        uplink = {"f_port": 85, "f_cnt": seq % 2**32, "frm_payload": frame, "received_at": received}
        end_device = {"device_id": ids.tts_device_id, "dev_eui": (ids.dev_eui or "").upper()}
        return (
            f"v3/{TTS_APPLICATION}/devices/{ids.tts_device_id}/up",
            encode({"end_device_ids": end_device, "received_at": received, "uplink_message": uplink}),
        )
    if fmt == "chirpstack" and ids.dev_eui:
        event = {"time": received, "deviceInfo": {"devEui": ids.dev_eui}, "fCnt": seq % 2**32, "fPort": 85}
        return (
            f"application/{CHIRPSTACK_APPLICATION}/device/{ids.dev_eui}/event/up",
            encode({**event, "data": frame}),
        )
    if fmt == "tasmota" and ids.tasmota_topic:
        local = ts.astimezone(WIB).replace(tzinfo=None).isoformat(timespec="seconds")
        return f"tele/{ids.tasmota_topic}/SENSOR", encode({"Time": local, "SR04": {"Distance": round(distance_cm, 3)}})
    if fmt == "esphome" and ids.esphome_node:
        return f"{ids.esphome_node}/sensor/distance/state", f"{distance_cm / 100:.3f}".encode()
    return None
