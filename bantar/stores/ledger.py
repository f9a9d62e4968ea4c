"""The ledger: everything a reading store keeps besides the raw series, in one SQLite file.

Dead letters, each device's latest report, the RT-days whose evidence must be derived again
and the derived daily evidence itself. The embedded store keeps its reading tables in the same
file; the InfluxDB store keeps the series in InfluxDB and uses a ledger file as its sidecar.
Each store holds a ``SqliteLedger`` (a component, not a base class) and speaks to it through
its public methods only, so evidence, dead letters and device state behave identically on both.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Literal, NamedTuple

from bantar.domain.errors import Reason, Rejected, StoreError
from bantar.domain.evidence import DayEvidence, days_touched
from bantar.domain.intake import DEAD_LETTER_HEAD_BYTES, DeadLetter, payload_digest
from bantar.domain.readings import AvailabilityPayload, AvailabilityState, Material, Reading
from bantar.domain.scoring import PeriodTotals, longest_run_without
from bantar.domain.sequences import NO_COUNTER_BASE, SESSION_SPAN
from bantar.domain.timebase import from_epoch_ms, to_epoch_ms
from bantar.domain.topics import DeviceKind, Topic
from bantar.kinds.contract import Figures
from bantar.kinds.registry import plugins
from bantar.ports import DirtyMark, SequenceGap
from bantar.stores.files import private_file

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

SERIES: dict[DeviceKind, str] = {kind: p.series.name for kind, p in plugins().items()}
"""Where each kind of reading lives: a table in SQLite, a measurement in InfluxDB."""

_STRUCTURED = ("flags", "sources", "household_ids", "kinds")
"""Evidence fields kept as JSON text (``<name>_json`` columns)."""
_EVIDENCE_FIELDS = [
    name for name in DayEvidence.model_fields if name not in ("rt_code", "day", "deposit_kg", *_STRUCTURED)
]
_EVIDENCE_COLUMNS = [
    *_EVIDENCE_FIELDS,
    *(f"kg_{m.value}" for m in Material),
    *(f"{name}_json" for name in _STRUCTURED),
    "figures_digest",
]
_EVIDENCE_COLUMNS_SQL = ", ".join(f"{c} NUMERIC" for c in _EVIDENCE_COLUMNS)

LEDGER_SCHEMA = f"""
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
CREATE TABLE IF NOT EXISTS latest_content (
    device_id TEXT NOT NULL, kind TEXT NOT NULL, ts_ms INTEGER NOT NULL, digest INTEGER NOT NULL,
    online INTEGER, PRIMARY KEY (device_id, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS evidence_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT OR IGNORE INTO evidence_version VALUES (1, 0);
"""

_INSERT_DEAD_LETTER = """
INSERT INTO dead_letters (digest, received_ms, last_received_ms, reason, detail, topic,
                          payload_head, payload_size)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (digest) DO UPDATE SET times = times + 1, last_received_ms = excluded.last_received_ms
"""
_UPSERT_DEVICE_STATE = """
INSERT INTO device_state (device_id, last_seq, last_ts_ms, last_received_ms) VALUES (?, ?, ?, ?)
ON CONFLICT (device_id) DO UPDATE SET
    last_ts_ms = MAX(last_ts_ms, excluded.last_ts_ms),
    last_received_ms = MAX(last_received_ms, excluded.last_received_ms),
    last_seq = MAX(last_seq, excluded.last_seq)
"""
_UPSERT_LATEST_CONTENT = """
INSERT INTO latest_content (device_id, kind, ts_ms, digest, online) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (device_id, kind) DO UPDATE SET ts_ms = excluded.ts_ms, digest = excluded.digest, online = excluded.online
WHERE excluded.ts_ms >= ts_ms
"""
MARK_DIRTY = """
INSERT INTO dirty_rt_days (rt_code, day) VALUES (?, ?)
ON CONFLICT (rt_code, day) DO UPDATE SET generation = generation + 1
"""


class DeviceAndDayNotes(NamedTuple):
    """What a batch changes besides its readings: each device's latest report, and the RT-days
    whose evidence must be derived again. Computed outside the write lock."""

    devices: list[tuple[str, int, int, int]]
    rt_days: list[tuple[str, str]]
    contents: Sequence[tuple[str, str, int, int, bool | None]] = ()
    """(device, kind, ts_ms, digest, online) of readings with derived, uncounted numbers: what a
    replay of a message without its own time (an LWT, a bare value) is compared with, and for
    availability whether the device is up"""

    @classmethod
    def of(cls, readings: Sequence[Reading]) -> DeviceAndDayNotes:
        latest: dict[str, tuple[int, int, int]] = {}
        days: set[tuple[str, str]] = set()
        contents: dict[tuple[str, str], tuple[int, int, bool | None]] = {}
        for r in readings:
            ts_ms = to_epoch_ms(r.ts)
            for day in days_touched(ts_ms):
                days.add((r.rt_code, day.isoformat()))
            if r.seq >= NO_COUNTER_BASE:
                key = (r.device_id, r.kind.value)
                if key not in contents or ts_ms >= contents[key][0]:
                    up = (
                        r.payload.state is AvailabilityState.online
                        if isinstance(r.payload, AvailabilityPayload)
                        else None
                    )
                    contents[key] = (ts_ms, r.digest, up)
            if isinstance(r.payload, AvailabilityPayload) and r.payload.state is not AvailabilityState.online:
                continue  # the broker's Last Will or a goodbye: not a sign of life
            seq = r.seq if r.seq < NO_COUNTER_BASE else -1  # only counted numbers are a position
            received_ms = to_epoch_ms(r.received_at)
            known = latest.get(r.device_id)
            if known is None:
                latest[r.device_id] = (seq, ts_ms, received_ms)
            else:
                latest[r.device_id] = (max(seq, known[0]), max(ts_ms, known[1]), max(received_ms, known[2]))
        return cls([(d, *v) for d, v in latest.items()], sorted(days), [(d, k, *v) for (d, k), v in contents.items()])


class _WriterLock:
    """Exclusive for writing, across threads (the ledger's lock) and processes (an flock: several
    ingestors, the API's evidence loop). A waiting writer blocks on the flock and wakes the moment
    the other one commits; SQLite's own busy handler would poll, sleeping up to 100 ms between tries."""

    def __init__(self, lock: threading.Lock, path: Path) -> None:
        self._lock = lock
        self._file = path.open("a")

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def close(self) -> None:
        self._file.close()


class SqliteLedger:
    """The ledger half of a ``ReadingStore``: each store holds one (``store.ledger``).

    Safe to share between threads (one lock). A store that keeps its own tables in the ledger's
    file passes their schema in, and writes its rows inside ``transaction()`` together with
    ``note_batch``, so readings, keys, device state and dirty marks commit as one and no change
    is ever missed; what can be prepared before the transaction (rows, ``DeviceAndDayNotes``)
    is, to keep it short.
    """

    def __init__(
        self,
        path: Path,
        synchronous: Synchronous,
        busy_timeout_ms: int,
        schema: str = "",
        added_columns: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """``schema``: the tables the store keeps in this file; ``added_columns``: the
        ``(table, column, SQL type)`` those tables gained since they were first made."""
        self.path = private_file(path)  # readings hold household ids: owner-only from the start
        self._lock = threading.Lock()
        self._writer = _WriterLock(self._lock, path.parent / f"{path.name}.writer-lock")
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._db.executescript(LEDGER_SCHEMA + schema)
            # A ledger written before an evidence column existed gets it (empty): evidence is
            # derived data, ``bantar evidence rebuild`` fills it again.
            self._add_missing_columns([*(("rt_day_evidence", c, "NUMERIC") for c in _EVIDENCE_COLUMNS), *added_columns])
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite file {path}: {exc}") from exc

    def _add_missing_columns(self, columns: Iterable[tuple[str, str, str]]) -> None:
        present: dict[str, set[str]] = {}
        for table, column, sql_type in columns:
            if table not in present:
                present[table] = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present[table]:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")

    # --- the connection, for the store that holds this ledger ---------------------------------
    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads, one thread at a time."""
        with self._lock:
            yield self._db

    def writing(self) -> AbstractContextManager[None]:
        """Exclusive for writing, across threads and processes, without a transaction: for work
        no ingestor may write during (the InfluxDB archive's delete of a day's points)."""
        return self._writer

    @contextmanager
    def transaction(self, failure: str) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), exclusive across threads and processes:
        committed when the block ends, rolled back when it raises. A SQLite error becomes
        ``StoreError("<failure>: <error>")``; any other exception passes unchanged."""
        with self._writer:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"{failure}: {exc}") from exc
            except BaseException:
                self._rollback()
                raise

    def note_batch(self, notes: DeviceAndDayNotes, dead_letters: Sequence[DeadLetter]) -> None:
        """Inside ``transaction()``: a batch's dead letters, device state, dirty RT-days and
        latest contents."""
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
            for d in dead_letters
        ]
        if rows:
            self._db.executemany(_INSERT_DEAD_LETTER, rows)
        self._db.executemany(_UPSERT_DEVICE_STATE, notes.devices)
        self._db.executemany(MARK_DIRTY, notes.rt_days)
        if notes.contents:
            self._db.executemany(_UPSERT_LATEST_CONTENT, notes.contents)

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def sequence_gaps_in(self, tables: Iterable[str], max_gap: int) -> list[SequenceGap]:
        """Devices whose ``seq`` values in these tables (each keyed by device and seq) have holes:
        each step between neighbouring numbers up to ``max_gap`` counts its skipped numbers, each
        larger one a reset (a device jumping to 2^53-1 is a fault, not trillions of lost messages)."""
        with self._lock:
            return sorted(
                SequenceGap(*row)
                for table in tables
                for row in self._db.execute(
                    "SELECT device_id, SUM(CASE WHEN step <= :bound THEN step - 1 ELSE 0 END), "
                    "SUM(step > :bound) FROM (SELECT device_id, seq, prev, seq - prev AS step FROM "
                    "(SELECT device_id, seq, LAG(seq) OVER (PARTITION BY device_id ORDER BY seq) AS prev "
                    f"FROM {table})) "
                    f"WHERE step > 1 AND prev < {NO_COUNTER_BASE} "  # time-derived numbers are never a gap
                    f"AND NOT (seq < {NO_COUNTER_BASE} AND seq / {SESSION_SPAN} = prev / {SESSION_SPAN} + 1) "
                    "GROUP BY device_id",  # a LoRaWAN node's next session is a boundary, not a gap
                    {"bound": max_gap + 1},
                )
            )

    def dead_letter_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT reason, COUNT(*) FROM dead_letters GROUP BY reason").fetchall())

    # --- devices and dead letters --------------------------------------------------------------
    def last_sequences(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT device_id, last_seq FROM device_state WHERE last_seq >= 0").fetchall())

    def online_by_availability(self) -> set[str]:
        """Devices whose latest availability reading says online: up until their Last Will says
        otherwise, though they send nothing else (a Frigate NVR, an ESPHome node's status)."""
        with self._lock:
            rows = self._db.execute("SELECT device_id FROM latest_content WHERE kind = 'availability' AND online = 1")
            return {device_id for (device_id,) in rows}

    def latest_contents(self) -> dict[tuple[str, str], int]:
        """(device, reading kind) -> digest of its latest reading with a derived number."""
        with self._lock:
            rows = self._db.execute("SELECT device_id, kind, digest FROM latest_content").fetchall()
        return {(d, k): digest for d, k, digest in rows}

    def last_seen(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT device_id, last_ts_ms FROM device_state").fetchall())

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

    def clock_refusals(self, since_ms: int) -> list[tuple[str, int, int]]:
        """(device id, receive ms, device ms) of readings refused since ``since_ms`` because the
        device's clock ran ahead of the server: the evidence never sees them, the alerts must."""
        sql = (
            "SELECT topic, last_received_ms, payload_head FROM dead_letters "
            "WHERE reason = ? AND last_received_ms >= ? AND detail LIKE '%ahead of the server clock%' "
            "ORDER BY last_received_ms"
        )
        with self._lock:
            rows = self._db.execute(sql, (Reason.timestamp_out_of_window.value, since_ms)).fetchall()
        found = []
        for topic, received_ms, head in rows:
            match = _TS_IN_PAYLOAD.search(bytes(head).decode("utf-8", "replace"))
            try:
                device_id = Topic.parse(topic).device_id
                device_ms = to_epoch_ms(datetime.fromisoformat(match.group(1))) if match else None
            except (Rejected, ValueError):
                continue
            if device_ms is not None:
                found.append((device_id, int(received_ms), device_ms))
        return found

    # --- evidence ------------------------------------------------------------------------------
    def take_dirty(self, limit: int) -> list[DirtyMark]:
        with self._lock:
            rows = self._db.execute(
                "SELECT rt_code, day, generation FROM dirty_rt_days ORDER BY day, rt_code LIMIT ?", (limit,)
            ).fetchall()
        return [DirtyMark(rt, date.fromisoformat(day), gen) for rt, day, gen in rows]

    def pending_rt_days(self) -> int:
        """RT-days marked and not yet derived: the evidence loop's queue."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM dirty_rt_days").fetchone()[0])

    def mark_dirty(self, rt_days: Iterable[tuple[str, str]]) -> int:
        """Mark RT-days (``(rt_code, ISO day)``) for derivation; the number of marks pending after."""
        with self.transaction("SQLite dirty marks failed") as db:
            db.executemany(MARK_DIRTY, rt_days)
            return int(db.execute("SELECT COUNT(*) FROM dirty_rt_days").fetchone()[0])

    def save_evidence(
        self, evidence: Sequence[DayEvidence], done: Sequence[DirtyMark], now_ms: int = 0, cause: str | None = None
    ) -> None:
        """Store derived evidence and clear the marks it answers, unless a mark was renewed
        meanwhile (a reading that arrived during the derivation keeps its RT-day dirty).

        Each row keeps its revision: a finished day whose figures change gets the next revision,
        the time (``now_ms``) and why: late readings, a device switched on or off, or ``cause``
        (``rule_change`` for a rebuild), else new readings. Unchanged figures keep everything."""
        columns = ["rt_code", "day", *_EVIDENCE_COLUMNS]
        sql = (
            f"INSERT INTO rt_day_evidence ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT (rt_code, day) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _EVIDENCE_COLUMNS)
        )
        with self.transaction("SQLite evidence write failed") as db:
            rows = []
            for e in evidence:
                digest = _figures_digest(e)
                revised = self._revised(e, digest, now_ms, cause)
                if revised is not None:
                    rows.append(_evidence_row(revised, digest))
            db.executemany(sql, rows)
            if rows:
                db.execute("UPDATE evidence_version SET n = n + 1")
            db.executemany(
                "DELETE FROM dirty_rt_days WHERE rt_code = ? AND day = ? AND generation = ?",
                [(m.rt_code, m.day.isoformat(), m.generation) for m in done],
            )

    def _revised(self, e: DayEvidence, digest: str, now_ms: int, cause: str | None) -> DayEvidence | None:
        """``e`` with its revision bookkeeping, or None when the stored row already says the same."""
        old = self._db.execute(
            "SELECT figures_digest, revision, changed_at_ms, change_reason, in_progress, late_readings, sources_json "
            "FROM rt_day_evidence WHERE rt_code = ? AND day = ?",
            (e.rt_code, e.day.isoformat()),
        ).fetchone()
        if old is None or old[1] is None:
            return e.model_copy(update={"revision": 1, "changed_at_ms": now_ms, "change_reason": "first"})
        old_digest, revision, changed_at, reason, in_progress, late, sources = old
        if old_digest == digest:
            if bool(in_progress) == e.in_progress:
                return None
            return e.model_copy(update={"revision": revision, "changed_at_ms": changed_at, "change_reason": reason})
        if in_progress:  # a day still filling up is not revised, it is being written
            return e.model_copy(update={"revision": revision, "changed_at_ms": now_ms, "change_reason": reason})
        before = {s["device_id"] for s in json.loads(sources or "[]")}
        if e.late_readings > (late or 0):
            why = "late_readings"
        elif {s.device_id for s in e.sources} != before:
            why = "device_switched"
        else:
            why = cause or "new_readings"
        return e.model_copy(update={"revision": revision + 1, "changed_at_ms": now_ms, "change_reason": why})

    def evidence_version(self) -> int:
        """Grows whenever stored evidence changes (from any process): a key for caches."""
        with self._lock:
            return int(self._db.execute("SELECT n FROM evidence_version").fetchone()[0])

    def day_evidence(self, rt_codes: Sequence[str] | None, start: date, end: date) -> list[DayEvidence]:
        """Stored daily evidence for days in [start, end], by RT then day."""
        where, args = rt_filter(rt_codes)
        sql = (
            f"SELECT rt_code, day, {', '.join(_EVIDENCE_COLUMNS)} FROM rt_day_evidence "
            f"WHERE day BETWEEN ? AND ? {where} ORDER BY rt_code, day"
        )
        with self._lock:
            rows = self._db.execute(sql, (start.isoformat(), end.isoformat(), *args)).fetchall()
        return [_evidence_of(row) for row in rows]

    def period_totals(self, start: date, end: date, rt_codes: Sequence[str] | None = None) -> dict[str, PeriodTotals]:
        """Per RT, the sums of its daily evidence over [start, end] (received figures only: what
        was expected follows from the registry and the period, see the evidence service).
        Flagged readings are already out of every figure; households are counted once over the
        period from the counted deposits of each day."""
        where, args = rt_filter(rt_codes)
        bounds = (start.isoformat(), end.isoformat(), *args)
        kg_sum = " + ".join(f"SUM(kg_{m.value})" for m in Material)
        sql = f"""
            SELECT rt_code, SUM(bin_readings), SUM(bin_hours_observed), SUM(bin_overflow_hours),
                   SUM(bin_collections), SUM(cameras_reporting), SUM(cctv_online_heartbeats),
                   SUM(post_reports), SUM(COALESCE(night_staffed, 0)), SUM(patrols), SUM(incidents),
                   SUM(deposits), {kg_sum}, SUM(gotong_royong_events), SUM(gotong_royong_attendance),
                   SUM(COALESCE(bin_observed, 0)), SUM(COALESCE(cctv_heartbeats_flagged, 0)),
                   SUM(COALESCE(night_observed, 0)), SUM(COALESCE(incidents_daytime, 0)),
                   SUM(COALESCE(deposits_flagged, 0))
            FROM rt_day_evidence WHERE day BETWEEN ? AND ? {where} GROUP BY rt_code"""
        per_day = (
            "SELECT rt_code, day, bin_collections, bin_observed, household_ids_json, kinds_json FROM rt_day_evidence "
            f"WHERE day BETWEEN ? AND ? {where}"
        )
        with self._lock:
            sums = self._db.execute(sql, bounds).fetchall()
            collected: dict[str, list[date]] = {}
            observed: dict[str, set[date]] = {}
            households: dict[str, set[str]] = {}
            kind_days: dict[str, dict[str, list[Figures]]] = {}
            for rt, day, collections, seen, ids, kinds in self._db.execute(per_day, bounds):
                for kind, figures in json.loads(kinds or "{}").items():
                    kind_days.setdefault(rt, {}).setdefault(kind, []).append(figures)
                if collections:
                    collected.setdefault(rt, []).append(date.fromisoformat(day))
                if seen or collections:
                    observed.setdefault(rt, set()).add(date.fromisoformat(day))
                households.setdefault(rt, set()).update(json.loads(ids or "[]"))
        all_days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        totals = {}
        for row in sums:
            rt = row[0]
            unobserved = [d for d in all_days if d not in observed.get(rt, set())]
            totals[rt] = PeriodTotals(
                bin_readings=row[1] or 0,
                bin_hours_observed=row[2] or 0.0,
                bin_overflow_hours=row[3] or 0.0,
                bin_collections=row[4] or 0,
                longest_days_without_collection=longest_run_without(collected.get(rt, []), start, end, unobserved),
                bin_days_observed=row[15] or 0,
                camera_days_reporting=row[5] or 0,
                cctv_online_heartbeats=row[6] or 0,
                cctv_heartbeats_flagged=row[16] or 0,
                post_reports=row[7] or 0,
                staffed_nights=row[8] or 0,
                nights_observed=row[17] or 0,
                patrols=row[9] or 0,
                incidents=row[10] or 0,
                incidents_daytime=row[18] or 0,
                deposits=row[11] or 0,
                deposits_flagged=row[19] or 0,
                deposit_kg=row[12] or 0.0,
                distinct_households=len(households.get(rt, set())),
                gotong_royong_events=row[13] or 0,
                gotong_royong_attendance=row[14] or 0,
                kinds=_kind_totals(kind_days.get(rt, {})),
            )
        return totals

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._writer.close()


class LedgerPorts:
    """The ``ReadingStore`` methods a store answers from its ledger alone, each handed on to
    ``self.ledger`` explicitly: both stores answer them alike."""

    ledger: SqliteLedger

    def last_sequences(self) -> dict[str, int]:
        return self.ledger.last_sequences()

    def online_by_availability(self) -> set[str]:
        return self.ledger.online_by_availability()

    def latest_contents(self) -> dict[tuple[str, str], int]:
        return self.ledger.latest_contents()

    def last_seen(self) -> dict[str, int]:
        return self.ledger.last_seen()

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return self.ledger.dead_letters(limit)

    def clock_refusals(self, since_ms: int) -> list[tuple[str, int, int]]:
        return self.ledger.clock_refusals(since_ms)

    def take_dirty(self, limit: int) -> list[DirtyMark]:
        return self.ledger.take_dirty(limit)

    def pending_rt_days(self) -> int:
        return self.ledger.pending_rt_days()

    def save_evidence(
        self, evidence: Sequence[DayEvidence], done: Sequence[DirtyMark], now_ms: int = 0, cause: str | None = None
    ) -> None:
        self.ledger.save_evidence(evidence, done, now_ms, cause)

    def evidence_version(self) -> int:
        return self.ledger.evidence_version()

    def day_evidence(self, rt_codes: Sequence[str] | None, start: date, end: date) -> list[DayEvidence]:
        return self.ledger.day_evidence(rt_codes, start, end)

    def period_totals(self, start: date, end: date, rt_codes: Sequence[str] | None = None) -> dict[str, PeriodTotals]:
        return self.ledger.period_totals(start, end, rt_codes)


def _kind_totals(days: dict[str, list[Figures]]) -> dict[str, Figures]:
    """Each plug-in kind's period figures from its days' (``KindPlugin.totals``)."""
    found = {}
    for kind, figures in days.items():
        fold = plugins()[DeviceKind(kind)].totals
        if fold is not None:
            found[kind] = fold(figures)
    return found


_TS_IN_PAYLOAD = re.compile(r'"ts"\s*:\s*"([^"]{10,40})"')


def _figures_digest(e: DayEvidence) -> str:
    canonical = json.dumps(e.figures(), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _evidence_row(e: DayEvidence, digest: str) -> tuple[object, ...]:
    return (
        e.rt_code,
        e.day.isoformat(),
        *(getattr(e, name) for name in _EVIDENCE_FIELDS),
        *(e.deposit_kg.get(m.value, 0.0) for m in Material),
        json.dumps([f.model_dump(mode="json") for f in e.flags], separators=(",", ":")),
        json.dumps([s.model_dump(mode="json") for s in e.sources], separators=(",", ":")),
        json.dumps(e.household_ids, separators=(",", ":")),
        json.dumps(e.kinds, separators=(",", ":"), sort_keys=True),
        digest,
    )


def _evidence_of(row: Sequence[object]) -> DayEvidence:
    n = len(_EVIDENCE_FIELDS)
    values = {k: v for k, v in zip(_EVIDENCE_FIELDS, row[2 : 2 + n], strict=True) if v is not None}
    kgs = {m.value: kg for m, kg in zip(Material, row[2 + n : 2 + n + len(Material)], strict=True) if kg}
    flags, sources, ids = (json.loads(str(x or "[]")) for x in row[2 + n + len(Material) : 5 + n + len(Material)])
    kinds = json.loads(str(row[5 + n + len(Material)] or "{}"))
    return DayEvidence.model_validate(
        {
            **values,
            "rt_code": row[0],
            "day": row[1],
            "deposit_kg": kgs,
            "flags": flags,
            "sources": sources,
            "household_ids": ids,
            "kinds": kinds,
        }
    )


def rt_filter(rt_codes: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    if rt_codes is None:
        return "", ()
    return f"AND rt_code IN ({', '.join('?' for _ in rt_codes)})", tuple(rt_codes)


def conflict_letter(reading: Reading, stored_digest: int) -> DeadLetter:
    """The dead letter for a reading whose device and sequence were stored with other content;
    it keeps the bytes as they came (a reading built without them keeps its validated form)."""
    body = reading.raw or reading.payload.model_dump_json().encode()
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
