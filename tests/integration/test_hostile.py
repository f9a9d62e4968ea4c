"""What hostile testing found (issue #12), each against real processes: uvicorn, Mosquitto and the
ingestor, SQLite, the ``bantar`` command."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bantar.domain.errors import Reason
from bantar.domain.readings import MAX_SEQ
from bantar.domain.registry import Registry, web_device_id
from bantar.domain.timebase import WIB
from bantar.domain.topics import DeviceKind
from bantar.registry_file import dump_registry
from bantar.settings import ApiSettings
from bantar.stores.field_records import Checkpoint
from ingest.broker import MosquittoProcess, free_port
from tests.integration.test_access import DEPOSIT, Town, opened_town
from tests.support import REPO, RunningIngestor, bantar_env, publish, settings_for, wait_until

DEEP = b'{"deposit_id": ' + b"[" * 5000 + b"]" * 5000 + b"}"


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, small_registry: Registry) -> Iterator[Town]:
    limits = ApiSettings(rate_per_token_s=1000, burst_per_token=1000)
    with opened_town(tmp_path_factory.mktemp("hostile"), small_registry, limits) as opened:
        yield opened


def _now() -> str:
    return datetime.now(UTC).isoformat()


# --- 2. no 5xx from any body; OpenAPI says what the routes answer ---------------------------------
HOSTILE_BODIES = [
    DEEP,
    b"[" * 15000,
    b'{"a": 1, "a": 2}',
    b'{"deposit_id": ',
    b"\xff\xfe{}",
    b"\xef\xbb\xbf{}",
    b'{"items": {"plastic": NaN}}',
    b"null",
    b'"x"',
    b"{}",
]


BODIES = ("post", "put", "patch")
CALLER = {"bank-sampah": "op_a", "poskamling": "post_a", "gotong-royong": "head_a", "assessments": "assessor_kel"}
"""who gets past the access check on each route, so the body itself is what is tested"""


def test_no_body_gets_a_5xx_and_every_answer_is_documented(town: Town) -> None:
    spec = town.call(None, "GET", "/openapi.json").json()
    assessment = town.call(
        "assessor_kel",
        "POST",
        "/api/v1/assessments",
        json={"rt_code": town.a, "start": "2026-10-01", "end": "2026-10-31"},
    ).json()["assessment"]["id"]
    values = {"rt_code": town.a, "assessment_id": assessment, "token_id": "nope", "device_id": "nope"}
    seen: set[tuple[str, str, int]] = set()
    for path, operations in spec["paths"].items():
        url = path.format_map(defaultdict(lambda: "1", values))  # other ids: a plausible one
        for method, operation in operations.items():
            documented = {int(s) for s in operation["responses"]}
            who = next((w for part, w in CALLER.items() if part in path), "admin")
            for n, body in enumerate(HOSTILE_BODIES if method in BODIES else HOSTILE_BODIES[:1]):
                headers = {"Idempotency-Key": f"h-{n}", "Content-Type": "application/json"}
                response = town.call(who, method.upper(), url, content=body, headers=headers)
                assert response.status_code < 500, (method, path, who, body[:30], response.text)
                assert response.status_code in documented, (method, path, response.status_code, documented)
                if response.status_code >= 400:
                    assert response.json()["reason"] in Reason.__members__, response.text
                seen.add((method, path, response.status_code))
    assert ("post", "/api/v1/rts/{rt_code}/bank-sampah/deposits", 422) in seen


# --- 3, 4, 11: duplicate keys, strict RFC 3339, a BOM: alike on MQTT and HTTP ---------------------
@pytest.mark.parametrize(
    ("mqtt_payload", "http_body", "reason"),
    [
        (
            b'{"ts":"%s","seq":1001,"seq":1006,"fill_pct":40,"battery_pct":90}',
            b'{"deposit_id":"D-1","deposit_id":"D-2","household":"hh-0001","items":{"plastic":1}}',
            Reason.duplicate_key,
        ),
        (
            b'{"ts":"2026-11-30T08:00:00+07","seq":7,"fill_pct":40,"battery_pct":90}',
            b'{"ts":"2026-11-30T08:00:00+07","deposit_id":"D-3","household":"hh-0001","items":{"plastic":1}}',
            Reason.invalid_field,
        ),
        (
            b'{"ts":"%s","seq":8,"fill_pct":' + b"[" * 3000 + b"]" * 3000 + b',"battery_pct":90}',
            b'{"deposit_id":' + b"[" * 3000 + b"]" * 3000 + b"}",
            Reason.malformed_json,
        ),
        (
            b'\xef\xbb\xbf{"ts":"%s","seq":9,"fill_pct":40,"battery_pct":90}',
            b'\xef\xbb\xbf{"deposit_id":"D-4","household":"hh-0001","items":{"plastic":1}}',
            None,
        ),
    ],
    ids=["duplicate-key", "offset-without-minutes", "deep-nesting", "bom"],
)
def test_both_channels_answer_alike(
    town: Town,
    mosquitto: MosquittoProcess,
    tmp_path: Path,
    mqtt_payload: bytes,
    http_body: bytes,
    reason: Reason | None,
) -> None:
    registry = town.services.registry
    device = next(d for d in registry.devices.values() if d.kind is DeviceKind.bin and d.rt == town.a)
    mqtt_payload = mqtt_payload.replace(b"%s", _now().encode())
    dump_registry(registry.registry, tmp_path / "registry.yaml")
    store = town.services.store
    ingestor = RunningIngestor(
        settings_for(mosquitto, store.path, tmp_path / "registry.yaml", client_id=f"i-{reason}"), registry, store
    )
    before = store.counts()
    try:
        publish(mosquitto, [(f"bantar/v1/{device.id}/bin", mqtt_payload)])
        wait_until(lambda: ingestor.counters.received == 1, 30, "the message")
    finally:
        ingestor.close()
    after = store.counts()
    response = town.call(
        "op_a",
        "POST",
        f"/api/v1/rts/{town.a}/bank-sampah/deposits",
        content=http_body,
        headers={"Idempotency-Key": f"alike-{reason}", "Content-Type": "application/json"},
    )
    if reason is None:
        assert after.readings == before.readings + 1
        assert response.status_code == 201, response.text
    else:
        assert (
            after.dead_letters_by_reason.get(reason.value, 0) == before.dead_letters_by_reason.get(reason.value, 0) + 1
        )
        assert response.status_code == 422, response.text
        assert response.json()["reason"] == reason.value
        assert "[" not in response.json()["detail_id"]  # the catalogue's words, never a raw pattern


# --- 5. an idempotent retry without ts returns the first answer --------------------------------
def test_a_retry_without_ts_a_second_later_is_the_same_post(town: Town) -> None:
    body = {**DEPOSIT, "deposit_id": "BS-retry"}
    first = town.post("op_a", town.a, "bank-sampah/deposits", body, key="no-ts-1")
    assert first.status_code == 201, first.text
    second_of_first = int(time.time())
    wait_until(lambda: int(time.time()) > second_of_first, 5, "the clock to reach the next second")
    again = town.post("op_a", town.a, "bank-sampah/deposits", body, key="no-ts-1")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "duplicate"
    assert again.json()["ts"] == first.json()["ts"]


# --- 6. the same reading re-encoded is a duplicate; dead letters keep the bytes -----------------
def test_the_same_reading_in_other_bytes_is_a_duplicate_and_a_conflict_keeps_its_bytes(
    town: Town, mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    registry = town.services.registry
    device = next(d for d in registry.devices.values() if d.kind is DeviceKind.bin and d.rt == town.b)
    topic = f"bantar/v1/{device.id}/bin"
    moment = datetime.now(UTC).replace(microsecond=0)
    original = f'{{"ts":"{moment.isoformat().replace("+00:00", "Z")}","seq":77,"fill_pct":50,"battery_pct":90}}'
    again = f'{{ "battery_pct" : 90.0,\n "fill_pct": 50.0, "seq": 77, "ts": "{moment.astimezone(WIB).isoformat()}" }}'
    clash = f'{{"seq":77,   "ts":"{moment.isoformat()}","fill_pct":51,"battery_pct":90}}'
    dump_registry(registry.registry, tmp_path / "registry.yaml")
    store = town.services.store
    ingestor = RunningIngestor(settings_for(mosquitto, store.path, tmp_path / "registry.yaml"), registry, store)
    try:
        publish(mosquitto, [(topic, original.encode()), (topic, again.encode()), (topic, clash.encode())])
        wait_until(lambda: ingestor.counters.received == 3, 30, f"three messages: {ingestor.counters}")
    finally:
        counters = ingestor.close()
    assert (counters.stored, counters.duplicates) == (1, 1)
    assert counters.rejected == {Reason.sequence_conflict: 1}
    letter = next(d for d in store.dead_letters(50) if d.reason is Reason.sequence_conflict and d.topic == topic)
    assert letter.payload_head == clash.encode()[:512]


# --- 7. plausible sequence gaps -----------------------------------------------------------------
def test_web_devices_count_and_a_jump_to_the_last_number_is_a_reset(
    town: Town, mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    duty = {"event": "duty", "on_duty": True, "guards": 2}
    assert town.post("post_a", town.a, "poskamling/reports", duty, key="seq-duty").status_code == 201
    for n in range(3):
        town.services.app_db.field.add_checkpoint(town.a, Checkpoint(id=f"pos-{n}", label=f"Pos {n}"))
        body = {"event": "patrol", "checkpoint": f"pos-{n}"}
        assert town.post("post_a", town.a, "poskamling/reports", body, key=f"seq-{n}").status_code == 201
    web = web_device_id(town.a, DeviceKind.poskamling)
    gaps = {g.device_id: g for g in town.services.store.sequence_gaps()}
    assert web not in gaps
    assert town.services.store.last_sequences()[web] == 4  # one number per post, from 1
    registry = town.services.registry
    device = next(d for d in registry.devices.values() if d.kind is DeviceKind.cctv and d.rt == town.a)
    topic = f"bantar/v1/{device.id}/cctv"
    beat = '{{"ts":"{}","seq":{},"online":true,"recording":true,"storage_free_pct":50}}'
    dump_registry(registry.registry, tmp_path / "registry.yaml")
    store = town.services.store
    ingestor = RunningIngestor(settings_for(mosquitto, store.path, tmp_path / "registry.yaml"), registry, store)
    try:
        publish(mosquitto, [(topic, beat.format(_now(), seq).encode()) for seq in (1, 2, 4, MAX_SEQ)])
        wait_until(lambda: ingestor.counters.stored == 4, 30, "four heartbeats")
    finally:
        counters = ingestor.close()
    assert counters.sequence_gap_messages == 1  # seq 3; not 2^53 - 5
    gap = {g.device_id: g for g in store.sequence_gaps()}[device.id]
    assert (gap.missing, gap.resets) == (1, 1)


# --- 8. audit ---------------------------------------------------------------------------------
def _audit(town: Town) -> list[dict[str, object]]:
    return town.call("admin", "GET", "/api/v1/audit", params={"limit": 1000}).json()  # type: ignore[no-any-return]


def test_denied_writes_and_household_reads_are_audited(town: Town) -> None:
    town.post("post_a", town.a, "bank-sampah/deposits", DEPOSIT, key="denied-1")  # 403: wrong role
    town.post("op_a", town.a, "bank-sampah/deposits", {**DEPOSIT, "deposit_id": "X-1"}, key="clash-1")
    town.post("op_a", town.a, "bank-sampah/deposits", {**DEPOSIT, "deposit_id": "X-2"}, key="clash-1")  # 409
    town.call("head_a", "GET", f"/api/v1/rts/{town.a}/bank-sampah/deposits")
    log = _audit(town)
    assert any(e["action"] == "post_deposit_denied" and e["role"] == "security_post" for e in log)
    assert any(
        e["action"] == "post_deposit_denied"
        and e["detail"] == {"idempotency_key": "clash-1", "reason": "idempotency_conflict"}  # type: ignore[comparison-overlap]
        for e in log
    )
    assert any(e["action"] == "read_households" and e["role"] == "rt_head" for e in log)


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path, small_registry: Registry) -> None:
    for trusted, expected in (([], "127.0.0.1"), (["127.0.0.1/32"], "6.6.6.6")):
        with opened_town(tmp_path / str(len(trusted)), small_registry, ApiSettings(trusted_proxies=trusted)) as town:
            key = f"xff-{len(trusted)}"
            response = town.call(
                "head_a",
                "POST",
                f"/api/v1/rts/{town.a}/gotong-royong",
                json={"activity": "kerja bakti", "attendance": 5},
                headers={"Idempotency-Key": key, "X-Forwarded-For": "6.6.6.6"},
            )
            assert response.status_code == 201, response.text
            entry = next(e for e in _audit(town) if e["detail"].get("idempotency_key") == key)  # type: ignore[attr-defined]
            assert entry["client"] == expected


def test_bantar_audit_verify_names_the_first_broken_link(town: Town, tmp_path: Path) -> None:
    for n in range(3):
        town.call(
            "admin",
            "POST",
            "/api/v1/tokens",
            json={"name": f"t{n}", "role": "operator", "scope_level": "rt", "scope_code": town.b},
        )
    app_db = town.services.settings.app_db
    env = bantar_env(app_db=str(app_db), registry=str(town.services.settings.registry))
    ok = subprocess.run(
        [sys.executable, "-m", "shell", "audit", "verify"], env=env, capture_output=True, text=True, cwd=REPO
    )
    assert ok.returncode == 0, ok.stderr
    victim = _audit(town)[2]["id"]
    with sqlite3.connect(app_db) as raw:  # someone with the file, not the API
        raw.execute("DROP TRIGGER audit_log_no_update")
        raw.execute("UPDATE audit_log SET client = '10.0.0.9' WHERE id = ?", (victim,))
        raw.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )
    broken = subprocess.run(
        [sys.executable, "-m", "shell", "audit", "verify"], env=env, capture_output=True, text=True, cwd=REPO
    )
    assert broken.returncode == 1
    assert f"entry {victim}:" in broken.stderr


# --- 11. the public surface ---------------------------------------------------------------------
def test_health_is_public_and_counts_no_rows(town: Town) -> None:
    response = town.call(None, "GET", "/api/v1/health")
    assert response.status_code == 200
    assert set(response.json()) == {"status", "rts", "devices"}


def test_unknown_and_forbidden_answer_alike(town: Town) -> None:
    def shape(r: httpx.Response) -> tuple[int, str]:
        return r.status_code, r.json()["reason"]

    assert shape(town.call("op_a", "GET", f"/api/v1/rts/{town.b}")) == shape(
        town.call("op_a", "GET", "/api/v1/rts/1571010001-999")
    )
    opened = town.call(
        "assessor_kel",
        "POST",
        "/api/v1/assessments",
        json={"rt_code": town.a, "start": "2026-10-01", "end": "2026-10-31"},
    ).json()["assessment"]["id"]
    assert shape(town.call("assessor_away", "GET", f"/api/v1/assessments/{opened}")) == shape(
        town.call("assessor_away", "GET", "/api/v1/assessments/ffffffffffff")
    )


def test_the_dashboard_carries_a_content_security_policy(town: Town) -> None:
    for path in ("/", "/static/app.js", "/api/v1/health"):
        policy = town.call(None, "GET", path).headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy


def test_csv_exports_neutralise_formulas(town: Town) -> None:
    opened = town.call(
        "assessor_kel",
        "POST",
        "/api/v1/assessments",
        json={"rt_code": town.a, "start": "2026-09-01", "end": "2026-09-30"},
    ).json()["assessment"]["id"]
    scores = [{"criterion": "bersih.a", "score": 2, "comment": '=HYPERLINK("http://evil","klik")'}]
    put = town.call(
        "assessor_kel", "PUT", f"/api/v1/assessments/{opened}/scores", json={"agency": "DLH", "scores": scores}
    )
    assert put.status_code == 200, put.text
    exported = town.call("assessor_kel", "GET", f"/api/v1/assessments/{opened}/export", params={"format": "csv"}).text
    assert "'=HYPERLINK" in exported
    assert ',"=HYPERLINK' not in exported
    assert ",=HYPERLINK" not in exported


# --- 12. back-dating ------------------------------------------------------------------------------
def test_posts_cannot_rewrite_history_freely(town: Town) -> None:
    now = datetime.now(UTC).astimezone(WIB)
    old = town.post(
        "op_a", town.a, "bank-sampah/deposits", {**DEPOSIT, "ts": (now - timedelta(days=8)).isoformat()}, key="old-1"
    )
    assert old.status_code == 422
    assert old.json()["reason"] == "backdated_too_far"
    late = town.post(
        "head_a",
        town.a,
        "gotong-royong",
        {"activity": "kerja bakti bulanan", "attendance": 30, "ts": (now - timedelta(days=20)).isoformat()},
        key="late-1",
    )
    assert late.status_code == 201, late.text  # an RT head may report the month's meeting late
    recent = town.post(
        "op_a",
        town.a,
        "bank-sampah/deposits",
        {**DEPOSIT, "deposit_id": "R-1", "ts": (now - timedelta(hours=2)).isoformat()},
        key="recent-1",
    )
    assert recent.status_code == 201
    log = _audit(town)
    stored = next(e for e in log if e["detail"].get("idempotency_key") == "recent-1")  # type: ignore[attr-defined]
    assert 7190 <= stored["detail"]["backdated_s"] <= 7300  # type: ignore[index]
    assert any(e["action"] == "post_deposit_denied" and e["detail"].get("reason") == "backdated_too_far" for e in log)  # type: ignore[attr-defined]


# --- 9. secrets -------------------------------------------------------------------------------
def test_no_token_reaches_the_access_log(tmp_path: Path, registry_file: Path) -> None:
    port = free_port()
    env = bantar_env(registry=str(registry_file), sqlite__path=str(tmp_path / "r.db"), app_db=str(tmp_path / "a.db"))
    log = tmp_path / "api.log"
    with log.open("wb") as handle:
        api = subprocess.Popen(
            [sys.executable, "-m", "shell", "api", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/api/v1/health"), 30, "the API")
        httpx.get(f"http://127.0.0.1:{port}/api/v1/rts?access_token=bnt_abcd_SECRETVALUE", timeout=10)
        httpx.get(f"http://127.0.0.1:{port}/api/v1/health?token=bnt_abcd_SECRETVALUE", timeout=10)
        wait_until(lambda: log.read_text().count("/api/v1/health") >= 2, 10, "the access log lines")
    finally:
        api.terminate()
        api.wait(20)
    text = log.read_text()
    assert "SECRETVALUE" not in text
    assert "GET /api/v1/rts " in text or "GET /api/v1/rts HTTP" in text


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_service_refuses_change_me_secrets(tmp_path: Path, registry_file: Path) -> None:
    env = bantar_env(
        registry=str(registry_file), app_db=str(tmp_path / "a.db"), influxdb__token="change-me-influxdb-token"
    )
    refused = subprocess.run(
        [sys.executable, "-m", "shell", "api"], env=env, capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert refused.returncode == 2
    assert "change-me" in refused.stderr


def test_secret_files_are_private_from_the_start_and_passwords_survive_a_switch(town: Town, tmp_path: Path) -> None:
    from ingest.broker_auth import read_credentials, write_broker_auth

    settings = town.services.settings
    for path in (settings.app_db, settings.sqlite.path):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    devices = town.services.registry.devices
    device = next(d for d in devices.values() if d.channel == "mqtt")
    first = write_broker_auth(devices.values(), tmp_path)[device.id]
    for name in ("passwd", "credentials.csv"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    town.services.registry.apply_overrides({device.id: False})
    try:
        assert device.id not in write_broker_auth(devices.values(), tmp_path)
        assert read_credentials(tmp_path / "credentials.csv")[device.id] == first
    finally:
        town.services.registry.apply_overrides({device.id: True})
    assert write_broker_auth(devices.values(), tmp_path)[device.id] == first
    assert json.dumps(first)  # a real string


def test_an_action_and_its_audit_entry_commit_together(tmp_path: Path) -> None:
    """If the audit entry cannot be written (here a trigger stands in for a full disk), the action
    it records is rolled back with it: no token exists without its entry."""
    from bantar.domain.access import Role, ScopeLevel
    from bantar.stores.appdb import AppDb, AuditNote

    app_db = AppDb(tmp_path / "a.db")
    try:
        with sqlite3.connect(tmp_path / "a.db") as raw:
            raw.execute(
                "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        note = AuditNote(None, "token_create", "", {"role": "operator"}, "cli")
        with pytest.raises(sqlite3.DatabaseError, match="disk full"):
            app_db.create_token("Operator", Role.operator, ScopeLevel.city, None, note)
        assert app_db.tokens() == []
    finally:
        app_db.close()
