"""Application records beside the time series: API tokens (hashed) and the append-only audit
log. Always SQLite, whichever store holds the readings."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bantar.domain.access import Principal, Role, ScopeLevel
from bantar.domain.assessment import Assessment
from bantar.domain.errors import Reason, StoreError
from bantar.domain.timebase import to_epoch_ms, utc_now
from bantar.stores.field_records import FIELD_SCHEMA, FieldRecords
from bantar.stores.files import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, scope_level TEXT NOT NULL,
    scope_code TEXT, secret_sha256 TEXT NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, token_id TEXT, name TEXT, role TEXT,
    action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL, client TEXT, prev_hash TEXT, hash TEXT);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS device_overrides (
    device_id TEXT PRIMARY KEY, active INTEGER NOT NULL, updated_ms INTEGER NOT NULL, updated_by TEXT);
CREATE TABLE IF NOT EXISTS post_keys (
    device_id TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL, body_sha256 TEXT NOT NULL,
    PRIMARY KEY (device_id, key), UNIQUE (device_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS assessments (id TEXT PRIMARY KEY, status TEXT NOT NULL, record TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS assessments_frozen BEFORE UPDATE ON assessments WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'a signed assessment cannot change'); END;
CREATE TRIGGER IF NOT EXISTS assessments_kept BEFORE DELETE ON assessments
    BEGIN SELECT RAISE(ABORT, 'assessments are never deleted'); END;
"""
TOKEN_PREFIX = "bnt"  # noqa: S105 (a label in front of tokens, not a secret)
SIGN_IN_TTL_S = 7 * 86400
"""a sign-in code not used within a week expires"""


class TokenInfo(BaseModel):
    id: str
    name: str
    role: Role
    scope_level: ScopeLevel
    scope_code: str | None
    created_ms: int
    revoked_ms: int | None


class SignInCodeInfo(BaseModel):
    id: str
    name: str
    role: Role
    scope_level: ScopeLevel
    scope_code: str | None
    created_ms: int
    created_by: str | None
    expires_ms: int
    used_ms: int | None
    token_id: str | None
    """the phone's token once the code was used: revoke it to lock the phone out"""


class AuditEntry(BaseModel):
    id: int
    at_ms: int
    token_id: str | None
    name: str | None
    role: str | None
    action: str
    target: str
    detail: dict[str, Any]
    client: str | None


@dataclass(frozen=True)
class AuditNote:
    """What an action records in the audit log, written in the same transaction as the action.
    ``detail`` holds no token material and no household ids."""

    who: Principal | None
    action: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)
    client: str | None = None


class PostKey(BaseModel):
    """An Idempotency-Key as first seen: the sequence number and time it was given, and a digest
    of the body it came with."""

    seq: int
    ts: str
    body_sha256: str


class ChainBreak(BaseModel):
    id: int
    why: str


GENESIS = "0" * 64
_AUDIT_COLUMNS = "id, at_ms, token_id, name, role, action, target, detail, client"


def audit_hash(prev_hash: str, row: tuple[Any, ...]) -> str:
    """The link of one audit row: SHA-256 over the previous link and the row's fields."""
    return hashlib.sha256((prev_hash + json.dumps(list(row), separators=(",", ":"))).encode()).hexdigest()


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AppDb:
    def __init__(self, path: Path, now: Callable[[], datetime] = utc_now) -> None:
        """``now``: the clock of every time it records (tokens, sign-in codes and their expiry,
        the audit log, device switches, field records)."""
        self._now = now
        self._lock = threading.Lock()
        try:
            private_file(path)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(audit_log)")}
            for missing in ("prev_hash", "hash"):
                if missing not in columns:  # a log written before the chain: its old rows stay unlinked
                    self._db.execute(f"ALTER TABLE audit_log ADD COLUMN {missing} TEXT")
            self._db.executescript(FIELD_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the application database {path}: {exc}") from exc
        self.field = FieldRecords(self._db, self._lock, self._now_ms)

    def _now_ms(self) -> int:
        return to_epoch_ms(self._now())

    # --- tokens ---------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock: committed when the block ends, else rolled back."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def create_token(
        self, name: str, role: Role, scope_level: ScopeLevel, scope_code: str | None, note: AuditNote | None = None
    ) -> tuple[str, str]:
        """Return (token id, the token). The token is shown once; only its hash is kept."""
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (token_id, name, role.value, scope_level.value, scope_code, _sha256(secret), self._now_ms()),
            )
            if note is not None:
                self._append(AuditNote(note.who, note.action, token_id, note.detail, note.client))
        return token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}"

    def token(self, token_id: str) -> TokenInfo | None:
        return next((t for t in self.tokens() if t.id == token_id and t.revoked_ms is None), None)

    def authenticate(self, token: str) -> Principal | None:
        prefix, _, rest = token.partition("_")
        token_id, _, secret = rest.partition("_")
        if prefix != TOKEN_PREFIX or not token_id or not secret:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT name, role, scope_level, scope_code, secret_sha256, revoked_ms FROM api_tokens WHERE id = ?",
                (token_id,),
            ).fetchone()
        if row is None or row[5] is not None or not hmac.compare_digest(row[4], _sha256(secret)):
            return None
        return Principal(
            token_id=token_id, name=row[0], role=Role(row[1]), scope_level=ScopeLevel(row[2]), scope_code=row[3]
        )

    def token_revoked(self, token: str) -> bool:
        """Is this a real token that has been revoked (not merely unknown)?"""
        _, _, rest = token.partition("_")
        token_id, _, secret = rest.partition("_")
        with self._lock:
            row = self._db.execute(
                "SELECT secret_sha256, revoked_ms FROM api_tokens WHERE id = ?", (token_id,)
            ).fetchone()
        return row is not None and row[1] is not None and hmac.compare_digest(row[0], _sha256(secret))

    # --- one-time sign-in codes -----------------------------------------------------------------
    def create_sign_in_code(
        self, name: str, role: Role, scope_level: ScopeLevel, scope_code: str | None, created_by: str | None
    ) -> tuple[str, str]:
        """Return (code id, the code). A phone exchanges the code for a token once."""
        code_id, secret = secrets.token_hex(4), secrets.token_urlsafe(18)
        now = self._now_ms()
        with self._lock:
            self._db.execute(
                "INSERT INTO sign_in_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (
                    code_id,
                    _sha256(secret),
                    name,
                    role.value,
                    scope_level.value,
                    scope_code,
                    now,
                    created_by,
                    now + SIGN_IN_TTL_S * 1000,
                ),
            )
        return code_id, f"{code_id}.{secret}"

    def redeem_sign_in_code(self, code: str) -> tuple[str, str] | Reason:
        """Exchange a code for a new token (token id, token) in one transaction, or say why not."""
        code_id, _, secret = code.partition(".")
        now = self._now_ms()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT secret_sha256, name, role, scope_level, scope_code, expires_ms, used_ms "
                    "FROM sign_in_codes WHERE id = ?",
                    (code_id,),
                ).fetchone()
                if row is None or not hmac.compare_digest(row[0], _sha256(secret)):
                    return Reason.sign_in_code_unknown
                if row[6] is not None:
                    return Reason.sign_in_code_used
                if row[5] <= now:
                    return Reason.sign_in_code_expired
                token_id, token_secret = secrets.token_hex(4), secrets.token_urlsafe(24)
                self._db.execute(
                    "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                    (token_id, row[1], row[2], row[3], row[4], _sha256(token_secret), now),
                )
                self._db.execute(
                    "UPDATE sign_in_codes SET used_ms = ?, token_id = ? WHERE id = ?", (now, token_id, code_id)
                )
                self._db.execute("COMMIT")
            finally:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
        return token_id, f"{TOKEN_PREFIX}_{token_id}_{token_secret}"

    def sign_in_codes(self) -> list[SignInCodeInfo]:
        columns = ", ".join(SignInCodeInfo.model_fields)
        with self._lock:
            rows = self._db.execute(f"SELECT {columns} FROM sign_in_codes ORDER BY created_ms").fetchall()
        return [SignInCodeInfo.model_validate(dict(zip(SignInCodeInfo.model_fields, r, strict=True))) for r in rows]

    def revoke_token(self, token_id: str, note: AuditNote | None = None) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL", (self._now_ms(), token_id)
            )
            if cursor.rowcount == 1 and note is not None:
                self._append(note)
        return cursor.rowcount == 1

    def tokens(self) -> list[TokenInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, role, scope_level, scope_code, created_ms, revoked_ms FROM api_tokens "
                "ORDER BY created_ms"
            ).fetchall()
        return [
            TokenInfo(
                id=r[0],
                name=r[1],
                role=Role(r[2]),
                scope_level=ScopeLevel(r[3]),
                scope_code=r[4],
                created_ms=r[5],
                revoked_ms=r[6],
            )
            for r in rows
        ]

    # --- audit ----------------------------------------------------------------------------------
    def audit(
        self, who: Principal | None, action: str, target: str, detail: dict[str, Any], client: str | None
    ) -> None:
        """Append one entry on its own (reads and refusals; a write records its entry with it)."""
        with self._transaction():
            self._append(AuditNote(who, action, target, detail, client))

    def _append(self, note: AuditNote) -> None:
        """Append one entry, linked to the previous one; inside the caller's transaction."""
        last = self._db.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        prev = (last[0] if last else None) or GENESIS
        who = note.who
        fields = (
            self._now_ms(),
            who.token_id if who else None,
            who.name if who else None,
            who.role.value if who else None,
            note.action,
            note.target,
            json.dumps(note.detail, sort_keys=True),
            note.client,
        )
        known = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        row_id = (known[0] if known else 0) + 1  # inside BEGIN IMMEDIATE: nobody else inserts meanwhile
        self._db.execute(
            "INSERT INTO audit_log (id, at_ms, token_id, name, role, action, target, detail, client, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row_id, *fields, prev, audit_hash(prev, (row_id, *fields))),
        )

    def verify_audit(self) -> ChainBreak | None:
        """Walk the chain from the first entry; the first entry whose link does not hold, or None."""
        prev = GENESIS
        with self._lock:
            rows = self._db.execute(f"SELECT {_AUDIT_COLUMNS}, prev_hash, hash FROM audit_log ORDER BY id").fetchall()
        for row in rows:
            *fields, prev_hash, stored = row
            if stored is None and prev == GENESIS:
                continue  # written before the chain existed
            if prev_hash != prev:
                return ChainBreak(id=row[0], why="its previous-hash does not match the entry before it")
            if audit_hash(prev, tuple(fields)) != stored:
                return ChainBreak(id=row[0], why="its content does not match its hash")
            prev = stored
        return None

    def audit_entries(self, limit: int = 200, before_id: int | None = None) -> list[AuditEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, at_ms, token_id, name, role, action, target, detail, client FROM audit_log "
                "WHERE id < ? ORDER BY id DESC LIMIT ?",
                (before_id or 2**62, limit),
            ).fetchall()
        return [
            AuditEntry(
                id=r[0],
                at_ms=r[1],
                token_id=r[2],
                name=r[3],
                role=r[4],
                action=r[5],
                target=r[6],
                detail=json.loads(r[7]),
                client=r[8],
            )
            for r in rows
        ]

    # --- devices --------------------------------------------------------------------------------
    def set_device_active(self, device_id: str, active: bool, by: str, note: AuditNote | None = None) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO device_overrides VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
                "active = excluded.active, updated_ms = excluded.updated_ms, updated_by = excluded.updated_by",
                (device_id, int(active), self._now_ms(), by),
            )
            if note is not None:
                self._append(note)

    def device_overrides(self) -> dict[str, bool]:
        """Devices an admin switched on or off since the registry file was written."""
        with self._lock:
            return {d: bool(a) for d, a in self._db.execute("SELECT device_id, active FROM device_overrides")}

    # --- assessments ----------------------------------------------------------------------------
    def save_assessment(self, assessment: Assessment, note: AuditNote | None = None) -> None:
        """Insert or replace an open assessment (the database refuses to change a signed one)."""
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO assessments VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
                    "record = excluded.record",
                    (assessment.id, assessment.status.value, assessment.model_dump_json()),
                )
                if note is not None:
                    self._append(note)
        except sqlite3.DatabaseError as exc:
            raise StoreError(str(exc)) from exc

    # --- idempotency keys of posts ---------------------------------------------------------------
    def post_key(self, device_id: str, key: str) -> PostKey | None:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, ts, body_sha256 FROM post_keys WHERE device_id = ? AND key = ?", (device_id, key)
            ).fetchone()
        return None if row is None else PostKey(seq=row[0], ts=row[1], body_sha256=row[2])

    def claim_post_key(self, device_id: str, key: str, ts: str, body_sha256: str, note: AuditNote) -> PostKey:
        """The key's first sighting gets the device's next sequence number, kept with the key (so a
        retry reuses it), audited in the same transaction. A key claimed meanwhile by a
        concurrent request is returned as it was claimed."""
        with self._transaction() as db:
            known = db.execute(
                "SELECT seq, ts, body_sha256 FROM post_keys WHERE device_id = ? AND key = ?", (device_id, key)
            ).fetchone()
            if known is not None:
                return PostKey(seq=known[0], ts=known[1], body_sha256=known[2])
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM post_keys WHERE device_id = ?", (device_id,))
            claimed = PostKey(seq=seq.fetchone()[0], ts=ts, body_sha256=body_sha256)
            db.execute("INSERT INTO post_keys VALUES (?, ?, ?, ?, ?)", (device_id, key, claimed.seq, ts, body_sha256))
            self._append(note)
        return claimed

    def assessment(self, assessment_id: str) -> Assessment | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM assessments WHERE id = ?", (assessment_id,)).fetchone()
        return None if row is None else Assessment.model_validate_json(row[0])

    def assessments(self) -> list[Assessment]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM assessments ORDER BY rowid").fetchall()
        return [Assessment.model_validate_json(r[0]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
