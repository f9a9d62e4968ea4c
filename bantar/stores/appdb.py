"""Application records beside the time series: API tokens (hashed) and the append-only audit
log. Always SQLite, whichever store holds the readings."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bantar.domain.access import Principal, Role, ScopeLevel
from bantar.domain.assessment import Assessment
from bantar.domain.errors import Reason, StoreError
from bantar.stores.field_records import FIELD_SCHEMA, FieldRecords

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, scope_level TEXT NOT NULL,
    scope_code TEXT, secret_sha256 TEXT NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, token_id TEXT, name TEXT, role TEXT,
    action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL, client TEXT);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS device_overrides (
    device_id TEXT PRIMARY KEY, active INTEGER NOT NULL, updated_ms INTEGER NOT NULL, updated_by TEXT);
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


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AppDb:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
            self._db.executescript(FIELD_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the application database {path}: {exc}") from exc
        self.field = FieldRecords(self._db, self._lock)

    # --- tokens ---------------------------------------------------------------------------------
    def create_token(self, name: str, role: Role, scope_level: ScopeLevel, scope_code: str | None) -> tuple[str, str]:
        """Return (token id, the token). The token is shown once; only its hash is kept."""
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
        with self._lock:
            self._db.execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (token_id, name, role.value, scope_level.value, scope_code, _sha256(secret), _now_ms()),
            )
        return token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}"

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
        now = _now_ms()
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
        now = _now_ms()
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

    def revoke_token(self, token_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL", (_now_ms(), token_id)
            )
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
        """Append one entry. Callers pass no token material and no household ids in ``detail``."""
        with self._lock:
            self._db.execute(
                "INSERT INTO audit_log (at_ms, token_id, name, role, action, target, detail, client) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now_ms(),
                    who.token_id if who else None,
                    who.name if who else None,
                    who.role.value if who else None,
                    action,
                    target,
                    json.dumps(detail, sort_keys=True),
                    client,
                ),
            )

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
    def set_device_active(self, device_id: str, active: bool, by: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO device_overrides VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
                "active = excluded.active, updated_ms = excluded.updated_ms, updated_by = excluded.updated_by",
                (device_id, int(active), _now_ms(), by),
            )

    def device_overrides(self) -> dict[str, bool]:
        """Devices an admin switched on or off since the registry file was written."""
        with self._lock:
            return {d: bool(a) for d, a in self._db.execute("SELECT device_id, active FROM device_overrides")}

    # --- assessments ----------------------------------------------------------------------------
    def save_assessment(self, assessment: Assessment) -> None:
        """Insert or replace an open assessment (the database refuses to change a signed one)."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO assessments VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
                    "record = excluded.record",
                    (assessment.id, assessment.status.value, assessment.model_dump_json()),
                )
            except sqlite3.DatabaseError as exc:
                raise StoreError(str(exc)) from exc

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


def _now_ms() -> int:
    return int(time.time() * 1000)
