"""``bantar simulate --format``: the simulated fleet in real devices' formats, through a real
Mosquitto and config/sources.yaml into the ingestor, stored as the bantar/v1 fleet would be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bantar.domain.registry import RegistryIndex
from bantar.stores.sqlite import SqliteStore
from ingest.broker import MosquittoProcess
from simulators.engine import Simulation
from simulators.formats import reformat
from simulators.run import drive
from simulators.sinks import MqttSink
from tests.support import REPO, RunningIngestor, settings_for, wait_until


@pytest.mark.parametrize("fmt", ["tts", "chirpstack", "tasmota"])
def test_simulated_formats_are_stored(
    fmt: str, mosquitto: MosquittoProcess, store: SqliteStore, registry_index: RegistryIndex, registry_file: Path
) -> None:
    end = datetime.now(UTC)
    sim = Simulation(registry_index.registry, start=end - timedelta(hours=2), end=end, seed=5, scenarios=["healthy"])
    messages = list(reformat(sim.messages(), registry_index.registry, fmt))
    converted = [m for m in messages if not m.topic.startswith("bantar/v1/")]
    bins = sum(1 for m in messages if m.device_id and registry_index.devices[m.device_id].kind == "bin")
    assert bins > 100
    assert len(converted) >= bins  # every bin (and every camera heartbeat) left bantar/v1
    settings = settings_for(mosquitto, store.path, registry_file).model_copy(
        update={"sources": REPO / "config" / "sources.yaml"}
    )
    ingestor = RunningIngestor(settings, registry_index, store)
    try:
        report = drive(messages, [MqttSink("127.0.0.1", mosquitto.port)], sim_start=sim.start)
        assert report.acknowledged
        wait_until(lambda: store.counts().readings == len(messages), 30, "every message stored")
    finally:
        ingestor.close()
    counts = store.counts()
    assert counts.readings_by_kind["bin"] == bins
    assert counts.dead_letters == 0
