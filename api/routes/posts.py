"""People's posts: bank sampah deposits, poskamling reports, gotong royong events.

Each post becomes the same kind of message a device sends and goes through the same intake
(``bantar.domain.intake.accept``) and store write as MQTT readings, attributed to the RT's web
device for that kind. ``Idempotency-Key`` (required) identifies a post: its first sighting takes
the web device's next sequence number and the post's time (the receive time when the body has no
``ts``), kept with the key, so a retry with the same body, whenever it comes, is the same reading
and answers the same (200, ``duplicate``); the same key with other content is refused (409).
A ``ts`` further back than ``api.max_backdate_days`` (or the role's allowance) is refused;
one further back than 15 minutes is audited with its delay.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import PrincipalDep, ServicesDep, client_address, require_rt
from api.errors import AUTHENTICATED, ApiError, refusals
from api.params import RTCode
from api.period import PeriodDep
from api.routes.bank_book import take_weighing
from api.routes.patrols import check_patrol
from bantar.domain.access import BACKDATE_DAYS, Action, Principal
from bantar.domain.bank_sampah import WEIGHING_PATTERN
from bantar.domain.errors import Reason, Rejected
from bantar.domain.intake import accept, parse_json
from bantar.domain.readings import Reading
from bantar.domain.registry import web_device_id
from bantar.domain.timebase import WIB, from_epoch_ms, to_epoch_ms, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind, Topic
from bantar.kinds.bank_sampah import DepositRow
from bantar.services import Services
from bantar.stores.appdb import AuditNote

router = APIRouter(prefix="/api/v1/rts/{rt_code}", tags=["posts"], responses=refusals(*AUTHENTICATED, 409, 413, 428))
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
SERVER_FIELDS = ("seq", "rt", "rt_code", "device_id")
"""fields a client may never set: the server assigns them (mass assignment is refused)"""

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="client-chosen id of this post (1-64 of A-Z a-z 0-9 _ . : -)"),
]


class PostResult(BaseModel):
    status: str
    """stored, or duplicate (the same post again: nothing changed)"""
    rt_code: str
    idempotency_key: str
    ts: datetime


class DepositPublic(BaseModel):
    device_id: str
    ts: datetime
    household: str
    kg: dict[str, float]
    value_idr: int


async def _post(
    request: Request,
    services: Services,
    who: Principal,
    rt_code: str,
    kind: DeviceKind,
    action: Action,
    key: str | None,
    vet: Callable[[Reading, str], ApiError | None] | None = None,
) -> JSONResponse:
    """Read the body on the event loop; check, claim and store it in the thread pool, so a slow
    store write (SQLite lock, InfluxDB, flock) never stalls other requests."""
    raw = await request.body()
    return await run_in_threadpool(_store_post, raw, request, services, who, rt_code, kind, action, key, vet)


def _store_post(
    raw: bytes,
    request: Request,
    services: Services,
    who: Principal,
    rt_code: str,
    kind: DeviceKind,
    action: Action,
    key: str | None,
    vet: Callable[[Reading, str], ApiError | None] | None,
) -> JSONResponse:
    """``vet``: the kind's own rules for a new post (a patrol's duty, a deposit's weighing): its
    refusal is audited and answered, and nothing is stored."""
    require_rt(services, who, rt_code, action, request)
    if key is None:
        raise ApiError(428, Reason.missing_idempotency_key)
    if not _KEY.fullmatch(key):
        raise ApiError(
            422, Reason.invalid_field, "Idempotency-Key must be 1-64 of A-Z a-z 0-9 _ . : -", field="Idempotency-Key"
        )
    try:
        body = json.loads(parse_json(raw))  # the checks MQTT payloads get, alike
    except Rejected as rejection:
        raise ApiError.rejected(rejection) from None
    if not isinstance(body, dict):
        raise ApiError(422, Reason.invalid_field, "the body must be a JSON object", field="body")
    assigned = [f for f in SERVER_FIELDS if f in body]
    if assigned:
        fields = ", ".join(assigned)
        raise ApiError(422, Reason.unexpected_field, f"{fields}: assigned by the server, not the client", field=fields)
    device_id = web_device_id(rt_code, kind)
    received = datetime.now(UTC)
    client = client_address(request)
    known = services.app_db.post_key(device_id, key)
    stamp = known.ts if known else received.astimezone(WIB).isoformat(timespec="seconds")
    reading = _intake(services, device_id, kind, {"ts": stamp, **body}, known.seq if known else 0, received)
    content = _content(reading)
    if known is None:
        delay = received - reading.ts
        _refuse_backdated(services, request, who, action, rt_code, delay)
        _refuse_vetted(services, who, action, rt_code, client, key, vet(reading, key) if vet else None)
        detail: dict[str, object] = {"idempotency_key": key, "kind": kind.value}
        if delay > BACKDATED:
            detail["backdated_s"] = int(delay.total_seconds())
        known = services.app_db.claim_post_key(
            device_id, key, stamp, content, AuditNote(who, action.value, rt_code, detail, client)
        )
        reading = _intake(services, device_id, kind, {"ts": known.ts, **body}, known.seq, received)
    if known.body_sha256 != _content(reading):
        services.app_db.audit(
            who, f"{action.value}_denied", rt_code, {"idempotency_key": key, "reason": "idempotency_conflict"}, client
        )
        raise ApiError(409, Reason.idempotency_conflict, key=repr(key))
    outcome = services.store.write([reading], [])
    if outcome.conflicts:  # the store holds other content under this number (written before the key table)
        services.app_db.audit(
            who, f"{action.value}_denied", rt_code, {"idempotency_key": key, "reason": "sequence_conflict"}, client
        )
        raise ApiError(409, Reason.sequence_conflict, f"Idempotency-Key {key!r} was already used for a different post")
    status = "stored" if outcome.stored else "duplicate"
    result = PostResult(status=status, rt_code=rt_code, idempotency_key=key, ts=reading.ts)
    return JSONResponse(status_code=201 if outcome.stored else 200, content=result.model_dump(mode="json"))


def _refuse_vetted(
    services: Services,
    who: Principal,
    action: Action,
    rt_code: str,
    client: str | None,
    key: str,
    refused: ApiError | None,
) -> None:
    """A new post its kind's own rules refuse is audited and answered; nothing is stored."""
    if refused is not None:
        denied = {"idempotency_key": key, "reason": refused.reason.value}
        services.app_db.audit(who, f"{action.value}_denied", rt_code, denied, client)
        raise refused


BACKDATED = timedelta(minutes=15)
"""a post whose ts lies further back than this is audited with its delay"""


def _intake(
    services: Services, device_id: str, kind: DeviceKind, body: dict[str, object], seq: int, received: datetime
) -> Reading:
    """The post as the message its web device would send, through the one intake path."""
    payload = json.dumps({**body, "seq": seq}).encode()
    try:
        return accept(
            str(Topic(device_id, kind)), payload, received, services.registry, services.settings.ingest.limits(), "http"
        )
    except Rejected as rejection:
        raise ApiError.rejected(rejection) from None


def _content(reading: Reading) -> str:
    """What a retry must repeat: the validated post and its time, whatever its bytes."""
    form = reading.payload.model_dump_json(exclude={"ts", "seq"}) + "@" + reading.ts.isoformat()
    return hashlib.sha256(form.encode()).hexdigest()


def _refuse_backdated(
    services: Services, request: Request, who: Principal, action: Action, rt_code: str, delay: timedelta
) -> None:
    days = max(services.settings.api.max_backdate_days, BACKDATE_DAYS.get(who.role, 0))
    if delay > timedelta(days=days):
        services.app_db.audit(
            who,
            f"{action.value}_denied",
            rt_code,
            {"reason": Reason.backdated_too_far.value, "backdated_s": int(delay.total_seconds())},
            client_address(request),
        )
        raise ApiError(422, Reason.backdated_too_far, days=days)


@router.post(
    "/bank-sampah/deposits",
    status_code=201,
    response_model=PostResult,
    summary="A bank sampah deposit: deposit_id, household (pseudonymous), items in kg, prices",
)
async def post_deposit(
    rt_code: RTCode,
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
    weighing: Annotated[
        str | None,
        Query(pattern=WEIGHING_PATTERN, description="the scale's weighing this deposit's weight came from (its id)"),
    ] = None,
) -> JSONResponse:
    vet = (lambda reading, key: take_weighing(services, rt_code, weighing, reading, key)) if weighing else None
    return await _post(
        request, services, who, rt_code, DeviceKind.bank_sampah, Action.post_deposit, idempotency_key, vet
    )


@router.post(
    "/poskamling/reports",
    status_code=201,
    response_model=PostResult,
    summary="A poskamling report: duty (on_duty, guards), patrol (checkpoint) or incident",
)
async def post_poskamling(
    rt_code: RTCode, request: Request, services: ServicesDep, who: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    return await _post(
        request,
        services,
        who,
        rt_code,
        DeviceKind.poskamling,
        Action.post_poskamling,
        idempotency_key,
        lambda reading, _key: check_patrol(services, rt_code, reading),
    )


@router.post(
    "/gotong-royong",
    status_code=201,
    response_model=PostResult,
    summary="A gotong royong event: activity and attendance",
)
async def post_gotong_royong(
    rt_code: RTCode, request: Request, services: ServicesDep, who: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    return await _post(
        request, services, who, rt_code, DeviceKind.gotong_royong, Action.post_gotong_royong, idempotency_key
    )


@router.get(
    "/bank-sampah/deposits",
    response_model=list[DepositPublic],
    summary="Deposits with household ids: only for roles that may read the RT's private data",
)
def list_deposits(
    rt_code: RTCode, period: PeriodDep, request: Request, services: ServicesDep, who: PrincipalDep
) -> list[DepositPublic]:
    require_rt(services, who, rt_code, Action.read_private)
    services.app_db.audit(
        who,
        "read_households",
        rt_code,
        {"start": period.start.isoformat(), "end": period.end.isoformat()},
        client_address(request),
    )
    start, _ = wib_day_bounds_utc(period.start)
    _, end = wib_day_bounds_utc(period.end)
    rows: Sequence[DepositRow] = services.store.rt_readings(rt_code, to_epoch_ms(start), to_epoch_ms(end)).of(
        DeviceKind.bank_sampah
    )
    return [
        DepositPublic(
            device_id=r.device_id, ts=from_epoch_ms(r.ts_ms), household=r.household, kg=r.kg, value_idr=r.value_idr
        )
        for r in rows
    ]
