"""The message contract: one payload model per device kind, and the validated ``Reading``.

Every payload carries the device's own timestamp ``ts`` (RFC 3339 with an offset; numbers are
refused so that a milliseconds/seconds mix-up cannot slip through) and a per-device sequence
number ``seq`` that the device keeps across reboots. ``(device_id, seq)`` identifies a reading:
a redelivered message is the same reading, and gaps in ``seq`` reveal messages lost upstream.
Numbers must be finite (NaN and Infinity are refused) and within the bounds stated per field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from bantar.domain.names_id import INCIDENT_CATEGORIES, MATERIALS, code_for
from bantar.domain.topics import DeviceKind

MAX_SEQ = 2**53 - 1
"""Sequence numbers stay within what a JSON double represents exactly."""


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
"""RFC 3339's date-time, strictly: seconds and an offset with minutes (``+07``, ``08:00`` or a
space for ``T`` are refused); fractions beyond microseconds are truncated."""


class Payload(BaseModel):
    """What every reading carries, whatever its kind: the device time and sequence number. Each
    kind's payload model (its plug-in's, ``bantar.kinds``) extends it."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)

    ts: AwareDatetime
    seq: int = Field(ge=0, le=MAX_SEQ)

    @field_validator("ts", mode="before")
    @classmethod
    def _rfc3339_only(cls, value: object) -> object:
        """Pydantic would read "1764385200" (or its milliseconds) as a Unix time: refuse it, as
        numbers are, so a seconds/milliseconds mix-up can never slip through."""
        if not isinstance(value, str):
            return value  # strict validation refuses numbers
        if not RFC3339.fullmatch(value):
            raise ValueError("must be RFC 3339 with seconds and an offset, e.g. 2026-11-29T08:00:00+07:00")
        try:
            return datetime.fromisoformat(value.upper())  # 't' and 'z' are RFC 3339 too
        except ValueError:
            raise ValueError(f"{value!r} is not a valid RFC 3339 time") from None


Pct = Annotated[float, Field(ge=0, le=100)]


class BinPayload(Payload):
    """Waste-bin fill sensor. Send ``fill_pct``, or the raw ultrasonic ``distance_cm`` for a bin
    whose ``depth_cm`` is in the registry (fill is then computed at ingest)."""

    fill_pct: Pct | None = None
    distance_cm: float | None = Field(default=None, ge=0, le=1000)
    battery_pct: Pct

    @model_validator(mode="after")
    def _one_level(self) -> Self:
        if (self.fill_pct is None) == (self.distance_cm is None):
            raise ValueError("give exactly one of fill_pct or distance_cm")
        return self


class SourceBinPayload(BinPayload):
    """A bin reading mapped from a device's own format (``ingest.sources``): the battery may be
    unknown (a node reporting volts, or nothing)."""

    battery_pct: Pct | None = None  # type: ignore[assignment]


class CctvPayload(Payload):
    """Camera or recorder heartbeat. ``recording`` and ``storage_free_pct`` only where the
    camera reports them."""

    online: bool
    recording: bool | None = None
    storage_free_pct: Pct | None = None


class DutyEvent(Payload):
    event: Literal["duty"]
    on_duty: bool
    guards: int = Field(ge=0, le=50)

    @model_validator(mode="after")
    def _staffed_when_on_duty(self) -> Self:
        if self.on_duty and self.guards == 0:
            raise ValueError("on_duty with 0 guards: an on-duty shift has at least one guard")
        return self


class PatrolEvent(Payload):
    event: Literal["patrol"]
    checkpoint: str = Field(min_length=1, max_length=64)


class IncidentCategory(StrEnum):
    theft = "theft"
    fire = "fire"
    flood = "flood"
    disturbance = "disturbance"
    suspicious = "suspicious"
    other = "other"

    @classmethod
    def _missing_(cls, value: object) -> IncidentCategory | None:
        """The Indonesian name (``pencurian``) stands for its code (``theft``)."""
        code = code_for(INCIDENT_CATEGORIES, value)
        return None if code is None else cls(code)


class IncidentEvent(Payload):
    event: Literal["incident"]
    category: IncidentCategory
    note: str = Field(default="", max_length=500)


PoskamlingPayload = Annotated[DutyEvent | PatrolEvent | IncidentEvent, Field(discriminator="event")]


class Material(StrEnum):
    plastic = "plastic"
    paper = "paper"
    metal = "metal"
    glass = "glass"
    organic = "organic"
    other = "other"

    @classmethod
    def _missing_(cls, value: object) -> Material | None:
        """The Indonesian name (``plastik``) stands for its code (``plastic``)."""
        code = code_for(MATERIALS, value)
        return None if code is None else cls(code)


Kg = Annotated[float, Field(gt=0, le=500)]
PricePerKg = Annotated[int, Field(ge=0, le=1_000_000)]


class BankSampahPayload(Payload):
    """A deposit weighed at the bank sampah. ``household`` is a pseudonymous id, never a name."""

    deposit_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    household: str = Field(pattern=r"^[A-Za-z0-9_-]{4,64}$")
    items: dict[Material, Kg] = Field(min_length=1)
    price_idr_per_kg: dict[Material, PricePerKg] = Field(default_factory=dict)

    @field_validator("items", "price_idr_per_kg", mode="after")
    @classmethod
    def _in_material_order(cls, value: dict[Material, float]) -> dict[Material, float]:
        """One order whatever the sender's, so equal deposits serialise alike (``canonical_form``)."""
        return {m: value[m] for m in Material if m in value}

    @model_validator(mode="after")
    def _prices_for_weighed_items(self) -> Self:
        unpriced = set(self.price_idr_per_kg) - set(self.items)
        if unpriced:
            names = ", ".join(sorted(unpriced))
            raise ValueError(f"price_idr_per_kg names materials not in items: {names}")
        return self

    @property
    def value_idr(self) -> int:
        return round(sum(kg * self.price_idr_per_kg.get(m, 0) for m, kg in self.items.items()))


class GotongRoyongPayload(Payload):
    """A communal work event, posted by the RT head: what was done and how many took part."""

    activity: str = Field(min_length=1, max_length=120)
    attendance: int = Field(ge=0, le=5000)


class AvailabilityState(StrEnum):
    online = "online"
    offline = "offline"
    """gone without saying goodbye: the broker's Last Will, a crash or a lost link"""
    stopped = "stopped"
    """shut down cleanly (Frigate's ``stopped``)"""


class AvailabilityPayload(Payload):
    """Whether a device is up: an LWT, a birth message, a ``status``/``available`` topic or a
    network server's device-status event. Mapped from the device's own format, never sent by
    bantar/v1 devices."""

    state: AvailabilityState
    battery_pct: Pct | None = None


class WeighingPayload(Payload):
    """A connected scale's weight. Not a deposit: that needs the operator's household and
    material (paired by the field app); until then it is only a weighing."""

    kg: float = Field(ge=0, le=1000)


@dataclass(frozen=True, slots=True)
class Reading:
    """A validated reading, attributed to the RT of the device that sent it.

    A plain frozen dataclass, not a pydantic model: it is only ever built by
    ``intake.accept`` from parts already validated, on the ingest hot path, where validating
    the payload union a second time cost more than everything else in ``accept``.
    """

    device_id: str
    kind: DeviceKind
    rt_code: str
    seq: int
    ts: datetime
    received_at: datetime
    payload: Payload
    digest: int
    """fingerprint of the validated reading (``canonical_form``): tells a redelivery from a conflict,
    whatever the bytes (key order, spacing, ``50`` or ``50.0``, the offset of the same instant)"""
    raw: bytes = b""
    """the payload as received (dead letters keep its first bytes)"""
    calibrated: float | None = None
    """the figure its kind derives from the device's registered calibration (``KindPlugin.calibrate``;
    bins: the fill in %, from the distance and the bin's depth)"""


def canonical_form(payload: Payload, ts_utc: datetime) -> bytes:
    """The validated payload in one form: fields in model order, materials in enum order, numbers
    as their validated type, the time in UTC."""
    return payload.model_dump_json(exclude={"ts"}).encode() + b"@" + ts_utc.isoformat().encode()
