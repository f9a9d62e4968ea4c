"""Identity and scope: every role x scope boundary, allowed and refused, over real HTTP; posts
through the one intake path; idempotency; the audit log."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.registry import Registry
from bantar.domain.timebase import WIB
from bantar.services import Services
from bantar.settings import ApiSettings, Settings, SqliteSettings
from bantar.stores.field_records import Checkpoint
from ingest.broker import free_port
from shell.compose import build_services

DEPOSIT = {
    "deposit_id": "BS-1",
    "household": "hh-0001",
    "items": {"plastic": 2.5},
    "price_idr_per_kg": {"plastic": 3000},
}


class Town:
    def __init__(self, services: Services, url: str, registry: Registry) -> None:
        self.services, self.url = services, url
        rts = registry.kecamatan[0].kelurahan[0].rts
        self.a, self.b = rts[0].code, rts[1].code
        self.kelurahan = registry.kecamatan[0].kelurahan[0].code
        db = services.app_db
        self.tokens = {
            "op_a": db.create_token("Operator A", Role.operator, ScopeLevel.rt, self.a)[1],
            "op_b": db.create_token("Operator B", Role.operator, ScopeLevel.rt, self.b)[1],
            "post_a": db.create_token("Poskamling A", Role.security_post, ScopeLevel.rt, self.a)[1],
            "head_a": db.create_token("Ketua RT A", Role.rt_head, ScopeLevel.rt, self.a)[1],
            "assessor_kel": db.create_token("DLH", Role.assessor, ScopeLevel.kelurahan, self.kelurahan)[1],
            "assessor_away": db.create_token("DLH lain", Role.assessor, ScopeLevel.kecamatan, "1571990")[1],
            "admin": db.create_token("Admin", Role.admin, ScopeLevel.city, None)[1],
        }

    def call(self, who: str | None, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        if who:
            headers["Authorization"] = f"Bearer {self.tokens.get(who, who)}"
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def post(self, who: str, rt: str, what: str, body: dict[str, object], key: str) -> httpx.Response:
        return self.call(who, "POST", f"/api/v1/rts/{rt}/{what}", json=body, headers={"Idempotency-Key": key})


@contextmanager
def opened_town(tmp: Path, registry: Registry, api: ApiSettings | None = None) -> Iterator[Town]:
    from bantar.registry_file import dump_registry

    dump_registry(registry, tmp / "registry.yaml")
    settings = Settings(
        registry=tmp / "registry.yaml",
        sqlite=SqliteSettings(path=tmp / "r.db"),
        app_db=tmp / "a.db",
        api=api or ApiSettings(),
    )
    services = build_services(settings)
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    try:
        yield Town(services, server.url, registry)
    finally:
        server.stop()
        services.close()


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, small_registry: Registry) -> Iterator[Town]:
    with opened_town(tmp_path_factory.mktemp("access"), small_registry) as opened:
        yield opened


@pytest.mark.parametrize(
    ("who", "what", "body", "status", "reason"),
    [
        ("op_a", "bank-sampah/deposits", DEPOSIT, 201, None),
        ("op_b", "bank-sampah/deposits", DEPOSIT, 403, "out_of_scope"),
        ("post_a", "bank-sampah/deposits", DEPOSIT, 403, "forbidden_role"),
        ("head_a", "bank-sampah/deposits", DEPOSIT, 403, "forbidden_role"),
        ("assessor_kel", "bank-sampah/deposits", DEPOSIT, 403, "forbidden_role"),
        ("post_a", "poskamling/reports", {"event": "duty", "on_duty": True, "guards": 3}, 201, None),
        ("op_a", "poskamling/reports", {"event": "duty", "on_duty": True, "guards": 3}, 403, "forbidden_role"),
        ("head_a", "gotong-royong", {"activity": "kerja bakti parit", "attendance": 40}, 201, None),
        ("post_a", "gotong-royong", {"activity": "kerja bakti parit", "attendance": 40}, 403, "forbidden_role"),
        ("admin", "gotong-royong", {"activity": "kerja bakti", "attendance": 12}, 403, "forbidden_role"),
        (None, "bank-sampah/deposits", DEPOSIT, 401, "missing_token"),
        ("bnt_nope_nope", "bank-sampah/deposits", DEPOSIT, 401, "invalid_token"),
    ],
)
def test_who_may_post_where(
    town: Town, who: str | None, what: str, body: dict[str, object], status: int, reason: str | None
) -> None:
    response = town.post(who, town.a, what, body, key=f"k-{who}-{what.replace('/', '.')}")  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    if reason:
        assert response.json()["reason"] == reason


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("op_a", "/bank-sampah/deposits", 200),
        ("head_a", "/bank-sampah/deposits", 200),
        ("assessor_kel", "/bank-sampah/deposits", 200),
        ("op_b", "/bank-sampah/deposits", 403),
        ("post_a", "/bank-sampah/deposits", 403),
        ("assessor_away", "/bank-sampah/deposits", 403),
        ("post_a", "/evidence", 200),
        ("op_b", "/evidence", 403),
        ("assessor_away", "/scores", 403),
        ("assessor_kel", "/scores", 200),
        ("op_a", "", 200),
        ("op_b", "", 403),
    ],
)
def test_who_may_read_what(town: Town, who: str, path: str, status: int) -> None:
    assert town.call(who, "GET", f"/api/v1/rts/{town.a}{path}").status_code == status


def test_households_are_only_shown_inside_the_rts_scope(town: Town) -> None:
    town.post("op_a", town.a, "bank-sampah/deposits", {**DEPOSIT, "household": "hh-secret1"}, key="private-1")
    today = {"start": datetime.now(WIB).date().isoformat(), "end": datetime.now(WIB).date().isoformat()}
    mine = town.call("op_a", "GET", f"/api/v1/rts/{town.a}/bank-sampah/deposits", params=today)
    assert "hh-secret1" in mine.text
    for outsider in ("op_b", "post_a", "assessor_away"):
        refused = town.call(outsider, "GET", f"/api/v1/rts/{town.a}/bank-sampah/deposits")
        assert refused.status_code == 403
        assert "hh-secret1" not in refused.text
    assert "hh-secret1" not in town.call("assessor_kel", "GET", f"/api/v1/rts/{town.a}/evidence").text


def test_area_views_need_the_whole_area_in_scope(town: Town) -> None:
    assert (
        town.call("op_a", "GET", "/api/v1/summary", params={"level": "kelurahan", "code": town.kelurahan}).status_code
        == 403
    )
    assert (
        town.call(
            "assessor_kel", "GET", "/api/v1/summary", params={"level": "kelurahan", "code": town.kelurahan}
        ).status_code
        == 200
    )
    alerts = town.call("op_a", "GET", "/api/v1/alerts").json()
    assert {a["rt_code"] for a in alerts["data"]} <= {town.a}


def test_a_revoked_token_stops_working_at_once(town: Town) -> None:
    token_id, token = town.services.app_db.create_token("Sementara", Role.operator, ScopeLevel.rt, town.a)
    assert town.call(token, "GET", f"/api/v1/rts/{town.a}").status_code == 200
    assert town.call("admin", "DELETE", f"/api/v1/tokens/{token_id}").status_code == 204
    assert town.call(token, "GET", f"/api/v1/rts/{town.a}").json()["reason"] == "invalid_token"
    assert town.call("op_a", "DELETE", f"/api/v1/tokens/{token_id}").status_code == 403


def test_posting_is_idempotent_on_the_clients_key(town: Town) -> None:
    body = {**DEPOSIT, "deposit_id": "BS-77"}
    first = town.post("op_a", town.a, "bank-sampah/deposits", body, key="retry-77")
    again = town.post("op_a", town.a, "bank-sampah/deposits", body, key="retry-77")  # a retry after a timeout
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["status"] == "duplicate"
    changed = {**body, "items": {"paper": 9}, "price_idr_per_kg": {}}
    other = town.post("op_a", town.a, "bank-sampah/deposits", changed, key="retry-77")
    assert other.status_code == 409
    assert other.json()["reason"] == "idempotency_conflict"
    missing = town.call("op_a", "POST", f"/api/v1/rts/{town.a}/bank-sampah/deposits", json=body)
    assert missing.status_code == 428


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        ({**DEPOSIT, "rt": "1571010001-002"}, "unexpected_field", "rt"),
        ({**DEPOSIT, "seq": 5}, "unexpected_field", "seq"),
        ({**DEPOSIT, "is_admin": True}, "unexpected_field", "is_admin"),
        ({**DEPOSIT, "items": {"plastic": -1}}, "out_of_range", "items.plastic"),
        ({**DEPOSIT, "household": "Ibu Siti"}, "invalid_field", "household"),
        ({**DEPOSIT, "ts": "2099-01-01T00:00:00+07:00"}, "timestamp_out_of_window", "ahead"),
    ],
)
def test_bad_posts_are_refused_precisely_and_change_nothing(
    town: Town, body: dict[str, object], reason: str, words: str
) -> None:
    before = town.services.store.counts().readings
    response = town.post("op_a", town.a, "bank-sampah/deposits", body, key=f"bad-{reason}-{words}")
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == reason
    assert words in response.json()["detail"]
    assert town.services.store.counts().readings == before


def test_non_finite_numbers_and_broken_json_are_refused(town: Town) -> None:
    path = f"/api/v1/rts/{town.a}/bank-sampah/deposits"
    for content, reason in (
        (b'{"deposit_id": "N", "household": "hh-0001", "items": {"plastic": NaN}}', "not_finite"),
        (b'{"deposit_id": "N", "household": "hh-0001", "items": {"plastic": Infinity}}', "not_finite"),
        (b'{"deposit_id": "N", ', "malformed_json"),
        (b"[1, 2]", "invalid_field"),
    ):
        response = town.call("op_a", "POST", path, content=content, headers={"Idempotency-Key": "nan-1"})
        assert response.status_code == 422
        assert response.json()["reason"] == reason


def test_huge_bodies_are_refused_before_they_are_read(town: Town) -> None:
    response = town.call(
        "op_a",
        "POST",
        f"/api/v1/rts/{town.a}/bank-sampah/deposits",
        content=b"{" + b" " * 200_000 + b"}",
        headers={"Idempotency-Key": "huge"},
    )
    assert response.status_code == 413
    assert response.json()["reason"] == "payload_too_large"


def test_posted_deposits_show_up_in_that_days_evidence(town: Town) -> None:
    rt = town.b
    now = datetime.now(UTC).astimezone(WIB)
    for i, household in enumerate(("hh-1001", "hh-1002", "hh-1001")):
        body = {"deposit_id": f"E-{i}", "household": household, "items": {"paper": 1.5}, "ts": now.isoformat()}
        assert town.post("op_b", rt, "bank-sampah/deposits", body, key=f"e-{i}").status_code == 201
    town.services.updater.update_all()
    day = now.date().isoformat()
    evidence = town.call("op_b", "GET", f"/api/v1/rts/{rt}/evidence", params={"start": day, "end": day}).json()
    assert evidence["data"][0]["deposits"] == 3
    assert evidence["data"][0]["households"] == 2
    assert evidence["data"][0]["deposit_kg"] == {"paper": 4.5}


def test_every_write_is_audited_without_secrets(town: Town) -> None:
    town.post("op_a", town.a, "bank-sampah/deposits", {**DEPOSIT, "household": "hh-audit9"}, key="audited-1")
    assert town.call("op_a", "GET", "/api/v1/audit").status_code == 403
    log = town.call("admin", "GET", "/api/v1/audit").json()
    entry = next(e for e in log if e["detail"].get("idempotency_key") == "audited-1")
    assert (entry["name"], entry["role"], entry["action"], entry["target"]) == (
        "Operator A",
        "operator",
        "post_deposit",
        town.a,
    )
    assert entry["client"] == "127.0.0.1"
    text = str(log)
    assert "hh-audit9" not in text
    assert not any(token.split("_", 2)[2] in text for token in town.tokens.values())


def test_the_audit_log_cannot_be_changed(town: Town) -> None:
    import sqlite3

    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        town.services.app_db._db.execute("DELETE FROM audit_log")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        town.services.app_db._db.execute("UPDATE audit_log SET action = 'x'")


def test_admins_issue_tokens_with_valid_scopes_only(town: Town) -> None:
    made = town.call(
        "admin",
        "POST",
        "/api/v1/tokens",
        json={"name": "Baru", "role": "operator", "scope_level": "rt", "scope_code": town.b},
    )
    assert made.status_code == 201
    assert town.call(made.json()["token"], "GET", f"/api/v1/rts/{town.b}").status_code == 200
    bad = town.call(
        "admin",
        "POST",
        "/api/v1/tokens",
        json={"name": "Salah", "role": "operator", "scope_level": "rt", "scope_code": "nowhere"},
    )
    assert bad.status_code == 422
    assert (
        town.call(
            "op_a", "POST", "/api/v1/tokens", json={"name": "x", "role": "admin", "scope_level": "city"}
        ).status_code
        == 403
    )


def _all_scores(score: int) -> list[dict[str, object]]:
    return [
        {"criterion": f"{p}.{x}", "score": score, "comment": "cek lapangan"}
        for p in ("bersih", "aman", "pintar")
        for x in "abcdefg"
    ]


def test_an_assessment_from_opening_to_signing_and_correction(town: Town) -> None:
    dlh = town.tokens["assessor_kel"]
    babinsa = town.services.app_db.create_token("Babinsa", Role.assessor, ScopeLevel.kelurahan, town.kelurahan)[1]
    period = {"rt_code": town.a, "start": "2026-10-01", "end": "2026-10-31", "recap_rule": "majority"}
    assert town.call("op_a", "POST", "/api/v1/assessments", json=period).status_code == 403
    assert town.call("assessor_away", "POST", "/api/v1/assessments", json=period).status_code == 403
    opened = town.call(dlh, "POST", "/api/v1/assessments", json=period)
    assert opened.status_code == 201, opened.text
    record = opened.json()["assessment"]
    assert set(record["suggested"]) == {"bersih.b", "bersih.c", "bersih.g", "aman.b"}
    path = f"/api/v1/assessments/{record['id']}"
    incomplete = town.call(dlh, "POST", f"{path}/sign")
    assert incomplete.status_code == 422
    assert "pintar.g" in incomplete.json()["detail"]
    assert town.call(dlh, "PUT", f"{path}/scores", json={"agency": "DLH", "scores": _all_scores(2)}).status_code == 200
    mixed = _all_scores(1)
    body = town.call(babinsa, "PUT", f"{path}/scores", json={"agency": "Babinsa", "scores": mixed}).json()
    assert body["recap"]["complete"] is True
    assert body["recap"]["criteria"][0]["result"] == 1  # majority of {1, 2}: a tie goes to the lower
    signed = town.call(dlh, "POST", f"{path}/sign").json()["assessment"]
    assert signed["status"] == "signed"
    assert len(signed["evidence_hash"]) == 64
    frozen = town.call(dlh, "GET", path).json()
    # No endpoint changes a signed assessment.
    assert town.call(dlh, "PUT", f"{path}/scores", json={"agency": "DLH", "scores": _all_scores(0)}).status_code == 409
    assert town.call(dlh, "POST", f"{path}/sign").status_code == 409
    assert town.call(dlh, "GET", path).json() == frozen
    correction = town.call(dlh, "POST", f"{path}/corrections")
    assert correction.status_code == 201
    new = correction.json()["assessment"]
    assert (new["version"], new["previous_id"], new["status"]) == (2, record["id"], "open")
    assert town.call(dlh, "GET", path).json() == frozen
    # ...and neither does the database.
    from bantar.domain.assessment import Assessment
    from bantar.domain.errors import StoreError

    stored = Assessment.model_validate(frozen["assessment"])
    with pytest.raises(StoreError, match="signed"):
        town.services.app_db.save_assessment(stored.model_copy(update={"member_scores": []}))


def test_assessment_exports(town: Town) -> None:
    dlh = town.tokens["assessor_kel"]
    record = town.call(
        dlh, "POST", "/api/v1/assessments", json={"rt_code": town.a, "start": "2026-10-01", "end": "2026-10-31"}
    ).json()["assessment"]
    path = f"/api/v1/assessments/{record['id']}"
    town.call(dlh, "PUT", f"{path}/scores", json={"agency": "DLH", "scores": _all_scores(2)})
    as_json = town.call(dlh, "GET", f"{path}/export", params={"format": "json"}).json()
    assert as_json["recap"]["total"] == 42
    assert as_json["recap"]["meets_bar"] is True
    as_csv = town.call(dlh, "GET", f"{path}/export", params={"format": "csv"}).text.splitlines()
    assert len(as_csv) == 1 + 21
    assert "Hunian sehat dan tertata" in as_csv[1]
    page = town.call(dlh, "GET", f"{path}/export", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "Penilaian Kampung BANTAR" in page.text
    assert "Memenuhi kriteria" in page.text
    assert town.call("op_b", "GET", f"{path}/export").status_code == 403


def test_admins_switch_devices_off_and_their_messages_are_refused(town: Town, tmp_path: Path) -> None:
    from bantar.domain.errors import Reason, Rejected
    from bantar.domain.intake import IntakeLimits, accept
    from ingest.broker_auth import write_broker_auth
    from tests.support import payload

    device = next(d for d in town.services.registry.devices.values() if d.channel == "mqtt" and d.kind.value == "bin")
    assert town.call("op_a", "PATCH", f"/api/v1/devices/{device.id}", json={"active": False}).status_code == 403
    switched = town.call("admin", "PATCH", f"/api/v1/devices/{device.id}", json={"active": False})
    assert switched.status_code == 200
    assert switched.json()["active"] is False
    listed = {d["id"]: d for d in town.call("admin", "GET", "/api/v1/devices").json()}
    assert listed[device.id]["active"] is False
    body = payload(ts=datetime.now(UTC).isoformat(), seq=1, fill_pct=5, battery_pct=90)
    with pytest.raises(Rejected) as refused:
        accept(f"bantar/v1/{device.id}/bin", body, datetime.now(UTC), town.services.registry, IntakeLimits())
    assert refused.value.reason is Reason.device_inactive
    assert device.id not in write_broker_auth(town.services.registry.devices.values(), tmp_path)
    log = town.call("admin", "GET", "/api/v1/audit").json()
    assert any(e["action"] == "device_switch" and e["target"] == device.id for e in log)
    town.call("admin", "PATCH", f"/api/v1/devices/{device.id}", json={"active": True})


def test_the_simulator_posts_over_http_once_however_often_it_runs(tmp_path: Path, small_registry: Registry) -> None:
    """Deposits with a city-wide operator's token, poskamling reports with a security post's; the
    simulated month lies in the past, so this API allows back-dating that far."""
    from datetime import timedelta

    from simulators.engine import Simulation
    from simulators.run import drive
    from simulators.sinks import HttpSink

    end = datetime(2026, 11, 1, tzinfo=WIB)  # a Sunday: the day before holds a deposit morning
    rt_of = {d.id: d.rt for d in small_registry.devices}
    with opened_town(tmp_path, small_registry, ApiSettings(max_backdate_days=400)) as town:
        db = town.services.app_db
        for rt in {d.rt for d in small_registry.devices}:  # the simulated posts' checkpoints, registered
            for n in range(1, 6):
                db.field.add_checkpoint(rt, Checkpoint(id=f"pos-{n}", label=f"Pos {n}"))
        tokens = {
            "/bank_sampah": db.create_token("Operator kota", Role.operator, ScopeLevel.city, None)[1],
            "/poskamling": db.create_token("Poskamling kota", Role.security_post, ScopeLevel.city, None)[1],
        }

        def run() -> int:
            sim = Simulation(small_registry, start=end - timedelta(days=1), end=end, seed=5)
            wanted = [m for m in sim.messages() if m.topic.endswith(tuple(tokens))][:120]
            sent = 0
            for suffix, token in tokens.items():
                sink = HttpSink(town.url, token, rt_of)
                mine = [m for m in wanted if m.topic.endswith(suffix)]
                assert drive(mine, [sink], sim_start=sim.start).acknowledged, sink.last_refusal  # nothing refused
                sent += sink.sent
            return sent

        before = town.services.store.counts().readings
        first = run()
        assert first > 50
        stored = town.services.store.counts().readings - before
        assert stored == first
        run()  # the same posts again: all duplicates
        assert town.services.store.counts().readings - before == stored


def test_one_token_flooding_gets_429_and_others_are_unaffected(tmp_path: Path, small_registry: Registry) -> None:
    """A slow allowance (one request per 5 s after a burst of 10) so that the machine's speed cannot
    refill the bucket during the flood; the bound on what was served uses the measured time."""
    limits = ApiSettings(rate_per_token_s=0.2, burst_per_token=10)
    with opened_town(tmp_path, small_registry, limits) as town:
        path = f"/api/v1/rts/{town.a}"
        with httpx.Client(base_url=town.url, headers={"Authorization": f"Bearer {town.tokens['head_a']}"}) as flood:
            started = time.monotonic()
            responses = [flood.get(path) for _ in range(30)]
            elapsed = time.monotonic() - started
        statuses = [r.status_code for r in responses]
        assert set(statuses) == {200, 429}
        assert statuses[:10] == [200] * 10  # the burst allowance was served
        refilled = math.floor(elapsed * limits.rate_per_token_s) + 1  # what the bucket regained meanwhile
        assert statuses.count(200) <= 10 + refilled
        refused = next(r for r in responses if r.status_code == 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 5
        assert refused.json()["reason"] == "rate_limited"
        assert town.call("op_a", "GET", path).status_code == 200  # another token is not slowed
