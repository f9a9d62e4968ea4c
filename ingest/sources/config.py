"""``config/sources.yaml``: the broker connections and the sources read through them.

Validated at start; every problem names the file, the entry and the field. Each connection is
one MQTT client with its own fixed client id (a persistent session: what arrives while the
ingestor is away waits for it); each source names its connection, its format, the topic
templates it reads (default: the format's) and, where the format does not say, the unit of
each mapped field."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bantar.domain.errors import RegistryError
from bantar.registry_file import _describe, read_yaml
from bantar.settings import MqttSettings
from ingest.sources.formats import FORMATS

UNITS: dict[str, frozenset[str]] = {
    "distance": frozenset({"mm", "cm", "m"}),
    "battery": frozenset({"%", "V"}),
    "weight": frozenset({"kg", "g"}),
    "storage_free": frozenset({"%"}),
}
"""the roles a mapped field can play, and the units each may be stated in"""

ID_FIELD = {"tasmota": ("tasmota_topic", "topic"), "esphome": ("esphome_node", "node"), "camera": ("camera", "camera")}
"""firmware formats: the registry's external id their topics carry, and its placeholder"""

_PLACEHOLDER = re.compile(r"^\{([a-z_]+)\}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Connection(_Strict):
    broker: Literal["service", "external"] = Field(
        default="external", description="'service': the service's own Mosquitto (BANTAR_MQTT__*), else host/port"
    )
    host: str | None = None
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password_env: str | None = Field(
        default=None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="environment variable holding the password/API key"
    )
    client_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="fixed: the broker keeps our session")
    protocol: Literal["3.1.1", "5"] = "3.1.1"

    @model_validator(mode="after")
    def _where(self) -> Self:
        if self.broker == "external" and not self.host:
            raise ValueError("an external broker needs 'host'")
        return self

    def mqtt(self, service: MqttSettings) -> MqttSettings:
        """Its MQTT settings. On the service's broker it logs in with its client id as username
        (Mosquitto there uses usernames as client ids) and, without ``password_env``, the
        ingestor's password (``bantar broker config`` gives the login that one)."""
        password = os.environ.get(self.password_env) if self.password_env else None
        if self.password_env and password is None:
            raise RegistryError(f"environment variable {self.password_env} (password of {self.client_id}) is not set")
        if self.broker == "service":
            login = {"username": self.client_id, "password": SecretStr(password)} if password else {}
            if service.username and not login:
                login = {"username": self.client_id}
            return service.model_copy(update={"client_id": self.client_id, "shared_group": None, **login})
        return MqttSettings(
            host=self.host or "",
            port=self.port,
            username=self.username,
            password=SecretStr(password) if password is not None else None,
            client_id=self.client_id,
            protocol=self.protocol,
        )


class SensorMapping(_Strict):
    role: Literal["distance", "battery", "weight", "storage_free"]
    unit: str

    @model_validator(mode="after")
    def _unit_fits(self) -> Self:
        if self.unit not in UNITS[self.role]:
            raise ValueError(f"unit {self.unit!r} is not one of {', '.join(sorted(UNITS[self.role]))} for {self.role}")
        return self


Template = Annotated[str, Field(min_length=3, max_length=200)]


class Source(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    connection: str
    format: str
    topics: list[Template] | None = Field(default=None, description="topic templates; default: the format's")
    local_tz: str = Field(default="Asia/Jakarta", description="zone of device clocks that send no offset")
    sensors: dict[str, SensorMapping] = Field(
        default_factory=dict, description="ESPHome sensor object id, or Tasmota 'Sensor.Key' -> role and unit"
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"unknown format {value!r}; known: {', '.join(sorted(FORMATS))}")
        return value

    @field_validator("local_tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("topics")
    @classmethod
    def _templates(cls, value: list[str] | None) -> list[str] | None:
        for template in value or []:
            for level in template.split("/"):
                if "{" in level and not _PLACEHOLDER.match(level):
                    raise ValueError(f"{template!r}: a placeholder must be a whole level, like {{topic}}")
                if level in ("+", "#"):
                    raise ValueError(f"{template!r}: use {{name}} placeholders, not MQTT wildcards")
        return value

    @property
    def templates(self) -> tuple[str, ...]:
        return tuple(self.topics) if self.topics else FORMATS[self.format].topics


class SourcesFile(_Strict):
    connections: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")], Connection]
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError("source names must be unique")
        for index, source in enumerate(self.sources):
            if source.connection not in self.connections:
                raise ValueError(
                    f"sources[{index}] ({source.name!r}): field 'connection' names unknown connection "
                    f"{source.connection!r}"
                )
        ids = [c.client_id for c in self.connections.values()]
        if len(set(ids)) != len(ids):
            raise ValueError("each connection needs its own client_id (one session per client id)")
        return self


def load_sources(path: Path) -> SourcesFile:
    raw = read_yaml(path, "the sources")
    try:
        return SourcesFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(raw, error) for error in exc.errors(include_url=False)[:10]]
        raise RegistryError(f"{path}: invalid sources:\n  " + "\n  ".join(lines)) from None


class Route:
    """One topic template of one source: its subscription filter and how to read its fields."""

    def __init__(self, source: Source, template: str) -> None:
        self.source = source
        self.template = template
        self.levels = template.split("/")
        self.filter = "/".join("+" if _PLACEHOLDER.match(level) else level for level in self.levels)

    def match(self, topic: str) -> dict[str, str] | None:
        parts = topic.split("/")
        if len(parts) != len(self.levels):
            return None
        fields = {}
        for level, part in zip(self.levels, parts, strict=True):
            placeholder = _PLACEHOLDER.match(level)
            if placeholder:
                fields[placeholder.group(1)] = part
            elif level != part:
                return None
        return fields
