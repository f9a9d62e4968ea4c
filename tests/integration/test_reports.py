"""Reports over the simulated kelurahan, downloaded from the real API: the XLSX opens with
openpyxl and its totals equal the JSON's; the CSVs have the documented columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pytest
from openpyxl import load_workbook

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.reports import BANK_SAMPAH_COLUMNS, OPEN_DATA_COLUMNS
from bantar.services import Services
from ingest.broker import free_port
from tests.world import World, services_for


@pytest.fixture(scope="module")
def client(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    services: Services = services_for(world, tmp_path_factory.mktemp("reports") / "app.db")
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    _, token = services.app_db.create_token("DLH", Role.assessor, ScopeLevel.city, None)
    with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        yield http
    server.stop()


def sheet_rows(content: bytes) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = list(book["data"].iter_rows(values_only=True))
    book.close()
    return rows


@pytest.mark.parametrize("level", ["rt", "kelurahan", "kecamatan"])
def test_bank_sampah_xlsx_totals_equal_the_api(client: httpx.Client, world: World, level: str) -> None:
    place = world.registry.rts[world.lapsing[0]]
    code = {"rt": place.rt.code, "kelurahan": place.kelurahan_code, "kecamatan": place.kecamatan_code}[level]
    params = {"level": level, "code": code, "month": "2026-10"}
    report = client.get("/api/v1/reports/bank-sampah", params=params).json()
    totals = report["totals"]
    assert totals["setoran"] > 0
    assert totals["kg_total"] > 0
    assert totals["nasabah_aktif"] > 0
    assert totals["omzet_idr"] > 0, "the simulated operators send prices"
    assert totals["setoran"] == sum(r["setoran"] for r in report["rows"])
    response = client.get("/api/v1/reports/bank-sampah", params={**params, "format": "xlsx"})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = sheet_rows(response.content)
    header = [c.name for c in BANK_SAMPAH_COLUMNS]
    assert list(rows[1]) == header
    last = dict(zip(header, rows[1 + len(report["rows"]) + 1], strict=True))
    assert last == totals
    as_csv = client.get("/api/v1/reports/bank-sampah", params={**params, "format": "csv"}).text
    assert next(csv.reader(io.StringIO(as_csv))) == header


def test_evidence_recap_lists_every_rt_with_its_levels_and_alerts(client: httpx.Client, world: World) -> None:
    kel = world.registry.rts[world.lapsing[0]].kelurahan_code
    params = {"level": "kelurahan", "code": kel, "month": "2026-10"}
    report = client.get("/api/v1/reports/evidence-recap", params=params).json()
    assert len(report["rows"]) == len(world.registry.rts_in("kelurahan", kel))
    lapsing = next(r for r in report["rows"] if r["kode_rt"] == world.lapsing[0])
    assert lapsing["peringatan_aktif"] >= 1
    assert {lapsing[f"skor_{c}"] for c in ("bersih.b", "aman.b")} <= {0, 1, 2, "bukti kurang"}
    rows = sheet_rows(client.get("/api/v1/reports/evidence-recap", params={**params, "format": "xlsx"}).content)
    assert rows[-1][-1] == report["totals"]["peringatan_aktif"]


def test_open_data_csv_has_the_documented_columns_and_kemendagri_codes(client: httpx.Client) -> None:
    period = {"start": "2026-10-01", "end": "2026-10-07"}
    meta = client.get("/api/v1/open-data/daily-evidence/metadata", params=period).json()
    assert {"title", "notes", "source", "license_id", "temporal_start", "temporal_end", "frequency"} <= set(meta)
    fields = [f["id"] for f in meta["resources"][0]["fields"]]
    assert fields == [c.name for c in OPEN_DATA_COLUMNS]
    assert all(f["description"] for f in meta["resources"][0]["fields"])
    response = client.get("/api/v1/open-data/daily-evidence.csv", params=period)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == fields
    assert len(rows) == 7 * 23
    assert {r["kode_kota"] for r in rows} == {"15.71"}
    assert all(r["kode_kelurahan"].startswith(r["kode_kecamatan"] + ".1") for r in rows)
    assert "hh-" not in response.text
