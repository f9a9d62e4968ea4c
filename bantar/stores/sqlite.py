"""The embedded store: SQLite in WAL mode, one table per reading kind.

Idempotency: each reading table has the unique key ``(device_id, seq)``; a write of an existing
key does nothing. When a batch inserts fewer rows than it carried (the rare path) the stored
payload digests tell identical redeliveries (duplicates) from conflicting payloads (dead-lettered).
Durability: ``synchronous=FULL`` by default, so a committed batch survives a power cut, not
only a crash of the process.
Write cost: devices report concurrently, so a batch touches one spot of the key index per device;
rowid tables (rows appended in arrival order) with a compact integer digest write fewer pages
per batch than tables clustered on the key (8 vs 12 us per row for 300,000 readings here).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bantar.archive.kinds import ARCHIVED_KINDS
from bantar.domain.availability import AvailabilityRow
from bantar.domain.errors import StoreError
from bantar.domain.evidence import (
    BinRow,
    CctvRow,
    DepositRow,
    GotongRoyongRow,
    PoskamlingRow,
    RTReadings,
)
from bantar.domain.intake import DeadLetter
from bantar.domain.readings import (
    AvailabilityPayload,
    AvailabilityState,
    BankSampahPayload,
    BinPayload,
    CctvPayload,
    DutyEvent,
    GotongRoyongPayload,
    IncidentEvent,
    Material,
    PatrolEvent,
    Reading,
    WeighingPayload,
)
from bantar.domain.sequences import PLAUSIBLE_GAP
from bantar.domain.timebase import to_epoch_ms
from bantar.domain.topics import DeviceKind
from bantar.ports import SequenceGap, StoreCounts, WeighingRow, WriteOutcome
from bantar.stores.archive_sqlite import ARCHIVE_SCHEMA, SqliteArchiveSide, merge_archived
from bantar.stores.ledger import SERIES, DeviceAndDayNotes, Synchronous, conflict_letter

_KEY = (
    "device_id TEXT NOT NULL, seq INTEGER NOT NULL, rt_code TEXT NOT NULL, "
    "ts_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL"
)
_MATERIAL_COLUMNS = [f"{m.value}_kg" for m in Material]


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS bin_readings (
    {_KEY}, fill_pct REAL NOT NULL, battery_pct REAL, digest INTEGER NOT NULL,
    distance_cm REAL, UNIQUE (device_id, seq));
CREATE TABLE IF NOT EXISTS cctv_heartbeats (
    {_KEY}, online INTEGER NOT NULL, recording INTEGER, storage_free_pct REAL,
    digest INTEGER NOT NULL, UNIQUE (device_id, seq));
CREATE TABLE IF NOT EXISTS availability (
    {_KEY}, state TEXT NOT NULL, battery_pct REAL, digest INTEGER NOT NULL, UNIQUE (device_id, seq));
CREATE INDEX IF NOT EXISTS availability_rt_ts ON availability (rt_code, ts_ms);
CREATE TABLE IF NOT EXISTS weighings (
    {_KEY}, kg REAL NOT NULL, digest INTEGER NOT NULL, UNIQUE (device_id, seq));
CREATE INDEX IF NOT EXISTS weighings_rt_ts ON weighings (rt_code, ts_ms);
CREATE TABLE IF NOT EXISTS poskamling_events (
    {_KEY}, event TEXT NOT NULL, on_duty INTEGER, guards INTEGER, checkpoint TEXT,
    category TEXT, note TEXT, digest INTEGER NOT NULL, UNIQUE (device_id, seq));
CREATE TABLE IF NOT EXISTS bank_sampah_deposits (
    {_KEY}, deposit_id TEXT NOT NULL, household TEXT NOT NULL,
    {", ".join(f"{c} REAL NOT NULL DEFAULT 0" for c in _MATERIAL_COLUMNS)},
    value_idr INTEGER NOT NULL, prices_json TEXT NOT NULL, digest INTEGER NOT NULL,
    UNIQUE (device_id, seq));
CREATE TABLE IF NOT EXISTS gotong_royong_events (
    {_KEY}, activity TEXT NOT NULL, attendance INTEGER NOT NULL, digest INTEGER NOT NULL,
    UNIQUE (device_id, seq));
CREATE INDEX IF NOT EXISTS gotong_royong_events_rt_ts ON gotong_royong_events (rt_code, ts_ms);
CREATE INDEX IF NOT EXISTS bin_readings_rt_ts ON bin_readings (rt_code, ts_ms);
CREATE INDEX IF NOT EXISTS cctv_heartbeats_rt_ts ON cctv_heartbeats (rt_code, ts_ms);
CREATE INDEX IF NOT EXISTS poskamling_events_rt_ts ON poskamling_events (rt_code, ts_ms);
CREATE INDEX IF NOT EXISTS bank_sampah_deposits_rt_ts ON bank_sampah_deposits (rt_code, ts_ms);
"""


def _common(r: Reading) -> tuple[Any, ...]:
    return (r.device_id, r.seq, r.rt_code, to_epoch_ms(r.ts), to_epoch_ms(r.received_at))


def _bin_row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, BinPayload)
    return (*_common(r), r.fill_pct, body.battery_pct, r.digest, body.distance_cm)


def _cctv_row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, CctvPayload)
    return (*_common(r), body.online, body.recording, body.storage_free_pct, r.digest)


def _poskamling_row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    on_duty = guards = checkpoint = category = note = None
    if isinstance(body, DutyEvent):
        on_duty, guards = body.on_duty, body.guards
    elif isinstance(body, PatrolEvent):
        checkpoint = body.checkpoint
    else:
        assert isinstance(body, IncidentEvent)
        category, note = body.category.value, body.note
    event = body.event  # type: ignore[union-attr]
    return (*_common(r), event, on_duty, guards, checkpoint, category, note, r.digest)


def _bank_sampah_row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, BankSampahPayload)
    kgs = [body.items.get(m, 0.0) for m in Material]
    prices = json.dumps({m.value: p for m, p in sorted(body.price_idr_per_kg.items())})
    return (*_common(r), body.deposit_id, body.household, *kgs, body.value_idr, prices, r.digest)


def _availability_row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, AvailabilityPayload)
    return (*_common(r), body.state.value, body.battery_pct, r.digest)


def _weighing_row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, WeighingPayload)
    return (*_common(r), body.kg, r.digest)


def _gotong_royong_row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, GotongRoyongPayload)
    return (*_common(r), body.activity, body.attendance, r.digest)


_ROWS: dict[DeviceKind, Callable[[Reading], tuple[Any, ...]]] = {
    DeviceKind.bin: _bin_row,
    DeviceKind.cctv: _cctv_row,
    DeviceKind.poskamling: _poskamling_row,
    DeviceKind.bank_sampah: _bank_sampah_row,
    DeviceKind.gotong_royong: _gotong_royong_row,
    DeviceKind.availability: _availability_row,
    DeviceKind.weighing: _weighing_row,
}
_COLUMNS: dict[DeviceKind, list[str]] = {
    DeviceKind.bin: ["fill_pct", "battery_pct"],
    DeviceKind.cctv: ["online", "recording", "storage_free_pct"],
    DeviceKind.poskamling: ["event", "on_duty", "guards", "checkpoint", "category", "note"],
    DeviceKind.bank_sampah: ["deposit_id", "household", *_MATERIAL_COLUMNS, "value_idr", "prices_json"],
    DeviceKind.gotong_royong: ["activity", "attendance"],
    DeviceKind.availability: ["state", "battery_pct"],
    DeviceKind.weighing: ["kg"],
}


_AFTER_DIGEST: dict[DeviceKind, list[str]] = {DeviceKind.bin: ["distance_cm"]}
"""Columns added after the first schema (kept last, so older files gain them by ALTER TABLE)."""


def _insert_sql(kind: DeviceKind) -> str:
    columns = [
        "device_id",
        "seq",
        "rt_code",
        "ts_ms",
        "received_ms",
        *_COLUMNS[kind],
        "digest",
        *_AFTER_DIGEST.get(kind, []),
    ]
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {SERIES[kind]} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT (device_id, seq) DO NOTHING"


_INSERTS = {kind: _insert_sql(kind) for kind in DeviceKind}


class SqliteStore(SqliteArchiveSide):
    """``ReadingStore`` on one SQLite file: the readings and the ledger side by side; with an
    ``archive_root``, readings older than the hot window are read from the archive too."""

    def __init__(
        self,
        path: Path,
        synchronous: Synchronous = "FULL",
        busy_timeout_ms: int = 10_000,
        archive_root: Path | None = None,
    ) -> None:
        super().__init__(path, synchronous, busy_timeout_ms, _SCHEMA + ARCHIVE_SCHEMA)
        self.archive_root = archive_root
        present = {row[1] for row in self._db.execute("PRAGMA table_info(bin_readings)")}
        if "distance_cm" not in present:
            self._db.execute("ALTER TABLE bin_readings ADD COLUMN distance_cm REAL")

    def write(self, readings: Sequence[Reading], dead_letters: Sequence[DeadLetter]) -> WriteOutcome:
        by_kind: dict[DeviceKind, list[Reading]] = defaultdict(list)
        for reading in readings:
            by_kind[reading.kind].append(reading)
        rows = {kind: [_ROWS[kind](r) for r in group] for kind, group in by_kind.items()}
        notes = DeviceAndDayNotes.of(readings)
        stored = duplicates = conflicts = 0
        with self._writing():
            try:
                self._db.execute("BEGIN IMMEDIATE")
                conflicting: list[DeadLetter] = []
                for kind, group in by_kind.items():
                    before = self._db.total_changes
                    self._db.executemany(_INSERTS[kind], rows[kind])
                    inserted = self._db.total_changes - before
                    stored += inserted
                    if inserted < len(group):
                        matching, clashes = self._classify(kind, group)
                        duplicates += matching - inserted
                        conflicting.extend(clashes)
                conflicts = len(conflicting)
                self._insert_dead_letters([*dead_letters, *conflicting])
                self._note_devices_and_days(notes)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"SQLite write failed: {exc}") from exc
            except BaseException:
                self._rollback()
                raise
        return WriteOutcome(stored, duplicates, conflicts)

    def _classify(self, kind: DeviceKind, group: Sequence[Reading]) -> tuple[int, list[DeadLetter]]:
        """Count readings whose stored twin has the same digest; dead-letter the others."""
        sql = f"SELECT digest FROM {SERIES[kind]} WHERE device_id = ? AND seq = ?"
        matching = 0
        clashes = []
        for reading in group:
            (stored_digest,) = self._db.execute(sql, (reading.device_id, reading.seq)).fetchone()
            if stored_digest == reading.digest:
                matching += 1
            else:
                clashes.append(conflict_letter(reading, stored_digest))
        return matching, clashes

    def sequence_gaps(self, max_gap: int = PLAUSIBLE_GAP) -> list[SequenceGap]:
        return self._sequence_gaps_in(SERIES.values(), max_gap)

    def counts(self) -> StoreCounts:
        with self._lock:
            by_kind = {
                kind.value: self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for kind, table in SERIES.items()
            }
            dead_letters = self._dead_letter_counts()
        for kind, archived in self.archived_counts().items():
            by_kind[kind] += archived
        return StoreCounts(by_kind, dead_letters)

    def mark_all_dirty(self) -> int:
        """Mark every RT-day that has readings, for a recompute from scratch."""
        day_expr = "date((ts_ms + 25200000) / 1000, 'unixepoch')"
        with self._lock:
            rt_days = [
                row
                for table in SERIES.values()
                for row in self._db.execute(f"SELECT DISTINCT rt_code, {day_expr} FROM {table}")
            ]
        return self._mark_dirty(sorted({*rt_days, *self.archived_rt_days()}))

    def rt_readings(self, rt_code: str, start_ms: int, end_ms: int) -> RTReadings:
        window = (rt_code, start_ms, end_ms)
        where = "WHERE rt_code = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms"
        with self._lock:
            db = self._db
            bins = [
                BinRow(*r)
                for r in db.execute(
                    f"SELECT device_id, ts_ms, fill_pct, seq, received_ms, distance_cm FROM bin_readings {where}",
                    window,
                )
            ]
            cctv = [
                CctvRow(d, t, bool(o), q, rx, rec is None or bool(rec))  # unreported: not a fault
                for d, t, o, q, rx, rec in db.execute(
                    f"SELECT device_id, ts_ms, online, seq, received_ms, recording FROM cctv_heartbeats {where}", window
                )
            ]
            posts = [
                PoskamlingRow(d, t, e, None if o is None else bool(o), g, q, rx)
                for d, t, e, o, g, q, rx in db.execute(
                    f"SELECT device_id, ts_ms, event, on_duty, guards, seq, received_ms FROM poskamling_events {where}",
                    window,
                )
            ]
            kg_columns = ", ".join(_MATERIAL_COLUMNS)
            deposits = [
                DepositRow(
                    row[0],
                    row[1],
                    row[2],
                    {m.value: kg for m, kg in zip(Material, row[3:-3], strict=True) if kg},
                    row[-3],
                    row[-2],
                    row[-1],
                )
                for row in db.execute(
                    f"SELECT device_id, ts_ms, household, {kg_columns}, value_idr, seq, received_ms "
                    f"FROM bank_sampah_deposits {where}",
                    window,
                )
            ]
            gotong_royong = [
                GotongRoyongRow(t, a)
                for t, a in db.execute(f"SELECT ts_ms, attendance FROM gotong_royong_events {where}", window)
            ]
            availability = [
                AvailabilityRow(d, t, state == AvailabilityState.online)
                for d, t, state in db.execute(
                    "SELECT device_id, MAX(ts_ms), state FROM availability WHERE rt_code = ? AND ts_ms < ? "
                    "GROUP BY device_id",
                    window[:2],
                )
            ]
            availability += [
                AvailabilityRow(d, t, state == AvailabilityState.online)
                for d, t, state in db.execute(f"SELECT device_id, ts_ms, state FROM availability {where}", window)
            ]
        hot = RTReadings(bins, cctv, posts, deposits, gotong_royong, availability)
        return merge_archived(hot, {kind: self.archived(kind, rt_code, start_ms, end_ms) for kind in ARCHIVED_KINDS})

    def weighings(self, rt_code: str, start_ms: int, end_ms: int) -> list[WeighingRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT device_id, seq, ts_ms, kg FROM weighings WHERE rt_code = ? AND ts_ms >= ? AND ts_ms < ? "
                "ORDER BY ts_ms, device_id, seq",
                (rt_code, start_ms, end_ms),
            ).fetchall()
        return [WeighingRow(*r) for r in rows]
