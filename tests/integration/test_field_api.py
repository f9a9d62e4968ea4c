"""The field app's API: one-time sign-in codes, the bank sampah's books, checkpoints and the
post's history, Indonesian names (real uvicorn, real SQLite)."""

from __future__ import annotations

import io
import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from openpyxl import load_workbook

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.errors import REASON_TEXT_ID, Reason
from bantar.domain.intake import IntakeLimits, accept
from bantar.domain.registry import Registry, web_device_id
from bantar.domain.timebase import WIB
from bantar.domain.topics import DeviceKind, Topic
from bantar.services import Services
from bantar.stores.field_records import Checkpoint
from ingest.broker import free_port
from shell.field_setup import field_app_lines
from tests.field import fresh_services
from tests.integration.test_store_sources import reading as weighing_reading
from tests.support import payload


@pytest.fixture(scope="module")
def services(small_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    services = fresh_services(small_registry, tmp_path_factory.mktemp("field"))
    yield services
    services.close()


@pytest.fixture(scope="module")
def url(services: Services) -> Iterator[str]:
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def rts(services: Services) -> list[str]:
    return list(services.registry.rts)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token(services: Services, role: Role, rt: str | None) -> str:
    level = ScopeLevel.rt if rt else ScopeLevel.city
    return services.app_db.create_token(f"{role} {rt}", role, level, rt)[1]


def test_a_sign_in_code_works_once_and_a_revoked_phone_is_told_so(services: Services, url: str, rts: list[str]) -> None:
    head = token(services, Role.rt_head, rts[0])
    made = httpx.post(
        f"{url}/api/v1/sign-in-codes",
        json={"name": "Bu Sari", "role": "operator", "scope_code": rts[0]},
        headers=bearer(head),
    )
    assert made.status_code == 201, made.text
    link = made.json()["link"]
    assert link.startswith(f"{url}/app/#masuk=")
    code = link.partition("#masuk=")[2]
    signed = httpx.post(f"{url}/api/v1/sign-in", json={"code": code})
    assert signed.status_code == 201
    assert (signed.json()["role"], signed.json()["scope_code"]) == ("operator", rts[0])
    again = httpx.post(f"{url}/api/v1/sign-in", json={"code": code})
    assert (again.status_code, again.json()["reason"]) == (409, "sign_in_code_used")
    assert "sudah dipakai" in again.json()["detail_id"]
    wrong = httpx.post(f"{url}/api/v1/sign-in", json={"code": code[:-3] + "xyz"})
    assert (wrong.status_code, wrong.json()["reason"]) == (404, "sign_in_code_unknown")

    phone = signed.json()["token"]
    assert httpx.get(f"{url}/api/v1/field/me", headers=bearer(phone)).json()["rt_label"].startswith("RT ")
    admin = token(services, Role.admin, None)
    assert httpx.delete(f"{url}/api/v1/tokens/{signed.json()['token_id']}", headers=bearer(admin)).status_code == 204
    revoked = httpx.get(f"{url}/api/v1/field/me", headers=bearer(phone))
    assert (revoked.status_code, revoked.json()["reason"]) == (401, "token_revoked")
    assert "dicabut" in revoked.json()["detail_id"]


def test_an_rt_head_issues_codes_only_for_its_rts_operator_and_post(
    services: Services, url: str, rts: list[str]
) -> None:
    head = token(services, Role.rt_head, rts[0])
    for body, status in (
        ({"name": "x", "role": "assessor", "scope_code": rts[0]}, 403),
        ({"name": "x", "role": "security_post", "scope_code": rts[1]}, 403),
        ({"name": "x", "role": "security_post", "scope_code": "nowhere-1"}, 422),
        ({"name": "x", "role": "security_post", "scope_code": rts[0]}, 201),
    ):
        assert httpx.post(f"{url}/api/v1/sign-in-codes", json=body, headers=bearer(head)).status_code == status
    operator = token(services, Role.operator, rts[0])
    body = {"name": "x", "role": "operator", "scope_code": rts[0]}
    assert httpx.post(f"{url}/api/v1/sign-in-codes", json=body, headers=bearer(operator)).status_code == 403


def test_members_names_stay_with_the_rts_operator_and_head(services: Services, url: str, rts: list[str]) -> None:
    operator = token(services, Role.operator, rts[1])
    base = f"{url}/api/v1/rts/{rts[1]}/bank-sampah/members"
    put = httpx.put(f"{base}/hh_sari01", json={"name": "Sari", "phone": "0812 3456 789"}, headers=bearer(operator))
    assert put.status_code == 200, put.text
    for role, status in ((Role.rt_head, 200), (Role.assessor, 403), (Role.admin, 403), (Role.security_post, 403)):
        seen = httpx.get(base, headers=bearer(token(services, role, rts[1] if role is not Role.admin else None)))
        assert seen.status_code == status, role
    other_head = token(services, Role.rt_head, rts[2])
    assert httpx.get(base, headers=bearer(other_head)).json()["reason"] == "out_of_scope"
    assert httpx.delete(f"{base}/hh_sari01", headers=bearer(operator)).status_code == 204
    assert httpx.get(base, headers=bearer(operator)).json() == []
    again = httpx.put(f"{base}/hh_sari01", json={"name": "Sari"}, headers=bearer(operator))
    assert (again.status_code, again.json()["reason"]) == (409, "unknown_member")


def test_indonesian_material_and_incident_names_are_stored_as_their_codes(
    services: Services, url: str, rts: list[str]
) -> None:
    rt = rts[3]
    now = datetime.now(WIB).isoformat(timespec="seconds")
    deposit = {
        "ts": now,
        "deposit_id": "d-1",
        "household": "hh_budi01",
        "items": {"plastik": 2.5},
        "price_idr_per_kg": {"plastik": 3000},
    }
    posted = httpx.post(
        f"{url}/api/v1/rts/{rt}/bank-sampah/deposits",
        json=deposit,
        headers={**bearer(token(services, Role.operator, rt)), "Idempotency-Key": "d-1"},
    )
    assert posted.status_code == 201, posted.text
    post = bearer(token(services, Role.security_post, rt))
    incident = {"ts": now, "event": "incident", "category": "pencurian", "note": "sepeda motor"}
    reported = httpx.post(
        f"{url}/api/v1/rts/{rt}/poskamling/reports", json=incident, headers={**post, "Idempotency-Key": "i-1"}
    )
    assert reported.status_code == 201, reported.text
    stored = services.store.rt_readings(rt, 0, 2**53)
    deposit = stored.of(DeviceKind.bank_sampah)[0]
    assert (deposit.kg, deposit.value_idr) == ({"plastic": 2.5}, 7500)
    history = httpx.get(f"{url}/api/v1/rts/{rt}/poskamling/reports", headers=post)
    assert [(r["event"], r["via"]) for r in history.json()] == [("incident", "app")]
    catalogue = httpx.get(f"{url}/api/v1/field/catalogue").json()
    assert catalogue["materials"]["plastic"]["id"] == "plastik"
    assert catalogue["incident_categories"]["theft"]["id"] == "pencurian"
    assert catalogue["reasons_id"]["patrol_outside_duty"].startswith("Patroli")


def test_the_savings_book_over_a_month_is_deposits_times_prices_minus_withdrawals(
    services: Services, url: str, rts: list[str]
) -> None:
    """A month of simulated bank sampah mornings: 6 members, prices that change mid-month,
    deposits of several materials with comma-free kg, withdrawals, one corrected deposit."""
    rt, rng = rts[4], random.Random(16)
    operator = bearer(token(services, Role.operator, rt))
    base = f"{url}/api/v1/rts/{rt}/bank-sampah"
    members = [f"hh_m{i:02d}x" for i in range(6)]
    for i, household in enumerate(members):
        assert httpx.put(f"{base}/members/{household}", json={"name": f"Warga {i}"}, headers=operator).is_success
    start = datetime.now(WIB).replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=30)
    prices = {"plastic": 3000, "paper": 1500, "metal": 8000}
    for material, idr in prices.items():
        body = {"material": material, "price_idr_per_kg": idr, "valid_from": start.date().isoformat()}
        assert httpx.put(f"{base}/prices", json=body, headers=operator).is_success
    raise_day = (start + timedelta(days=15)).date()
    body = {"material": "plastic", "price_idr_per_kg": 3500, "valid_from": raise_day.isoformat()}
    assert httpx.put(f"{base}/prices", json=body, headers=operator).is_success
    in_force = httpx.get(f"{base}/prices", params={"day": raise_day.isoformat()}, headers=operator).json()
    assert {p["material"]: p["price_idr_per_kg"] for p in in_force["in_force"]}["plastic"] == 3500

    expected = dict.fromkeys(members, 0)
    device = web_device_id(rt, DeviceKind.bank_sampah)
    readings, seq = [], 0
    for day in range(0, 30, 3):  # a bank sampah morning every third day
        when = start + timedelta(days=day)
        day_prices = httpx.get(f"{base}/prices", params={"day": when.date().isoformat()}, headers=operator).json()
        price = {p["material"]: p["price_idr_per_kg"] for p in day_prices["in_force"]}
        for household in rng.sample(members, 4):
            items = {m: round(rng.uniform(0.3, 6), 2) for m in rng.sample(sorted(price), 2)}
            seq += 1
            body = payload(
                ts=(when + timedelta(minutes=seq)).isoformat(),
                seq=seq,
                deposit_id=f"d-{seq}",
                household=household,
                items=items,
                price_idr_per_kg={m: price[m] for m in items},
            )
            readings.append(
                accept(
                    str(Topic(device, DeviceKind.bank_sampah)),
                    body,
                    when + timedelta(hours=1),  # received as it happened
                    services.registry,
                    IntakeLimits(max_age=timedelta(days=60)),
                    channel="http",
                )
            )
            expected[household] += round(sum(kg * price[m] for m, kg in items.items()))
    services.store.write(readings, [])
    # one deposit was entered wrongly and corrected: only the correction counts
    wrong = readings[0]
    correction = {"corrects": "d-1", "household": wrong.payload.household, "ts": wrong.ts.isoformat()}  # type: ignore[union-attr]
    assert httpx.put(f"{base}/corrections/d-1b", json=correction, headers=operator).is_success
    expected[wrong.payload.household] -= wrong.payload.value_idr  # type: ignore[union-attr]

    for household in members:
        book = httpx.get(f"{base}/members/{household}/book", headers=operator).json()
        assert book["balance_idr"] == expected[household]
        if expected[household] > 1000:
            key = {"Idempotency-Key": f"w-{household}"}
            take = {"household": household, "amount_idr": expected[household] // 2, "ts": datetime.now(UTC).isoformat()}
            first = httpx.post(f"{base}/withdrawals", json=take, headers={**operator, **key})
            again = httpx.post(f"{base}/withdrawals", json=take, headers={**operator, **key})
            assert (first.status_code, again.status_code) == (201, 200)
            expected[household] -= expected[household] // 2
        book = httpx.get(f"{base}/members/{household}/book", headers=operator).json()
        assert book["balance_idr"] == expected[household] == book["deposits_idr"] - book["withdrawals_idr"]
        assert book["lines"] == [] or book["lines"][-1]["balance_idr"] == expected[household]
    too_much = {"household": members[0], "amount_idr": expected[members[0]] + 1, "ts": datetime.now(UTC).isoformat()}
    refused = httpx.post(f"{base}/withdrawals", json=too_much, headers={**operator, "Idempotency-Key": "w-big"})
    assert (refused.status_code, refused.json()["reason"]) == (422, "insufficient_balance")
    assert refused.json()["detail_id"] == "Saldo tidak cukup untuk penarikan ini"

    month = (start + timedelta(days=20)).strftime("%Y-%m")
    recap = httpx.get(f"{base}/recap", params={"month": month}, headers=operator).json()
    assert recap["deposits"] > 0
    assert recap["active_members"] <= 6
    csv_text = httpx.get(f"{base}/recap", params={"month": month, "format": "csv"}, headers=operator).text
    assert "plastik" in csv_text
    assert "Anggota aktif" in csv_text
    xlsx = httpx.get(f"{base}/recap", params={"month": month, "format": "xlsx"}, headers=operator)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert rows["Perputaran (Rp)"] == recap["turnover_idr"]
    assert rows["plastik"] == recap["kg_by_material"]["plastic"]


def test_checkpoints_are_kept_per_rt_and_only_the_rt_head_adds_them(
    services: Services, url: str, rts: list[str]
) -> None:
    rt = rts[5]
    head, post = bearer(token(services, Role.rt_head, rt)), bearer(token(services, Role.security_post, rt))
    made = httpx.post(f"{url}/api/v1/rts/{rt}/poskamling/checkpoints", json={"label": "Gerbang masjid"}, headers=head)
    assert made.status_code == 201
    assert made.json()["qr"] == f"BANTAR-CP/{rt}/{made.json()['id']}"
    refused = httpx.post(f"{url}/api/v1/rts/{rt}/poskamling/checkpoints", json={"label": "x"}, headers=post)
    assert refused.status_code == 403
    listed = httpx.get(f"{url}/api/v1/rts/{rt}/poskamling/checkpoints", headers=post).json()
    assert [c["label"] for c in listed] == ["Gerbang masjid"]


def test_the_demo_prints_working_sign_in_links_for_an_operator_and_a_post(services: Services, url: str) -> None:
    lines = field_app_lines(services, url).splitlines()
    assert lines[0].startswith(f"field app {url}/app/")
    roles = []
    for line in lines[1:]:
        code = line.partition("#masuk=")[2]
        signed = httpx.post(f"{url}/api/v1/sign-in", json={"code": code})
        assert signed.status_code == 201
        roles.append(signed.json()["role"])
        rt = signed.json()["scope_code"]
    assert roles == ["operator", "security_post"]
    assert len(services.app_db.field.prices(rt)) == 6  # the operator can record deposits at once
    assert len(services.app_db.field.checkpoints(rt)) == 3


def denials(services: Services, action: str, rt: str) -> list[str]:
    """The reasons of the audited refusals of ``action`` in the RT, oldest first."""
    found = [e for e in services.app_db.audit_entries(1000) if e.action == f"{action}_denied" and e.target == rt]
    return [e.detail["reason"] for e in reversed(found)]


def test_the_server_refuses_a_patrol_outside_a_duty_or_at_a_checkpoint_not_of_the_rt(
    services: Services, url: str, rts: list[str]
) -> None:
    """Judged by each scan's own time: a scan made during the duty and sent after its end is kept,
    one made after the end is refused however it is sent. A refusal stores nothing, takes no
    sequence number and is audited with its reason."""
    rt, other = rts[5], rts[6]
    services.app_db.field.add_checkpoint(rt, Checkpoint(id="cp-gerbang", label="Gerbang"))
    services.app_db.field.add_checkpoint(other, Checkpoint(id="cp-lapangan", label="Lapangan"))
    post = bearer(token(services, Role.security_post, rt))
    start = datetime.now(WIB).replace(microsecond=0) - timedelta(hours=2)
    n = itertools.count()

    def report(minutes: int, body: dict[str, object]) -> httpx.Response:
        at = (start + timedelta(minutes=minutes)).isoformat()
        headers = {**post, "Idempotency-Key": f"p-{next(n)}"}
        return httpx.post(f"{url}/api/v1/rts/{rt}/poskamling/reports", json={"ts": at, **body}, headers=headers)

    def patrol(minutes: int, checkpoint: str) -> httpx.Response:
        return report(minutes, {"event": "patrol", "checkpoint": checkpoint})

    def refused(response: httpx.Response) -> tuple[int, str, str]:
        body = response.json()
        return response.status_code, body["reason"], body["detail_id"]

    assert refused(patrol(0, "cp-gerbang")) == (422, "patrol_outside_duty", REASON_TEXT_ID[Reason.patrol_outside_duty])
    assert report(10, {"event": "duty", "on_duty": True, "guards": 3}).status_code == 201
    assert refused(patrol(20, "cp-lapangan"))[:2] == (422, "checkpoint_other_rt")
    assert refused(patrol(20, "cp-tidak-ada"))[:2] == (422, "unknown_checkpoint")
    assert patrol(10, "cp-gerbang").status_code == 201  # in the duty's first second
    assert report(60, {"event": "duty", "on_duty": False, "guards": 3}).status_code == 201
    assert patrol(30, "cp-gerbang").status_code == 201  # scanned during the duty, sent after its end
    assert patrol(60, "cp-gerbang").status_code == 201  # in the duty's last second
    assert refused(patrol(61, "cp-gerbang"))[:2] == (422, "patrol_outside_duty")

    web = web_device_id(rt, DeviceKind.poskamling)
    stored = [r for r in services.store.rt_readings(rt, 0, 2**53).of(DeviceKind.poskamling) if r.device_id == web]
    by_seq = sorted((r.seq, r.event) for r in stored)
    assert by_seq == [(1, "duty"), (2, "patrol"), (3, "duty"), (4, "patrol"), (5, "patrol")]
    assert services.store.last_sequences()[web] == 5  # no number taken by a refusal: no gap
    assert denials(services, "post_poskamling", rt) == [
        "patrol_outside_duty",
        "checkpoint_other_rt",
        "unknown_checkpoint",
        "patrol_outside_duty",
    ]


def scale_weighs(services: Services, rt: str, at: datetime, kg: float) -> str:
    """A connected scale's weighing, written as the ingestor writes one (``bantar ingest`` turns a
    scale's Tasmota message into this reading: tests/integration/test_sources.py); its id."""
    weighed = weighing_reading(f"{rt}-scale", rt, DeviceKind.weighing, at, {"kg": kg})
    assert services.store.write([weighed], []).stored == 1
    return f"{weighed.device_id}:{weighed.seq}"


def test_a_scales_weighing_becomes_one_deposits_weight_and_only_once(
    services: Services, url: str, rts: list[str]
) -> None:
    rt, other = rts[7], rts[8]
    now = datetime.now(WIB).replace(microsecond=0)
    first = scale_weighs(services, rt, now - timedelta(minutes=10), 2.35)
    second = scale_weighs(services, rt, now - timedelta(minutes=5), 1.2)
    elsewhere = scale_weighs(services, other, now - timedelta(minutes=5), 9.9)
    operator = bearer(token(services, Role.operator, rt))
    weighings = f"{url}/api/v1/rts/{rt}/bank-sampah/weighings"
    listed = httpx.get(weighings, headers=operator)
    assert listed.status_code == 200, listed.text
    assert [(w["id"], w["kg"]) for w in listed.json()] == [(second, 1.2), (first, 2.35)]  # newest first, the RT's
    assert httpx.get(weighings, headers=bearer(token(services, Role.security_post, rt))).status_code == 403
    theirs = httpx.get(weighings.replace(rt, other), headers=bearer(token(services, Role.operator, other)))
    assert [w["id"] for w in theirs.json()] == [elsewhere]

    def deposit(key: str, weighing: str, kg: float) -> httpx.Response:
        body = {
            "ts": now.isoformat(),
            "deposit_id": key,
            "household": "hh_tini01",
            "items": {"plastik": kg},
            "price_idr_per_kg": {"plastik": 3000},
        }
        return httpx.post(
            f"{url}/api/v1/rts/{rt}/bank-sampah/deposits",
            params={"weighing": weighing},
            json=body,
            headers={**operator, "Idempotency-Key": key},
        )

    assert deposit("w-1", first, 2.35).status_code == 201
    assert deposit("w-1", first, 2.35).json()["status"] == "duplicate"  # a resend: the same deposit
    assert [w["id"] for w in httpx.get(weighings, headers=operator).json()] == [second]
    taken = deposit("w-2", first, 2.35)
    assert (taken.status_code, taken.json()["reason"]) == (409, "weighing_taken")
    assert taken.json()["detail_id"] == "Hasil timbangan ini sudah dipakai untuk setoran lain"
    assert deposit("w-3", second, 1.5).json()["reason"] == "weighing_mismatch"
    assert deposit("w-4", elsewhere, 9.9).json()["reason"] == "unknown_weighing"
    assert [d.kg for d in services.store.rt_readings(rt, 0, 2**53).of(DeviceKind.bank_sampah)] == [{"plastic": 2.35}]
    refusals = ["forbidden_role", "weighing_taken", "weighing_mismatch", "unknown_weighing"]  # the post's look first
    assert denials(services, "post_deposit", rt) == refusals
    assert deposit("w-3", second, 1.2).status_code == 201  # the refused entry, corrected, under its key
    assert httpx.get(weighings, headers=operator).json() == []
