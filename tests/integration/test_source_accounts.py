"""``bantar broker config``'s logins for sources, enforced by a real Mosquitto: an integration
and a firmware device publish only under their own topics; the sources' connection reads them."""

from __future__ import annotations

from pathlib import Path

from bantar.domain.registry import Device, ExternalIds, Registry
from ingest.broker import MosquittoProcess
from ingest.broker_auth import BrokerLogins, read_credentials, write_broker_auth
from ingest.sources.accounts import source_accounts
from ingest.sources.config import Connection, Source, SourcesFile
from tests.integration.test_broker_acl import Client
from tests.support import wait_until


def test_integrations_and_firmware_publish_only_under_their_own_prefix(
    tmp_path: Path, small_registry: Registry
) -> None:
    rt = small_registry.kecamatan[0].kelurahan[0].rts[0].code
    sonoff = Device(
        id=f"{rt}-bin9",
        kind="bin",
        rt=rt,
        interval_s=600,
        depth_cm=100,
        external_ids=ExternalIds(tasmota_topic="tong-9"),
    )
    sources = SourcesFile(
        connections={"service": Connection(broker="service", client_id="bantar-sources")},
        sources=[
            Source(name="chirpstack", connection="service", format="chirpstack"),
            Source(name="tasmota", connection="service", format="tasmota"),
        ],
    )
    accounts = source_accounts(sources, [sonoff])
    credentials = write_broker_auth([sonoff], tmp_path / "auth", source_accounts=accounts)
    broker = MosquittoProcess.start(
        tmp_path / "mosquitto", password_file=str(tmp_path / "auth/passwd"), acl_file=str(tmp_path / "auth/acl")
    )
    reader = Client(broker.port, "bantar-sources", credentials["bantar-sources"])
    integration = Client(broker.port, "integration-chirpstack", credentials["integration-chirpstack"])
    device = Client(broker.port, sonoff.id, credentials[sonoff.id])
    try:
        assert reader.subscribe("application/+/device/+/event/+") == [1]
        assert reader.subscribe("tele/+/+") == [1]
        integration.publish("tele/tong-9/SENSOR")  # outside its prefix: dropped
        device.publish("tele/tong-1/SENSOR")  # another device's topic: dropped
        device.publish("application/1/device/0101010101010101/event/up")  # dropped
        integration.publish("application/1/device/0101010101010101/event/up")
        device.publish("tele/tong-9/SENSOR")
        wait_until(lambda: len(reader.messages) >= 2, 10, "the two allowed messages")
        assert sorted(reader.messages) == ["application/1/device/0101010101010101/event/up", "tele/tong-9/SENSOR"]
    finally:
        for client in (reader, integration, device):
            client.close()
        broker.stop()


def test_a_firmware_device_new_to_the_registry_may_publish_on_its_sources_topics(
    tmp_path: Path, small_registry: Registry
) -> None:
    """What the ingestor does when the registry gains a Tasmota bin (``BrokerLogins.follow``): its
    login and, in the ACL's sources block, its source's topics; the broker reloads both."""
    rt = small_registry.kecamatan[0].kelurahan[0].rts[0].code
    old, new = (
        Device(
            id=f"{rt}-bin{n}", kind="bin", rt=rt, interval_s=600, external_ids=ExternalIds(tasmota_topic=f"tong-{n}")
        )
        for n in (8, 9)
    )
    sources = SourcesFile(
        connections={"service": Connection(broker="service", client_id="bantar-sources")},
        sources=[Source(name="tasmota", connection="service", format="tasmota")],
    )
    auth = tmp_path / "auth"
    credentials = write_broker_auth([old], auth, source_accounts=source_accounts(sources, [old]))
    broker = MosquittoProcess.start(
        tmp_path / "mosquitto",
        password_file=str(auth / "passwd"),
        acl_file=str(auth / "acl"),
        pid_file=str(tmp_path / "mosquitto.pid"),
    )
    reader = Client(broker.port, "bantar-sources", credentials["bantar-sources"])
    clients = [reader]
    try:
        assert reader.subscribe("tele/+/+") == [1]
        assert BrokerLogins(auth, tmp_path / "mosquitto.pid", sources).follow([old, new])
        password = read_credentials(auth / "credentials.csv")[new.id]

        def connected() -> bool:
            clients.append(Client(broker.port, new.id, password))
            return clients[-1].connect_reason is not None and not clients[-1].connect_reason.is_failure

        wait_until(connected, 10, "the broker taking the new device's login")
        clients[-1].publish("tele/tong-8/SENSOR")  # another device's topic: dropped
        clients[-1].publish("tele/tong-9/SENSOR")
        wait_until(lambda: reader.messages, 10, "the new device's message")
        assert reader.messages == ["tele/tong-9/SENSOR"]
    finally:
        for client in clients:
            client.close()
        broker.stop()
