"""One module per source format; each reads one MQTT message (topic fields from the source's
topic templates, the payload) into an ``Observation`` or raises ``Rejected`` with a reason.
``FORMATS`` is the only list of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ingest.sources.formats import camera, chirpstack, esphome, tasmota, tts
from ingest.sources.observation import Observation

Parse = Callable[[dict[str, str], bytes, "ParseContext"], Observation]


@dataclass(frozen=True, slots=True)
class Format:
    parse: Callable[..., Observation]
    topics: tuple[str, ...]
    """default topic templates; ``{name}`` is one topic level"""


@dataclass(frozen=True, slots=True)
class ParseContext:
    local_tz: str
    """time zone of device clocks that give none (Tasmota's ``Time``)"""
    sensors: dict[str, tuple[str, str]]
    """ESPHome sensor / Tasmota sensor.key -> (role, unit), from the source's mapping"""


FORMATS: dict[str, Format] = {
    "tts": Format(tts.parse, ("v3/{application}/devices/{device}/up", "v3/{application}/devices/{device}/join")),
    "chirpstack": Format(
        chirpstack.parse,
        ("application/{application}/device/{dev_eui}/event/{event}", "application/{application}/device/{dev_eui}/rx"),
    ),
    "tasmota": Format(tasmota.parse, ("tele/{topic}/{message}",)),
    "esphome": Format(esphome.parse, ("{node}/status", "{node}/sensor/{sensor}/state")),
    "camera": Format(camera.parse, ("{camera}/available", "{camera}/status")),
}
