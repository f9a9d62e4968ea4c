"""The store contract: every adapter behind ``ReadingStore`` passes the same tests (``any_store``
runs each on SQLite and on a real InfluxDB); adapter-specific failure modes follow at the end."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bantar.domain.errors import Reason, Rejected, StoreError
from bantar.domain.intake import DeadLetter, IntakeLimits, accept
from bantar.domain.readings import Reading
from bantar.domain.registry import Registry, RegistryIndex, web_device_id
from bantar.domain.timebase import to_epoch_ms
from bantar.domain.topics import DeviceKind
from bantar.ports import ReadingStore
from bantar.stores.influxdb import InfluxClient, InfluxStore
from bantar.stores.sqlite import SqliteStore
from simulators.load import bin_burst
from tests.influx import InfluxProcess
from tests.support import payload
from tests.world import END, START, World

NOW = datetime.now(UTC)


def readings(index: RegistryIndex, n: int, start_seq: int = 1) -> list[Reading]:
    return [accept(t, p, NOW, index, IntakeLimits()) for t, p in bin_burst(index.registry, n, start_seq)]


def test_writes_are_idempotent(any_store: ReadingStore, registry_index: RegistryIndex) -> None:
    batch = readings(registry_index, 100)
    assert any_store.write(batch, []) == (100, 0, 0)
    assert any_store.write(batch, []) == (0, 100, 0)
    assert any_store.write(batch[:10] + readings(registry_index, 100, start_seq=50)[:5], []).duplicates == 10
    assert any_store.counts().readings == 105


def test_same_key_with_other_content_is_a_conflict(any_store: ReadingStore, registry_index: RegistryIndex) -> None:
    original = readings(registry_index, 1)[0]
    any_store.write([original], [])
    topic = f"bantar/v1/{original.device_id}/bin"
    forged = accept(
        topic,
        payload(ts=original.ts.isoformat(), seq=original.seq, fill_pct=99.0, battery_pct=1),
        NOW,
        registry_index,
        IntakeLimits(),
    )
    assert any_store.write([forged], []) == (0, 0, 1)
    counts = any_store.counts()
    assert counts.readings == 1
    assert counts.dead_letters_by_reason == {"sequence_conflict": 1}
    letter = any_store.dead_letters(1)[0]
    assert f"seq {original.seq}" in letter.detail


def test_dead_letters_are_kept_once_per_distinct_message(any_store: ReadingStore) -> None:
    letter = DeadLetter.of("bantar/v1/x/bin", b"{bad", NOW, Rejected(Reason.malformed_json, "not valid JSON"))
    any_store.write([], [letter])
    any_store.write([], [letter])
    assert any_store.counts().dead_letters == 1
    kept = any_store.dead_letters(5)[0]
    assert kept.payload_head == b"{bad"
    assert kept.reason is Reason.malformed_json


def test_sequence_gaps_are_reported(any_store: ReadingStore, registry_index: RegistryIndex) -> None:
    batch = readings(registry_index, 200)  # several contiguous seqs per device
    device = batch[0].device_id
    any_store.write([r for r in batch if not (r.device_id == device and r.seq == 2)], [])
    gaps = any_store.sequence_gaps()
    assert [(g.device_id, g.missing) for g in gaps] == [(device, 1)]
    assert any_store.last_sequences()[device] == max(r.seq for r in batch if r.device_id == device)


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


@pytest.fixture(scope="module")
def influx_world(
    influxdb: InfluxProcess, tmp_path_factory: pytest.TempPathFactory, small_registry: Registry
) -> Iterator[World]:
    """The session's simulated kelurahan, stored in InfluxDB instead (same messages, same order)."""
    client = InfluxClient(influxdb.url, "world")
    client.create_database()
    tmp = tmp_path_factory.mktemp("influx-world")
    world = World(tmp, small_registry, InfluxStore(client, tmp / "ledger.db"))
    yield world
    world.store.close()


def test_influxdb_derives_the_same_evidence_as_sqlite(world: World, influx_world: World) -> None:
    assert influx_world.store.counts() == world.store.counts()
    assert influx_world.store.sequence_gaps() == world.store.sequence_gaps()
    assert influx_world.store.last_seen() == world.store.last_seen()
    rts = sorted(world.registry.rts)
    influx_days = influx_world.store.day_evidence(None, START.date(), END.date())
    sqlite_days = world.store.day_evidence(None, START.date(), END.date())
    # the same figures and revisions; when each store derived them (changed_at_ms) is its own
    assert [(e.figures(), e.revision, e.change_reason) for e in influx_days] == [
        (e.figures(), e.revision, e.change_reason) for e in sqlite_days
    ]
    month = (END - timedelta(days=30)).date(), END.date()
    assert influx_world.store.period_totals(*month) == world.store.period_totals(*month)
    assert influx_world.store.period_totals(*month, rts[:3]) == world.store.period_totals(*month, rts[:3])
    window = to_epoch_ms(START), to_epoch_ms(END)
    for rt in rts[:4]:
        assert influx_world.store.rt_readings(rt, *window) == world.store.rt_readings(rt, *window)


def test_influxdb_recomputes_from_scratch_like_sqlite(world: World, influx_world: World) -> None:
    before = influx_world.store.day_evidence(None, START.date(), END.date())
    assert influx_world.store.mark_all_dirty() > 0
    assert influx_world.store.take_dirty(100_000) != []
    influx_world.updater.update_all()
    assert influx_world.store.take_dirty(10) == []
    assert influx_world.store.day_evidence(None, START.date(), END.date()) == before


NASTY = 'a"b\\c,d=e f\'g; DROP TABLE x;-- \n\t✓ 🚮 \\" \\\\n end\\'
"""Line-protocol (`, = "` space backslash newline) and SQL (quotes, `;`, `--`) metacharacters."""


def stored_texts(store: ReadingStore) -> set[str]:
    """The free text as the store holds it, read back with the store's own query language."""
    if isinstance(store, InfluxStore):
        notes, activities = store.client.query(
            ["SELECT note FROM poskamling_events", "SELECT activity FROM gotong_royong_events"]
        )
        return {r["note"] for r in notes} | {r["activity"] for r in activities}
    assert isinstance(store, SqliteStore)
    with store.ledger.reading() as db:
        rows = db.execute("SELECT note FROM poskamling_events UNION SELECT activity FROM gotong_royong_events")
        return {text for (text,) in rows}


def test_free_text_with_metacharacters_reads_back_byte_identical(
    any_store: ReadingStore, registry_index: RegistryIndex
) -> None:
    post = next(d for d in registry_index.registry.devices if d.kind is DeviceKind.poskamling)
    web = web_device_id(post.rt, DeviceKind.gotong_royong)
    ts = NOW.isoformat()
    incident = payload(ts=ts, seq=1, event="incident", category="other", note=NASTY)
    activity = payload(ts=ts, seq=1, activity=NASTY[::-1], attendance=12)
    limits = IntakeLimits()
    any_store.write(
        [
            accept(f"bantar/v1/{post.id}/poskamling", incident, NOW, registry_index, limits),
            accept(f"bantar/v1/{web}/gotong_royong", activity, NOW, registry_index, limits, channel="http"),
        ],
        [],
    )
    assert stored_texts(any_store) == {NASTY, NASTY[::-1]}


def test_old_sequences_replayed_hours_later_change_nothing(
    any_store: ReadingStore, registry_index: RegistryIndex
) -> None:
    messages = list(bin_burst(registry_index.registry, 300))
    any_store.write([accept(t, p, NOW, registry_index, IntakeLimits()) for t, p in messages], [])
    later = NOW + timedelta(hours=6)  # the same bytes, received again much later
    replay = [accept(t, p, later, registry_index, IntakeLimits()) for t, p in messages[:100]]
    assert any_store.write(replay, []) == (0, 100, 0)
    assert any_store.counts().readings == 300
    assert any_store.sequence_gaps() == []


def test_sparse_fields_read_back_on_every_store(any_store: ReadingStore, registry_index: RegistryIndex) -> None:
    """Readings that leave fields out (a deposit of one material, a patrol without duty fields)
    read back the same on both stores, even when no reading ever carried the missing fields."""
    post = next(d for d in registry_index.registry.devices if d.kind is DeviceKind.poskamling)
    bank = web_device_id(post.rt, DeviceKind.bank_sampah)
    ts = NOW.isoformat()
    deposit = payload(ts=ts, seq=1, deposit_id="d1", household="hh-1", items={"plastic": 1.5}, price_idr_per_kg={})
    patrol = payload(ts=ts, seq=1, event="patrol", checkpoint="gerbang")
    limits = IntakeLimits()
    any_store.write(
        [
            accept(f"bantar/v1/{bank}/bank_sampah", deposit, NOW, registry_index, limits, channel="http"),
            accept(f"bantar/v1/{post.id}/poskamling", patrol, NOW, registry_index, limits),
        ],
        [],
    )
    got = any_store.rt_readings(post.rt, to_epoch_ms(NOW) - 1000, to_epoch_ms(NOW) + 1000)
    assert [(d.household, d.kg, d.value_idr) for d in got.of(DeviceKind.bank_sampah)] == [("hh-1", {"plastic": 1.5}, 0)]
    assert [(p.event, p.on_duty, p.guards) for p in got.of(DeviceKind.poskamling)] == [("patrol", None, None)]
