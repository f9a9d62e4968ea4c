"""Raw LoRaWAN payloads of this domain's bin sensors, for networks that do not decode them, and
the vendors' decoded-payload keys, for networks that do.

Written from the vendors' payload descriptions and checked against their published test
vectors (``tests/unit/test_decoders.py``):
- Milesight EM310-UDL and EM500-UDL (fPort 85): channel/type/value records, little-endian;
  ``01 75`` battery %, ``03 82`` distance mm, ``04 00`` position (0 normal, 1 tilt); ``ff ..``
  records are device information (version, serial, power-on), not measurements.
- Dragino LDDS75 and LDDS45 (fPort 2): big-endian battery mV (low 14 bits), distance mm,
  interrupt flag, DS18B20 temperature (signed, 0.1 degC), sensor flag; a distance of 0, or a
  frame without the distance fields, is "No Sensor"; a distance below the probe's range is an
  "Invalid Reading". fPort 5 is the device's status (model, firmware, band): not a measurement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bantar.domain.errors import Reason, Rejected
from ingest.sources.observation import Quantity, not_a_reading

SENTINELS = frozenset({9999.0, 65535.0})
"""numbers sensors send instead of a value (no echo, out of range): a fault, never a reading"""


@dataclass(frozen=True, slots=True)
class Decoded:
    values: dict[str, Quantity] = field(default_factory=dict)
    """by role: distance, battery, temperature"""
    flags: dict[str, str | int] = field(default_factory=dict)
    """what the device says about itself: position, interrupt, sensor_flag"""
    fault: str | None = None


def _undecodable(model: str, detail: str) -> Rejected:
    return Rejected(Reason.undecodable_payload, f"{model}: {detail}")


def _milesight_records(model: str, data: bytes) -> Iterator[tuple[int, int, bytes, bool]]:
    """(channel, type, body, is a device-information record) of each record of a payload."""
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise _undecodable(model, f"record at byte {i} is cut short")
        channel, kind = data[i], data[i + 1]
        i += 2
        size = _MILESIGHT_SIZES.get((channel, kind))
        info = size is None
        if size is None:
            size = _MILESIGHT_INFO_SIZES.get(kind) if channel == 0xFF else None
            if size is None:
                raise _undecodable(model, f"unknown record {channel:02x} {kind:02x} at byte {i - 2}")
        if i + size > len(data):
            raise _undecodable(model, f"record {channel:02x} {kind:02x} is cut short")
        yield channel, kind, data[i : i + size], info
        i += size


def _milesight_udl(model: str, f_port: int, data: bytes) -> Decoded:
    if f_port != 85:
        raise _undecodable(model, f"fPort {f_port} carries no measurements (85 does)")
    values: dict[str, Quantity] = {}
    flags: dict[str, str | int] = {}
    info = False
    for channel, kind, body, is_info in _milesight_records(model, data):
        info = info or is_info
        if (channel, kind) == (0x01, 0x75):
            values["battery"] = Quantity(body[0], "%")
        elif (channel, kind) == (0x03, 0x82):
            values["distance"] = Quantity(int.from_bytes(body, "little"), "mm")
        elif (channel, kind) == (0x04, 0x00):
            flags["position"] = "tilt" if body[0] == 1 else "normal"
    if not values and info:
        raise not_a_reading(f"{model}: device information packet (versions, serial, power-on), no measurement")
    if not values:
        raise _undecodable(model, "no measurement records")
    return Decoded(values, flags)


_MILESIGHT_SIZES = {(0x01, 0x75): 1, (0x03, 0x82): 2, (0x04, 0x00): 1}
_MILESIGHT_INFO_SIZES = {0x01: 1, 0x09: 2, 0x0A: 2, 0x0B: 1, 0x0F: 1, 0x16: 8, 0xFF: 2}
"""``ff`` records: protocol version, hardware, firmware, power-on, class, serial, TSL version"""


def _dragino_distance(min_mm: int) -> Callable[[str, int, bytes], Decoded]:
    def decode(model: str, f_port: int, data: bytes) -> Decoded:
        if f_port == 5:
            raise not_a_reading(f"{model}: device status packet (model, firmware, band), no measurement")
        if f_port != 2:
            raise _undecodable(model, f"unknown fPort {f_port}")
        if len(data) < 2:
            raise _undecodable(model, f"{len(data)} bytes is not a distance frame")
        battery = Quantity(((data[0] << 8 | data[1]) & 0x3FFF) / 1000, "V")
        if len(data) < 5:
            return Decoded({"battery": battery}, fault="No Sensor: the frame carries no distance probe fields")
        distance = data[2] << 8 | data[3]
        flags: dict[str, str | int] = {"interrupt": data[4]}
        values = {"battery": battery}
        if len(data) >= 8:
            values["temperature"] = Quantity(int.from_bytes(data[5:7], "big", signed=True) / 10, "degC")
            flags["sensor_flag"] = data[7]
        if distance == 0:
            return Decoded(values, flags, fault="No Sensor: the ultrasonic probe is not detected (distance 0)")
        if distance < min_mm:
            return Decoded(values, flags, fault=f"Invalid Reading: {distance} mm is below the probe's {min_mm} mm")
        values["distance"] = Quantity(distance, "mm")
        return Decoded(values, flags)

    return decode


@dataclass(frozen=True, slots=True)
class Model:
    decode: Callable[[str, int, bytes], Decoded]
    decoded_keys: dict[str, tuple[tuple[str, str], ...]]
    """role -> (key in the vendor codec's decoded payload, its unit), first present wins"""


_DRAGINO_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "distance": (("Distance", "mm"), ("distance", "mm")),
    "battery": (("Bat", "V"), ("BatV", "V"), ("battery", "V")),
}
_MILESIGHT_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "distance": (("distance", "mm"),),
    "battery": (("battery", "%"),),
}

MODELS: dict[str, Model] = {
    "milesight-em310-udl": Model(_milesight_udl, _MILESIGHT_KEYS),
    "milesight-em500-udl": Model(_milesight_udl, _MILESIGHT_KEYS),
    "dragino-ldds75": Model(_dragino_distance(280), _DRAGINO_KEYS),
    "dragino-ldds45": Model(_dragino_distance(20), _DRAGINO_KEYS),
}


def decode_raw(model: str | None, f_port: int, data: bytes) -> Decoded:
    """Decode an undecoded uplink with the device's model."""
    if model is None:
        raise Rejected(Reason.undecodable_payload, "the network server did not decode it and the device has no model")
    spec = MODELS.get(model)
    if spec is None:
        known = ", ".join(sorted(MODELS))
        raise Rejected(Reason.undecodable_payload, f"no decoder for model {model!r} (known: {known})")
    return spec.decode(model, f_port, data)


_NUMBER_WITH_UNIT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z%]*)\s*$")


def read_decoded(model: str | None, decoded: dict[str, object]) -> Decoded:
    """The roles this model's codec fills in a network server's decoded payload. Numbers may come
    as strings with a unit (Dragino's ``"2799 mm"``); any other string (``"No Sensor"``,
    ``"Invalid Reading"``) is the sensor saying it has no value: a fault."""
    spec = MODELS.get(model or "")
    keys = spec.decoded_keys if spec else {"distance": (("distance", "mm"),), "battery": (("battery", "%"),)}
    values: dict[str, Quantity] = {}
    for role, candidates in keys.items():
        for key, unit in candidates:
            if key not in decoded:
                continue
            raw = decoded[key]
            if isinstance(raw, bool) or raw is None:
                break
            if isinstance(raw, int | float):
                values[role] = Quantity(float(raw), unit)
            elif isinstance(raw, str):
                match = _NUMBER_WITH_UNIT.match(raw)
                if match is None:
                    return Decoded(values, fault=f"{key} is {raw[:40]!r}, not a value")
                values[role] = Quantity(float(match.group(1)), match.group(2) or unit)
            break
    flags: dict[str, str | int] = {}
    for key in ("position", "tilt"):
        if isinstance(decoded.get(key), str):
            flags["position"] = str(decoded[key])
    return Decoded(values, flags)
