"""The role x action x scope matrix (``bantar.domain.access.MATRIX``), every cell over real HTTP:
a token of each role at each scope level acts on an RT inside its scope and on one outside it.
A cell the matrix allows answers 2xx; every other answers 403 and changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bantar.domain.access import MATRIX, Action, Role, ScopeLevel, Where, matrix_rows
from bantar.domain.registry import Kecamatan, Registry
from bantar.settings import ApiSettings
from bantar.stores.alertbook import CurrentAlert
from tests.integration.test_access import DEPOSIT, Town, opened_town
from tests.support import REPO


def two_kecamatan(city: Registry) -> Registry:
    """The first kelurahan of two kecamatan, with their devices."""
    picked = [Kecamatan(code=k.code, name=k.name, kelurahan=[k.kelurahan[0]]) for k in city.kecamatan[:2]]
    codes = {rt.code for k in picked for rt in k.kelurahan[0].rts}
    return Registry(kecamatan=picked, devices=[d for d in city.devices if d.rt in codes])


class Geography:
    """Scopes anchored at RT ``a``; ``z`` lies in the other kecamatan (outside every scope but the city)."""

    def __init__(self, town: Town, registry: Registry) -> None:
        first, second = registry.kecamatan
        self.a, self.z = first.kelurahan[0].rts[0].code, second.kelurahan[0].rts[0].code
        self.code = {
            ScopeLevel.rt: self.a,
            ScopeLevel.kelurahan: first.kelurahan[0].code,
            ScopeLevel.kecamatan: first.code,
            ScopeLevel.city: None,
        }
        self.bin_of = {d.rt: d.id for d in registry.devices if d.kind.value == "bin"}
        self.tokens = {
            (role, level): town.services.app_db.create_token(f"{role}-{level}", role, level, self.code[level])[1]
            for role in Role
            for level in ScopeLevel
        }


@pytest.fixture(scope="module")
def matrix_town(tmp_path_factory: pytest.TempPathFactory, city: Registry) -> Iterator[tuple[Town, Geography]]:
    registry = two_kecamatan(city)
    limits = ApiSettings(rate_per_token_s=1000, burst_per_token=1000)
    with opened_town(tmp_path_factory.mktemp("matrix"), registry, limits) as town:
        yield town, Geography(town, registry)


Probe = Callable[[Town, Geography, str, str, str], httpx.Response]
_n = itertools.count()


def _acknowledge(town: Town, geo: Geography, token: str, rt: str, key: str) -> httpx.Response:
    """Acknowledge an alert of this RT, opened for the probe (device silent)."""
    book = town.services.alerts.book
    book.sync([CurrentAlert(f"probe:{key}", "device_silent", rt, {})], 0, lambda _alert: [])
    alert = next(a for a in book.alerts([rt], ["open"]) if a.cause == f"probe:{key}")
    return town.call(token, "POST", f"/api/v1/alerts/{alert.id}/ack", json={"note": key})


def _post(what: str, body: dict[str, object]) -> Probe:
    def probe(town: Town, geo: Geography, token: str, rt: str, key: str) -> httpx.Response:
        return town.post(token, rt, what, body, key)

    return probe


PROBES: dict[Action, Probe] = {
    Action.read_evidence: lambda town, geo, token, rt, key: town.call(token, "GET", f"/api/v1/rts/{rt}/evidence"),
    Action.read_private: lambda town, geo, token, rt, key: town.call(
        token, "GET", f"/api/v1/rts/{rt}/bank-sampah/deposits"
    ),
    Action.post_deposit: _post("bank-sampah/deposits", DEPOSIT),
    Action.post_poskamling: _post("poskamling/reports", {"event": "duty", "on_duty": True, "guards": 2}),
    Action.post_gotong_royong: _post("gotong-royong", {"activity": "kerja bakti", "attendance": 12}),
    Action.assess: lambda town, geo, token, rt, key: town.call(
        token, "POST", "/api/v1/assessments", json={"rt_code": rt, "start": "2026-10-01", "end": "2026-10-31"}
    ),
    Action.manage_tokens: lambda town, geo, token, rt, key: town.call(
        token, "POST", "/api/v1/tokens", json={"name": key, "role": "operator", "scope_level": "rt", "scope_code": rt}
    ),
    Action.manage_devices: lambda town, geo, token, rt, key: town.call(
        token, "PATCH", f"/api/v1/devices/{geo.bin_of[rt]}", json={"active": True}
    ),
    Action.read_audit: lambda town, geo, token, rt, key: town.call(token, "GET", "/api/v1/audit"),
    Action.keep_bank_book: lambda town, geo, token, rt, key: town.call(
        token,
        "PUT",
        f"/api/v1/rts/{rt}/bank-sampah/prices",
        json={"material": "plastik", "price_idr_per_kg": 3000, "valid_from": "2026-11-01"},
    ),
    Action.read_members: lambda town, geo, token, rt, key: town.call(
        token, "GET", f"/api/v1/rts/{rt}/bank-sampah/members"
    ),
    Action.read_own_reports: lambda town, geo, token, rt, key: town.call(
        token, "GET", f"/api/v1/rts/{rt}/poskamling/reports"
    ),
    Action.manage_checkpoints: lambda town, geo, token, rt, key: town.call(
        token, "POST", f"/api/v1/rts/{rt}/poskamling/checkpoints", json={"label": key}
    ),
    Action.acknowledge_alert: _acknowledge,
    Action.issue_sign_in: lambda town, geo, token, rt, key: town.call(
        token,
        "POST",
        "/api/v1/sign-in-codes",
        json={"name": key, "role": "operator", "scope_level": "rt", "scope_code": rt},
    ),
}
"""one request per action; a new Action without a probe here fails the matrix test"""

CELLS = [
    (role, action, level, inside)
    for action in Action
    for role in Role
    for level in ScopeLevel
    for inside in (True, False)
    if inside or level is not ScopeLevel.city  # nothing lies outside the city
]


def allowed(role: Role, action: Action, level: ScopeLevel, inside: bool) -> bool:
    roles, where = MATRIX[action]
    if role not in roles:
        return False
    return level is ScopeLevel.city if where is Where.city else inside


@pytest.mark.parametrize(
    ("role", "action", "level", "inside"),
    CELLS,
    ids=[f"{r}-{a}-{lv}-{'in' if i else 'out'}" for r, a, lv, i in CELLS],
)
def test_every_cell_of_the_access_matrix(
    matrix_town: tuple[Town, Geography], role: Role, action: Action, level: ScopeLevel, inside: bool
) -> None:
    town, geo = matrix_town
    rt = geo.a if inside else geo.z
    before = town.services.store.counts().readings
    response = PROBES[action](town, geo, geo.tokens[(role, level)], rt, f"m-{next(_n)}")
    if allowed(role, action, level, inside):
        assert response.status_code in (200, 201), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["reason"] in ("forbidden_role", "out_of_scope", "scope_too_wide")
        assert town.services.store.counts().readings == before


def test_the_readme_prints_the_matrix_the_code_enforces() -> None:
    assert "\n".join(matrix_rows()) in (REPO / "README.md").read_text()


def test_a_scoped_admin_never_grants_wider_and_never_reaches_outside(matrix_town: tuple[Town, Geography]) -> None:
    town, geo = matrix_town
    admin = geo.tokens[(Role.admin, ScopeLevel.kelurahan)]
    for scope in ({"scope_level": "city"}, {"scope_level": "kecamatan", "scope_code": geo.code[ScopeLevel.kecamatan]}):
        wider = town.call(admin, "POST", "/api/v1/tokens", json={"name": "x", "role": "admin", **scope})
        assert wider.status_code == 403, wider.text
        assert wider.json()["reason"] == "scope_too_wide"
    city_token_id = town.services.app_db.create_token("kota", Role.operator, ScopeLevel.city, None)[0]
    outside_id = town.services.app_db.create_token("luar", Role.operator, ScopeLevel.rt, geo.z)[0]
    for token_id in (city_token_id, outside_id, "no-such-token"):
        refused = town.call(admin, "DELETE", f"/api/v1/tokens/{token_id}")
        assert refused.status_code == 404  # alike whether it exists outside the scope or not at all
    listed = {t["id"] for t in town.call(admin, "GET", "/api/v1/tokens").json()}
    assert city_token_id not in listed
    assert outside_id not in listed
    devices = {d["rt"] for d in town.call(admin, "GET", "/api/v1/devices").json()}
    assert devices
    assert geo.z not in devices
    assert town.call(admin, "GET", "/api/v1/audit").status_code == 403
    assert all(t.revoked_ms is None for t in town.services.app_db.tokens() if t.id in (city_token_id, outside_id))


def test_the_matrix_test_knows_every_action(tmp_path: Path) -> None:
    assert set(PROBES) == set(Action)
