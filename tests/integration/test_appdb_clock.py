"""The application database records time by the clock it is given (the composition root's), so
a sign-in code's week of validity is tested without waiting a week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bantar.domain.access import Role, ScopeLevel
from bantar.domain.errors import Reason
from bantar.domain.timebase import to_epoch_ms
from bantar.stores.appdb import SIGN_IN_TTL_S, AppDb

ISSUED = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)


def test_sign_in_codes_expire_and_tokens_are_dated_by_the_injected_clock(tmp_path: Path) -> None:
    clock = [ISSUED]
    db = AppDb(tmp_path / "app.db", now=lambda: clock[0])
    try:
        early = db.create_sign_in_code("Bu Sari", Role.operator, ScopeLevel.rt, "1571010001-001", "admin")[1]
        late = db.create_sign_in_code("Pak Joko", Role.operator, ScopeLevel.rt, "1571010001-001", "admin")[1]
        ttl = timedelta(seconds=SIGN_IN_TTL_S)
        assert {c.expires_ms for c in db.sign_in_codes()} == {to_epoch_ms(ISSUED + ttl)}
        clock[0] = ISSUED + ttl - timedelta(milliseconds=1)
        redeemed = db.redeem_sign_in_code(early)
        assert not isinstance(redeemed, Reason)
        (token,) = db.tokens()
        assert token.created_ms == to_epoch_ms(clock[0])
        clock[0] = ISSUED + ttl
        assert db.redeem_sign_in_code(late) is Reason.sign_in_code_expired
    finally:
        db.close()
