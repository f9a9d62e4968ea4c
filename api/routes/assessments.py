"""Assessments: open (pre-filled with the sensors' suggestions), score, sign, correct, export."""

from __future__ import annotations

import html
import io
import secrets
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep, client_address, require, require_rt, unknown_or_forbidden
from api.errors import AUTHENTICATED, ApiError, bad_request, refusals
from api.params import AreaCode
from api.period import MAX_DAYS
from api.spreadsheet import safe_writer
from bantar.domain.access import Action, Principal
from bantar.domain.assessment import (
    ALL_CRITERIA,
    Agency,
    Assessment,
    MemberScore,
    Recap,
    RecapRule,
    Status,
    evidence_hash,
)
from bantar.domain.errors import Reason, StoreError
from bantar.domain.registry import CODE_PATTERN
from bantar.evidence_service import LiveFigure
from bantar.services import Services
from bantar.stores.appdb import AuditNote

router = APIRouter(prefix="/api/v1/assessments", tags=["assessments"], responses=refusals(*AUTHENTICATED, 409, 413))


class AssessmentOpen(BaseModel):
    rt_code: str = Field(pattern=CODE_PATTERN)
    start: date
    end: date
    recap_rule: RecapRule | None = None
    """default: the rules' ``assessment.recap``"""


class ScoreIn(BaseModel):
    criterion: Literal[ALL_CRITERIA]  # type: ignore[valid-type]  # the criteria's names, a tuple known at import
    score: Literal[0, 1, 2]
    comment: str = Field(default="", max_length=500)


class ScoresIn(BaseModel):
    agency: Agency
    scores: list[ScoreIn] = Field(min_length=1, max_length=len(ALL_CRITERIA))


class AssessmentOut(BaseModel):
    assessment: Assessment
    recap: Recap
    live: list[LiveFigure] = []
    """figures whose live value now differs from the one the assessment holds, and since when"""


def _out(a: Assessment) -> AssessmentOut:
    return AssessmentOut(assessment=a, recap=a.recap())


def _load(services: Services, who: Principal, assessment_id: str, action: Action) -> Assessment:
    found = services.app_db.assessment(assessment_id)
    if found is None:
        require(who, action)
        raise unknown_or_forbidden(services, None, who, action, "assessment", assessment_id, Reason.unknown_assessment)
    try:
        require_rt(services, who, found.rt_code, action)
    except ApiError as refused:
        if refused.reason is Reason.out_of_scope:  # answered as an unknown one would be
            raise ApiError(403, Reason.out_of_scope, what="assessment", code=repr(assessment_id[:40])) from None
        raise
    return found


def _open_only(a: Assessment) -> None:
    if a.status is Status.signed:
        raise ApiError(
            409,
            "assessment_signed",
            f"assessment {a.id} is signed and cannot change; open a correction",
            "Penilaian sudah ditandatangani dan tidak dapat diubah; buat koreksi",
        )


def _save(services: Services, a: Assessment, note: AuditNote) -> None:
    """Save and audit in one transaction."""
    try:
        services.app_db.save_assessment(a, note)
    except StoreError as exc:  # the database's own guard against changing a signed record
        raise ApiError(409, "assessment_signed", str(exc), "Penilaian sudah ditandatangani") from None


@router.post(
    "",
    response_model=AssessmentOut,
    status_code=201,
    summary="Open an assessment of an RT for a period (200 with the open draft of the same RT, period and rule)",
)
def open_assessment(
    body: AssessmentOpen, request: Request, response: Response, services: ServicesDep, who: PrincipalDep
) -> AssessmentOut:
    require_rt(services, who, body.rt_code, Action.assess)
    if body.end < body.start or (body.end - body.start).days + 1 > MAX_DAYS:
        raise bad_request(
            "bad_period",
            f"the period {body.start} to {body.end} is reversed or longer than {MAX_DAYS} days",
            "Periode terbalik atau terlalu panjang",
        )
    draft = _open_draft(services, body)
    if draft is not None:
        response.status_code = 200
        return _out(draft)
    scores = services.queries.scores(body.rt_code, body.start, body.end)
    assessment = Assessment(
        id=secrets.token_hex(6),
        version=1,
        previous_id=None,
        rt_code=body.rt_code,
        start=body.start,
        end=body.end,
        recap_rule=_recap_rule(services, body),
        pass_share=services.rules.assessment.pass_share,
        no_zero=services.rules.assessment.no_zero,
        status=Status.open,
        created_by=who.name,
        created_at=datetime.now(UTC),
        category=scores.category.category,
        award_idr=scores.category.award_idr,
        suggested={c.criterion: c.score for c in scores.criteria},
        evidence=scores.model_dump(mode="json"),
        member_scores=[],
    )
    _save(
        services,
        assessment,
        AuditNote(who, "assessment_open", assessment.id, {"rt_code": body.rt_code}, client_address(request)),
    )
    return _out(assessment)


def _recap_rule(services: Services, body: AssessmentOpen) -> RecapRule:
    """The recap rule asked for, or the rules file's default."""
    return body.recap_rule or RecapRule(services.rules.assessment.recap)


def _open_draft(services: Services, body: AssessmentOpen) -> Assessment | None:
    """The unsigned assessment of the same RT, period and recap rule, so a second *open* is not a
    second draft."""
    wanted = (body.rt_code, body.start, body.end, _recap_rule(services, body))
    for a in services.app_db.assessments():
        if a.status is Status.open and (a.rt_code, a.start, a.end, a.recap_rule) == wanted:
            return a
    return None


@router.get("", response_model=list[AssessmentOut], summary="Assessments inside the token's scope")
def list_assessments(services: ServicesDep, who: PrincipalDep, rt_code: AreaCode = None) -> list[AssessmentOut]:
    require(who, Action.read_evidence)
    return [
        _out(a)
        for a in services.app_db.assessments()
        if (rt_code is None or a.rt_code == rt_code) and who.covers(services.registry.rts[a.rt_code])
    ]


@router.get("/{assessment_id}", response_model=AssessmentOut)
def get_assessment(assessment_id: str, services: ServicesDep, who: PrincipalDep) -> AssessmentOut:
    a = _load(services, who, assessment_id, Action.read_evidence)
    live = services.queries.live_differences(a.rt_code, a.start, a.end, a.evidence, a.signed_at or a.created_at)
    return _out(a).model_copy(update={"live": live})


@router.put(
    "/{assessment_id}/scores",
    response_model=AssessmentOut,
    summary="A team member's scores and comments (replaces that member's earlier ones for those criteria)",
)
def put_scores(
    assessment_id: str, body: ScoresIn, request: Request, services: ServicesDep, who: PrincipalDep
) -> AssessmentOut:
    a = _load(services, who, assessment_id, Action.assess)
    _open_only(a)
    given = {s.criterion for s in body.scores}
    kept = [m for m in a.member_scores if not (m.member_id == who.token_id and m.criterion in given)]
    new = [
        MemberScore(
            member_id=who.token_id,
            member_name=who.name,
            agency=body.agency,
            criterion=s.criterion,
            score=s.score,
            comment=s.comment,
        )
        for s in body.scores
    ]
    updated = a.model_copy(update={"member_scores": kept + new})
    _save(
        services,
        updated,
        AuditNote(who, "assessment_score", a.id, {"criteria": sorted(given)}, client_address(request)),
    )
    return _out(updated)


@router.post(
    "/{assessment_id}/sign", response_model=AssessmentOut, summary="Sign: freeze the record with a hash of its evidence"
)
def sign(assessment_id: str, request: Request, services: ServicesDep, who: PrincipalDep) -> AssessmentOut:
    a = _load(services, who, assessment_id, Action.assess)
    _open_only(a)
    recap = a.recap()
    if not recap.complete:
        missing = [c.criterion for c in recap.criteria if c.result is None]
        raise bad_request(
            "assessment_incomplete",
            f"criteria without any score: {', '.join(missing)}",
            f"Kriteria belum dinilai: {', '.join(missing)}",
        )
    signed = a.model_copy(
        update={
            "status": Status.signed,
            "signed_at": datetime.now(UTC),
            "signed_by": who.name,
            "evidence_hash": evidence_hash(a.evidence),
        }
    )
    _save(
        services,
        signed,
        AuditNote(who, "assessment_sign", a.id, {"evidence_hash": signed.evidence_hash}, client_address(request)),
    )
    return _out(signed)


@router.post(
    "/{assessment_id}/corrections",
    response_model=AssessmentOut,
    status_code=201,
    summary="Correct a signed assessment: a new open version that points to it",
)
def correct(assessment_id: str, request: Request, services: ServicesDep, who: PrincipalDep) -> AssessmentOut:
    a = _load(services, who, assessment_id, Action.assess)
    if a.status is not Status.signed:
        raise ApiError(
            409,
            "assessment_open",
            "an open assessment is changed directly, not corrected",
            "Penilaian yang masih terbuka diubah langsung",
        )
    correction = a.model_copy(
        update={
            "id": secrets.token_hex(6),
            "version": a.version + 1,
            "previous_id": a.id,
            "status": Status.open,
            "signed_at": None,
            "signed_by": None,
            "evidence_hash": None,
            "created_by": who.name,
            "created_at": datetime.now(UTC),
        }
    )
    _save(
        services,
        correction,
        AuditNote(who, "assessment_correct", correction.id, {"previous_id": a.id}, client_address(request)),
    )
    return _out(correction)


@router.get("/{assessment_id}/export", summary="Export as JSON, CSV or a printable HTML page")
def export(
    assessment_id: str,
    services: ServicesDep,
    who: PrincipalDep,
    file_format: Annotated[Literal["json", "csv", "html"], Query(alias="format")] = "json",
) -> Response:
    a = _load(services, who, assessment_id, Action.read_evidence)
    if file_format == "json":
        return Response(_out(a).model_dump_json(indent=2), media_type="application/json")
    if file_format == "csv":
        out = io.StringIO()
        writer = safe_writer(out)
        writer.writerow(
            [
                "assessment",
                "version",
                "rt_code",
                "start",
                "end",
                "criterion",
                "name_id",
                "suggested",
                "member",
                "agency",
                "score",
                "comment",
                "result",
            ]
        )
        recap = {c.criterion: c for c in a.recap().criteria}
        for criterion in ALL_CRITERIA:
            members: list[MemberScore | None] = [m for m in a.member_scores if m.criterion == criterion] or [None]
            for m in members:
                writer.writerow(
                    [
                        a.id,
                        a.version,
                        a.rt_code,
                        a.start,
                        a.end,
                        criterion,
                        services.criteria.get(criterion, {}).get("id", ""),
                        a.suggested.get(criterion, ""),
                        m.member_name if m else "",
                        m.agency.value if m else "",
                        m.score if m else "",
                        m.comment if m else "",
                        recap[criterion].result if recap[criterion].result is not None else "",
                    ]
                )
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="penilaian-{a.rt_code}-{a.id}.csv"'},
        )
    return HTMLResponse(printable(a, services))


def printable(a: Assessment, services: Services) -> str:
    place = services.registry.rts[a.rt_code]
    recap = a.recap()
    word = {2: "2 (baik)", 1: "1 (sedang)", 0: "0 (kurang)", None: "—"}
    rows = []
    for c in recap.criteria:
        name = services.criteria.get(c.criterion, {}).get("id", c.criterion)
        members = "<br>".join(
            f"{html.escape(m.member_name)} ({html.escape(m.agency.value)}): {m.score}"
            + (f" — {html.escape(m.comment)}" if m.comment else "")
            for m in a.member_scores
            if m.criterion == c.criterion
        )
        rows.append(
            f"<tr><td>{c.criterion}</td><td>{html.escape(name)}</td><td>{word[c.suggested]}</td>"
            f"<td>{members or '—'}</td><td><b>{word[c.result]}</b></td></tr>"
        )
    status = (
        f"Ditandatangani oleh {html.escape(a.signed_by or '')} pada {a.signed_at:%d-%m-%Y %H:%M} UTC; "
        f"hash bukti <code>{a.evidence_hash}</code>"
        if a.signed_at
        else "Belum ditandatangani (draf)"
    )
    result = {True: "Memenuhi kriteria", False: "Belum memenuhi kriteria", None: "Belum lengkap"}[recap.meets_bar]
    award = f"Rp {a.award_idr:,}".replace(",", ".")
    return f"""<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Penilaian Kampung BANTAR — RT {html.escape(a.rt_code)}</title>
<style>body{{font-family:sans-serif;margin:2em;}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #999;padding:4px;vertical-align:top}}@media print{{button{{display:none}}}}</style></head>
<body><h1>Penilaian Kampung BANTAR</h1>
<p>RT {place.rt.number:03d} ({html.escape(a.rt_code)}), Kelurahan {html.escape(place.kelurahan_name)},
Kecamatan {html.escape(place.kecamatan_name)}, Kota Jambi — {place.rt.kk_count} KK, kategori {a.category.value}
(penghargaan {award})</p>
<p>Periode {a.start:%d-%m-%Y} s.d. {a.end:%d-%m-%Y}; versi {a.version}
{"(koreksi atas " + html.escape(a.previous_id) + ")" if a.previous_id else ""}; rekap: {a.recap_rule.value}</p>
<table><tr><th>Kriteria</th><th>Uraian</th><th>Saran sensor</th><th>Nilai tim</th><th>Hasil</th></tr>
{"".join(rows)}</table>
<p>Jumlah: Bersih {recap.pillar_totals["bersih"]}, Aman {recap.pillar_totals["aman"]},
Pintar {recap.pillar_totals["pintar"]}; total {recap.total} dari {recap.max_total}. <b>{result}</b>.</p>
<p>{status}</p><button onclick="window.print()">Cetak</button></body></html>"""
