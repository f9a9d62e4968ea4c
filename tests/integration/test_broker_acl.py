"""Device credentials and ACLs from the registry, enforced by a real Mosquitto."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from bantar.domain.registry import Registry
from bantar.domain.topics import DeviceKind, Topic
from ingest.broker import MosquittoProcess
from ingest.broker_auth import INGEST_USER, ingest_users, write_broker_auth
from tests.support import payload, wait_until


@pytest.fixture
def secured(tmp_path: Path, small_registry: Registry) -> Iterator[tuple[MosquittoProcess, dict[str, str]]]:
    credentials = write_broker_auth(small_registry.devices, tmp_path / "auth")
    broker = MosquittoProcess.start(
        tmp_path / "mosquitto", password_file=str(tmp_path / "auth/passwd"), acl_file=str(tmp_path / "auth/acl")
    )
    yield broker, credentials
    broker.stop()


class Client:
    def __init__(self, port: int, username: str, password: str, client_id: str | None = None) -> None:
        self.messages: list[str] = []
        self.granted: list[int] = []
        self.connect_reason: Any = None
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"t-{username}",
            protocol=paho.MQTTv5,
        )
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, m: self.messages.append(m.topic)
        self.client.on_subscribe = self._on_subscribe
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()
        self.connected.wait(10)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connect_reason = reason
        self.connected.set()

    def _on_subscribe(self, _c: Any, _u: Any, _mid: Any, reasons: Any, _p: Any) -> None:
        self.granted = [r.value for r in reasons]
        self.subscribed.set()

    def subscribe(self, topic: str) -> list[int]:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(10)
        return self.granted

    def publish(self, topic: str, body: bytes | None = None) -> int:
        info = self.client.publish(topic, body or payload(ts="2026-11-29T08:00:00+07:00", seq=1), qos=1)
        info.wait_for_publish(10)
        return info.rc

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_devices_publish_only_to_their_own_topics_and_read_nothing(
    secured: tuple[MosquittoProcess, dict[str, str]], small_registry: Registry
) -> None:
    broker, credentials = secured
    bins = [d for d in small_registry.devices if d.kind is DeviceKind.bin]
    mine, other = bins[0], bins[1]
    ingestor = Client(broker.port, INGEST_USER, credentials[INGEST_USER])
    device = Client(broker.port, mine.id, credentials[mine.id])
    try:
        assert ingestor.subscribe("bantar/v1/#") == [1]
        # Mosquitto 2.0 grants the SUBSCRIBE but checks read access on delivery: a device that
        # subscribes to everything still receives nothing, its own messages included.
        device.subscribe("bantar/v1/#")
        device.subscribe("#")
        device.publish(str(Topic(other.id, DeviceKind.bin)))  # spoofing another device: dropped
        device.publish(f"bantar/v1/{mine.id}/bin")  # its own topic: delivered to the ingestor only
        wait_until(lambda: ingestor.messages, 10, "the device's own message")
        assert ingestor.messages == [f"bantar/v1/{mine.id}/bin"]
        assert device.messages == []
    finally:
        ingestor.close()
        device.close()


def test_wrong_passwords_and_unknown_users_are_refused(secured: tuple[MosquittoProcess, dict[str, str]]) -> None:
    broker, credentials = secured
    device_id = next(u for u in credentials if u != INGEST_USER)
    for username, password in ((device_id, "not-the-password"), ("stranger-01", "x"), ("+", "x"), ("#", "x")):
        client = Client(broker.port, username, password)
        try:
            assert client.connect_reason is not None
            assert client.connect_reason.is_failure, username
        finally:
            client.close()


def test_a_rerun_keeps_existing_passwords_and_adds_new_devices(tmp_path: Path, small_registry: Registry) -> None:
    first = write_broker_auth(small_registry.devices, tmp_path)
    again = write_broker_auth(small_registry.devices, tmp_path)
    assert first == again
    assert (tmp_path / "credentials.csv").stat().st_mode & 0o777 == 0o600
    assert "pattern write bantar/v1/%u/#" in (tmp_path / "acl").read_text()
    assert all(line.split(":", 1)[1].startswith("$7$101$") for line in (tmp_path / "passwd").read_text().splitlines())


def test_an_empty_acl_file_denies_everything(tmp_path: Path, small_registry: Registry) -> None:
    credentials = write_broker_auth(small_registry.devices, tmp_path / "auth")
    (tmp_path / "auth/acl").write_text("")
    broker = MosquittoProcess.start(
        tmp_path / "mosquitto", password_file=str(tmp_path / "auth/passwd"), acl_file=str(tmp_path / "auth/acl")
    )
    device = next(d for d in small_registry.devices if d.kind is DeviceKind.bin)
    ingestor = Client(broker.port, INGEST_USER, credentials[INGEST_USER])
    sender = Client(broker.port, device.id, credentials[device.id])
    try:
        ingestor.subscribe("bantar/v1/#")
        sender.publish(str(Topic(device.id, DeviceKind.bin)))
        ingestor.client.publish(str(Topic(device.id, DeviceKind.bin)), b"{}", qos=1).wait_for_publish(10)
        time.sleep(1.0)  # time enough for a delivery that must not come
        assert ingestor.messages == []
    finally:
        ingestor.close()
        sender.close()
        broker.stop()


def test_a_device_cannot_take_over_the_ingestors_session_by_its_client_id(
    secured: tuple[MosquittoProcess, dict[str, str]], small_registry: Registry
) -> None:
    """With logins the broker uses the username as client id: a device connecting with the
    ingestor's client id gets its own session; the ingestor stays connected and keeps reading."""
    broker, credentials = secured
    device = next(d for d in small_registry.devices if d.kind is DeviceKind.bin)
    ingestor = Client(broker.port, INGEST_USER, credentials[INGEST_USER], client_id=INGEST_USER)
    ingestor.subscribe("bantar/v1/#")
    thief = Client(broker.port, device.id, credentials[device.id], client_id=INGEST_USER)
    try:
        assert not thief.connect_reason.is_failure
        time.sleep(0.5)
        assert ingestor.client.is_connected()
        thief.subscribe("bantar/v1/#")  # granted by Mosquitto 2.0, but without read access nothing is delivered
        thief.publish(str(Topic(device.id, DeviceKind.bin)))
        wait_until(lambda: ingestor.messages != [], 10, "the ingestor to keep receiving")
        assert thief.messages == []
    finally:
        thief.close()
        ingestor.close()


def test_ingestors_sharing_the_load_each_have_a_login_and_do_not_displace_each_other(
    tmp_path: Path, small_registry: Registry
) -> None:
    credentials = write_broker_auth(small_registry.devices, tmp_path / "auth", ingest_members=2)
    broker = MosquittoProcess.start(
        tmp_path / "mosquitto", password_file=str(tmp_path / "auth/passwd"), acl_file=str(tmp_path / "auth/acl")
    )
    members = [Client(broker.port, user, credentials[user]) for user in ingest_users(2)]
    bins = [d for d in small_registry.devices if d.kind is DeviceKind.bin][:10]
    senders = [Client(broker.port, d.id, credentials[d.id]) for d in bins]
    try:
        for member in members:
            member.subscribe("$share/bantar/bantar/v1/#")
        for sender, d in zip(senders, bins, strict=True):
            sender.publish(str(Topic(d.id, DeviceKind.bin)))
        wait_until(lambda: sum(len(m.messages) for m in members) == len(bins), 10, "every message once")
        assert all(m.client.is_connected() for m in members)
        assert all(m.messages for m in members)  # the broker shares the load between the two logins
    finally:
        for client in [*members, *senders]:
            client.close()
        broker.stop()
