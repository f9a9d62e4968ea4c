"""``bantar simulate --format``: each format's message reads back, through the source formats and
decoders, as the distance the bantar/v1 message meant."""

from __future__ import annotations

import pytest

from bantar.domain.registry import Registry
from bantar.domain.topics import DeviceKind
from ingest.sources.config import Route, Source
from ingest.sources.decoders import decode_raw
from ingest.sources.formats import FORMATS, ParseContext
from simulators.devices import Message, encode
from simulators.formats import reformat

CTX = ParseContext("Asia/Jakarta", {"distance": ("distance", "m")})


@pytest.mark.parametrize("fmt", ["tts", "chirpstack", "tasmota", "esphome"])
def test_a_bin_reading_in_each_format(fmt: str, small_registry: Registry) -> None:
    device = next(d for d in small_registry.devices if d.kind is DeviceKind.bin)
    assert device.depth_cm is not None
    body = {"ts": "2026-11-29T08:00:00+07:00", "seq": 42, "fill_pct": 25.0, "battery_pct": 80.0}
    original = Message(0.0, device.id, f"bantar/v1/{device.id}/bin", encode(body))
    (message,) = reformat([original], small_registry, fmt)
    source = Source(name="src", connection="c", format=fmt)
    fields = next(f for r in (Route(source, t) for t in source.templates) if (f := r.match(message.topic)) is not None)
    observation = FORMATS[source.format].parse(message.topic, fields, message.payload, CTX)
    if observation.raw is not None:
        assert observation.f_cnt == 42
        decoded = decode_raw(device.model, observation.raw.f_port, observation.raw.frm_payload)
        assert decoded.values["battery"].value == 80
        distance_cm = decoded.values["distance"].value / 10
    else:
        quantity = observation.values["distance"]
        distance_cm = quantity.value * {"cm": 1, "m": 100}[quantity.unit]
    assert distance_cm == pytest.approx(device.depth_cm * 0.75, abs=0.1)


def test_cameras_send_axis_style_heartbeats_and_other_kinds_stay(small_registry: Registry) -> None:
    camera = next(d for d in small_registry.devices if d.kind is DeviceKind.cctv)
    post = next(d for d in small_registry.devices if d.kind is DeviceKind.poskamling)
    heartbeat = {"ts": "2026-11-29T08:00:00+07:00", "seq": 1, "online": True, "recording": True, "storage_free_pct": 40}
    duty = {"ts": "2026-11-29T22:00:00+07:00", "seq": 1, "event": "duty", "on_duty": True, "guards": 2}
    messages = [
        Message(0.0, camera.id, f"bantar/v1/{camera.id}/cctv", encode(heartbeat)),
        Message(0.0, post.id, f"bantar/v1/{post.id}/poskamling", encode(duty)),
    ]
    converted, unchanged = reformat(messages, small_registry, "tasmota")
    assert converted.topic == f"{camera.id}/status"
    assert unchanged == messages[1]
