"""The ingestor against a real Mosquitto and a real SQLite file."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from bantar.domain.errors import Reason
from bantar.domain.registry import RegistryIndex
from bantar.domain.topics import DeviceKind, Topic
from bantar.stores.sqlite import SqliteStore
from ingest.broker import MosquittoProcess
from simulators.load import bin_burst
from simulators.publisher import MqttPublisher
from tests.support import (
    RunningIngestor,
    bantar_env,
    count_rows,
    ingest_until,
    payload,
    publish,
    settings_for,
    start_ingestor,
    stop_ingestor,
    visit_and_leave,
    wait_until,
)


@pytest.fixture
def ingestor(
    mosquitto: MosquittoProcess, store: SqliteStore, registry_index: RegistryIndex, registry_file: Path
) -> Iterator[RunningIngestor]:
    running = RunningIngestor(settings_for(mosquitto, store.path, registry_file), registry_index, store)
    yield running
    if running.thread.is_alive():
        running.close()


def test_n_messages_in_exactly_n_readings_stored_and_a_replay_changes_nothing(
    ingestor: RunningIngestor, mosquitto: MosquittoProcess, registry_index: RegistryIndex
) -> None:
    messages = list(bin_burst(registry_index.registry, 5000))
    publish(mosquitto, messages)
    wait_until(lambda: ingestor.store.counts().readings == 5000, 30, "5000 readings")
    publish(mosquitto, messages)
    wait_until(lambda: ingestor.counters.received == 10_000, 30, "the replay to be received")
    counters = ingestor.close()
    assert counters.received == 10_000
    assert counters.stored == 5000
    assert counters.duplicates == 5000
    assert ingestor.store.counts().readings == 5000
    assert ingestor.store.sequence_gaps() == []


def test_bad_input_ends_as_dead_letters_with_reasons_and_nothing_is_stored(
    ingestor: RunningIngestor, mosquitto: MosquittoProcess, registry_index: RegistryIndex
) -> None:
    devices = registry_index.registry.devices
    a_bin = next(d for d in devices if d.kind is DeviceKind.bin)
    a_camera = next(d for d in devices if d.kind is DeviceKind.cctv)
    ts = "2026-11-29T08:00:00+07:00"
    good_bin = payload(ts=ts, seq=1, fill_pct=10, battery_pct=90)
    bin_topic = str(Topic(a_bin.id, DeviceKind.bin))
    cases: dict[Reason, tuple[str, bytes]] = {
        Reason.malformed_json: (bin_topic, b'{"ts": "2026-11-29T08:00:00+07:00", "seq": '),
        Reason.not_finite: (
            bin_topic,
            b'{"ts": "2026-11-29T08:00:00+07:00", "seq": 1, "fill_pct": NaN, "battery_pct": 1}',
        ),
        Reason.out_of_range: (bin_topic, payload(ts=ts, seq=1, fill_pct=100.5, battery_pct=90)),
        Reason.unknown_device: ("bantar/v1/stranger-01/bin", good_bin),
        Reason.kind_mismatch: (f"bantar/v1/{a_camera.id}/bin", good_bin),
        Reason.payload_too_large: (bin_topic, json.dumps({"ts": ts, "pad": "x" * 20_000}).encode()),
        Reason.not_utf8: (bin_topic, b'{"ts": "\xff\xfe"}'),
        Reason.bad_topic: (f"bantar/v1/{a_bin.id}/bin/extra", good_bin),
        Reason.missing_field: (bin_topic, payload(ts=ts, seq=1, fill_pct=10)),
    }
    publish(mosquitto, list(cases.values()))
    wait_until(lambda: ingestor.store.counts().dead_letters == len(cases), 20, "all dead letters")
    counts = ingestor.store.counts()
    assert counts.readings == 0
    assert counts.dead_letters_by_reason == {reason.value: 1 for reason in cases}
    counters = ingestor.close()
    assert counters.rejected == dict.fromkeys(cases, 1)
    too_large = next(d for d in ingestor.store.dead_letters(20) if d.reason is Reason.payload_too_large)
    assert too_large.payload_size > 20_000
    assert len(too_large.payload_head) == 512


def test_sequence_gaps_from_upstream_losses_are_counted(
    ingestor: RunningIngestor, mosquitto: MosquittoProcess, registry_index: RegistryIndex
) -> None:
    messages = list(bin_burst(registry_index.registry, 400))
    lost = {messages[i][0] for i in (40, 41, 42)}  # three messages the "network" lost, from distinct devices
    publish(mosquitto, [m for i, m in enumerate(messages) if i not in (40, 41, 42)])
    wait_until(lambda: ingestor.store.counts().readings == 397, 20, "397 readings")
    counters = ingestor.close()
    assert counters.sequence_gap_messages == 3
    gaps = ingestor.store.sequence_gaps()
    assert sum(g.missing for g in gaps) == 3
    assert {f"bantar/v1/{g.device_id}/bin" for g in gaps} == lost


def publish_and_kill_mid_stream(
    broker: MosquittoProcess, messages: list[tuple[str, bytes]], db: Path, victim: subprocess.Popen[bytes]
) -> int:
    """Publish everything; SIGKILL ``victim`` once 3,000 readings are stored, and return how many
    were stored at that moment. Returns when the broker acknowledged every message."""
    publisher = MqttPublisher("127.0.0.1", broker.port)
    try:
        feeder = threading.Thread(target=publisher.publish_all, args=(messages,))
        feeder.start()
        wait_until(lambda: count_rows(db) >= 3000, 30, "the first readings")
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_at = count_rows(db)
        feeder.join(60)
        assert publisher.wait_acknowledged(len(messages), timeout_s=60)
    finally:
        publisher.close()
    return killed_at


def _subprocess_env(broker: MosquittoProcess, db: Path, registry: Path, **extra: str) -> dict[str, str]:
    defaults = {"mqtt__client_id": "ingest-proc", "ingest__stats_every_s": "1"}
    return bantar_env(registry=str(registry), sqlite__path=str(db), mqtt__port=str(broker.port), **defaults | extra)


def test_sigkill_mid_stream_then_restart_stores_every_message_exactly_once(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    db, log = tmp_path / "crash.db", tmp_path / "ingest.log"
    env = _subprocess_env(mosquitto, db, registry_file, ingest__batch_max="500")
    total = 30_000
    messages = list(bin_burst(registry_index.registry, total))
    killed_at = publish_and_kill_mid_stream(mosquitto, messages, db, start_ingestor(env, log))
    assert killed_at < total, "the kill came too late to test anything"
    ingest_until(env, log, lambda: count_rows(db) == total, 60, f"all {total} readings after the restart")
    check = SqliteStore(db)
    assert check.counts().readings == total
    assert check.sequence_gaps() == []
    check.close()


def test_sigterm_stores_and_acknowledges_a_half_full_batch_and_exits_0(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    db, log = tmp_path / "term.db", tmp_path / "ingest.log"
    env = _subprocess_env(mosquitto, db, registry_file, ingest__batch_max="1000", ingest__linger_ms="10000")
    process = start_ingestor(env, log)
    publish(mosquitto, list(bin_burst(registry_index.registry, 300)))
    assert count_rows(db) == 0  # still lingering in a half-full batch
    stop_ingestor(process)
    stored_at_stop = count_rows(db)
    assert stored_at_stop > 0
    assert f"received {stored_at_stop}, stored {stored_at_stop}, duplicates 0" in log.read_text()
    # What arrived after the stop began stayed with the broker; what was stored was acknowledged,
    # so the next run gets exactly the rest and no duplicates.
    rest = {**env, "BANTAR_INGEST__LINGER_MS": "50"}
    ingest_until(rest, log, lambda: count_rows(db) == 300, 30, "the rest of the readings")
    last = log.read_text().rstrip().splitlines()[-1]
    assert f"received {300 - stored_at_stop}, stored {300 - stored_at_stop}, duplicates 0" in last


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_messages_published_while_the_ingestor_is_away_arrive_when_it_returns(
    mosquitto: MosquittoProcess,
    registry_index: RegistryIndex,
    registry_file: Path,
    tmp_path: Path,
    protocol: str,
) -> None:
    db, log = tmp_path / "away.db", tmp_path / "ingest.log"
    env = _subprocess_env(mosquitto, db, registry_file, mqtt__protocol=protocol)
    visit_and_leave(env, log)
    publish(mosquitto, list(bin_burst(registry_index.registry, 4000)))  # > Mosquitto's default queue of 1000
    ingest_until(env, log, lambda: count_rows(db) == 4000, 30, "the queued readings")
    assert "session resumed" in log.read_text()


def test_the_ingestor_refuses_devices_an_admin_switched_off(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    from bantar.stores.appdb import AppDb

    db, log, app = tmp_path / "off.db", tmp_path / "ingest.log", tmp_path / "app.db"
    messages = list(bin_burst(registry_index.registry, 60))
    switched_off = messages[0][0].split("/")[2]
    AppDb(app).set_device_active(switched_off, False, "test admin")
    process = start_ingestor({**_subprocess_env(mosquitto, db, registry_file), "BANTAR_APP_DB": str(app)}, log)
    try:
        publish(mosquitto, messages)
        refused = sum(1 for topic, _ in messages if topic.split("/")[2] == switched_off)
        wait_until(lambda: count_rows(db) == len(messages) - refused, 20, "the other devices' readings")
        wait_until(lambda: count_rows(db, "dead_letters") == refused, 20, "the refused readings")
    finally:
        stop_ingestor(process)
    check = SqliteStore(db)
    assert check.counts().dead_letters_by_reason == {"device_inactive": refused}
    check.close()


def test_while_the_store_fails_nothing_is_acknowledged_and_everything_arrives_later(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    """F3: the database is locked by someone else; the ingestor retries without acknowledging,
    is even killed meanwhile, and after the lock is gone every message is stored once."""
    import sqlite3

    db, log = tmp_path / "locked.db", tmp_path / "ingest.log"
    env = _subprocess_env(mosquitto, db, registry_file, sqlite__busy_timeout_ms="200")
    first = start_ingestor(env, log)
    blocker = sqlite3.connect(db, isolation_level=None, timeout=10)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        publish(mosquitto, list(bin_burst(registry_index.registry, 2000)))
        wait_until(lambda: log.read_text().count("store write failed") >= 2, 20, "the ingestor to retry")
        first.send_signal(signal.SIGKILL)  # dies with everything unacknowledged
        first.wait(10)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    ingest_until(env, log, lambda: count_rows(db) == 2000, 30, "all 2,000 readings after the lock is gone")
    assert "retry in" in log.read_text()
    assert count_rows(db) == 2000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MiB file system (tmpfs) that the test can fill to the last byte."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _write_until_enospc(handle: int, chunk: bytes) -> None:
    try:
        while os.write(handle, chunk):
            pass
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise


def _fill(disk: Path) -> Path:
    """Write zeros until the file system refuses (ENOSPC); the file is the space to give back."""
    filler = disk / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (64 * 1024, 512, 1):  # down to the last byte, so not even a page is left
            _write_until_enospc(handle, bytes(size))
    finally:
        os.close(handle)
    return filler


def test_a_full_disk_stalls_ingest_without_acknowledging_and_loses_nothing(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path, small_disk: Path
) -> None:
    """F3, disk full: the database's file system has no byte left; the ingestor retries with
    backoff and acknowledges nothing it could not store (it is killed while the disk is full, and
    nothing is lost); once space is freed, every message is stored once and the database is intact."""
    import sqlite3

    db, log = small_disk / "full.db", tmp_path / "ingest.log"
    env = _subprocess_env(mosquitto, db, registry_file)
    first = start_ingestor(env, log)
    wait_until(db.exists, 10, "the database to be created")
    filler = _fill(small_disk)
    try:
        publish(mosquitto, list(bin_burst(registry_index.registry, 2000)))
        wait_until(lambda: log.read_text().count("store write failed") >= 3, 30, "the ingestor to retry")
        assert "store write failed (SQLite write failed: database or disk is full)" in log.read_text()
        assert count_rows(db) < 2000
        first.send_signal(signal.SIGKILL)  # dies with the unstored messages unacknowledged
        first.wait(10)
    finally:
        filler.unlink()  # space comes back
    ingest_until(env, log, lambda: count_rows(db) == 2000, 60, "all 2,000 readings once space is back")
    assert count_rows(db) == 2000
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check = SqliteStore(db)
    assert check.sequence_gaps() == []
    assert check.counts().dead_letters_by_reason == {}
    check.close()


def test_messages_the_broker_dropped_show_as_sequence_gaps_per_device(
    registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    """F7: a broker whose queue limit is reached while the ingestor is away drops messages
    silently; the per-device sequence numbers reveal exactly which devices lost how many."""
    broker = MosquittoProcess.start(tmp_path / "small-queue", max_queued_messages=100)
    db, log = tmp_path / "gaps.db", tmp_path / "ingest.log"
    env = _subprocess_env(broker, db, registry_file)
    try:
        visit_and_leave(env, log)
        messages = list(bin_burst(registry_index.registry, 400))
        publish(broker, messages[:300])  # the broker keeps 100 of these for the absent ingestor
        second = start_ingestor(env, log)
        try:
            publish(broker, messages[300:])  # the devices carry on; the ingestor is back
            wait_until(lambda: count_rows(db) == 200, 30, "what the broker kept plus the new readings")
        finally:
            stop_ingestor(second)
    finally:
        broker.stop()
    check = SqliteStore(db)
    missing = sum(g.missing for g in check.sequence_gaps())
    check.close()
    assert missing == 200  # every dropped message is accounted for, per device
    assert "messages lost upstream" in log.read_text()


def test_a_cut_link_mid_stream_redelivers_and_everything_is_stored_once(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    """F6: the TCP link between broker and ingestor breaks while messages are in flight (some
    stored but not yet acknowledged); after the reconnect the broker redelivers them and the
    store recognises the duplicates."""
    from tests.proxy import CuttableProxy

    proxy = CuttableProxy(mosquitto.port)
    db, log = tmp_path / "cut.db", tmp_path / "ingest.log"
    env = {
        **_subprocess_env(mosquitto, db, registry_file, ingest__batch_max="200"),
        "BANTAR_MQTT__PORT": str(proxy.port),
    }
    process = start_ingestor(env, log)
    publisher = MqttPublisher("127.0.0.1", mosquitto.port)
    total = 20_000
    try:
        feeder = threading.Thread(target=publisher.publish_all, args=(list(bin_burst(registry_index.registry, total)),))
        feeder.start()
        for cut_at in (2000, 8000):
            wait_until(lambda n=cut_at: count_rows(db) >= n, 30, f"{cut_at} readings")
            proxy.cut()
        feeder.join(60)
        assert publisher.wait_acknowledged(total, 60)
        wait_until(lambda: count_rows(db) == total, 60, f"all {total} readings")
    finally:
        publisher.close()
        stop_ingestor(process)
        proxy.close()
    text = log.read_text()
    assert text.count("session resumed") >= 2  # reconnected through the proxy twice
    assert count_rows(db) == total
    check = SqliteStore(db)
    assert check.sequence_gaps() == []
    check.close()


def test_a_slow_store_causes_no_disconnects_and_loses_nothing(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    """F8: each write waits seconds for the database (someone else holds it); with a small
    in-flight window the network thread waits too, yet keepalive holds and everything arrives. (A
    keepalive of 10 s: with 5 s a whole-suite run once saw a batch stall 4 s and the broker drop us.)"""
    import sqlite3
    import time

    db, log = tmp_path / "slow.db", tmp_path / "ingest.log"
    env = _subprocess_env(
        mosquitto, db, registry_file, mqtt__keepalive_s="10", ingest__window="500", ingest__batch_max="250"
    )
    process = start_ingestor(env, log)
    stop = threading.Event()

    def hog() -> None:  # hold the database 2 s at a time, for about 10 s
        blocker = sqlite3.connect(db, isolation_level=None, timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not stop.is_set():
            blocker.execute("BEGIN EXCLUSIVE")
            time.sleep(2)
            blocker.execute("ROLLBACK")
            time.sleep(0.05)
        blocker.close()

    try:
        hogger = threading.Thread(target=hog)
        hogger.start()
        publish(mosquitto, list(bin_burst(registry_index.registry, 5000)))
        hogger.join(30)
        wait_until(lambda: count_rows(db) == 5000, 60, "all 5,000 readings")
    finally:
        stop.set()
        stop_ingestor(process)
    text = log.read_text()
    assert "disconnected" not in text
    slowest = float(re.findall(r"max ([0-9.]+) ms\)", text)[-1])
    assert slowest > 1000  # the store really took seconds for a batch


def test_a_broker_restart_keeps_what_it_queued_for_the_absent_ingestor(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    """F4: messages queued for the ingestor's persistent session survive a clean broker restart
    (persistence on), and arrive when the ingestor returns."""
    db, log = tmp_path / "restart.db", tmp_path / "ingest.log"
    env = _subprocess_env(mosquitto, db, registry_file)
    visit_and_leave(env, log)
    publish(mosquitto, list(bin_burst(registry_index.registry, 3000)))
    mosquitto.restart()
    ingest_until(env, log, lambda: count_rows(db) == 3000, 30, "the 3,000 queued readings")
    assert log.read_text().count("session resumed") == 1


def test_two_ingestors_share_the_load_and_a_killed_one_loses_nothing(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    """Scale-out: two ingestor processes in one shared subscription ($share/bantar/...), each with
    its own fixed client id and persistent session. F1 with two: one is SIGKILLed mid-stream; the
    other keeps storing its share; the broker keeps the killed member's share (in flight and
    queued) for its session, and the restarted member stores it: every message once."""
    db = tmp_path / "shared.db"
    envs = [
        _subprocess_env(
            mosquitto, db, registry_file, ingest__batch_max="500", mqtt__shared_group="bantar", mqtt__client_id=name
        )
        for name in ("ingest-a", "ingest-b")
    ]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    a, b = (start_ingestor(env, log) for env, log in zip(envs, logs, strict=True))
    total = 30_000
    messages = list(bin_burst(registry_index.registry, total))
    publish_and_kill_mid_stream(mosquitto, messages, db, a)
    wait_until(lambda: "received" in logs[1].read_text(), 10, "the survivor's counters")
    survivor_only = count_rows(db)
    assert survivor_only < total, "the killed member's share should wait for it"
    try:
        ingest_until(envs[0], logs[0], lambda: count_rows(db) == total, 60, f"all {total} after the member returns")
    finally:
        stop_ingestor(b)
    check = SqliteStore(db)
    assert check.counts().readings == total
    assert check.sequence_gaps() == []
    check.close()
    shares = [int(re.findall(r"ingest stopped: received \d+, stored (\d+)", log.read_text())[-1]) for log in logs]
    assert all(share > 0 for share in shares), shares  # the returning member stored what was kept for it
    for log in logs:  # a member sees every other number of a device: no false "lost upstream" alarms
        text = log.read_text()
        assert "messages lost upstream" not in text
        assert "sequence gaps not tracked by a shared member (bantar stats)" in text


def test_a_killed_broker_loses_what_it_queued_since_its_snapshot_and_the_gaps_show_it(
    registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    """F5: Mosquitto snapshots its queues on a timer (autosave_interval, 30 s shipped) and on a
    clean stop; SIGKILLed, it loses what it accepted since then. Here the snapshot comes from a
    clean restart, so the loss window is exactly the burst after it: that burst is lost, and the
    next messages of the same devices reveal it as per-device sequence gaps, counted, not absorbed."""
    broker = MosquittoProcess.start(tmp_path / "mosquitto", autosave_interval=3600)
    db, log = tmp_path / "f5.db", tmp_path / "ingest.log"
    env = _subprocess_env(broker, db, registry_file)
    bins = sum(1 for d in registry_index.registry.devices if d.kind is DeviceKind.bin)
    messages = list(bin_burst(registry_index.registry, 5 * bins))
    saved, unsaved, later = messages[: 2 * bins], messages[2 * bins : 4 * bins], messages[4 * bins :]
    try:
        visit_and_leave(env, log)  # the ingestor's session exists; it is away while devices publish
        publish(broker, saved)
        broker.restart()  # a clean stop writes the snapshot
        publish(broker, unsaved)  # acknowledged by the broker, in no snapshot yet
        broker.kill()
        broker.restart()
        ingestor = start_ingestor(env, log)
        try:
            publish(broker, later)
            wait_until(lambda: count_rows(db) == len(saved) + len(later), 30, "what survived the kill")
        finally:
            stop_ingestor(ingestor)
    finally:
        broker.stop()
    check = SqliteStore(db)
    gaps = check.sequence_gaps()
    check.close()
    assert sum(g.missing for g in gaps) == len(unsaved)  # every lost message is accounted for
    assert len(gaps) == bins  # on every device that published in the window
    assert f"sequence gaps {len(unsaved)} missing" in log.read_text()


def test_paho_mqtt5_default_wipes_the_session_of_every_new_process(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex
) -> None:
    """F2, the loss the ingestor's settings prevent: with MQTT 5, paho starts clean on the first
    connect of each client (process) by default, so everything queued for the absent subscriber
    is discarded; ``clean_start=False`` (what the ingestor sends) keeps it."""
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    def visit(clean_start: Any, seconds: float) -> int:
        received: list[bytes] = []
        subscribed = threading.Event()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="tutorial-v5", protocol=paho.MQTTv5)
        client.on_connect = lambda c, *_: c.subscribe("bantar/v1/#", qos=1)
        client.on_subscribe = lambda *_: subscribed.set()
        client.on_message = lambda _c, _u, m: received.append(m.payload)
        expiry = Properties(PacketTypes.CONNECT)
        expiry.SessionExpiryInterval = 3600
        client.connect("127.0.0.1", mosquitto.port, clean_start=clean_start, properties=expiry)
        client.loop_start()
        assert subscribed.wait(10)
        time.sleep(seconds)
        client.disconnect()
        client.loop_stop()
        return len(received)

    messages = list(bin_burst(registry_index.registry, 500))
    for clean_start, expected in ((paho.MQTT_CLEAN_START_FIRST_ONLY, 0), (False, 500)):
        visit(clean_start, 0)  # a first process subscribes with a persistent session, then exits
        publish(mosquitto, messages)  # published while it is away
        assert visit(clean_start, 1.5) == expected  # the next process: paho's default gets nothing
