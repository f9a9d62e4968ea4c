from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bantar.domain.errors import Reason, Rejected, StoreError
from bantar.domain.intake import DeadLetter, IntakeLimits, accept
from bantar.domain.readings import Reading
from bantar.domain.registry import RegistryIndex
from bantar.stores.sqlite import SqliteStore
from simulators.load import bin_burst
from tests.support import payload

NOW = datetime.now(UTC)


def readings(index: RegistryIndex, n: int, start_seq: int = 1) -> list[Reading]:
    return [accept(t, p, NOW, index, IntakeLimits()) for t, p in bin_burst(index.registry, n, start_seq)]


def test_writes_are_idempotent(store: SqliteStore, registry_index: RegistryIndex) -> None:
    batch = readings(registry_index, 100)
    assert store.write(batch, []) == (100, 0, 0)
    assert store.write(batch, []) == (0, 100, 0)
    assert store.write(batch[:10] + readings(registry_index, 100, start_seq=50)[:5], []).duplicates == 10
    assert store.counts().readings == 105


def test_same_key_with_other_content_is_a_conflict(store: SqliteStore, registry_index: RegistryIndex) -> None:
    original = readings(registry_index, 1)[0]
    store.write([original], [])
    topic = f"bantar/v1/{original.device_id}/bin"
    forged = accept(
        topic,
        payload(ts=original.ts.isoformat(), seq=original.seq, fill_pct=99.0, battery_pct=1),
        NOW,
        registry_index,
        IntakeLimits(),
    )
    assert store.write([forged], []) == (0, 0, 1)
    counts = store.counts()
    assert counts.readings == 1
    assert counts.dead_letters_by_reason == {"sequence_conflict": 1}
    letter = store.dead_letters(1)[0]
    assert f"seq {original.seq}" in letter.detail


def test_dead_letters_are_kept_once_per_distinct_message(store: SqliteStore) -> None:
    letter = DeadLetter.of("bantar/v1/x/bin", b"{bad", NOW, Rejected(Reason.malformed_json, "not valid JSON"))
    store.write([], [letter])
    store.write([], [letter])
    assert store.counts().dead_letters == 1
    kept = store.dead_letters(5)[0]
    assert kept.payload_head == b"{bad"
    assert kept.reason is Reason.malformed_json


def test_sequence_gaps_are_reported(store: SqliteStore, registry_index: RegistryIndex) -> None:
    batch = readings(registry_index, 200)  # several contiguous seqs per device
    device = batch[0].device_id
    store.write([r for r in batch if not (r.device_id == device and r.seq == 2)], [])
    gaps = store.sequence_gaps()
    assert [(g.device_id, g.missing) for g in gaps] == [(device, 1)]
    assert store.last_sequences()[device] == max(r.seq for r in batch if r.device_id == device)


def test_a_failed_write_keeps_nothing(tmp_path: Path, registry_index: RegistryIndex) -> None:
    path = tmp_path / "locked.db"
    store = SqliteStore(path, busy_timeout_ms=100)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreError):
        store.write(readings(registry_index, 10), [])
    blocker.execute("ROLLBACK")
    blocker.close()
    assert store.counts().readings == 0
    assert store.write(readings(registry_index, 10), []).stored == 10
    store.close()


def test_data_survives_reopening(tmp_path: Path, registry_index: RegistryIndex) -> None:
    store = SqliteStore(tmp_path / "b.db")
    store.write(readings(registry_index, 20), [])
    store.close()
    reopened = SqliteStore(tmp_path / "b.db")
    assert reopened.counts().readings == 20
    reopened.close()
