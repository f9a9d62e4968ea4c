"""The registry: Kota Jambi > kecamatan > kelurahan > RT (with household counts and award
history), and the devices installed in each RT.

A device's RT comes from here and only from here: payloads never say which RT they belong to.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bantar.domain.topics import DEVICE_ID_PATTERN, READING_ONLY_KINDS, DeviceKind, Topic
from bantar.kinds.registry import plugins

CODE_PATTERN = r"^[0-9A-Za-z.\-]{2,40}$"
"""kecamatan, kelurahan and RT codes"""
Code = Annotated[str, Field(pattern=CODE_PATTERN)]
Score = Literal[0, 1, 2]


class Category(StrEnum):
    """Award category by household (KK) count: kecil < 50, sedang 50-100, besar > 100. Exactly 50 and
    100 are sedang: the programme's words leave them unplaced, so this is a stated choice
    (``config/criteria.yaml``, basis.category_boundary)."""

    kecil = "kecil"
    sedang = "sedang"
    besar = "besar"

    @classmethod
    def for_kk(cls, kk_count: int) -> Category:
        if kk_count < 50:
            return cls.kecil
        return cls.sedang if kk_count <= 100 else cls.besar


AWARD_IDR: dict[Category, int] = {
    Category.kecil: 5_000_000,
    Category.sedang: 7_500_000,
    Category.besar: 10_000_000,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Award(_Strict):
    """A past Kampung BANTAR award: the year, the category it was won in, and the scores the
    assessment team gave per pillar and criterion letter (e.g. ``bersih: {b: 2, c: 1}``)."""

    year: int = Field(ge=2014, le=2100)
    category: Category
    scores: dict[Literal["bersih", "aman", "pintar"], dict[Literal["a", "b", "c", "d", "e", "f", "g"], Score]] = Field(
        default_factory=dict
    )


class RT(_Strict):
    code: Code
    number: int = Field(ge=1, le=999, description="RT number within its kelurahan")
    kk_count: int = Field(ge=1, le=2000, description="households (kartu keluarga)")
    awards: list[Award] = Field(default_factory=list)

    @property
    def category(self) -> Category:
        return Category.for_kk(self.kk_count)

    @property
    def latest_award(self) -> Award | None:
        return max(self.awards, key=lambda a: a.year) if self.awards else None


class Kelurahan(_Strict):
    code: Code
    name: str = Field(min_length=2, max_length=80)
    rts: list[RT] = Field(min_length=1)


class Kecamatan(_Strict):
    code: Code
    name: str = Field(min_length=2, max_length=80)
    kelurahan: list[Kelurahan] = Field(min_length=1)


class Location(_Strict):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


_HEX_EUI = re.compile(r"^[0-9A-Fa-f]{16}$")


def normalise_dev_eui(value: str) -> str | None:
    """A DevEUI as 16 lower-case hex digits, from hex in any case (``-``/``:`` separators
    allowed) or the base64 of its 8 bytes (ChirpStack v3's protobuf JSON). None if neither."""
    compact = value.strip().replace("-", "").replace(":", "")
    if _HEX_EUI.match(compact):
        return compact.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 8 else None


ExternalId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\s#+]+$")]


class ExternalIds(_Strict):
    """How the device names itself outside ``bantar/v1``: the ids its network server, firmware or
    camera puts in topics and payloads. Identity always comes from here, never from a payload alone."""

    dev_eui: str | None = Field(default=None, description="LoRaWAN DevEUI (hex; stored lower-case)")
    tts_device_id: ExternalId | None = Field(default=None, description="The Things Stack device id")
    tasmota_topic: ExternalId | None = Field(default=None, description="Tasmota's %topic%")
    esphome_node: ExternalId | None = Field(default=None, description="ESPHome node name (its topic prefix)")
    camera: ExternalId | None = Field(default=None, description="camera or NVR name (Frigate prefix, Axis serial)")

    @field_validator("dev_eui")
    @classmethod
    def _eui(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = value.strip().replace("-", "").replace(":", "")
        if not _HEX_EUI.match(compact):
            raise ValueError("must be 16 hex digits, e.g. 0004A30B001C0530")
        return compact.lower()

    def pairs(self) -> list[tuple[str, str]]:
        """(scheme, id) pairs, as looked up by the source formats."""
        return [(name, value) for name, value in self.model_dump(exclude_none=True).items()]


class Device(_Strict):
    id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    kind: DeviceKind
    rt: Code
    interval_s: int = Field(ge=10, le=7 * 86400, description="expected seconds between reports")
    active: bool = True
    channel: Literal["mqtt", "http"] = Field(
        default="mqtt", description="how it reports: its own MQTT login, or people posting over HTTP"
    )
    location: Location | None = None
    depth_cm: float | None = Field(
        default=None,
        gt=0,
        le=1000,
        allow_inf_nan=False,
        description="bins only: distance from the sensor to the bin floor, to turn distance into fill %",
    )
    calibration: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")], float] = Field(
        default_factory=dict,
        description="a kind's own registered settings, e.g. a flood sensor's warning_cm and danger_cm",
    )

    external_ids: ExternalIds | None = Field(
        default=None, description="ids in other formats (LoRaWAN, Tasmota, ESPHome, cameras): config/sources.yaml"
    )
    model: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9-]{2,40}$",
        description="device model, e.g. dragino-ldds75: picks the decoder for raw LoRaWAN payloads",
    )

    @model_validator(mode="after")
    def _calibration_fits_kind(self) -> Self:
        if self.kind in READING_ONLY_KINDS:
            raise ValueError(f"{self.kind} is a kind of reading, not of device")
        if self.depth_cm is not None and self.kind is not DeviceKind.bin:
            raise ValueError("depth_cm is a bin calibration; this device is not a bin")
        allowed = plugins()[self.kind].calibration
        if unknown := sorted(set(self.calibration) - allowed):
            known = ", ".join(sorted(allowed)) or "none"
            raise ValueError(f"calibration {', '.join(unknown)} is not one of {self.kind}'s ({known})")
        return self


class Registry(_Strict):
    city: str = "Kota Jambi"
    kecamatan: list[Kecamatan] = Field(min_length=1)
    devices: list[Device] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _no_duplicates("kecamatan code", [k.code for k in self.kecamatan])
        _no_duplicates("kelurahan code", [kel.code for k in self.kecamatan for kel in k.kelurahan])
        rt_codes = [rt.code for k in self.kecamatan for kel in k.kelurahan for rt in kel.rts]
        _no_duplicates("RT code", rt_codes)
        _no_duplicates("device id", [d.id for d in self.devices])
        _no_duplicates(
            "external id", [f"{k}={v}" for d in self.devices if d.external_ids for k, v in d.external_ids.pairs()]
        )
        known = set(rt_codes)
        for index, device in enumerate(self.devices):
            if device.rt not in known:
                raise ValueError(f"devices[{index}] (id {device.id!r}): field 'rt' names unknown RT {device.rt!r}")
        return self


def _no_duplicates(what: str, values: list[str]) -> None:
    repeated = [value for value, n in Counter(values).items() if n > 1]
    if repeated:
        raise ValueError(f"duplicate {what}: {', '.join(repeated[:5])}")


class RTPlace(_Strict):
    """An RT with where it sits in the city tree."""

    rt: RT
    kelurahan_code: str
    kelurahan_name: str
    kecamatan_code: str
    kecamatan_name: str


WEB_KINDS = (DeviceKind.bank_sampah, DeviceKind.poskamling, DeviceKind.gotong_royong)


def web_device_id(rt_code: str, kind: DeviceKind) -> str:
    """The device that HTTP posts of one kind for one RT are attributed to."""
    return f"{rt_code}-web-{kind.value.replace('_', '')}".lower()


@dataclass(frozen=True)
class RegistryChange:
    """What a new registry file changed: device ids added, removed, and changed in any field."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    def __str__(self) -> str:
        return f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"


class RegistryIndex:
    """Fast lookups over a validated registry. It changes only by an admin's switch
    (``apply_overrides``) or a new registry file (``replace``), each bumping ``revision``.

    Besides the registered devices it holds one web device per RT and postable kind, to which
    people's HTTP posts are attributed: one intake and one storage path for devices and people."""

    def __init__(self, registry: Registry) -> None:
        self._lock = threading.Lock()
        """one writer at a time (the switch loop, the file watch, an admin's request)"""
        self.registry = registry
        self.devices: dict[str, Device] = {d.id: d for d in registry.devices}
        for kec in registry.kecamatan:
            for kel in kec.kelurahan:
                for rt in kel.rts:
                    for kind in WEB_KINDS:
                        web = Device(
                            id=web_device_id(rt.code, kind), kind=kind, rt=rt.code, interval_s=7 * 86400, channel="http"
                        )
                        self.devices.setdefault(web.id, web)
        self.device_by_topic: dict[str, str] = {str(Topic(d.id, d.kind)): d.id for d in self.devices.values()}
        """each device's own topic -> its id: the ingest hot path's lookup"""
        self.device_by_external_id: dict[tuple[str, str], str] = {
            key: d.id for d in registry.devices if d.external_ids for key in d.external_ids.pairs()
        }
        """(scheme, external id) -> device id, e.g. ("dev_eui", "0004a30b001c0530")"""
        self.revision = 0
        """grows with every switch or new file that changed a device: a key for what was computed from it"""
        self._by_rt: dict[str, list[Device]] = {}
        for device in self.devices.values():
            self._by_rt.setdefault(device.rt, []).append(device)
        self.rts: dict[str, RTPlace] = {
            rt.code: RTPlace(
                rt=rt,
                kelurahan_code=kel.code,
                kelurahan_name=kel.name,
                kecamatan_code=kec.code,
                kecamatan_name=kec.name,
            )
            for kec in registry.kecamatan
            for kel in kec.kelurahan
            for rt in kel.rts
        }

    def rts_in(self, level: str, code: str | None) -> list[str]:
        """Codes of the RTs in an area: ``city`` (no code), a ``kecamatan``, a ``kelurahan`` or
        one ``rt``; empty when the area is not in the registry."""
        if level == "city":
            return list(self.rts)
        if level == "rt":
            return [code] if code in self.rts else []
        key = {"kecamatan": "kecamatan_code", "kelurahan": "kelurahan_code"}[level]
        return [c for c, place in self.rts.items() if getattr(place, key) == code]

    def replace(self, registry: Registry, active: dict[str, bool]) -> RegistryChange:
        """Take a new registry (an edited file) with the admins' switches ``active`` applied, in
        place: everyone holding this index follows from their next lookup. Each table is swapped
        in one assignment; a lookup crossing two tables during the swap may find an id in one
        and not the other, so cross-table lookups use ``get``."""
        fresh = RegistryIndex(registry)
        fresh.apply_overrides(active)
        with self._lock:
            old = self.devices
            self.registry = fresh.registry
            self.rts = fresh.rts
            self._by_rt = fresh._by_rt
            self.device_by_external_id = fresh.device_by_external_id
            self.device_by_topic = fresh.device_by_topic
            self.devices = fresh.devices
            self.revision += 1
        return RegistryChange(
            added=tuple(sorted(fresh.devices.keys() - old.keys())),
            removed=tuple(sorted(old.keys() - fresh.devices.keys())),
            changed=tuple(sorted(i for i in fresh.devices.keys() & old.keys() if fresh.devices[i] != old[i])),
        )

    def apply_overrides(self, active: dict[str, bool]) -> None:
        """Switch registered devices on or off (an admin's decision, kept outside the file)."""
        with self._lock:
            for device_id, on in active.items():
                device = self.devices.get(device_id)
                if device is None or device.active == on:
                    continue
                changed = device.model_copy(update={"active": on})
                self.devices[device_id] = changed  # one atomic assignment: readers see old or new
                self._by_rt[device.rt] = [changed if d.id == device_id else d for d in self._by_rt[device.rt]]
                self.revision += 1

    def devices_in(self, rt_code: str, channel: str | None = "mqtt") -> list[Device]:
        """The RT's devices reporting over ``channel`` (None: all, web devices included)."""
        return [d for d in self._by_rt.get(rt_code, []) if channel is None or d.channel == channel]
