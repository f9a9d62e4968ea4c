"""Alerts as work items: list them, acknowledge them (with a token or a signed link from a
message), and see what was sent about them."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PrincipalDep, ServicesDep, client_address, require, require_rt, unknown_or_forbidden
from api.errors import AUTHENTICATED, ApiError, refusals
from api.params import AreaCode
from bantar.domain.access import Action, Principal
from bantar.domain.errors import Reason
from bantar.domain.timebase import from_epoch_ms, to_epoch_ms
from bantar.services import Services
from bantar.stores.alertbook import AlertState, OutboxStatus, StoredAlert

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=refusals(*AUTHENTICATED))
Level = Literal["city", "kecamatan", "kelurahan"]
STATES: dict[str, list[AlertState]] = {
    "live": ["open", "acknowledged"],
    "open": ["open"],
    "acknowledged": ["acknowledged"],
    "resolved": ["resolved"],
    "all": ["open", "acknowledged", "resolved"],
}


AlertId = Annotated[int, Path(ge=1, le=2**62, description="the alert's id")]


class AlertItem(BaseModel):
    """An alert with its life as a work item. Kind-specific fields (criterion, awarded,
    recent_scores, device_id, last_seen, ...) come along as the evidence gives them."""

    model_config = ConfigDict(extra="allow")

    id: int
    kind: str
    rt_code: str
    message_id: str | None = None
    """Bahasa Indonesia, for people"""
    message_en: str | None = None
    """English, for a kind's own alert (the dashboard words the others itself)"""
    state: AlertState
    opened_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str | None
    resolved_at: datetime | None

    @classmethod
    def of(cls, alert: StoredAlert) -> AlertItem:
        return cls(
            **{
                **alert.detail,
                "id": alert.id,
                "kind": alert.kind,
                "rt_code": alert.rt_code,
                "state": alert.state,
                "opened_at": from_epoch_ms(alert.opened_ms),
                "acknowledged_by": alert.acknowledged_by,
                "acknowledged_at": None if alert.acknowledged_ms is None else from_epoch_ms(alert.acknowledged_ms),
                "note": alert.note,
                "resolved_at": None if alert.resolved_ms is None else from_epoch_ms(alert.resolved_ms),
            }
        )


class AlertList(BaseModel):
    data: list[AlertItem]
    count: int


class Ack(BaseModel):
    note: str | None = Field(default=None, max_length=500, description="what was done or will be done")


def area_codes(services: Services, who: Principal, level: Level | None, code: str | None) -> list[str]:
    """RTs of the area (checked against the token's scope); without a level, all in scope."""
    from api.routes.evidence import _scope  # one scope check for every area route

    if level is None:
        require(who, Action.read_evidence)
        return [c for c, place in services.registry.rts.items() if who.covers(place)]
    return services.registry.rts_in(level, _scope(services, who, level, code))


@router.get("/alerts", response_model=AlertList, summary="Alerts as work items (default: open and acknowledged)")
def alerts(
    services: ServicesDep,
    who: PrincipalDep,
    level: Level | None = None,
    code: AreaCode = None,
    kind: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    state: Literal["live", "open", "acknowledged", "resolved", "all"] = "live",
) -> AlertList:
    """Without a level: every alert inside the token's scope."""
    codes = area_codes(services, who, level, code)
    services.alerts.refresh()
    found = [AlertItem.of(a) for a in services.alerts.book.alerts(codes, STATES[state]) if not kind or a.kind == kind]
    return AlertList(data=found, count=len(found))


def _alert_or_404(services: Services, alert_id: int) -> StoredAlert:
    alert = services.alerts.book.alert(alert_id)
    if alert is None:
        raise ApiError(404, Reason.unknown_alert, code=alert_id)
    return alert


def _acknowledge(services: Services, alert: StoredAlert, by: str, note: str | None) -> StoredAlert:
    if alert.state == "resolved":
        raise ApiError(409, Reason.alert_resolved, code=alert.id)
    done = services.alerts.book.acknowledge(alert.id, by, note, to_epoch_ms(services.alerts.now()))
    assert done is not None
    return done


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AlertItem,
    summary="Acknowledge an alert: stops its reminders and escalations (RT head, assessor)",
    responses=refusals(409, 413),
)
def acknowledge(alert_id: AlertId, body: Ack, request: Request, services: ServicesDep, who: PrincipalDep) -> AlertItem:
    alert = services.alerts.book.alert(alert_id)
    if alert is None:  # to a scoped token, alike whether it lies outside the scope or does not exist
        raise unknown_or_forbidden(
            services, request, who, Action.acknowledge_alert, "alert", str(alert_id), Reason.unknown_alert
        )
    require_rt(services, who, alert.rt_code, Action.acknowledge_alert, request)
    done = _acknowledge(services, alert, who.name, body.note)
    services.app_db.audit(
        who, "alert_ack", str(alert_id), {"kind": alert.kind, "rt": alert.rt_code}, client_address(request)
    )
    return AlertItem.of(done)


Recipient = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Signature = Annotated[str, Query(min_length=10, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _signed(services: Services, alert_id: AlertId, r: str, sig: str) -> StoredAlert:
    if not services.alerts.links.valid(alert_id, r, sig):
        raise ApiError(403, Reason.bad_signature)
    return _alert_or_404(services, alert_id)


_PAGE = """<!doctype html><html lang="id"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>BANTAR</title>
<body style="font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem">{content}</body></html>"""


@router.get("/alerts/{alert_id}/ack-link", response_class=HTMLResponse, include_in_schema=False)
def ack_page(alert_id: AlertId, r: Recipient, sig: Signature, services: ServicesDep) -> HTMLResponse:
    """The link in a message opens a page with one button (link previews never acknowledge)."""
    alert = _signed(services, alert_id, r, sig)
    text = escape(str(alert.detail.get("message_id") or alert.kind))
    if alert.state != "open":
        word = {"acknowledged": "sudah ditanggapi", "resolved": "sudah selesai"}[alert.state]
        return HTMLResponse(_PAGE.format(content=f"<p>{text}</p><p>Peringatan ini {word}.</p>"))
    return HTMLResponse(
        _PAGE.format(
            content=f'<p>{text}</p><form method="post"><button type="submit">Tandai sudah ditangani</button></form>'
        )
    )


@router.post("/alerts/{alert_id}/ack-link", response_class=HTMLResponse, include_in_schema=False)
def ack_by_link(
    alert_id: AlertId, r: Recipient, sig: Signature, request: Request, services: ServicesDep
) -> HTMLResponse:
    alert = _signed(services, alert_id, r, sig)
    if alert.state == "open":
        _acknowledge(services, alert, f"link:{r}", None)
        services.app_db.audit(
            None,
            "alert_ack",
            str(alert_id),
            {"kind": alert.kind, "rt": alert.rt_code, "via": "link", "recipient": r},
            client_address(request),
        )
    return HTMLResponse(_PAGE.format(content="<p>Terima kasih: peringatan ditandai sudah ditangani.</p>"))


@router.get(
    "/alerts/{alert_id}/notifications",
    response_model=list[OutboxStatus],
    summary="What was (or will be) sent about an alert: each message, its state and attempts",
)
def notifications(alert_id: AlertId, services: ServicesDep, who: PrincipalDep) -> list[OutboxStatus]:
    alert = _alert_or_404(services, alert_id)
    require_rt(services, who, alert.rt_code, Action.read_evidence)
    return services.alerts.book.outbox(alert_id)
