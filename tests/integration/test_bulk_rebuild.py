"""A rebuild from scratch, derived in bulk from a real SQLite store, gives every RT-day exactly
the evidence the per-day path gave it (figures, flags, sources, revisions), with the simulator's
faults in RTs of their own, readings stored as they would arrive, and a day still in progress.
After archiving, ``tests/integration/test_archive.py`` checks the same from hot rows and Parquet
parts together."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bantar.domain.registry import Registry, RegistryIndex
from bantar.domain.timebase import WIB
from bantar.evidence_service import EvidenceUpdater
from bantar.rules_file import load_rules
from bantar.stores.sqlite import SqliteStore
from simulators.engine import Simulation
from simulators.scenarios import FAULTS
from tests.integration.test_evidence_faults import store_as_received
from tests.support import REPO

END = datetime(2026, 11, 6, tzinfo=WIB)
START = END - timedelta(days=3)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bulk_rebuild_equals_the_per_day_derivation(
    tmp_path: Path, small_registry: Registry, workers: int, caplog: pytest.LogCaptureFixture
) -> None:
    """With two workers, other processes derive the blocks (a day each here) and this one saves
    them: the same evidence."""
    rts = [rt.code for rt in small_registry.kecamatan[0].kelurahan[0].rts[:7]]
    registry = small_registry.model_copy(update={"devices": [d for d in small_registry.devices if d.rt in rts]})
    index = RegistryIndex(registry)
    now = END - timedelta(hours=5)  # the last day is still in progress
    store = SqliteStore(tmp_path / "store.db", synchronous="NORMAL")
    try:
        faults = [f"{fault}:{code}" for fault, code in zip(FAULTS, rts, strict=False)]
        simulation = Simulation(registry, start=START, end=now, seed=11, scenarios=["healthy", *faults])
        store_as_received(store, index, simulation.messages())
        updater = EvidenceUpdater(store, index, load_rules(REPO / "config/rules.yaml"), now=lambda: now)
        assert updater.update_all() > 0
        derived = store.day_evidence(None, START.date() - timedelta(days=1), END.date() + timedelta(days=1))

        with caplog.at_level(logging.INFO, "bantar.bulk"):
            assert updater.rebuild(workers) > 0  # every RT-day with readings (update_all also derived their neighbours)
        rebuilt = store.day_evidence(None, START.date() - timedelta(days=1), END.date() + timedelta(days=1))
    finally:
        store.close()
    assert rebuilt == derived
    assert ("on 2 worker processes" in caplog.text) == (workers == 2)
    assert any(e.in_progress for e in rebuilt)
    assert {f.code.value for e in rebuilt for f in e.flags} >= {"sentinel", "clock_skew"}
    assert any(e.late_readings for e in rebuilt)
