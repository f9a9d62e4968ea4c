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
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from bantar.domain.errors import Reason, StoreError
from bantar.domain.evidence import (
    BinRow,
    CctvRow,
    DayEvidence,
    DepositRow,
    GotongRoyongRow,
    PoskamlingRow,
    RTReadings,
    days_touched,
)
from bantar.domain.intake import DEAD_LETTER_HEAD_BYTES, DeadLetter, payload_digest
from bantar.domain.readings import (
    BankSampahPayload,
    BinPayload,
    CctvPayload,
    DutyEvent,
    GotongRoyongPayload,
    IncidentEvent,
    Material,
    PatrolEvent,
    Reading,
)
from bantar.domain.scoring import PeriodTotals, longest_run_without
from bantar.domain.timebase import from_epoch_ms, to_epoch_ms, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind, Topic
from bantar.ports import DirtyMark, SequenceGap, StoreCounts, WriteOutcome

_KEY = (
    "device_id TEXT NOT NULL, seq INTEGER NOT NULL, rt_code TEXT NOT NULL, "
    "ts_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL"
)
_MATERIAL_COLUMNS = [f"{m.value}_kg" for m in Material]

TABLES: dict[DeviceKind, str] = {
    DeviceKind.bin: "bin_readings",
    DeviceKind.cctv: "cctv_heartbeats",
    DeviceKind.poskamling: "poskamling_events",
    DeviceKind.bank_sampah: "bank_sampah_deposits",
    DeviceKind.gotong_royong: "gotong_royong_events",
}

_EVIDENCE_FIELDS = [
    name for name in DayEvidence.model_fields if name not in ("rt_code", "day", "deposit_kg", "night_staffed")
]
_EVIDENCE_COLUMNS = [*_EVIDENCE_FIELDS, "night_staffed", *(f"kg_{m.value}" for m in Material)]
_EVIDENCE_COLUMNS_SQL = ", ".join(f"{c} NUMERIC" for c in _EVIDENCE_COLUMNS)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS bin_readings (
    {_KEY}, fill_pct REAL NOT NULL, battery_pct REAL NOT NULL, digest INTEGER NOT NULL,
    UNIQUE (device_id, seq));
CREATE TABLE IF NOT EXISTS cctv_heartbeats (
    {_KEY}, online INTEGER NOT NULL, recording INTEGER NOT NULL, storage_free_pct REAL NOT NULL,
    digest INTEGER NOT NULL, UNIQUE (device_id, seq));
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
CREATE TABLE IF NOT EXISTS dead_letters (
    digest INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL, last_received_ms INTEGER NOT NULL,
    times INTEGER NOT NULL DEFAULT 1, reason TEXT NOT NULL, detail TEXT NOT NULL,
    topic TEXT NOT NULL, payload_head BLOB NOT NULL, payload_size INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters (reason, received_ms);
CREATE TABLE IF NOT EXISTS device_state (
    device_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_ts_ms INTEGER NOT NULL,
    last_received_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dirty_rt_days (
    rt_code TEXT NOT NULL, day TEXT NOT NULL, generation INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (rt_code, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rt_day_evidence (
    rt_code TEXT NOT NULL, day TEXT NOT NULL, {_EVIDENCE_COLUMNS_SQL},
    PRIMARY KEY (rt_code, day)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rt_day_evidence_day ON rt_day_evidence (day);
CREATE TABLE IF NOT EXISTS evidence_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT OR IGNORE INTO evidence_version VALUES (1, 0);
"""


def _common(r: Reading) -> tuple[Any, ...]:
    return (r.device_id, r.seq, r.rt_code, to_epoch_ms(r.ts), to_epoch_ms(r.received_at))


def _bin_row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, BinPayload)
    return (*_common(r), r.fill_pct, body.battery_pct, r.digest)


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
}
_COLUMNS: dict[DeviceKind, list[str]] = {
    DeviceKind.bin: ["fill_pct", "battery_pct"],
    DeviceKind.cctv: ["online", "recording", "storage_free_pct"],
    DeviceKind.poskamling: ["event", "on_duty", "guards", "checkpoint", "category", "note"],
    DeviceKind.bank_sampah: ["deposit_id", "household", *_MATERIAL_COLUMNS, "value_idr", "prices_json"],
    DeviceKind.gotong_royong: ["activity", "attendance"],
}


def _insert_sql(kind: DeviceKind) -> str:
    columns = ["device_id", "seq", "rt_code", "ts_ms", "received_ms", *_COLUMNS[kind], "digest"]
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {TABLES[kind]} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT (device_id, seq) DO NOTHING"


_INSERTS = {kind: _insert_sql(kind) for kind in DeviceKind}
_INSERT_DEAD_LETTER = """
INSERT INTO dead_letters (digest, received_ms, last_received_ms, reason, detail, topic,
                          payload_head, payload_size)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (digest) DO UPDATE SET times = times + 1, last_received_ms = excluded.last_received_ms
"""

_UPSERT_DEVICE_STATE = """
INSERT INTO device_state (device_id, last_seq, last_ts_ms, last_received_ms) VALUES (?, ?, ?, ?)
ON CONFLICT (device_id) DO UPDATE SET
    last_ts_ms = CASE WHEN excluded.last_seq > last_seq THEN excluded.last_ts_ms ELSE last_ts_ms END,
    last_received_ms = MAX(last_received_ms, excluded.last_received_ms),
    last_seq = MAX(last_seq, excluded.last_seq)
"""
_MARK_DIRTY = """
INSERT INTO dirty_rt_days (rt_code, day) VALUES (?, ?)
ON CONFLICT (rt_code, day) DO UPDATE SET generation = generation + 1
"""

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


class SqliteStore:
    """``ReadingStore`` on one SQLite file. Safe to share between threads (one lock)."""

    def __init__(self, path: Path, synchronous: Synchronous = "FULL", busy_timeout_ms: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {path}: {exc}") from exc

    def write(self, readings: Sequence[Reading], dead_letters: Sequence[DeadLetter]) -> WriteOutcome:
        by_kind: dict[DeviceKind, list[Reading]] = defaultdict(list)
        for reading in readings:
            by_kind[reading.kind].append(reading)
        stored = duplicates = conflicts = 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                conflicting: list[DeadLetter] = []
                for kind, group in by_kind.items():
                    before = self._db.total_changes
                    self._db.executemany(_INSERTS[kind], [_ROWS[kind](r) for r in group])
                    inserted = self._db.total_changes - before
                    stored += inserted
                    if inserted < len(group):
                        matching, clashes = self._classify(kind, group)
                        duplicates += matching - inserted
                        conflicting.extend(clashes)
                conflicts = len(conflicting)
                self._insert_dead_letters([*dead_letters, *conflicting])
                self._note_devices_and_days(readings)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"SQLite write failed: {exc}") from exc
            except BaseException:
                self._rollback()
                raise
        return WriteOutcome(stored, duplicates, conflicts)

    def _note_devices_and_days(self, readings: Sequence[Reading]) -> None:
        """Keep each device's latest report, and mark the RT-days whose evidence must be derived
        again (in the same transaction as the readings, so no change can be missed)."""
        latest: dict[str, tuple[int, int, int]] = {}
        days: set[tuple[str, str]] = set()
        for r in readings:
            ts_ms = to_epoch_ms(r.ts)
            known = latest.get(r.device_id)
            if known is None or r.seq > known[0]:
                latest[r.device_id] = (r.seq, ts_ms, to_epoch_ms(r.received_at))
            for day in days_touched(ts_ms):
                days.add((r.rt_code, day.isoformat()))
        self._db.executemany(_UPSERT_DEVICE_STATE, [(d, *v) for d, v in latest.items()])
        self._db.executemany(_MARK_DIRTY, sorted(days))

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _classify(self, kind: DeviceKind, group: Sequence[Reading]) -> tuple[int, list[DeadLetter]]:
        """Count readings whose stored twin has the same digest; dead-letter the others."""
        sql = f"SELECT digest FROM {TABLES[kind]} WHERE device_id = ? AND seq = ?"
        matching = 0
        clashes = []
        for reading in group:
            (stored_digest,) = self._db.execute(sql, (reading.device_id, reading.seq)).fetchone()
            if stored_digest == reading.digest:
                matching += 1
            else:
                clashes.append(_conflict_letter(reading, stored_digest))
        return matching, clashes

    def _insert_dead_letters(self, letters: Iterable[DeadLetter]) -> None:
        rows = [
            (
                d.digest,
                to_epoch_ms(d.received_at),
                to_epoch_ms(d.received_at),
                d.reason.value,
                d.detail,
                d.topic,
                d.payload_head,
                d.payload_size,
            )
            for d in letters
        ]
        if rows:
            self._db.executemany(_INSERT_DEAD_LETTER, rows)

    def last_sequences(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT device_id, last_seq FROM device_state").fetchall())

    def last_seen(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT device_id, last_ts_ms FROM device_state").fetchall())

    def sequence_gaps(self) -> list[SequenceGap]:
        with self._lock:
            gaps = []
            for table in TABLES.values():
                sql = (
                    f"SELECT device_id, MIN(seq), MAX(seq), COUNT(*) FROM {table} "
                    "GROUP BY device_id HAVING MAX(seq) - MIN(seq) + 1 > COUNT(*)"
                )
                gaps.extend(SequenceGap(*row) for row in self._db.execute(sql))
            return sorted(gaps)

    def counts(self) -> StoreCounts:
        with self._lock:
            by_kind = {
                kind.value: self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for kind, table in TABLES.items()
            }
            by_reason = dict(self._db.execute("SELECT reason, COUNT(*) FROM dead_letters GROUP BY reason").fetchall())
            return StoreCounts(by_kind, by_reason)

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        sql = (
            "SELECT received_ms, reason, detail, topic, payload_head, payload_size, digest "
            "FROM dead_letters ORDER BY last_received_ms DESC LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (limit,)).fetchall()
        return [
            DeadLetter(
                received_at=from_epoch_ms(ms),
                reason=Reason(reason),
                detail=detail,
                topic=topic,
                payload_head=head,
                payload_size=size,
                digest=digest,
            )
            for ms, reason, detail, topic, head, size, digest in rows
        ]

    # --- evidence -----------------------------------------------------------------------------
    def take_dirty(self, limit: int) -> list[DirtyMark]:
        with self._lock:
            rows = self._db.execute(
                "SELECT rt_code, day, generation FROM dirty_rt_days ORDER BY day, rt_code LIMIT ?", (limit,)
            ).fetchall()
        return [DirtyMark(rt, date.fromisoformat(day), gen) for rt, day, gen in rows]

    def mark_all_dirty(self) -> int:
        """Mark every RT-day that has readings, for a recompute from scratch."""
        day_expr = "date((ts_ms + 25200000) / 1000, 'unixepoch')"
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for table in TABLES.values():
                self._db.execute(
                    f"INSERT INTO dirty_rt_days (rt_code, day) SELECT DISTINCT rt_code, {day_expr} FROM {table} "
                    "WHERE true ON CONFLICT (rt_code, day) DO UPDATE SET generation = generation + 1"
                )
            self._db.execute("COMMIT")
            return int(self._db.execute("SELECT COUNT(*) FROM dirty_rt_days").fetchone()[0])

    def rt_readings(self, rt_code: str, start_ms: int, end_ms: int) -> RTReadings:
        window = (rt_code, start_ms, end_ms)
        where = "WHERE rt_code = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms"
        with self._lock:
            db = self._db
            bins = [
                BinRow(*r) for r in db.execute(f"SELECT device_id, ts_ms, fill_pct FROM bin_readings {where}", window)
            ]
            cctv = [
                CctvRow(d, t, bool(o))
                for d, t, o in db.execute(f"SELECT device_id, ts_ms, online FROM cctv_heartbeats {where}", window)
            ]
            posts = [
                PoskamlingRow(d, t, e, None if o is None else bool(o), g)
                for d, t, e, o, g in db.execute(
                    f"SELECT device_id, ts_ms, event, on_duty, guards FROM poskamling_events {where}", window
                )
            ]
            kg_columns = ", ".join(_MATERIAL_COLUMNS)
            deposits = [
                DepositRow(
                    row[0],
                    row[1],
                    row[2],
                    {m.value: kg for m, kg in zip(Material, row[3:-1], strict=True) if kg},
                    row[-1],
                )
                for row in db.execute(
                    f"SELECT device_id, ts_ms, household, {kg_columns}, value_idr FROM bank_sampah_deposits {where}",
                    window,
                )
            ]
            gotong_royong = [
                GotongRoyongRow(t, a)
                for t, a in db.execute(f"SELECT ts_ms, attendance FROM gotong_royong_events {where}", window)
            ]
        return RTReadings(bins, cctv, posts, deposits, gotong_royong)

    def save_evidence(self, evidence: Sequence[DayEvidence], done: Sequence[DirtyMark]) -> None:
        """Store derived evidence and clear the marks it answers, unless a mark was renewed
        meanwhile (a reading that arrived during the derivation keeps its RT-day dirty)."""
        columns = ["rt_code", "day", *_EVIDENCE_COLUMNS]
        sql = (
            f"INSERT INTO rt_day_evidence ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT (rt_code, day) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _EVIDENCE_COLUMNS)
        )
        rows = [
            (
                e.rt_code,
                e.day.isoformat(),
                *(getattr(e, name) for name in _EVIDENCE_FIELDS),
                e.night_staffed,
                *(e.deposit_kg.get(m.value, 0.0) for m in Material),
            )
            for e in evidence
        ]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, rows)
                if rows:
                    self._db.execute("UPDATE evidence_version SET n = n + 1")
                self._db.executemany(
                    "DELETE FROM dirty_rt_days WHERE rt_code = ? AND day = ? AND generation = ?",
                    [(m.rt_code, m.day.isoformat(), m.generation) for m in done],
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"SQLite evidence write failed: {exc}") from exc

    def evidence_version(self) -> int:
        """Grows whenever stored evidence changes (from any process): a key for caches."""
        with self._lock:
            return int(self._db.execute("SELECT n FROM evidence_version").fetchone()[0])

    def day_evidence(self, rt_codes: Sequence[str] | None, start: date, end: date) -> list[DayEvidence]:
        """Stored daily evidence for days in [start, end], by RT then day."""
        where, args = _rt_filter(rt_codes)
        sql = (
            f"SELECT rt_code, day, {', '.join(_EVIDENCE_COLUMNS)} FROM rt_day_evidence "
            f"WHERE day BETWEEN ? AND ? {where} ORDER BY rt_code, day"
        )
        with self._lock:
            rows = self._db.execute(sql, (start.isoformat(), end.isoformat(), *args)).fetchall()
        n = len(_EVIDENCE_FIELDS)
        result = []
        for row in rows:
            values = dict(zip(_EVIDENCE_FIELDS, row[2 : 2 + n], strict=True))
            staffed = row[2 + n]
            kgs = {m.value: kg for m, kg in zip(Material, row[3 + n :], strict=True) if kg}
            result.append(
                DayEvidence(
                    rt_code=row[0],
                    day=date.fromisoformat(row[1]),
                    **values,
                    night_staffed=None if staffed is None else bool(staffed),
                    deposit_kg=kgs,
                )
            )
        return result

    def period_totals(self, start: date, end: date, rt_codes: Sequence[str] | None = None) -> dict[str, PeriodTotals]:
        """Per RT, the sums of its daily evidence over [start, end] (received figures only: what
        was expected follows from the registry and the period, see the evidence service)."""
        where, args = _rt_filter(rt_codes)
        bounds = (start.isoformat(), end.isoformat(), *args)
        kg_sum = " + ".join(f"SUM(kg_{m.value})" for m in Material)
        sql = f"""
            SELECT rt_code, SUM(bin_readings), SUM(bin_hours_observed), SUM(bin_overflow_hours),
                   SUM(bin_collections), SUM(cameras_reporting), SUM(cctv_online_heartbeats),
                   SUM(post_reports), SUM(COALESCE(night_staffed, 0)), SUM(patrols), SUM(incidents),
                   SUM(deposits), {kg_sum}, SUM(gotong_royong_events), SUM(gotong_royong_attendance)
            FROM rt_day_evidence WHERE day BETWEEN ? AND ? {where} GROUP BY rt_code"""
        collection_days = (
            f"SELECT rt_code, day FROM rt_day_evidence WHERE day BETWEEN ? AND ? {where} AND bin_collections > 0"
        )
        households = (
            "SELECT rt_code, COUNT(DISTINCT household) FROM bank_sampah_deposits WHERE ts_ms >= ? AND ts_ms < ? "
            f"{where} GROUP BY rt_code"
        )
        start_ms, end_ms = (
            int(t.timestamp() * 1000) for t in (*wib_day_bounds_utc(start)[:1], wib_day_bounds_utc(end)[1])
        )
        with self._lock:
            sums = self._db.execute(sql, bounds).fetchall()
            collected: dict[str, list[date]] = {}
            for rt, day in self._db.execute(collection_days, bounds):
                collected.setdefault(rt, []).append(date.fromisoformat(day))
            distinct = dict(self._db.execute(households, (start_ms, end_ms, *args)).fetchall())
        totals = {}
        for row in sums:
            rt = row[0]
            totals[rt] = PeriodTotals(
                bin_readings=row[1] or 0,
                bin_hours_observed=row[2] or 0.0,
                bin_overflow_hours=row[3] or 0.0,
                bin_collections=row[4] or 0,
                longest_days_without_collection=longest_run_without(collected.get(rt, []), start, end),
                camera_days_reporting=row[5] or 0,
                cctv_online_heartbeats=row[6] or 0,
                post_reports=row[7] or 0,
                staffed_nights=row[8] or 0,
                patrols=row[9] or 0,
                incidents=row[10] or 0,
                deposits=row[11] or 0,
                deposit_kg=row[12] or 0.0,
                distinct_households=distinct.get(rt, 0),
                gotong_royong_events=row[13] or 0,
                gotong_royong_attendance=row[14] or 0,
            )
        return totals

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _rt_filter(rt_codes: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    if rt_codes is None:
        return "", ()
    return f"AND rt_code IN ({', '.join('?' for _ in rt_codes)})", tuple(rt_codes)


def _conflict_letter(reading: Reading, stored_digest: int) -> DeadLetter:
    body = reading.payload.model_dump_json().encode()
    topic = str(Topic(reading.device_id, reading.kind))
    return DeadLetter(
        received_at=reading.received_at,
        reason=Reason.sequence_conflict,
        detail=(
            f"device {reading.device_id!r} already sent seq {reading.seq} with different content "
            f"(stored digest {stored_digest & 0xFFFFFFFF:08x}, this one {reading.digest & 0xFFFFFFFF:08x})"
        ),
        topic=topic,
        payload_head=body[:DEAD_LETTER_HEAD_BYTES],
        payload_size=len(body),
        digest=payload_digest(b"conflict\0" + topic.encode() + reading.digest.to_bytes(8, "big", signed=True)),
    )
