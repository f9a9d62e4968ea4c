"""A poskamling's checkpoints (the RT head prints their QR codes from the field app) and the
post's own history of reports. Reports themselves are posts
(``POST /api/v1/rts/{rt}/poskamling/reports``)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep, client_address, require_rt
from api.errors import AUTHENTICATED, ApiError, refusals
from api.params import RTCode
from api.routes.field import refusal
from bantar.domain.access import Action
from bantar.domain.patrols import DUTY_SPAN_MS, patrol_refusal
from bantar.domain.readings import PatrolEvent, Reading
from bantar.domain.registry import web_device_id
from bantar.domain.timebase import from_epoch_ms, to_epoch_ms, utc_now, wib_day, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind
from bantar.services import Services
from bantar.stores.field_records import Checkpoint

router = APIRouter(
    prefix="/api/v1/rts/{rt_code}/poskamling", tags=["poskamling"], responses=refusals(*AUTHENTICATED, 413)
)
CHECKPOINT_PREFIX = "BANTAR-CP"
"""a checkpoint's QR code reads BANTAR-CP/<rt code>/<checkpoint id>"""


class CheckpointCreate(BaseModel):
    label: str = Field(min_length=1, max_length=60, description="where it hangs, e.g. 'Gerbang masjid'")


class CheckpointPublic(Checkpoint):
    qr: str
    """the text of its QR code"""


class ReportRow(BaseModel):
    ts: datetime
    event: str
    on_duty: bool | None
    guards: int | None
    via: Literal["app", "device"]


def check_patrol(services: Services, rt_code: str, reading: Reading) -> ApiError | None:
    """A posted patrol check-in is refused when its checkpoint is not one of the RT's or when the
    post was not on duty at the scan's own time (``bantar.domain.patrols``); other reports pass."""
    body = reading.payload
    if not isinstance(body, PatrolEvent):
        return None
    at_ms = to_epoch_ms(reading.ts)
    reports = services.store.rt_readings(rt_code, at_ms - DUTY_SPAN_MS, at_ms + 1).of(DeviceKind.poskamling)
    field = services.app_db.field
    reason = patrol_refusal(
        body.checkpoint,
        at_ms,
        [r for r in reports if r.device_id == reading.device_id],
        {c.id for c in field.checkpoints(rt_code)},
        {body.checkpoint} if field.checkpoint_elsewhere(rt_code, body.checkpoint) else set(),
    )
    if reason is None:
        return None
    return refusal(422, reason, f"patrol at checkpoint {body.checkpoint!r} at {reading.ts.isoformat()}: {reason}")


def _public(rt_code: str, checkpoint: Checkpoint) -> CheckpointPublic:
    return CheckpointPublic(
        id=checkpoint.id, label=checkpoint.label, qr=f"{CHECKPOINT_PREFIX}/{rt_code}/{checkpoint.id}"
    )


@router.get("/checkpoints", response_model=list[CheckpointPublic], summary="The RT's patrol checkpoints")
def list_checkpoints(rt_code: RTCode, services: ServicesDep, who: PrincipalDep) -> list[CheckpointPublic]:
    require_rt(services, who, rt_code, Action.read_evidence)
    return [_public(rt_code, c) for c in services.app_db.field.checkpoints(rt_code)]


@router.post(
    "/checkpoints", response_model=CheckpointPublic, status_code=201, summary="Add a patrol checkpoint (RT head)"
)
def add_checkpoint(
    rt_code: RTCode, body: CheckpointCreate, request: Request, services: ServicesDep, who: PrincipalDep
) -> CheckpointPublic:
    require_rt(services, who, rt_code, Action.manage_checkpoints)
    checkpoint = Checkpoint(id=f"cp-{secrets.token_hex(3)}", label=body.label)
    services.app_db.field.add_checkpoint(rt_code, checkpoint)
    services.app_db.audit(who, "checkpoint_add", rt_code, {"id": checkpoint.id}, client_address(request))
    return _public(rt_code, checkpoint)


@router.get(
    "/reports",
    response_model=list[ReportRow],
    summary="The post's own reports (duties, patrols, incidents), newest first",
)
def list_reports(
    rt_code: RTCode,
    services: ServicesDep,
    who: PrincipalDep,
    days: Annotated[int, Query(ge=1, le=92, description="how many WIB days, today included")] = 7,
) -> list[ReportRow]:
    require_rt(services, who, rt_code, Action.read_own_reports)
    today = wib_day(utc_now())
    start, _ = wib_day_bounds_utc(today - timedelta(days=days - 1))
    _, end = wib_day_bounds_utc(today)
    web = web_device_id(rt_code, DeviceKind.poskamling)
    rows = services.store.rt_readings(rt_code, to_epoch_ms(start), to_epoch_ms(end)).of(DeviceKind.poskamling)
    return [
        ReportRow(
            ts=from_epoch_ms(r.ts_ms),
            event=r.event,
            on_duty=r.on_duty,
            guards=r.guards,
            via="app" if r.device_id == web else "device",
        )
        for r in reversed(rows)
    ]
