"""Evidence, scores, summaries and alerts (read only)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import PrincipalDep, ServicesDep, require, require_rt
from api.errors import AUTHENTICATED, ApiError, bad_request, refusals, unknown
from api.params import AreaCode, RTCode
from api.period import PeriodDep
from bantar.domain.access import Action, Principal
from bantar.domain.alert_text import kind_alert_words
from bantar.domain.evidence import DayEvidence
from bantar.domain.registry import Award, Category, RTPlace
from bantar.domain.scoring import Rules
from bantar.domain.timebase import from_epoch_ms
from bantar.domain.topics import DeviceKind
from bantar.evidence_service import PeriodScores, Summary
from bantar.kinds.contract import Chart, Plot
from bantar.kinds.registry import plugins
from bantar.services import Services

router = APIRouter(prefix="/api/v1", tags=["evidence"], responses=refusals(*AUTHENTICATED))
Level = Literal["city", "kecamatan", "kelurahan"]


class DevicePublic(BaseModel):
    id: str
    kind: DeviceKind
    kind_name: dict[str, str]
    """what people call a device of its kind, by language (``id``, ``en``): from its plug-in"""
    interval_s: int
    active: bool
    last_seen: datetime | None


class RTPlacePublic(BaseModel):
    """An RT and where it sits in the city."""

    code: str
    number: int
    kk_count: int
    category: Category
    kelurahan_code: str
    kelurahan_name: str
    kecamatan_code: str
    kecamatan_name: str

    @classmethod
    def fields_of(cls, place: RTPlace) -> dict[str, object]:
        return {
            "code": place.rt.code,
            "number": place.rt.number,
            "kk_count": place.rt.kk_count,
            "category": place.rt.category,
            "kelurahan_code": place.kelurahan_code,
            "kelurahan_name": place.kelurahan_name,
            "kecamatan_code": place.kecamatan_code,
            "kecamatan_name": place.kecamatan_name,
        }


class RTPublic(RTPlacePublic):
    awards: list[Award]
    devices: list[DevicePublic]


class RTRow(RTPlacePublic):
    """One line of the city table: where the RT stands for the period."""

    awarded: bool
    bersih: int | None
    """lowest suggested score among the sensor-backed Bersih criteria with enough evidence"""
    aman: int | None
    coverage: float | None
    """mean coverage of the RT's device figures"""
    reassessment_alerts: int
    device_alerts: int
    quality_alerts: int = 0
    kind_alerts: int = 0
    """raised by a device kind from its figures (e.g. ``flood_danger``: bahaya banjir)"""
    """data-quality and clock-skew alerts of the RT's devices"""
    in_progress: bool = False
    """the period includes today ("berjalan")"""


class Me(BaseModel):
    name: str
    role: str
    scope_level: str
    scope_code: str | None


class EvidenceList(BaseModel):
    data: list[DayEvidence]
    count: int


def _rt(services: Services, who: Principal, code: str) -> str:
    require_rt(services, who, code, Action.read_evidence)
    return code


def _scope(services: Services, who: Principal, level: Level, code: str | None) -> str | None:
    """Check the area exists and lies inside the token's scope; return its code (None: city)."""
    require(who, Action.read_evidence)
    if level != "city" and code is None:
        raise bad_request("missing_code", f"level {level} needs a code", f"Tingkat {level} perlu kode wilayah")
    codes = services.registry.rts_in(level, code)
    if not codes:
        raise unknown(level, code or "")
    if not who.covers_area(level, code, [services.registry.rts[c] for c in codes]):
        raise ApiError(
            403,
            "out_of_scope",
            f"{level} {code or ''} is outside this token's scope".replace("  ", " "),
            "Wilayah ini di luar wilayah token",
        )
    return None if level == "city" else code


@router.get("/rts/{rt_code}", response_model=RTPublic, summary="An RT: where it is, its households, awards, devices")
def rt_detail(rt_code: RTCode, services: ServicesDep, who: PrincipalDep) -> RTPublic:
    place = services.registry.rts[_rt(services, who, rt_code)]
    seen = services.store.last_seen()
    return RTPublic(
        **RTPlacePublic.fields_of(place),  # type: ignore[arg-type]  # a dict of the model's own fields
        awards=place.rt.awards,
        devices=[
            DevicePublic(
                id=d.id,
                kind=d.kind,
                kind_name=plugins()[d.kind].names._asdict(),
                interval_s=d.interval_s,
                active=d.active,
                last_seen=from_epoch_ms(seen[d.id]) if d.id in seen else None,
            )
            for d in services.registry.devices_in(rt_code)
        ],
    )


@router.get("/rts/{rt_code}/evidence", response_model=EvidenceList, summary="Daily evidence of an RT over a period")
def rt_evidence(rt_code: RTCode, period: PeriodDep, services: ServicesDep, who: PrincipalDep) -> EvidenceList:
    days = services.queries.evidence(_rt(services, who, rt_code), period.start, period.end)
    return EvidenceList(data=days, count=len(days))


@router.get(
    "/rts/{rt_code}/scores",
    response_model=PeriodScores,
    summary="Suggested 2/1/0 score per sensor-backed criterion, with the evidence behind it",
)
def rt_scores(rt_code: RTCode, period: PeriodDep, services: ServicesDep, who: PrincipalDep) -> PeriodScores:
    return services.queries.scores(_rt(services, who, rt_code), period.start, period.end)


class AreaSummary(Summary):
    alert_states: dict[str, int]
    """persisted alerts of the area by state: open, acknowledged, resolved"""


@router.get(
    "/summary",
    response_model=AreaSummary,
    summary="RTs per suggested level, coverage and open alerts, for the city, a kecamatan or a kelurahan",
)
def summary(
    period: PeriodDep,
    services: ServicesDep,
    who: PrincipalDep,
    level: Level = "city",
    code: AreaCode = None,
) -> AreaSummary:
    scope = _scope(services, who, level, code)
    found = services.queries.summary(level, scope, period.start, period.end)
    # the alert book as the evidence loop last synced it (``after_evidence_turn``): a sync here
    # would make the first request after each evidence update recompute the city's alerts
    states = services.alerts.book.state_counts(None if level == "city" else services.registry.rts_in(level, scope))
    return AreaSummary(**found.model_dump(), alert_states=states)


@router.get(
    "/kencana",
    response_model=list[str],
    summary="RTs that held their awarded level for the configured months (Kampung BANTAR Kencana)",
)
def kencana(services: ServicesDep, who: PrincipalDep) -> list[str]:
    require(who, Action.read_evidence)
    return [c for c in services.queries.kencana_candidates() if who.covers(services.registry.rts[c])]


@router.get("/me", response_model=Me, summary="Who the token belongs to: name, role and scope")
def me(who: PrincipalDep) -> Me:
    return Me(name=who.name, role=who.role.value, scope_level=who.scope_level.value, scope_code=who.scope_code)


@router.get("/rts", response_model=list[RTRow], summary="Every RT in the token's scope with its levels and alerts")
def rt_rows(period: PeriodDep, services: ServicesDep, who: PrincipalDep) -> list[RTRow]:
    require(who, Action.read_evidence)
    codes = [c for c, place in services.registry.rts.items() if who.covers(place)]
    scores = services.queries.bulk_scores(list(services.registry.rts), period.start, period.end)
    listed = services.queries.alerts(codes)
    alerts = Counter((a.rt_code, a.kind) for a in listed)
    kind_codes = kind_alert_words().keys()  # the alerts device kinds raise (the others are the service's)
    raised_by_kinds = Counter(a.rt_code for a in listed if a.kind in kind_codes)
    rows = []
    for code in codes:
        place = services.registry.rts[code]
        by_name = {c.criterion: c for c in scores[code].criteria}
        bersih = [c.score for n, c in by_name.items() if n.startswith("bersih.") and c.score is not None]
        coverages = [i.coverage for c in by_name.values() for i in c.indicators if i.coverage is not None]
        rows.append(
            RTRow(
                **RTPlacePublic.fields_of(place),  # type: ignore[arg-type]  # a dict of the model's own fields
                awarded=bool(place.rt.awards),
                bersih=min(bersih) if bersih else None,
                aman=by_name["aman.b"].score if "aman.b" in by_name else None,
                coverage=round(sum(coverages) / len(coverages), 3) if coverages else None,
                reassessment_alerts=alerts[(code, "reassessment")],
                device_alerts=alerts[(code, "device_silent")],
                quality_alerts=alerts[(code, "data_quality")] + alerts[(code, "clock_skew")],
                kind_alerts=raised_by_kinds[code],
                in_progress=scores[code].in_progress,
            )
        )
    return rows


@router.get(
    "/criteria",
    response_model=dict[str, dict[str, str]],
    summary="The programme's 21 criteria: names in Bahasa Indonesia (id) and English (en)",
)
def criteria(services: ServicesDep, who: PrincipalDep) -> dict[str, dict[str, str]]:
    require(who, Action.read_evidence)
    return services.criteria


@router.get(
    "/rules",
    response_model=Rules,
    summary="The indicator rules and thresholds, each labelled as the programme's (with source) or an assumption",
)
def rules(services: ServicesDep, who: PrincipalDep) -> Rules:
    require(who, Action.read_evidence)
    return services.rules


class ChartSeries(BaseModel):
    figure: str
    """the plug-in's name of the figure (empty for a constant line)"""
    path: list[str]
    """where a day's value is in ``DayEvidence`` (``["kinds", "water_level", "max_level_cm"]``,
    ``["deposit_kg", "plastic"]``)"""
    label: dict[str, str]
    type: Literal["line", "bar"] | None = None
    """a line in a bar chart, or a bar in a line chart"""
    axis: Literal["y", "y2"] = "y"
    """``y2``: the second scale, on the right, from zero"""
    per: list[str] | None = None
    """drawn as a percentage of the figure at this path (none on a day it is 0)"""
    constant: float | None = None
    """a fixed reference line (dashed, without points) instead of a figure"""
    color: str | None = None
    """None: the dashboard's palette, by position"""
    stack: str | None = None


class KindChart(BaseModel):
    kind: str
    canvas: str
    """the dashboard's element id"""
    root: list[str]
    """drawn for an RT with a value at this path on some day (``[]``: every RT)"""
    title: dict[str, str]
    type: str
    """``line`` or ``bar`` (Chart.js)"""
    series: list[ChartSeries]
    y_min: float | None = None
    y_max: float | None = None
    stacked: bool = False


def _kind_chart(kind: DeviceKind, c: Chart, rules: Rules) -> KindChart:
    root = [] if c.named else ["kinds", kind.value]

    def path(figure: str) -> list[str]:
        return [*root, *figure.split(".")] if figure else []

    def constant(p: Plot) -> float | None:
        return p.constant if p.rule is None else float(getattr(rules, p.rule))

    def label(p: Plot, text: str) -> str:
        return text if p.rule is None else text.replace("{rule}", f"{constant(p):g}")

    plots = [s if isinstance(s, Plot) else Plot(*s) for s in c.series]
    return KindChart(
        kind=kind.value,
        canvas=c.canvas or f"c-kind-{kind.value}",
        root=root,
        title={"id": c.title_id, "en": c.title_en},
        type=c.type,
        series=[
            ChartSeries(
                figure=p.figure,
                path=path(p.figure),
                label={"id": label(p, p.label_id), "en": label(p, p.label_en)},
                type=p.type,
                axis=p.axis,
                per=path(p.per) if p.per else None,
                constant=constant(p),
                color=p.color,
                stack=p.stack,
            )
            for p in plots
        ],
        y_min=c.y_min,
        y_max=c.y_max,
        stacked=c.stacked,
    )


@router.get(
    "/charts",
    response_model=list[KindChart],
    summary="How the dashboard charts each device kind's daily figures (DayEvidence), in kind order",
)
def charts(services: ServicesDep, who: PrincipalDep) -> list[KindChart]:
    require(who, Action.read_evidence)
    return [_kind_chart(kind, c, services.rules) for kind, p in plugins().items() if (c := p.chart) is not None]
