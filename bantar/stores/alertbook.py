"""Alerts as persisted work items, and the outbox of their notifications (SQLite, the app DB).

An alert has a stable *cause* (kind + RT + device or criterion): while the cause lasts there is
one live alert for it (``open`` or ``acknowledged``); when it ends the alert is ``resolved`` and
kept; if the cause comes back, a new alert is opened. Every change of the alert set and the
outbox rows it calls for are written in one transaction, so no alert is ever without its
notifications and no notification without its alert.

Outbox rows are claimed with a lease (owner + expiry), sent, then marked sent; every attempt is
recorded. A row is unique per alert, recipient, channel and stage, so planning it again is a
no-op and it is delivered once (see docs/notifications.md for the crash window).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from bantar.domain.errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, cause TEXT NOT NULL, kind TEXT NOT NULL, rt_code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_ms INTEGER NOT NULL, acknowledged_by TEXT, acknowledged_ms INTEGER, note TEXT, resolved_ms INTEGER,
    stages_planned INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_live_per_cause ON alerts (cause) WHERE state != 'resolved';
CREATE INDEX IF NOT EXISTS alerts_by_rt ON alerts (rt_code, state);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id INTEGER REFERENCES alerts (id),
    recipient TEXT NOT NULL, channel TEXT NOT NULL, stage TEXT NOT NULL, digest TEXT,
    title TEXT NOT NULL, body TEXT NOT NULL, attachment BLOB, attachment_name TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'cancelled')), due_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_until_ms INTEGER, sent_ms INTEGER,
    last_error TEXT, created_ms INTEGER NOT NULL,
    UNIQUE (alert_id, recipient, channel, stage));
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, due_ms);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_report_once ON outbox (recipient, channel, stage) WHERE alert_id IS NULL;
CREATE TABLE IF NOT EXISTS delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    at_ms INTEGER NOT NULL, worker TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT);
"""
AlertState = Literal["open", "acknowledged", "resolved"]


class CurrentAlert(NamedTuple):
    """An alert the evidence shows now, with its stable cause."""

    cause: str
    kind: str
    rt_code: str
    detail: dict[str, Any]


class StoredAlert(BaseModel):
    id: int
    cause: str
    kind: str
    rt_code: str
    state: AlertState
    opened_ms: int
    acknowledged_by: str | None
    acknowledged_ms: int | None
    note: str | None
    resolved_ms: int | None
    stages_planned: int
    detail: dict[str, Any]


class Notification(NamedTuple):
    """An outbox row to write: one message of one stage of an alert, to one recipient's channel."""

    recipient: str
    channel: str
    stage: str
    title: str
    body: str
    due_ms: int
    digest: str | None = None
    attachment: bytes | None = None
    attachment_name: str | None = None


class OutboxRow(NamedTuple):
    id: int
    alert_id: int | None
    """None: a scheduled report"""
    recipient: str
    channel: str
    stage: str
    digest: str | None
    title: str
    body: str
    attempts: int
    attachment: bytes | None
    attachment_name: str | None


class OutboxStatus(BaseModel):
    id: int
    alert_id: int | None
    recipient: str
    channel: str
    stage: str
    state: str
    due_ms: int
    attempts: int
    sent_ms: int | None
    last_error: str | None


Planner = Callable[[StoredAlert], list[Notification]]
"""What to send for an alert: called inside the transaction that writes it."""

_ALERT_COLUMNS = (
    "id, cause, kind, rt_code, state, opened_ms, acknowledged_by, acknowledged_ms, note, resolved_ms, "
    "stages_planned, detail"
)
_OUTBOX_COLUMNS = "id, alert_id, recipient, channel, stage, digest, title, body, attempts, attachment, attachment_name"


def _outbox_values(alert_id: int | None, n: Notification, now_ms: int) -> tuple[Any, ...]:
    return (alert_id, n.recipient, n.channel, n.stage, n.digest, n.title, n.body, n.attachment, n.attachment_name,
            n.due_ms, now_ms)  # fmt: skip


def _alert(row: Sequence[Any]) -> StoredAlert:
    fields = dict(zip(StoredAlert.model_fields, row, strict=True))
    return StoredAlert(**{**fields, "detail": json.loads(fields["detail"])})


class AlertBook:
    """The alerts and outbox tables of the app DB: one connection for the writers, serialised, and
    one for the API's reads, which see the last committed state and never wait for a write (the
    evidence loop's sync holds the writer for a city's alerts: a dashboard's summary waited
    ~0.1 s behind it, ``bench/summary.py``)."""

    def __init__(self, path: Path, busy_timeout_ms: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._db.executescript(_SCHEMA)
            self._reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._reader.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the alert tables in {path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start a transaction: {exc}") from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _insert(self, db: sqlite3.Connection, alert_id: int | None, rows: Sequence[Notification], now_ms: int) -> None:
        db.executemany(
            "INSERT OR IGNORE INTO outbox (alert_id, recipient, channel, stage, digest, title, body, attachment, "
            "attachment_name, state, due_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            [_outbox_values(alert_id, n, now_ms) for n in rows],
        )

    # --- scheduled reports ------------------------------------------------------------------------
    def has_stage(self, stage: str) -> bool:
        """Was a report with this stage (``report:<schedule>:<month>``) already put in the outbox?"""
        with self._lock:
            return self._db.execute("SELECT 1 FROM outbox WHERE stage = ? LIMIT 1", (stage,)).fetchone() is not None

    def add_report(self, rows: Sequence[Notification], now_ms: int) -> None:
        """Messages carrying a report, not tied to an alert; once per recipient, channel and stage."""
        with self._transaction() as db:
            self._insert(db, None, rows, now_ms)

    # --- the alert set ----------------------------------------------------------------------------
    def sync(self, current: Sequence[CurrentAlert], now_ms: int, plan: Planner) -> tuple[int, int]:
        """Make the live alerts match ``current``: open new causes (with their notifications),
        resolve causes that ended (cancelling what was not sent yet). Returns (opened, resolved)."""
        wanted = {a.cause: a for a in current}
        opened = resolved = 0
        with self._transaction() as db:
            live = {row[1]: row for row in db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE state != 'resolved'")}
            for cause, row in live.items():
                if cause not in wanted:
                    db.execute("UPDATE alerts SET state = 'resolved', resolved_ms = ? WHERE id = ?", (now_ms, row[0]))
                    self._cancel(db, row[0])
                    resolved += 1
                elif json.loads(row[11]) != wanted[cause].detail:
                    db.execute(
                        "UPDATE alerts SET detail = ? WHERE id = ?",
                        (json.dumps(wanted[cause].detail, sort_keys=True), row[0]),
                    )
            for cause, alert in wanted.items():
                if cause in live:
                    continue
                cursor = db.execute(
                    "INSERT INTO alerts (cause, kind, rt_code, state, opened_ms, detail) "
                    "VALUES (?, ?, ?, 'open', ?, ?)",
                    (cause, alert.kind, alert.rt_code, now_ms, json.dumps(alert.detail, sort_keys=True)),
                )
                stored = _alert(
                    db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ?", (cursor.lastrowid,)).fetchone()
                )
                self._insert(db, stored.id, plan(stored), now_ms)
                opened += 1
        return opened, resolved

    def follow_up(self, now_ms: int, stages_due: Callable[[StoredAlert], int], plan: Planner) -> int:
        """Plan the reminders and escalations that open (unacknowledged) alerts have reached:
        ``stages_due`` says how many stages an alert has reached, ``plan`` writes the new ones."""
        planned = 0
        with self._transaction() as db:
            rows = db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE state = 'open'").fetchall()
            for row in rows:
                alert = _alert(row)
                due = stages_due(alert)
                if due <= alert.stages_planned:
                    continue
                self._insert(db, alert.id, plan(alert), now_ms)
                db.execute("UPDATE alerts SET stages_planned = ? WHERE id = ?", (due, alert.id))
                planned += due - alert.stages_planned
        return planned

    def _cancel(self, db: sqlite3.Connection, alert_id: int) -> None:
        db.execute(
            "UPDATE outbox SET state = 'cancelled', lease_owner = NULL, lease_until_ms = NULL "
            "WHERE alert_id = ? AND state = 'pending'",
            (alert_id,),
        )

    def acknowledge(self, alert_id: int, by: str, note: str | None, now_ms: int) -> StoredAlert | None:
        """Acknowledge an open alert (again: no change); stop its reminders and escalations.
        None when there is no such alert."""
        with self._transaction() as db:
            db.execute(
                "UPDATE alerts SET state = 'acknowledged', acknowledged_by = ?, acknowledged_ms = ?, note = ? "
                "WHERE id = ? AND state = 'open'",
                (by, now_ms, note, alert_id),
            )
            self._cancel(db, alert_id)
            row = db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else _alert(row)

    def alert(self, alert_id: int) -> StoredAlert | None:
        with self._read_lock:
            row = self._reader.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else _alert(row)

    def alerts(self, rt_codes: Sequence[str] | None, states: Sequence[AlertState]) -> list[StoredAlert]:
        marks = ",".join("?" * len(states))
        with self._read_lock:
            rows = self._reader.execute(
                f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE state IN ({marks}) ORDER BY id", tuple(states)
            ).fetchall()
        wanted = None if rt_codes is None else set(rt_codes)
        return [_alert(r) for r in rows if wanted is None or r[3] in wanted]

    def state_counts(self, rt_codes: Sequence[str] | None) -> dict[str, int]:
        with self._read_lock:
            rows = self._reader.execute(
                "SELECT rt_code, state, COUNT(*) FROM alerts GROUP BY rt_code, state"
            ).fetchall()
        wanted = None if rt_codes is None else set(rt_codes)
        counts = {"open": 0, "acknowledged": 0, "resolved": 0}
        for rt_code, state, n in rows:
            if wanted is None or rt_code in wanted:
                counts[state] += n
        return counts

    # --- the outbox -------------------------------------------------------------------------------
    def release(self, worker: str) -> int:
        """Give back every lease ``worker`` held: called by a sender at start, whose previous
        incarnation under the same name is known to be dead."""
        with self._transaction() as db:
            return db.execute(
                "UPDATE outbox SET lease_owner = NULL, lease_until_ms = NULL "
                "WHERE lease_owner = ? AND state = 'pending'",
                (worker,),
            ).rowcount

    def claim(self, worker: str, now_ms: int, lease_ms: int, limit: int) -> list[OutboxRow]:
        """Lease up to ``limit`` due rows (all rows of a digest come together)."""
        with self._transaction() as db:
            free = "state = 'pending' AND due_ms <= ? AND (lease_until_ms IS NULL OR lease_until_ms <= ?)"
            ids = [
                r[0]
                for r in db.execute(f"SELECT id FROM outbox WHERE {free} ORDER BY id LIMIT ?", (now_ms, now_ms, limit))
            ]
            marks = ",".join("?" * len(ids))
            digests = {
                r[0]
                for r in db.execute(
                    f"SELECT DISTINCT digest FROM outbox WHERE digest IS NOT NULL AND id IN ({marks})", ids
                )
            }
            for digest in digests:
                ids += [
                    r[0]
                    for r in db.execute(f"SELECT id FROM outbox WHERE {free} AND digest = ?", (now_ms, now_ms, digest))
                ]
            ids = sorted(set(ids))
            marks = ",".join("?" * len(ids))
            db.execute(
                f"UPDATE outbox SET lease_owner = ?, lease_until_ms = ? WHERE id IN ({marks})",
                (worker, now_ms + lease_ms, *ids),
            )
            rows = db.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id IN ({marks}) ORDER BY id", ids).fetchall()
        return [OutboxRow(*r) for r in rows]

    def mark_sent(self, ids: Sequence[int], worker: str, now_ms: int) -> None:
        with self._transaction() as db:
            for outbox_id in ids:
                db.execute(
                    "UPDATE outbox SET state = 'sent', sent_ms = ?, attempts = attempts + 1, lease_owner = NULL, "
                    "lease_until_ms = NULL, last_error = NULL WHERE id = ? AND state = 'pending'",
                    (now_ms, outbox_id),
                )
                db.execute(
                    "INSERT INTO delivery_attempts (outbox_id, at_ms, worker, ok) VALUES (?, ?, ?, 1)",
                    (outbox_id, now_ms, worker),
                )

    def mark_failed(self, ids: Sequence[int], worker: str, now_ms: int, error: str, retry_at_ms: int) -> None:
        with self._transaction() as db:
            for outbox_id in ids:
                db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, due_ms = ?, lease_owner = NULL, lease_until_ms = NULL, "
                    "last_error = ? WHERE id = ? AND state = 'pending'",
                    (retry_at_ms, error, outbox_id),
                )
                db.execute(
                    "INSERT INTO delivery_attempts (outbox_id, at_ms, worker, ok, error) VALUES (?, ?, ?, 0, ?)",
                    (outbox_id, now_ms, worker, error),
                )

    def outbox(self, alert_id: int | None = None) -> list[OutboxStatus]:
        with self._read_lock:
            rows = self._reader.execute(
                "SELECT id, alert_id, recipient, channel, stage, state, due_ms, attempts, sent_ms, last_error "
                "FROM outbox WHERE ? IS NULL OR alert_id = ? ORDER BY id",
                (alert_id, alert_id),
            ).fetchall()
        return [OutboxStatus(**dict(zip(OutboxStatus.model_fields, r, strict=True))) for r in rows]

    def pending(self) -> int:
        with self._read_lock:
            return int(self._reader.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0])

    def close(self) -> None:
        with self._lock, self._read_lock:
            self._db.close()
            self._reader.close()
