"""What a source format reads out of one message, before the registry and the device's kind
give it meaning: who (an external id), when, the measured values with their units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bantar.domain.errors import Reason, Rejected
from bantar.domain.readings import AvailabilityState


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class RawUplink:
    """A LoRaWAN application payload the network server did not decode."""

    f_port: int
    frm_payload: bytes


@dataclass(frozen=True, slots=True)
class Observation:
    ids: tuple[tuple[str, str], ...]
    """(scheme, external id) candidates, best first: dev_eui, tts_device_id, tasmota_topic, ..."""
    ts: datetime | None
    """the time the network server, firmware or camera gives; None: the time we received it"""
    values: dict[str, Quantity] = field(default_factory=dict)
    """measured values by role: distance, battery, weight, storage_free"""
    state: AvailabilityState | None = None
    recording: bool | None = None
    f_cnt: int | None = None
    """LoRaWAN uplink frame counter (absent: 0, proto3/TTS omit zero values)"""
    raw: RawUplink | None = None
    decoded: dict[str, object] | None = None
    """a network server's decoded payload (the vendor codec's keys)"""
    heartbeat: bool = False
    """a camera's heartbeat (online, recording, storage), not only a change of availability"""
    joined: bool = False
    """a LoRaWAN join: no reading, but a new frame-counter session"""
    fault: str | None = None
    """a sentinel seen in the message: a sensor fault, said in one sentence"""
    content: bytes = b""
    """what identifies this reading's content (not its delivery): digest and derived sequence"""


def not_a_reading(detail: str) -> Rejected:
    return Rejected(Reason.not_a_reading, detail)


def availability_state(word: str) -> AvailabilityState | None:
    """``online``/``Online``, ``offline``/``Offline``, ``stopped``: what LWTs and status topics say."""
    try:
        return AvailabilityState(word.strip().lower())
    except ValueError:
        return None
