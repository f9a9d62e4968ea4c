"""Tasmota: ``tele/%topic%/SENSOR`` (sensor objects), ``STATE`` (the telemetry heartbeat),
``LWT`` (``Online``/``Offline``, retained); custom FullTopics through the source's templates.

``Time`` is the device's local time without an offset (the source's ``local_tz``) unless the
device is set to send one. Units depend on the driver, not the key: ``SR04.Distance`` is cm,
``VL53L0X.Distance`` mm, ``HX711.Weight`` kg (its raw counts are never a weight)."""

from __future__ import annotations

from typing import Any

from bantar.domain.readings import AvailabilityState
from ingest.sources.decoders import SENTINELS
from ingest.sources.formats._json import json_object, parse_time, text
from ingest.sources.observation import Observation, Quantity, availability_state, not_a_reading

DRIVERS: dict[str, tuple[str, str]] = {
    "SR04.Distance": ("distance", "cm"),
    "VL53L0X.Distance": ("distance", "mm"),
    "VL53L1X.Distance": ("distance", "mm"),
    "TOF10120.Distance": ("distance", "mm"),
    "HX711.Weight": ("weight", "kg"),
}
"""sensor.key -> (role, unit) Tasmota's drivers publish; a source's ``sensors`` adds or overrides"""


def parse(topic: str, fields: dict[str, str], payload: bytes, ctx: Any) -> Observation:
    ids = (("tasmota_topic", fields["topic"]),)
    message = fields.get("message", "")
    if message == "LWT":
        state = availability_state(text(payload))
        if state is None:
            raise not_a_reading(f"LWT {text(payload)[:40]!r} is neither Online nor Offline")
        return Observation(ids=ids, ts=None, state=state, content=payload)
    if message not in ("SENSOR", "STATE"):
        raise not_a_reading(f"Tasmota {message[:40]!r} message: no measurement")
    body = json_object(payload)
    ts = parse_time(body.get("Time"), ctx.local_tz)
    if message == "STATE":
        return Observation(ids=ids, ts=ts, state=AvailabilityState.online, content=payload)
    values, fault = _sensor_values(body, {**DRIVERS, **ctx.sensors})
    if fault is not None:
        return Observation(ids=ids, ts=ts, fault=fault)
    return Observation(ids=ids, ts=ts, values=values, content=payload)


def _sensor_values(body: dict[str, Any], known: dict[str, tuple[str, str]]) -> tuple[dict[str, Quantity], str | None]:
    """The known sensors' values of a SENSOR message, or why the message is a fault."""
    values: dict[str, Quantity] = {}
    for sensor, readings in body.items():
        if not isinstance(readings, dict):
            continue
        if sensor == "HX711" and any(
            isinstance(readings.get(k), int | float) and readings[k] < 0 for k in ("WeightRaw", "AbsRaw")
        ):
            return {}, "HX711 raw load-cell counts are negative: scale not calibrated"
        for key, value in readings.items():
            mapped = known.get(f"{sensor}.{key}")
            if mapped is None or isinstance(value, bool):
                continue
            if not isinstance(value, int | float):
                return {}, f"{sensor}.{key} is {str(value)[:40]!r}, not a value"
            if float(value) in SENTINELS:
                return {}, f"{sensor}.{key} is {value}, a no-value sentinel"
            values[mapped[0]] = Quantity(float(value), mapped[1])
    return values, None
