"""Simulated fleets through a real Mosquitto into the real ingestor."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bantar.domain.registry import RegistryIndex
from bantar.domain.timebase import wib_day, wib_day_bounds_utc
from bantar.stores.sqlite import SqliteStore
from ingest.broker import MosquittoProcess
from simulators.engine import Simulation
from simulators.run import drive
from simulators.sinks import MqttSink
from tests.support import REPO, RunningIngestor, bantar_env, settings_for, wait_until


def test_hostile_messages_all_end_as_dead_letters_and_the_rest_is_stored(
    mosquitto: MosquittoProcess, store: SqliteStore, registry_index: RegistryIndex, registry_file: Path
) -> None:
    # the two hours always straddle a WIB midnight: each day's hostile handful must stay distinct
    midnight, _ = wib_day_bounds_utc(wib_day(datetime.now(UTC) - timedelta(hours=1)))
    end = midnight + timedelta(hours=1)
    sim = Simulation(
        registry_index.registry,
        start=end - timedelta(hours=2),
        end=end,
        seed=11,
        scenarios=["healthy", "hostile:0.3", "faulty-sensors:0.2"],
    )
    messages = list(sim.messages())
    hostile = sum(1 for m in messages if m.device_id is None)
    assert hostile > 20
    ingestor = RunningIngestor(settings_for(mosquitto, store.path, registry_file), registry_index, store)
    try:
        report = drive(messages, [MqttSink("127.0.0.1", mosquitto.port)], sim_start=sim.start)
        assert report.acknowledged
        wait_until(lambda: ingestor.counters.received == len(messages), 30, "every message")
    finally:
        counters = ingestor.close()
    counts = store.counts()
    assert counts.dead_letters == hostile == counters.rejected_total
    assert counts.readings == len(messages) - hostile
    assert counters.duplicates == 0
    assert store.sequence_gaps() == []


def test_a_replayed_file_is_stored_once_however_often_it_is_replayed(
    mosquitto: MosquittoProcess,
    store: SqliteStore,
    registry_index: RegistryIndex,
    registry_file: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / "messages.jsonl"
    env = bantar_env(registry=str(registry_file), mqtt__port=str(mosquitto.port))
    end = datetime.now(UTC).replace(microsecond=0)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shell",
            "simulate",
            "--days",
            "0.1",
            "--end",
            end.isoformat(),
            "--out",
            str(out),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    simulated = int(done.stdout.split("simulated ")[1].split(" ")[0].replace(",", ""))
    ingestor = RunningIngestor(settings_for(mosquitto, store.path, registry_file), registry_index, store)
    try:
        for _ in range(2):
            replayed = subprocess.run(
                [sys.executable, "-m", "shell", "replay", str(out)],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            )
            assert f"replayed {simulated:,} messages" in replayed.stdout
        wait_until(lambda: ingestor.counters.received == 2 * simulated, 30, "both replays")
    finally:
        counters = ingestor.close()
    assert store.counts().readings == simulated
    assert counters.duplicates == simulated
