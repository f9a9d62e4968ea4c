"""Reports as JSON, CSV or XLSX (bank sampah, evidence recap) and the open-data export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from api.deps import PrincipalDep, ServicesDep, require_rt
from api.errors import AUTHENTICATED, refusals
from api.params import AreaCode
from api.period import PeriodDep
from api.routes.alerts import area_codes
from bantar.domain.access import Action, Principal
from bantar.report_files import csv_bytes, xlsx_bytes
from bantar.reports import Level, Table, bank_sampah, evidence_recap, open_data, open_data_metadata
from bantar.services import Services

router = APIRouter(prefix="/api/v1", tags=["reports"], responses=refusals(*AUTHENTICATED))
Format = Literal["json", "csv", "xlsx"]
FormatParam = Annotated[Format, Query(alias="format")]
"""``?format=``, named ``file_format`` in Python (``format`` is a builtin)"""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {}, "text/csv": {}, XLSX: {}},
        "description": "the table (columns with descriptions, rows, totals, notes) as JSON, CSV or XLSX (format=)",
    }
}


def _area(services: Services, who: Principal, level: Level, code: str | None) -> str:
    """Check the area and the token's scope over it; return its code."""
    if level == "rt":
        require_rt(services, who, code or "", Action.read_evidence)
        return code or ""
    area_codes(services, who, level, code)
    return code or ""


def _answer(table: Table, fmt: Format, name: str) -> Response:
    if fmt == "json":
        return JSONResponse(table.as_json())
    if fmt == "csv":
        content, media = csv_bytes(table), "text/csv; charset=utf-8"
    else:
        content, media = xlsx_bytes(table), XLSX
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@router.get(
    "/reports/bank-sampah",
    summary="Monthly bank sampah report of an RT, a kelurahan or a kecamatan (kg per material, members, turnover)",
    responses=TABLE_FILES,
)
def bank_sampah_report(
    period: PeriodDep,
    services: ServicesDep,
    who: PrincipalDep,
    level: Level,
    code: AreaCode = None,
    file_format: FormatParam = "json",
) -> Response:
    area = _area(services, who, level, code)
    table = bank_sampah(services.store, services.registry, level, area, period.start, period.end)
    return _answer(table, file_format, f"bank-sampah-{level}-{area}-{period.start:%Y-%m}")


@router.get(
    "/reports/evidence-recap",
    summary="The programme's monthly evidence recap per RT: suggested levels, coverage, alerts",
    responses=TABLE_FILES,
)
def evidence_recap_report(
    period: PeriodDep,
    services: ServicesDep,
    who: PrincipalDep,
    level: Level,
    code: AreaCode = None,
    file_format: FormatParam = "json",
) -> Response:
    area = _area(services, who, level, code)
    services.alerts.refresh()
    table = evidence_recap(
        services.queries, services.alerts.book, services.registry, level, area, period.start, period.end
    )
    return _answer(table, file_format, f"rekap-bukti-{level}-{area}-{period.start:%Y-%m}")


@router.get(
    "/open-data/daily-evidence.csv",
    summary="Open data: daily evidence per RT with Kemendagri area codes (CSV; columns in the metadata)",
    responses={200: {"content": {"text/csv": {}}}},
)
def open_data_csv(
    period: PeriodDep,
    services: ServicesDep,
    who: PrincipalDep,
    level: Literal["city", "kecamatan", "kelurahan"] = "city",
    code: AreaCode = None,
) -> Response:
    codes = area_codes(services, who, level, code)
    table = open_data(services.store, services.registry, codes, period.start, period.end)
    name = f"bantar-bukti-harian-{period.start}-{period.end}"
    return Response(
        csv_bytes(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get(
    "/open-data/daily-evidence/metadata",
    summary="Open data: the metadata record (title, source, licence, period, frequency, columns) for CKAN / Satu Data",
)
def open_data_meta(period: PeriodDep, services: ServicesDep, who: PrincipalDep) -> dict[str, Any]:
    area_codes(services, who, None, None)
    name = f"bantar-bukti-harian-{period.start}-{period.end}.csv"
    return open_data_metadata(period.start, period.end, services.alerts.now(), name)
