"""``bantar broker config``'s logins for sources, enforced by a real Mosquitto: an integration
and a firmware device publish only under their own topics; the sources' connection reads them."""

from __future__ import annotations

from pathlib import Path

from bantar.domain.registry import Device, ExternalIds, Registry
from ingest.broker import MosquittoProcess
from ingest.broker_auth import write_broker_auth
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
