"""The read API over the simulated kelurahan (in-process ASGI client, real SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.services import Services
from ingest.broker import free_port
from tests.world import World, services_for


@pytest.fixture(scope="module")
def services(world: World, tmp_path_factory: pytest.TempPathFactory) -> Services:
    return services_for(world, tmp_path_factory.mktemp("app") / "app.db")


@pytest.fixture(scope="module")
def server(services: Services) -> Iterator[BackgroundServer]:
    running = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(services: Services, server: BackgroundServer) -> Iterator[httpx.Client]:
    """An assessor for the whole city."""
    _, token = services.app_db.create_token("Tim penilai kota", Role.assessor, ScopeLevel.city, None)
    with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


def test_rt_evidence_for_a_range(client: httpx.Client, world: World) -> None:
    code = world.lapsing[0]
    response = client.get(f"/api/v1/rts/{code}/evidence", params={"start": "2026-10-01", "end": "2026-10-07"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    assert [d["day"] for d in body["data"]] == [f"2026-10-0{i}" for i in range(1, 8)]
    assert "hh-" not in response.text  # household counts only, never the pseudonymous ids


def test_scores_for_a_month_and_a_quarter(client: httpx.Client, world: World) -> None:
    code = world.lapsing[0]
    month = client.get(f"/api/v1/rts/{code}/scores", params={"month": "2026-10"}).json()
    assert (month["start"], month["end"]) == ("2026-10-01", "2026-10-31")
    assert {c["criterion"] for c in month["criteria"]} == {"bersih.b", "bersih.c", "bersih.g", "aman.b"}
    quarter = client.get(f"/api/v1/rts/{code}/scores", params={"quarter": "2026-Q4"}).json()
    assert (quarter["start"], quarter["end"]) == ("2026-10-01", "2026-12-31")
    assert quarter["category"]["award_idr"] in (5_000_000, 7_500_000, 10_000_000)


def test_summaries_at_each_level(client: httpx.Client, world: World) -> None:
    place = world.registry.rts[world.lapsing[0]]
    for level, code in (("city", None), ("kecamatan", place.kecamatan_code), ("kelurahan", place.kelurahan_code)):
        area = {"level": level, "month": "2026-10"} | ({"code": code} if code else {})
        response = client.get("/api/v1/summary", params=area)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rts"] == 23
        assert body["open_alerts"]["reassessment"] >= len(world.lapsing)


def test_alerts_name_the_lapsing_rts(client: httpx.Client, world: World) -> None:
    body = client.get("/api/v1/alerts", params={"kind": "reassessment"}).json()
    assert {a["rt_code"] for a in body["data"]} >= set(world.lapsing)
    assert all("penilaian ulang" in a["message_id"] for a in body["data"])


def test_rt_detail_lists_devices_with_their_last_report(client: httpx.Client, world: World) -> None:
    body = client.get(f"/api/v1/rts/{world.lapsing[0]}").json()
    assert body["devices"]
    assert all(d["last_seen"] for d in body["devices"] if d["kind"] == "bin")


@pytest.mark.parametrize(
    ("path", "params", "status", "reason", "words"),
    [
        ("/api/v1/rts/9999-001/evidence", {}, 404, "unknown_rt", "RT '9999-001' is not in the registry"),
        ("/api/v1/rts/9999-001/scores", {}, 404, "unknown_rt", "9999-001"),
        ("/api/v1/summary", {"level": "kecamatan", "code": "0000000"}, 404, "unknown_kecamatan", "0000000"),
        ("/api/v1/summary", {"level": "kelurahan"}, 422, "missing_code", "needs a code"),
        (
            "/api/v1/summary",
            {"start": "2026-10-10", "end": "2026-10-01"},
            422,
            "bad_period",
            "end 2026-10-01 is before start 2026-10-10",
        ),
        ("/api/v1/summary", {"start": "2024-01-01", "end": "2026-10-01"}, 422, "bad_period", "at most 366"),
        ("/api/v1/summary", {"month": "2026-13"}, 422, "invalid_field", "month: String should match pattern"),
        ("/api/v1/summary", {"quarter": "2026-Q5"}, 422, "invalid_field", "quarter: String should match pattern"),
        ("/api/v1/summary", {"quarter": "0000-Q1"}, 422, "invalid_field", "quarter"),  # found by schemathesis: was 500
        ("/api/v1/summary", {"start": "0001-01-01", "end": "0001-01-01"}, 422, "bad_period", "outside 2000-01-01"),
        ("/api/v1/summary", {"month": "2026-10", "start": "2026-10-01"}, 422, "ambiguous_period", "not several"),
        ("/api/v1/summary", {"start": "yesterday"}, 422, "invalid_field", "start"),
        ("/api/v1/summary", {"level": "province"}, 422, "invalid_field", "level"),
    ],
)
def test_errors_are_precise(
    client: httpx.Client, path: str, params: dict[str, str], status: int, reason: str, words: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    body = response.json()
    assert body["reason"] == reason
    assert words in body["detail"]
    assert body["detail_id"]


def test_openapi_documents_every_route(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for route in (
        "/api/v1/rts/{rt_code}/evidence",
        "/api/v1/rts/{rt_code}/scores",
        "/api/v1/summary",
        "/api/v1/alerts",
        "/api/v1/health",
    ):
        assert route in paths


def test_unknown_query_parameters_are_refused_with_the_ones_the_route_takes(client: httpx.Client) -> None:
    response = client.get("/api/v1/summary", params={"strat": "2026-10-01"})
    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "unknown_parameter"
    assert "strat" in body["detail"]
    assert "start" in body["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/summary", {"end": "0001-01-01"}),  # found by schemathesis: was a 500 (date overflow)
        ("/api/v1/audit", {"before_id": str(2**80)}),  # found by schemathesis: was a 500 (SQLite integer overflow)
    ],
)
def test_extreme_values_are_refused_not_crashed_on(client: httpx.Client, path: str, params: dict[str, str]) -> None:
    response = client.get(path, params=params)
    assert response.status_code in (403, 422), response.text


def test_a_query_parameter_given_twice_is_refused(client: httpx.Client) -> None:
    response = client.get("/api/v1/summary?start=2026-10-01&start=2026-10-05")
    assert response.status_code == 422
    assert response.json()["reason"] == "repeated_parameter"


def test_evidence_and_scores_carry_flags_revisions_sources_and_labels(client: httpx.Client, world: World) -> None:
    code = world.faulty[0]
    days = client.get(f"/api/v1/rts/{code}/evidence", params={"start": "2026-10-01", "end": "2026-10-07"}).json()
    for day in days["data"]:
        assert day["in_progress"] is False
        assert day["revision"] >= 1
        assert day["change_reason"]
        assert all({"device_id", "seq_first", "seq_last", "late"} <= set(s) for s in day["sources"])
        assert isinstance(day["flags"], list)
    quarter = client.get(f"/api/v1/rts/{code}/scores", params={"quarter": "2026-Q4"}).json()
    assert quarter["in_progress"] is True  # the quarter includes today
    aman = next(c for c in quarter["criteria"] if c["criterion"] == "aman.b")
    # the RT (002) watches the Batanghari bank: its flood hours are shown next to security, not scored
    assert [s["metric"] for s in aman["shown"]] == ["incidents_per_month", "flood_danger_hours_per_month"]
    assert aman["basis"]["source"] == "assumption"
    assert quarter["sources"]
    rules = client.get("/api/v1/rules").json()
    assert {"coverage_min", "assessment", "category_boundary"} <= set(rules["basis"])
    assert all(b["source"] in ("programme", "assumption") for b in rules["basis"].values())
