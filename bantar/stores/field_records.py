"""The field app's records in the application database: bank sampah members (names and phones
stay here, never in the readings), price lists, withdrawals, corrections, which scale weighing
each deposit used, and patrol checkpoints.

Created by ``AppDb`` on its connection; each write is one statement or one transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from bantar.domain.bank_sampah import Price, Withdrawal
from bantar.domain.readings import Material
from bantar.domain.timebase import from_epoch_ms, to_epoch_ms

FIELD_SCHEMA = """
CREATE TABLE IF NOT EXISTS sign_in_codes (
    id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
    scope_level TEXT NOT NULL, scope_code TEXT, created_ms INTEGER NOT NULL, created_by TEXT,
    expires_ms INTEGER NOT NULL, used_ms INTEGER, token_id TEXT);
CREATE TABLE IF NOT EXISTS bank_members (
    rt_code TEXT NOT NULL, household TEXT NOT NULL, name TEXT, phone TEXT, created_ms INTEGER NOT NULL,
    removed_ms INTEGER, PRIMARY KEY (rt_code, household));
CREATE TABLE IF NOT EXISTS bank_prices (
    rt_code TEXT NOT NULL, material TEXT NOT NULL, grade TEXT NOT NULL, valid_from TEXT NOT NULL,
    price_idr INTEGER NOT NULL, set_ms INTEGER NOT NULL, PRIMARY KEY (rt_code, material, grade, valid_from));
CREATE TABLE IF NOT EXISTS bank_withdrawals (
    rt_code TEXT NOT NULL, idempotency_key TEXT NOT NULL, household TEXT NOT NULL, amount_idr INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL, body_sha256 TEXT NOT NULL, PRIMARY KEY (rt_code, idempotency_key));
CREATE TABLE IF NOT EXISTS field_corrections (
    rt_code TEXT NOT NULL, new_key TEXT NOT NULL, old_key TEXT NOT NULL, household TEXT NOT NULL,
    old_ts_ms INTEGER NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY (rt_code, new_key));
CREATE TABLE IF NOT EXISTS patrol_checkpoints (
    rt_code TEXT NOT NULL, id TEXT NOT NULL, label TEXT NOT NULL, created_ms INTEGER NOT NULL,
    PRIMARY KEY (rt_code, id));
CREATE TABLE IF NOT EXISTS bank_weighing_uses (
    rt_code TEXT NOT NULL, device_id TEXT NOT NULL, seq INTEGER NOT NULL, deposit_key TEXT NOT NULL,
    at_ms INTEGER NOT NULL, PRIMARY KEY (device_id, seq));
"""


class Member(BaseModel):
    household: str
    name: str | None
    phone: str | None
    created_ms: int


class Checkpoint(BaseModel):
    id: str
    label: str


def body_digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class FieldRecords:
    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, now_ms: Callable[[], int]) -> None:
        self._db, self._lock, self._now_ms = db, lock, now_ms

    # --- members --------------------------------------------------------------------------------
    def save_member(self, rt_code: str, household: str, name: str, phone: str | None) -> bool:
        """Register or update a member; False when the household was removed (it stays removed)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO bank_members VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (rt_code, household) DO UPDATE "
                "SET name = excluded.name, phone = excluded.phone WHERE removed_ms IS NULL",
                (rt_code, household, name, phone, self._now_ms()),
            )
        return cursor.rowcount == 1

    def members(self, rt_code: str) -> list[Member]:
        with self._lock:
            rows = self._db.execute(
                "SELECT household, name, phone, created_ms FROM bank_members WHERE rt_code = ? AND removed_ms IS NULL "
                "ORDER BY name COLLATE NOCASE",
                (rt_code,),
            ).fetchall()
        return [Member(household=r[0], name=r[1], phone=r[2], created_ms=r[3]) for r in rows]

    def is_member(self, rt_code: str, household: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM bank_members WHERE rt_code = ? AND household = ? AND removed_ms IS NULL",
                (rt_code, household),
            ).fetchone()
        return row is not None

    def remove_member(self, rt_code: str, household: str) -> bool:
        """Remove a member: the name and phone are erased; the pseudonymous id stays in the readings."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE bank_members SET name = NULL, phone = NULL, removed_ms = ? "
                "WHERE rt_code = ? AND household = ? AND removed_ms IS NULL",
                (self._now_ms(), rt_code, household),
            )
        return cursor.rowcount == 1

    # --- prices ---------------------------------------------------------------------------------
    def set_price(self, rt_code: str, price: Price) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO bank_prices VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (rt_code, material, grade, valid_from) "
                "DO UPDATE SET price_idr = excluded.price_idr, set_ms = excluded.set_ms",
                (
                    rt_code,
                    price.material.value,
                    price.grade,
                    price.valid_from.isoformat(),
                    price.price_idr_per_kg,
                    self._now_ms(),
                ),
            )

    def prices(self, rt_code: str) -> list[Price]:
        with self._lock:
            rows = self._db.execute(
                "SELECT material, grade, price_idr, valid_from FROM bank_prices WHERE rt_code = ?", (rt_code,)
            ).fetchall()
        return [
            Price(material=Material(r[0]), grade=r[1], price_idr_per_kg=r[2], valid_from=date.fromisoformat(r[3]))
            for r in rows
        ]

    # --- withdrawals ----------------------------------------------------------------------------
    def add_withdrawal(self, rt_code: str, withdrawal: Withdrawal, balance_before: int) -> str:
        """Store a withdrawal once: "stored", "duplicate" (the same key and body again), "conflict"
        (the key with another body) or "insufficient" (more than ``balance_before``)."""
        digest = body_digest(withdrawal.model_dump(mode="json", exclude={"key"}))
        with self._lock:
            row = self._db.execute(
                "SELECT body_sha256 FROM bank_withdrawals WHERE rt_code = ? AND idempotency_key = ?",
                (rt_code, withdrawal.key),
            ).fetchone()
            if row is not None:
                return "duplicate" if row[0] == digest else "conflict"
            if withdrawal.amount_idr > balance_before:
                return "insufficient"
            self._db.execute(
                "INSERT INTO bank_withdrawals VALUES (?, ?, ?, ?, ?, ?)",
                (
                    rt_code,
                    withdrawal.key,
                    withdrawal.household,
                    withdrawal.amount_idr,
                    to_epoch_ms(withdrawal.ts),
                    digest,
                ),
            )
        return "stored"

    def withdrawals(self, rt_code: str, household: str | None = None) -> list[Withdrawal]:
        with self._lock:
            rows = self._db.execute(
                "SELECT idempotency_key, household, amount_idr, ts_ms FROM bank_withdrawals "
                "WHERE rt_code = ? AND (? IS NULL OR household = ?) ORDER BY ts_ms",
                (rt_code, household, household),
            ).fetchall()
        return [Withdrawal(key=r[0], household=r[1], amount_idr=r[2], ts=from_epoch_ms(r[3])) for r in rows]

    # --- corrections ----------------------------------------------------------------------------
    def add_correction(self, rt_code: str, new_key: str, old_key: str, household: str, old_ts: datetime) -> bool:
        """Record that ``new_key`` corrects the deposit ``old_key``; False when already recorded."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO field_corrections VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (rt_code, new_key, old_key, household, to_epoch_ms(old_ts), self._now_ms()),
            )
        return cursor.rowcount == 1

    def superseded(self, rt_code: str) -> set[tuple[str, int]]:
        """(household, device time in ms) of every deposit a correction replaced."""
        with self._lock:
            rows = self._db.execute(
                "SELECT household, old_ts_ms FROM field_corrections WHERE rt_code = ?", (rt_code,)
            ).fetchall()
        return {(r[0], r[1]) for r in rows}

    # --- weighings taken as deposits' weights ----------------------------------------------------
    def take_weighing(self, rt_code: str, device_id: str, seq: int, deposit_key: str) -> str:
        """Record that the deposit ``deposit_key`` used the weighing (device, seq), unless another
        deposit already did; the key of the deposit that holds it afterwards (this one: taken)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO bank_weighing_uses VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO NOTHING",
                (rt_code, device_id, seq, deposit_key, self._now_ms()),
            )
            row = self._db.execute(
                "SELECT deposit_key FROM bank_weighing_uses WHERE device_id = ? AND seq = ?", (device_id, seq)
            ).fetchone()
        return str(row[0])

    def used_weighings(self, rt_code: str) -> dict[tuple[str, int], str]:
        """(device, seq) of each weighing a deposit of the RT used -> that deposit's key."""
        with self._lock:
            rows = self._db.execute(
                "SELECT device_id, seq, deposit_key FROM bank_weighing_uses WHERE rt_code = ?", (rt_code,)
            ).fetchall()
        return {(r[0], r[1]): r[2] for r in rows}

    # --- checkpoints ----------------------------------------------------------------------------
    def add_checkpoint(self, rt_code: str, checkpoint: Checkpoint) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO patrol_checkpoints VALUES (?, ?, ?, ?) ON CONFLICT (rt_code, id) DO UPDATE "
                "SET label = excluded.label",
                (rt_code, checkpoint.id, checkpoint.label, self._now_ms()),
            )

    def checkpoints(self, rt_code: str) -> list[Checkpoint]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, label FROM patrol_checkpoints WHERE rt_code = ? ORDER BY created_ms, id", (rt_code,)
            ).fetchall()
        return [Checkpoint(id=r[0], label=r[1]) for r in rows]

    def checkpoint_elsewhere(self, rt_code: str, checkpoint_id: str) -> bool:
        """Whether another RT registered a checkpoint with this id."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM patrol_checkpoints WHERE id = ? AND rt_code != ? LIMIT 1", (checkpoint_id, rt_code)
            ).fetchone()
        return row is not None
