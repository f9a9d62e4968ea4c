"""One settings model for every process. Environment variables start with ``BANTAR_``; nested
groups use a double underscore, e.g. ``BANTAR_MQTT__HOST=broker`` or ``BANTAR_SQLITE__PATH=...``."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from bantar.domain.intake import IntakeLimits
from bantar.domain.sequences import PLAUSIBLE_GAP

PLACEHOLDER = "change-me"
RETENTION_SLACK_DAYS = 7
"""How long the archiver may be down before InfluxDB's retention would drop unarchived points."""
"""marks every secret in .env.example that must be replaced before the stack runs"""


class MqttSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="the broker's address")
    port: int = Field(default=1883, ge=1, le=65535, description="the broker's port")
    username: str | None = Field(default=None, description="the ingestor's broker login")
    password: SecretStr | None = Field(default=None, description="the ingestor's broker password")
    tls_ca: Path | None = Field(
        default=None,
        description="connect over TLS, verifying the broker against this CA (`bantar broker config --tls`)",
    )
    protocol: Literal["3.1.1", "5"] = Field(
        default="3.1.1",
        description=(
            "3.1.1 by default: paho parses an MQTT 5 property set per message, which cost ~40% more "
            "CPU per reading here (bench/README.md); the persistent session works alike in both"
        ),
    )
    client_id: str = Field(
        default="bantar-ingest-1",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="fixed, so the broker keeps this ingestor's session and queue across restarts",
    )
    session_expiry_s: int = Field(
        default=7 * 86400,
        ge=60,
        description=(
            "MQTT 5: how long the broker keeps queueing for an absent ingestor "
            "(MQTT 3.1.1: the broker's persistent_client_expiration decides)"
        ),
    )
    keepalive_s: int = Field(default=30, ge=5, le=600, description="MQTT keepalive towards the broker")
    shared_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="subscribe as a member of this MQTT 5 shared-subscription group ($share/<group>/...)",
    )
    broker_auth_dir: Path | None = Field(
        default=None,
        description=(
            "the broker's logins (the folder of `bantar broker config --out`): the ingestor removes a "
            "switched-off device's login there and restores it when switched on again, and at start "
            "removes the logins of devices taken out of the registry while it was not running"
        ),
    )
    broker_pid_file: Path | None = Field(
        default=None,
        description="the broker's pid_file: signalled (SIGHUP) to reload its logins after such a change",
    )


class IngestSettings(BaseModel):
    batch_max: int = Field(default=5000, ge=1, le=50_000, description="readings per store transaction at most")
    linger_ms: int = Field(default=50, ge=0, le=10_000, description="how long a partial batch waits for more messages")
    window: int = Field(
        default=10_000,
        ge=1,
        le=100_000,
        description="received but unacknowledged messages, at most (memory bound; MQTT Receive Maximum)",
    )
    max_payload_bytes: int = Field(default=8192, ge=256, le=1_048_576, description="larger payloads are dead-lettered")
    max_age_days: int = Field(default=400, ge=1, description="oldest device timestamp accepted")
    max_future_skew_s: int = Field(default=300, ge=0, le=86400, description="how far ahead a device clock may run")
    retry_max_s: float = Field(default=30.0, gt=0, description="longest pause between store retries")
    stats_every_s: float = Field(default=10.0, gt=0, description="how often the counters are logged")
    heartbeat_file: Path | None = Field(
        default=None, description="touched with every counters log line: a liveness check for containers"
    )
    max_seq_gap: int = Field(
        default=PLAUSIBLE_GAP,
        ge=1,
        description="a larger jump in a device's seq is reported as a reset or fault, not as lost messages",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="serve Prometheus metrics on this port (off when unset; docs/metrics.md)",
    )
    metrics_host: str = Field(default="127.0.0.1", description="address the metrics port listens on")
    device_switches_every_s: float = Field(
        default=30.0,
        gt=0,
        description="how often the admins' device on/off switches and the registry file's edits are re-read",
    )

    def limits(self) -> IntakeLimits:
        return IntakeLimits(
            max_payload_bytes=self.max_payload_bytes,
            max_age=timedelta(days=self.max_age_days),
            max_future_skew=timedelta(seconds=self.max_future_skew_s),
        )


class ApiSettings(BaseModel):
    rate_per_token_s: float = Field(default=20.0, gt=0, description="sustained requests per second per token")
    burst_per_token: int = Field(default=60, ge=1, description="requests a token may make at once")
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(
        default_factory=list,
        description="reverse proxies (addresses or networks) whose X-Forwarded-For names the client",
    )
    max_backdate_days: int = Field(
        default=7, ge=0, le=400, description="how far in the past a post's ts may lie (an RT head: 31)"
    )


class SqliteSettings(BaseModel):
    path: Path = Field(default=Path("var/bantar.db"), description="the SQLite file")
    synchronous: Literal["NORMAL", "FULL", "EXTRA"] = Field(
        default="FULL", description="SQLite durability (NORMAL survives process crashes but not power cuts)"
    )
    busy_timeout_ms: int = Field(default=10_000, ge=0, le=600_000, description="how long a write waits for a lock")


class InfluxSettings(BaseModel):
    """InfluxDB through its v1 HTTP API: 1.x natively, 2.x via the bucket's DBRP mapping, 3 Core."""

    url: str = Field(default="http://127.0.0.1:8086", description="InfluxDB's HTTP address")
    database: str = Field(default="bantar", min_length=1, description="1.x/3 database, or the 2.x bucket name")
    retention_policy: str | None = Field(
        default=None, description="1.x retention policy (none: the database's default)"
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="1.x: set the retention policy (retention_policy, or autogen) to this many days at start; "
        "none: leave it as it is (autogen keeps points forever); never less than the archive needs (docs/archive.md)",
    )
    token: SecretStr | None = Field(default=None, description="2.x/3 API token (sent as 'Authorization: Token')")
    username: str | None = Field(default=None, description="1.x user (or a 2.x v1-auth user)")
    password: SecretStr | None = Field(default=None, description="1.x password (HTTP basic auth)")
    create_database: bool = Field(
        default=True, description="CREATE DATABASE at start (1.x only; false for 2.x and 3 Core)"
    )
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="per InfluxDB request")
    ledger_path: Path = Field(
        default=Path("var/bantar-ledger.db"),
        description=(
            "SQLite sidecar: stored keys, device state, dirty marks, derived evidence; "
            "the ingestors and the API share it"
        ),
    )


class NotifySettings(BaseModel):
    """Alert notifications (docs/notifications.md). Channel URLs are secrets: never logged."""

    rules: Path = Field(
        default=Path("config/notifications.yaml"),
        description="recipients, rules, quiet hours, digests, escalation (docs/notifications.md)",
    )
    channels: dict[str, SecretStr] = Field(
        default={},
        description='channel name -> Apprise URL, as JSON: {"wa-rt-001": "whatsapp://...", "tim-kel": "mailtos://..."}',
    )
    public_url: str = Field(default="http://127.0.0.1:8080", description="where people reach the API and dashboard")
    link_secret: SecretStr | None = Field(default=None, description="signs acknowledgement links (none: no links)")
    worker: str = Field(
        default="sender-1",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="this sender's name; one process per name (at start it takes back its own leases)",
    )
    lease_s: float = Field(default=120.0, gt=0, le=3600, description="how long a claimed message is reserved")
    batch: int = Field(default=20, ge=1, le=1000, description="messages claimed at once")
    poll_s: float = Field(default=5.0, gt=0, le=600, description="how often the sender looks for due messages")
    retry_base_s: float = Field(default=30.0, gt=0, description="first retry after a failure; doubles each time")
    retry_max_s: float = Field(default=3600.0, gt=0, description="longest pause between retries")
    send_timeout_s: float = Field(default=20.0, gt=0, le=300, description="per message and channel")
    sync_every_s: float = Field(default=60.0, gt=0, le=3600, description="how often the API syncs the alert set")


class ArchiveSettings(BaseModel):
    """Readings older than the hot window move to monthly folders of Parquet parts (docs/archive.md)."""

    path: Path | None = Field(
        default=None, description="the archive's folder; default: 'archive' next to the SQLite file"
    )
    hot_days: int = Field(
        default=7,
        ge=1,
        le=400,
        description=(
            "whole WIB days of raw readings kept in the hot store (7 keeps a city-year near 5 GB; docs/archive.md)"
        ),
    )
    every_h: float = Field(default=24.0, gt=0, le=24 * 31, description="how often the API process archives")
    enabled: bool = Field(default=True, description="archive from the API process (bantar archive works regardless)")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANTAR_", env_nested_delimiter="__", extra="ignore")

    registry: Path = Field(default=Path("config/registry.yaml"), description="the registry file")
    rules: Path = Field(default=Path("config/rules.yaml"), description="the indicator rules")
    criteria: Path = Field(default=Path("config/criteria.yaml"), description="the criteria's names (id/en)")
    sources: Path | None = Field(
        default=None,
        description="config/sources.yaml: network servers, Tasmota, ESPHome and cameras read besides bantar/v1",
    )
    store: Literal["sqlite", "influxdb"] = Field(
        default="sqlite", description="which store adapter: sqlite or influxdb"
    )
    sqlite: SqliteSettings = SqliteSettings()
    """the embedded store; with ``store=influxdb`` its synchronous/busy settings apply to the ledger"""
    influxdb: InfluxSettings = InfluxSettings()
    app_db: Path = Field(
        default=Path("var/bantar-app.db"), description="tokens, assessments and the audit log (SQLite)"
    )
    mqtt: MqttSettings = MqttSettings()
    ingest: IngestSettings = IngestSettings()
    api: ApiSettings = ApiSettings()
    notify: NotifySettings = NotifySettings()
    archive: ArchiveSettings = ArchiveSettings()
    evidence_every_s: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="how often the API derives new evidence (and looks for edits of the registry file)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR"
    )

    def archive_root(self) -> Path:
        beside = self.influxdb.ledger_path if self.store == "influxdb" else self.sqlite.path
        return self.archive.path or beside.parent / "archive"

    def retention_minimum_days(self) -> int:
        """The shortest InfluxDB retention that drops no point the archive has not taken: the hot
        window, the day in progress, one archive interval and a week for an archiver that is down,
        and no less than the oldest reading the intake accepts (InfluxDB refuses points older
        than its retention, so an accepted late reading could never be stored)."""
        behind = self.archive.hot_days + 1 + math.ceil(self.archive.every_h / 24) + RETENTION_SLACK_DAYS
        return max(behind, self.ingest.max_age_days + 1)

    @model_validator(mode="after")
    def _retention_outlasts_the_hot_window(self) -> Self:
        days = self.influxdb.retention_days
        if days is not None and days < (minimum := self.retention_minimum_days()):
            raise ValueError(
                f"influxdb.retention_days={days} would let InfluxDB drop readings the archive has not taken: "
                f"at least {minimum} (archive.hot_days={self.archive.hot_days} + 1 day in progress + "
                f"archive.every_h={self.archive.every_h:g} + {RETENTION_SLACK_DAYS} days of slack, and "
                f"ingest.max_age_days={self.ingest.max_age_days} + 1)"
            )
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Self:
        """Refuse to start with a value copied unchanged from .env.example."""
        secrets = {
            "mqtt.password": self.mqtt.password,
            "influxdb.token": self.influxdb.token,
            "influxdb.password": self.influxdb.password,
        }
        for name, value in secrets.items():
            if value is not None and PLACEHOLDER in value.get_secret_value():
                raise ValueError(f"{name} is still a {PLACEHOLDER} placeholder from .env.example: set a real secret")
        return self

    @model_validator(mode="after")
    def _window_holds_a_batch(self) -> Self:
        if self.ingest.window < self.ingest.batch_max:
            raise ValueError("ingest.window must be at least ingest.batch_max, or a batch can never fill")
        return self


def config_rows() -> list[str]:
    """Every setting as a Markdown table: variable, default, meaning (printed in the README; a test
    keeps the two equal)."""
    return ["| variable | default | meaning |", "|---|---|---|", *_rows(Settings, "BANTAR_")]


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            rows += _rows(type(default), f"{variable}__")
        else:
            rows.append(f"| `{variable}` | {_shown(default)} | {_meaning(field)} |")
    return rows


def _shown(default: object) -> str:
    if default is None:
        return "—"
    if isinstance(default, bool | list | dict):
        return f"`{json.dumps(default)}`"
    if isinstance(default, float) and default.is_integer():
        return f"`{int(default)}`"
    return f"`{default}`"


def _meaning(field: FieldInfo) -> str:
    return (field.description or "").replace("|", "\\|")
