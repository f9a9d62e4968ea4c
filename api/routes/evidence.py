"""Evidence, scores, summaries and alerts (read only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api.deps import ServicesDep
from api.errors import bad_request, unknown
from api.period import PeriodDep
from bantar.bootstrap import Services
from bantar.domain.evidence import DayEvidence
from bantar.domain.registry import Award, Category
from bantar.domain.timebase import from_epoch_ms
from bantar.domain.topics import DeviceKind
from bantar.evidence_service import Alert, PeriodScores, Summary

router = APIRouter(prefix="/api/v1", tags=["evidence"])
RTCode = Annotated[str, Path(description="RT code, e.g. 1571010001-003", max_length=40)]
Level = Literal["city", "kecamatan", "kelurahan"]


class DevicePublic(BaseModel):
    id: str
    kind: DeviceKind
    interval_s: int
    active: bool
    last_seen: datetime | None


class RTPublic(BaseModel):
    code: str
    number: int
    kk_count: int
    category: Category
    kelurahan_code: str
    kelurahan_name: str
    kecamatan_code: str
    kecamatan_name: str
    awards: list[Award]
    devices: list[DevicePublic]


class EvidenceList(BaseModel):
    data: list[DayEvidence]
    count: int


class AlertList(BaseModel):
    data: list[Alert]
    count: int


def _rt(services: Services, code: str) -> str:
    if code not in services.registry.rts:
        raise unknown("RT", code)
    return code


def _scope(services: Services, level: Level, code: str | None) -> str | None:
    if level == "city":
        return None
    if code is None:
        raise bad_request("missing_code", f"level {level} needs a code", f"Tingkat {level} perlu kode wilayah")
    key = "kecamatan_code" if level == "kecamatan" else "kelurahan_code"
    if not any(getattr(p, key) == code for p in services.registry.rts.values()):
        raise unknown(level, code)
    return code


@router.get("/rts/{rt_code}", response_model=RTPublic, summary="An RT: where it is, its households, awards, devices")
def rt_detail(rt_code: RTCode, services: ServicesDep) -> RTPublic:
    place = services.registry.rts[_rt(services, rt_code)]
    seen = services.store.last_seen()
    return RTPublic(
        code=place.rt.code,
        number=place.rt.number,
        kk_count=place.rt.kk_count,
        category=place.rt.category,
        kelurahan_code=place.kelurahan_code,
        kelurahan_name=place.kelurahan_name,
        kecamatan_code=place.kecamatan_code,
        kecamatan_name=place.kecamatan_name,
        awards=place.rt.awards,
        devices=[
            DevicePublic(
                id=d.id,
                kind=d.kind,
                interval_s=d.interval_s,
                active=d.active,
                last_seen=from_epoch_ms(seen[d.id]) if d.id in seen else None,
            )
            for d in services.registry.devices_in(rt_code)
        ],
    )


@router.get("/rts/{rt_code}/evidence", response_model=EvidenceList, summary="Daily evidence of an RT over a period")
def rt_evidence(rt_code: RTCode, period: PeriodDep, services: ServicesDep) -> EvidenceList:
    days = services.queries.evidence(_rt(services, rt_code), period.start, period.end)
    return EvidenceList(data=days, count=len(days))


@router.get(
    "/rts/{rt_code}/scores",
    response_model=PeriodScores,
    summary="Suggested 2/1/0 score per sensor-backed criterion, with the evidence behind it",
)
def rt_scores(rt_code: RTCode, period: PeriodDep, services: ServicesDep) -> PeriodScores:
    return services.queries.scores(_rt(services, rt_code), period.start, period.end)


@router.get(
    "/summary",
    response_model=Summary,
    summary="RTs per suggested level, coverage and open alerts, for the city, a kecamatan or a kelurahan",
)
def summary(
    period: PeriodDep,
    services: ServicesDep,
    level: Level = "city",
    code: Annotated[str | None, Query(max_length=40)] = None,
) -> Summary:
    return services.queries.summary(level, _scope(services, level, code), period.start, period.end)


@router.get("/alerts", response_model=AlertList, summary="Open re-assessment and silent-device alerts")
def alerts(
    services: ServicesDep,
    level: Level = "city",
    code: Annotated[str | None, Query(max_length=40)] = None,
    kind: Literal["reassessment", "device_silent"] | None = None,
) -> AlertList:
    scope = _scope(services, level, code)
    found = services.queries.alerts(None if scope is None else services.queries.rts_in(level, scope))
    if kind:
        found = [a for a in found if a.kind == kind]
    return AlertList(data=found, count=len(found))


@router.get(
    "/kencana",
    response_model=list[str],
    summary="RTs that held their awarded level for the configured months (Kampung BANTAR Kencana)",
)
def kencana(services: ServicesDep) -> list[str]:
    return services.queries.kencana_candidates()
