"""One message of a source -> readings of the registered device it names (or a rejection).

Identity comes from the registry's external ids, never from the payload alone; units are
converted to the contract's (cm, %, kg); a sentinel or an impossible value is a sensor fault
with a reason, never a reading of 0 %. Stateful only in what makes numbers unique: the LoRaWAN
sessions and, for messages without their own time, the last content stored per device, so a
retained or redelivered copy is recognised as a replay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from bantar.domain.errors import Reason, Rejected
from bantar.domain.intake import IntakeLimits, calibrate, check_window, payload_digest, rejection_of
from bantar.domain.readings import (
    AvailabilityPayload,
    AvailabilityState,
    CctvPayload,
    Payload,
    Reading,
    SourceBinPayload,
    WeighingPayload,
)
from bantar.domain.registry import Device, RegistryIndex
from bantar.domain.timebase import to_utc
from bantar.domain.topics import DeviceKind
from ingest.service import Inbound
from ingest.sources.config import ID_FIELD, Route
from ingest.sources.decoders import Decoded, decode_raw, read_decoded
from ingest.sources.formats import FORMATS, ParseContext
from ingest.sources.observation import Observation, Quantity, not_a_reading
from ingest.sources.sequencing import FrameCounterSessions, derived_seq

_TO_CM = {"mm": 0.1, "cm": 1.0, "m": 100.0}
_TO_KG = {"kg": 1.0, "g": 0.001}


class Translator:
    def __init__(
        self,
        routes: Sequence[Route],
        registry: RegistryIndex,
        limits: IntakeLimits,
        sessions: FrameCounterSessions,
        latest_contents: dict[tuple[str, str], int],
    ) -> None:
        self.routes = list(routes)
        self.registry = registry
        self.limits = limits
        self.sessions = sessions
        self.latest = dict(latest_contents)
        self._contexts = {
            r.source.name: ParseContext(r.source.local_tz, {k: (m.role, m.unit) for k, m in r.source.sensors.items()})
            for r in routes
        }

    @property
    def filters(self) -> list[str]:
        return list(dict.fromkeys(r.filter for r in self.routes))

    def __call__(self, message: Inbound, received_at: datetime) -> list[Reading]:
        """The message's readings; [] for a recognised replay; ``Rejected`` with the reason."""
        if len(message.payload) > self.limits.max_payload_bytes:
            raise Rejected(
                Reason.payload_too_large,
                f"payload is {len(message.payload)} bytes; the limit is {self.limits.max_payload_bytes}",
            )
        route, fields = self._route(message.topic)
        source = route.source
        observation = FORMATS[source.format].parse(message.topic, fields, message.payload, self._contexts[source.name])
        device = self._device(observation, source.name)
        if observation.joined:
            self.sessions.joined(device.id, observation.ts or received_at)
            raise not_a_reading(f"LoRaWAN join of {device.id!r}: its frame counter starts a new session")
        ts = to_utc(observation.ts or received_at)
        check_window(ts, received_at, self.limits)
        kind, body_fields = _reading_fields(device, observation)
        digest = payload_digest(f"{kind}\0".encode() + observation.content)
        if observation.f_cnt is not None:
            seq = self.sessions.seq_for(device.id, observation.f_cnt, ts)
        else:
            key = (device.id, kind.value)
            if observation.ts is None and message.replayed and self.latest.get(key) == digest:
                return []  # a retained or redelivered copy of what is stored: no new time, no new reading
            self.latest[key] = digest
            seq = derived_seq(ts, f"{kind}\0".encode() + observation.content)
        try:
            body = _PAYLOADS[kind].model_validate({"ts": ts, "seq": seq, **body_fields})
        except ValidationError as exc:
            raise rejection_of(exc) from None
        calibrated = calibrate(kind, body, device)
        return [Reading(device.id, kind, device.rt, seq, ts, received_at, body, digest, message.payload, calibrated)]

    def _route(self, topic: str) -> tuple[Route, dict[str, str]]:
        """The first template the topic fits whose topic-borne id (Tasmota topic, ESPHome node,
        camera) is registered, else the first it fits: ``x/status`` may be an ESPHome node's or a
        camera's."""
        matches = [(r, f) for r in self.routes if (f := r.match(topic)) is not None]
        if not matches:
            raise Rejected(Reason.bad_topic, f"topic {topic[:120]!r} matches no source's templates")
        for route, fields in matches:
            scheme, placeholder = ID_FIELD.get(route.source.format, ("", ""))
            if (scheme, fields.get(placeholder, "")) in self.registry.device_by_external_id:
                return route, fields
        return matches[0]

    def _device(self, observation: Observation, source: str) -> Device:
        for key in observation.ids:
            device_id = self.registry.device_by_external_id.get(key)
            if device_id is not None:
                device = self.registry.devices[device_id]
                if not device.active:
                    raise Rejected(Reason.device_inactive, f"device {device.id!r} is deactivated")
                return device
        named = " or ".join(f"{scheme} {value[:40]!r}" for scheme, value in observation.ids) or "no id"
        raise Rejected(Reason.unknown_device, f"{named} (source {source!r}) is not in the registry's external ids")


_PAYLOADS: dict[DeviceKind, type[Payload]] = {
    DeviceKind.bin: SourceBinPayload,
    DeviceKind.cctv: CctvPayload,
    DeviceKind.availability: AvailabilityPayload,
    DeviceKind.weighing: WeighingPayload,
}


def _reading_fields(device: Device, observation: Observation) -> tuple[DeviceKind, dict[str, object]]:
    """The reading kind and its payload fields, from what the message measured."""
    if observation.fault:
        raise Rejected(Reason.sensor_fault, f"device {device.id!r}: {observation.fault}")
    battery = observation.values.get("battery")
    battery_pct = battery.value if battery is not None and battery.unit == "%" else None
    if observation.heartbeat and device.kind is DeviceKind.cctv:
        free = observation.values.get("storage_free")
        return (
            DeviceKind.cctv,
            {
                "online": observation.state is AvailabilityState.online,
                "recording": observation.recording,
                "storage_free_pct": free.value if free else None,
            },
        )
    if observation.state is not None:
        return DeviceKind.availability, {"state": observation.state, "battery_pct": battery_pct}
    values = _measured(device, observation)
    if device.kind is DeviceKind.bin and "distance" in values:
        return DeviceKind.bin, _bin_fields(device, values["distance"], values.get("battery"))
    if device.kind is DeviceKind.bank_sampah and "weight" in values:
        weight = values["weight"]
        return DeviceKind.weighing, {"kg": weight.value * _TO_KG[weight.unit]}
    roles = ", ".join(sorted(values)) or "nothing"
    raise Rejected(
        Reason.no_mapped_field, f"device {device.id!r} is a {device.kind}; the message measured {roles} for it"
    )


def _measured(device: Device, observation: Observation) -> dict[str, Quantity]:
    decoded: Decoded | None = None
    if observation.decoded is not None:
        decoded = read_decoded(device.model, observation.decoded)
    elif observation.raw is not None:
        decoded = decode_raw(device.model, observation.raw.f_port, observation.raw.frm_payload)
    if decoded is None:
        return dict(observation.values)
    if decoded.fault:
        raise Rejected(Reason.sensor_fault, f"device {device.id!r}: {decoded.fault}")
    if decoded.flags.get("position") == "tilt":
        raise Rejected(Reason.sensor_fault, f"device {device.id!r} reports it is tilted: its distance is not the fill")
    return {**observation.values, **decoded.values}


def _bin_fields(device: Device, distance: Quantity, battery: Quantity | None) -> dict[str, object]:
    if distance.unit not in _TO_CM:
        raise Rejected(Reason.invalid_field, f"distance in {distance.unit!r}; expected mm, cm or m")
    cm = distance.value * _TO_CM[distance.unit]
    if device.depth_cm is None:
        raise Rejected(
            Reason.invalid_field, f"a distance needs the bin's depth_cm in the registry; device {device.id!r} has none"
        )
    if cm < 0 or cm > device.depth_cm:
        raise Rejected(
            Reason.sensor_fault,
            f"device {device.id!r}: distance {cm:g} cm is beyond the bin's depth of {device.depth_cm:g} cm",
        )
    battery_pct = battery.value if battery is not None and battery.unit == "%" else None
    return {"distance_cm": round(cm, 3), "battery_pct": battery_pct}
