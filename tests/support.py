"""Helpers shared by the test suites (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bantar.domain.registry import RegistryIndex
from bantar.ports import ReadingStore
from bantar.settings import IngestSettings, MqttSettings, Settings, SqliteSettings
from bantar.stores.sqlite import SqliteStore
from ingest.broker import MosquittoProcess
from ingest.counters import IngestCounters
from ingest.runner import run_ingestor

REPO = Path(__file__).resolve().parent.parent


def payload(**fields: Any) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode()


def count_rows(db: Path, table: str = "bin_readings") -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def wait_until(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def bantar_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANTAR_")}
    env.update({f"BANTAR_{k.upper()}": v for k, v in settings.items()})
    return env


def start_ingestor(env: dict[str, str], log: Path, *, wait_subscribed: bool = True) -> subprocess.Popen[bytes]:
    """``bantar ingest`` as its own process, so it can be killed for real; by default returns
    once it has subscribed (its own "subscribed" line, not an earlier process's)."""
    before = log.read_text().count("subscribed") if log.exists() else 0
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "shell", "ingest"], env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO
        )
    if wait_subscribed:
        wait_until(lambda: log.read_text().count("subscribed") > before, 20, "the ingestor to subscribe")
    return process


def stop_ingestor(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and the clean stop it promises: exit code 0."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0


def ingest_until(env: dict[str, str], log: Path, done: Any, timeout_s: float, what: str) -> None:
    """Run ``bantar ingest`` until ``done()`` holds, then stop it cleanly."""
    process = start_ingestor(env, log)
    try:
        wait_until(done, timeout_s, what)
    finally:
        stop_ingestor(process)


def visit_and_leave(env: dict[str, str], log: Path) -> None:
    """Run the ingestor once so the broker knows its persistent session, then stop it."""
    stop_ingestor(start_ingestor(env, log))


class RunningIngestor:
    def __init__(self, settings: Settings, registry: RegistryIndex, store: SqliteStore) -> None:
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.counters = IngestCounters()
        self.thread = threading.Thread(
            target=run_ingestor, args=(settings, registry, store, self.stop, self.ready, self.counters)
        )
        self.thread.start()
        assert self.ready.wait(15), "ingestor did not connect"
        self.store = store

    def close(self) -> IngestCounters:
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()
        return self.counters


def publish(broker: MosquittoProcess, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 and wait until the broker acknowledged every message."""
    from simulators.publisher import MqttPublisher

    publisher = MqttPublisher("127.0.0.1", broker.port)
    try:
        publisher.publish_all(messages)
        assert publisher.wait_acknowledged(len(messages), timeout_s=60)
    finally:
        publisher.close()


def settings_for(broker: MosquittoProcess, db: Path, registry: Path, client_id: str = "ingest-test") -> Settings:
    return Settings(
        registry=registry,
        sqlite=SqliteSettings(path=db),
        mqtt=MqttSettings(port=broker.port, client_id=client_id),
        ingest=IngestSettings(stats_every_s=1.0),
    )


def store_directly(store: ReadingStore, registry: RegistryIndex, messages: Any, received_at: Any) -> None:
    """Messages through the intake and into the store without a broker (the MQTT path is tested
    on its own); batches of 5,000 as the ingestor writes them."""
    from bantar.domain.errors import Rejected
    from bantar.domain.intake import DeadLetter, IntakeLimits, accept

    limits = IntakeLimits(max_age=timedelta(days=3650))
    readings, letters = [], []
    for message in messages:
        try:
            readings.append(accept(message.topic, message.payload, received_at, registry, limits))
        except Rejected as exc:
            letters.append(DeadLetter.of(message.topic, message.payload, received_at, exc))
        if len(readings) >= 5000:
            store.write(readings, letters)
            readings, letters = [], []
    store.write(readings, letters)
