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
    scheme: str
    """which external id: dev_eui, tts_device_id, tasmota_topic, esphome_node, camera"""
    external_id: str
    ts: datetime | None
    """the time the network server, firmware or camera gives; None: the time we received it"""
    values: dict[str, Quantity] = field(default_factory=dict)
    """measured values by role: distance, battery, weight, storage_free"""
    state: AvailabilityState | None = None
    recording: bool | None = None
    f_cnt: int | None = None
    """LoRaWAN uplink frame counter (absent: 0, proto3/TTS omit zero values)"""
    raw: RawUplink | None = None
    fault: str | None = None
    """a sentinel seen in the message: a sensor fault, said in one sentence"""
    content: bytes = b""
    """what identifies this reading's content (not its delivery): digest and derived sequence"""


def not_a_reading(detail: str) -> Rejected:
    return Rejected(Reason.not_a_reading, detail)
