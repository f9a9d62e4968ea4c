"""An admin's switch reaches every part without a restart: the intake refuses the device, it no
longer counts as expected, raises no silent-device alert, and loses its broker login (real
Mosquitto reloading its logins, real ingestor, real uvicorn, real SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.registry import Device, Registry
from bantar.domain.timebase import WIB, wib_day
from bantar.domain.topics import DeviceKind, Topic
from bantar.registry_file import dump_registry
from bantar.services import Services
from bantar.settings import (
    ArchiveSettings,
    IngestSettings,
    MqttSettings,
    NotifySettings,
    Settings,
    SqliteSettings,
)
from ingest.broker import MosquittoProcess, free_port
from ingest.broker_auth import INGEST_USER, write_broker_auth
from shell.compose import build_services, run_ingest
from tests.integration.test_broker_acl import Client
from tests.support import REPO, payload, wait_until

GENEROUS_S = 60.0


@dataclass
class Stack:
    services: Services
    url: str
    secured: MosquittoProcess
    credentials: dict[str, str]
    open_port: int


@pytest.fixture
def stack(tmp_path: Path, small_registry: Registry, mosquitto: MosquittoProcess) -> Iterator[Stack]:
    """The API and an ingestor over one store and app database. The ingestor reads the devices
    from an open broker (``mosquitto``) and keeps the logins of a secured one in step."""
    dump_registry(small_registry, tmp_path / "registry.yaml")
    credentials = write_broker_auth(small_registry.devices, tmp_path / "auth")
    secured = MosquittoProcess.start(
        tmp_path / "secured",
        password_file=str(tmp_path / "auth/passwd"),
        acl_file=str(tmp_path / "auth/acl"),
        pid_file=str(tmp_path / "secured.pid"),
    )
    settings = Settings(
        registry=tmp_path / "registry.yaml",
        rules=REPO / "config/rules.yaml",
        criteria=REPO / "config/criteria.yaml",
        sqlite=SqliteSettings(path=tmp_path / "bantar.db"),
        app_db=tmp_path / "app.db",
        mqtt=MqttSettings(
            port=mosquitto.port,
            client_id="switch-test",
            broker_auth_dir=tmp_path / "auth",
            broker_pid_file=tmp_path / "secured.pid",
        ),
        ingest=IngestSettings(device_switches_every_s=0.2),
        notify=NotifySettings(rules=REPO / "config/notifications.yaml"),
        archive=ArchiveSettings(enabled=False),
    )
    services = build_services(settings)
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    stop, ready = threading.Event(), threading.Event()
    ingestor = threading.Thread(target=run_ingest, args=(settings, stop, ready), name="ingestor")
    ingestor.start()
    try:
        assert ready.wait(GENEROUS_S), "the ingestor did not subscribe"
        yield Stack(services, server.url, secured, credentials, mosquitto.port)
    finally:
        stop.set()
        ingestor.join(GENEROUS_S)
        server.stop()
        services.close()
        secured.stop()


def reading(seq: int) -> bytes:
    ts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return payload(ts=ts.astimezone(WIB).isoformat(), seq=seq, fill_pct=40.0, battery_pct=90.0)


def bin_indicator(services: Services, rt: str) -> tuple[str, float | None]:
    today = wib_day(services.queries.now())
    scores = services.queries.scores(rt, today - timedelta(days=6), today)
    found = [i for c in scores.criteria for i in c.indicators if i.metric == "bin_overflow_share"]
    assert len(found) == 1
    return found[0].status.value, found[0].coverage


def silent(services: Services, devices: list[Device]) -> set[str]:
    ids = {d.id for d in devices}
    return {a.device_id for a in services.queries.alerts([devices[0].rt]) if a.kind == "device_silent"} & ids


def test_a_switched_off_device_is_refused_unexpected_unalerted_and_logged_out(
    stack: Stack, small_registry: Registry
) -> None:
    services = stack.services
    rt = next(d.rt for d in small_registry.devices if d.kind is DeviceKind.bin)
    bins = [d for d in small_registry.devices if d.rt == rt and d.kind is DeviceKind.bin]
    device, topic = bins[0], str(Topic(bins[0].id, DeviceKind.bin))
    admin = services.app_db.create_token("Admin", Role.admin, ScopeLevel.city, None)[1]

    # Switched on: its reading is stored, its bins are expected, the silent ones are alerted,
    # and it may log in to the broker.
    sender = Client(stack.open_port, device.id, "-", client_id=f"{device.id}-open")
    try:
        sender.publish(topic, reading(1))
        wait_until(lambda: services.store.counts().readings == 1, GENEROUS_S, "the reading stored")
        assert bin_indicator(services, rt)[0] != "not_applicable"
        assert silent(services, bins) == {d.id for d in bins[1:]}
        login = Client(stack.secured.port, device.id, stack.credentials[device.id])
        assert not login.connect_reason.is_failure
        login.close()

        for d in bins:
            switched = httpx.patch(
                f"{stack.url}/api/v1/devices/{d.id}",
                json={"active": False},
                headers={"Authorization": f"Bearer {admin}"},
                timeout=GENEROUS_S,
            )
            assert switched.status_code == 200, switched.text

        # Evidence expectations and silent-device alerts: at once, in the API process.
        assert bin_indicator(services, rt) == ("not_applicable", None)
        assert silent(services, bins) == set()

        # Broker logins: the secured broker reloads them and refuses the device.
        def refused() -> bool:
            attempt = Client(stack.secured.port, device.id, stack.credentials[device.id])
            attempt.close()
            return attempt.connect_reason is not None and attempt.connect_reason.is_failure

        wait_until(refused, GENEROUS_S, "the broker refusing the switched-off device")
        other = next(d for d in small_registry.devices if d.kind is DeviceKind.bin and d.rt != rt)
        still = Client(stack.secured.port, other.id, stack.credentials[other.id])
        assert not still.connect_reason.is_failure  # the others keep their logins
        still.close()
        ingest_login = Client(stack.secured.port, INGEST_USER, stack.credentials[INGEST_USER])
        assert not ingest_login.connect_reason.is_failure
        ingest_login.close()

        # Intake: the ingestor (which rewrote the logins after applying the switch) refuses it.
        sender.publish(topic, reading(2))
        wait_until(lambda: services.store.counts().dead_letters == 1, GENEROUS_S, "the dead letter")
        assert [d.reason for d in services.store.dead_letters(5)] == ["device_inactive"]
        assert services.store.counts().readings == 1
    finally:
        sender.close()
