"""Real devices' payloads (tests/fixtures/devices, copied from their public documentation) on their
real topics, through a real Mosquitto for the firmware and cameras and a second Mosquitto
standing in for a network server's MQTT server, into ``bantar ingest``."""

from __future__ import annotations

import base64
import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from bantar.domain.registry import Device, ExternalIds, Registry
from bantar.domain.sequences import SESSION_SPAN
from bantar.registry_file import dump_registry
from ingest.broker import MosquittoProcess
from tests.support import bantar_env, count_rows, start_ingestor, stop_ingestor, wait_until

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "devices"
TS_V3 = "v3/app1@tenant1/devices"
CS_APP = "application/17c82e96-be03-4f38-aef3-f83d48582d97/device"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def vector(name: str) -> dict[str, Any]:
    return dict(json.loads(fixture(f"ttn-lorawan-devices/{name}")))


def tts_uplink(device: str, dev_eui: str, f_cnt: int, f_port: int, frm: str, received_at: str) -> bytes:
    """A TTS uplink without decoded_payload (no payload formatter), as its MQTT server sends it."""
    return json.dumps(
        {
            "end_device_ids": {"device_id": device, "application_ids": {"application_id": "app1"}, "dev_eui": dev_eui},
            "received_at": received_at,
            "uplink_message": {"f_port": f_port, "f_cnt": f_cnt, "frm_payload": frm, "received_at": received_at},
        }
    ).encode()


def chirpstack_up(dev_eui: str, f_cnt: int, data: str, time: str, gateway: str = "0016c001f153a14c") -> bytes:
    return json.dumps(
        {
            "deduplicationId": f"{gateway}-{f_cnt}",
            "time": time,
            "deviceInfo": {"devEui": dev_eui, "deviceName": "bin"},
            "fCnt": f_cnt,
            "fPort": 2,
            "data": data,
            "rxInfo": [{"gatewayId": gateway, "rssi": -40}],
        }
    ).encode()


def bin_device(rt: str, name: str, depth: float, model: str | None = None, **ids: str) -> Device:
    return Device(
        id=f"{rt}-{name}",
        kind="bin",
        rt=rt,
        interval_s=600,
        depth_cm=depth,
        model=model,
        external_ids=ExternalIds(**ids),
    )


@pytest.fixture
def registry(small_registry: Registry, tmp_path: Path) -> Path:
    rt = small_registry.kecamatan[0].kelurahan[0].rts[0].code
    devices = [
        bin_device(rt, "tts-doc", 100, dev_eui="0004A30B001C0530"),
        bin_device(rt, "tts-mqtt-doc", 100, "dragino-ldds75", dev_eui="4200000000000000"),
        bin_device(rt, "em310", 300, "milesight-em310-udl", dev_eui="24E124713B000001", tts_device_id="em310"),
        bin_device(rt, "ldds75", 300, "dragino-ldds75", dev_eui="A84041000181C001"),
        bin_device(rt, "ldds45", 300, "dragino-ldds45", dev_eui="a84041000181c045"),
        bin_device(rt, "cs-doc", 100, "dragino-ldds75", dev_eui="0101010101010101"),
        bin_device(rt, "cs3-doc", 100, dev_eui="0202020202020202"),
        bin_device(rt, "sr04", 100, tasmota_topic="tasmota_XXXXXX"),
        bin_device(rt, "vl53", 60, tasmota_topic="tasmota_vl53"),
        bin_device(rt, "deepsleep", 100, tasmota_topic="demo-sensor"),
        bin_device(rt, "esphome", 100, esphome_node="attic-powerwall"),
        Device(
            id=f"{rt}-scale",
            kind="bank_sampah",
            rt=rt,
            interval_s=86400,
            external_ids=ExternalIds(tasmota_topic="DESKTEST"),
        ),
        Device(id=f"{rt}-nvr", kind="cctv", rt=rt, interval_s=300, external_ids=ExternalIds(camera="frigate")),
    ]
    path = tmp_path / "registry.yaml"
    dump_registry(small_registry.model_copy(update={"devices": [*small_registry.devices, *devices]}), path)
    return path


@pytest.fixture
def network_server(tmp_path: Path) -> Any:
    broker = MosquittoProcess.start(tmp_path / "network-server")
    yield broker
    broker.stop()


def sources_file(tmp_path: Path, network_server: MosquittoProcess) -> Path:
    config = {
        "connections": {
            "service": {"broker": "service", "client_id": "bantar-sources"},
            "network-server": {"host": "127.0.0.1", "port": network_server.port, "client_id": "bantar-lorawan"},
        },
        "sources": [
            {"name": "tts", "connection": "network-server", "format": "tts"},
            {"name": "chirpstack", "connection": "network-server", "format": "chirpstack"},
            {"name": "tasmota", "connection": "service", "format": "tasmota"},
            {
                "name": "esphome",
                "connection": "service",
                "format": "esphome",
                # the sample's value, read as an ultrasonic distance in metres (ESPHome's unit for those)
                "sensors": {"firstfloor_inverter_energy_yesterday": {"role": "distance", "unit": "m"}},
            },
            {"name": "frigate", "connection": "service", "format": "camera"},
        ],
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def publish(broker: MosquittoProcess, messages: list[tuple[str, bytes, bool]]) -> None:
    """QoS 1 (retained where a device retains), waiting for every PUBACK."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{broker.port}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1, retain=retain) for topic, payload, retain in messages]
        for info in infos:
            info.wait_for_publish(30)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def rows(db: Path, sql: str) -> list[Any]:
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(sql).fetchall()


def dead_letters(db: Path) -> dict[str, str]:
    if not db.exists():
        return {}
    try:
        return {str(digest): reason for digest, reason in rows(db, "SELECT digest, reason FROM dead_letters")}
    except sqlite3.OperationalError:
        return {}


def ingestor(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``bantar ingest``, returning once all three of its connections subscribed."""
    before = log.read_text().count("subscribed") if log.exists() else 0
    process = start_ingestor(env, log)
    wait_until(lambda: log.read_text().count("subscribed") >= before + 3, 20, "three connections to subscribe")
    return process


def env_for(tmp_path: Path, mosquitto: MosquittoProcess, registry: Path, sources: Path) -> dict[str, str]:
    return bantar_env(
        registry=str(registry),
        sources=str(sources),
        sqlite__path=str(tmp_path / "bantar.db"),
        app_db=str(tmp_path / "app.db"),
        mqtt__port=str(mosquitto.port),
        ingest__max_age_days="5000",
        ingest__stats_every_s="1",
    )


def test_every_sample_on_its_topic(
    tmp_path: Path, mosquitto: MosquittoProcess, network_server: MosquittoProcess, registry: Path
) -> None:
    db, log = tmp_path / "bantar.db", tmp_path / "ingest.log"
    env = env_for(tmp_path, mosquitto, registry, sources_file(tmp_path, network_server))
    em310, ldds75, ldds45 = (
        vector(n)
        for n in ("milesight-em310-udl_ex1.json", "dragino-ldds75_no-sensor.json", "dragino-ldds45_distance.json")
    )
    lorawan = [
        (f"{TS_V3}/dev1/up", fixture("tts-docs/uplink-data-formats-example.json"), False),
        (f"{TS_V3}/dev1/up", fixture("tts-docs/uplink-mqtt-page-no-decoded-payload.json"), False),
        (
            f"{TS_V3}/em310/up",
            tts_uplink(
                "em310", "24E124713B000001", 3, em310["fPort"], em310["frm_payload_base64"], "2025-02-01T10:00:00Z"
            ),
            False,
        ),
        (f"{CS_APP}/0101010101010101/event/up", fixture("chirpstack-v4-docs/up-event.json"), False),
        (f"{CS_APP}/0101010101010101/event/status", fixture("chirpstack-v4-docs/status-event.json"), False),
        (
            "application/123/device/0202020202020202/event/up",
            fixture("chirpstack-v3-docs/up-json-v3-legacy-with-object.json"),
            False,
        ),
        (
            f"{CS_APP}/a84041000181c001/event/up",
            chirpstack_up("a84041000181c001", 7, ldds75["frm_payload_base64"], "2025-02-01T10:00:00Z"),
            False,
        ),
        (
            f"{CS_APP}/a84041000181c045/event/up",
            chirpstack_up("A84041000181C045", 9, ldds45["frm_payload_base64"], "2025-02-01T10:00:00Z"),
            False,
        ),
    ]
    local = [
        ("tele/tasmota_XXXXXX/LWT", fixture("tasmota/tele-LWT_online.txt"), True),
        ("tele/tasmota_XXXXXX/SENSOR", fixture("tasmota/tele-SENSOR_sr04-distance.json"), False),
        ("tele/tasmota_vl53/SENSOR", fixture("tasmota/tele-SENSOR_vl53l0x-distance.json"), False),
        ("tele/DESKTEST/SENSOR", fixture("tasmota/tele-SENSOR_hx711-negative-raw.json"), False),
        # not a sample: the same scale once calibrated, its weight a weighing (not a deposit)
        ("tele/DESKTEST/SENSOR", b'{"Time":"2023-09-04T19:10:00","HX711":{"Weight":2.350,"WeightRaw":84211}}', False),
        ("tele/demo-sensor/STATE", fixture("tasmota/tele-STATE_deepsleep-tz-offset.json"), False),
        ("tele/tasmota_XXXXXX/LWT", fixture("tasmota/tele-LWT_offline.txt"), True),
        ("attic-powerwall/status", fixture("esphome/status_online.txt"), True),
        (
            "attic-powerwall/sensor/firstfloor_inverter_energy_yesterday/state",
            fixture("esphome/sensor-state_numeric.txt"),
            False,
        ),
        ("attic-powerwall/status", fixture("esphome/status_offline.txt"), True),
        ("frigate/available", fixture("frigate/available_online.txt"), True),
        ("frigate/available", fixture("frigate/available_stopped.txt"), True),
    ]
    process = ingestor(env, log)
    try:
        publish(network_server, lorawan)
        publish(mosquitto, local)
        wait_until(
            lambda: (
                count_rows(db, "bin_readings") == 4
                and count_rows(db, "availability") == 8
                and len(dead_letters(db)) == 7
            ),
            30,
            "every sample stored or dead-lettered",
        )
    finally:
        stop_ingestor(process)

    bins = dict(rows(db, "SELECT device_id, fill_pct FROM bin_readings"))
    rt = next(iter(bins)).rsplit("-", 1)[0]
    assert bins == pytest.approx(
        {
            f"{rt}-sr04": 100 * (1 - 16.754 / 100),  # SR04: centimetres
            f"{rt}-vl53": 100 * (1 - 26.3 / 60),  # VL53L0X: millimetres
            f"{rt}-esphome": 100 * (1 - 10.5 / 100),  # mapped in metres
            f"{rt}-ldds45": 100 * (1 - 279.9 / 300),  # decoded from frm_payload: 2799 mm
        }
    )
    assert rows(db, "SELECT device_id, kg FROM weighings") == [(f"{rt}-scale", 2.35)]
    assert count_rows(db, "bank_sampah_deposits") == 0
    tasmota_ts = rows(db, f"SELECT ts_ms FROM bin_readings WHERE device_id = '{rt}-sr04'")[0][0]
    assert tasmota_ts == 1546357355000  # 2019-01-01T22:42:35 WIB (the device's local time)
    availability = sorted(rows(db, "SELECT device_id, state, battery_pct FROM availability"))
    assert availability == sorted(
        [
            (f"{rt}-sr04", "online", None),
            (f"{rt}-sr04", "offline", None),
            (f"{rt}-deepsleep", "online", None),
            (f"{rt}-esphome", "online", None),
            (f"{rt}-esphome", "offline", None),
            (f"{rt}-nvr", "online", None),
            (f"{rt}-nvr", "stopped", None),
            (f"{rt}-cs-doc", "online", 88.3),
        ]
    )
    reasons = sorted(dead_letters(db).values())
    assert reasons == sorted(
        [
            "no_mapped_field",
            "undecodable_payload",
            "sensor_fault",
            "undecodable_payload",
            "no_mapped_field",
            "sensor_fault",
            "sensor_fault",
        ]
    )
    details = " ".join(d for (d,) in rows(db, "SELECT detail FROM dead_letters"))
    for fault in ("No Sensor", "tilted", "negative"):
        assert fault in details

    # Restarted, the broker replays the retained LWT/status/available: recognised, nothing doubled.
    process = ingestor(env, log)
    try:
        marker = b'{"Time":"2019-01-01T23:00:00","SR04":{"Distance":20.0}}'
        publish(mosquitto, [("tele/tasmota_XXXXXX/SENSOR", marker, False)])
        wait_until(lambda: count_rows(db, "bin_readings") == 5, 20, "the marker after the retained replays")
    finally:
        stop_ingestor(process)
    assert count_rows(db, "availability") == 8
    assert len(dead_letters(db)) == 7


def test_killed_and_restarted_per_connection(
    tmp_path: Path, mosquitto: MosquittoProcess, network_server: MosquittoProcess, registry: Path
) -> None:
    """SIGKILL mid-stream with messages on both connections: after a restart each one is stored once."""
    db, log = tmp_path / "bantar.db", tmp_path / "ingest.log"
    env = env_for(tmp_path, mosquitto, registry, sources_file(tmp_path, network_server))
    frame = base64.b64encode(bytes.fromhex("0D3B0AEF00000001")).decode()
    n = 600
    uplinks = [
        (
            f"{CS_APP}/a84041000181c045/event/up",
            chirpstack_up("a84041000181c045", i, frame, f"2025-02-01T{i // 60:02d}:{i % 60:02d}:00Z"),
            False,
        )
        for i in range(n)
    ]
    sensors = [
        (
            "tele/tasmota_XXXXXX/SENSOR",
            json.dumps(
                {"Time": f"2025-02-01T{i // 60:02d}:{i % 60:02d}:00", "SR04": {"Distance": 10 + i % 50}}
            ).encode(),
            False,
        )
        for i in range(n)
    ]
    process = ingestor(env, log)
    publish(network_server, uplinks)
    publish(mosquitto, sensors)
    wait_until(lambda: count_rows(db, "bin_readings") > 0, 30, "the first readings")
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    process = ingestor(env, log)
    try:
        wait_until(lambda: count_rows(db, "bin_readings") >= 2 * n, 60, "every reading after the restart")
    finally:
        stop_ingestor(process)
    assert count_rows(db, "bin_readings") == 2 * n
    assert rows(db, "SELECT COUNT(DISTINCT seq) FROM bin_readings WHERE device_id LIKE '%ldds45'") == [(n,)]
    assert count_rows(db, "dead_letters") == 0


def test_frame_counter_reset_and_duplicate_via_two_gateways(
    tmp_path: Path, mosquitto: MosquittoProcess, network_server: MosquittoProcess, registry: Path
) -> None:
    db, log = tmp_path / "bantar.db", tmp_path / "ingest.log"
    env = env_for(tmp_path, mosquitto, registry, sources_file(tmp_path, network_server))
    topic = f"{CS_APP}/a84041000181c045/event/up"
    frame = base64.b64encode(bytes.fromhex("0D3B0AEF00000001")).decode()
    join = json.dumps({"time": "2025-02-01T10:10:00Z", "deviceInfo": {"devEui": "a84041000181c045"}}).encode()
    messages = [
        (topic, chirpstack_up("a84041000181c045", 10331, frame, "2025-02-01T10:00:00Z"), False),
        (topic, chirpstack_up("a84041000181c045", 10332, frame, "2025-02-01T10:01:00Z"), False),
        (topic, chirpstack_up("a84041000181c045", 10333, frame, "2025-02-01T10:02:00Z"), False),
        # the same uplink heard by a second gateway, forwarded again
        (topic, chirpstack_up("a84041000181c045", 10333, frame, "2025-02-01T10:02:00Z", "00800000a0001234"), False),
        (f"{CS_APP}/a84041000181c045/event/join", join, False),
        (topic, chirpstack_up("a84041000181c045", 0, frame, "2025-02-01T10:11:00Z"), False),
        (topic, chirpstack_up("a84041000181c045", 1, frame, "2025-02-01T10:12:00Z"), False),
        # rebooted without a join event: the counter goes back on a later uplink
        (topic, chirpstack_up("a84041000181c045", 0, frame, "2025-02-01T11:00:00Z"), False),
    ]
    process = ingestor(env, log)
    try:
        publish(network_server, messages)
        wait_until(lambda: count_rows(db, "bin_readings") == 6, 30, "six readings")
    finally:
        stop_ingestor(process)
    seqs = [s for (s,) in rows(db, "SELECT seq FROM bin_readings ORDER BY ts_ms")]
    assert seqs == [10331, 10332, 10333, SESSION_SPAN, SESSION_SPAN + 1, 2 * SESSION_SPAN]
    reasons = [r for (r,) in rows(db, "SELECT reason FROM dead_letters")]
    assert reasons == ["not_a_reading"]  # the join; no conflict, no duplicate stored
    stats = subprocess.run(
        [*start_cmd(), "stats"], env=env, capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2]
    ).stdout
    assert "devices with sequence gaps: 0 (0 messages missing)" in stats  # a reset is a session boundary


def start_cmd() -> list[str]:
    return [sys.executable, "-m", "shell"]


def test_a_bad_sources_file_stops_the_ingestor_at_start(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "connections:\n  service: {broker: service, client_id: bantar-sources}\n"
        "sources:\n  - {name: tasmota, connection: service, format: tasmota}\n"
        "  - {name: bins, connection: lorawan, format: tts}\n"
    )
    env = bantar_env(sources=str(sources), mqtt__port=str(mosquitto.port), sqlite__path=str(tmp_path / "b.db"))
    done = subprocess.run(
        [*start_cmd(), "ingest"], env=env, capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2]
    )
    assert done.returncode == 2
    assert f"{sources}: invalid sources" in done.stderr
    assert "sources[1] ('bins'): field 'connection' names unknown connection 'lorawan'" in done.stderr
