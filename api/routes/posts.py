"""People's posts: bank sampah deposits, poskamling reports, gotong royong events.

Each post becomes the same kind of message a device sends and goes through the same intake
(``bantar.domain.intake.accept``) and store write as MQTT readings, attributed to the RT's web
device for that kind. ``Idempotency-Key`` (required) identifies a post: the same key again is a
no-op (200), the same key with other content is refused (409).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import PrincipalDep, ServicesDep, client_address, require_rt
from api.errors import AUTHENTICATED, ApiError, refusals
from api.params import RTCode
from api.period import PeriodDep
from bantar.bootstrap import Services
from bantar.domain.access import Action, Principal
from bantar.domain.errors import REASON_TEXT_ID, Reason, Rejected
from bantar.domain.evidence import DepositRow
from bantar.domain.intake import accept
from bantar.domain.registry import web_device_id
from bantar.domain.timebase import WIB, from_epoch_ms, to_epoch_ms, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind, Topic

router = APIRouter(
    prefix="/api/v1/rts/{rt_code}", tags=["posts"], responses=refusals(*AUTHENTICATED, 400, 409, 413, 428)
)
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
) -> JSONResponse:
    require_rt(services, who, rt_code, action)
    if key is None:
        raise ApiError(
            428,
            "missing_idempotency_key",
            "send an Idempotency-Key header identifying this post",
            "Sertakan header Idempotency-Key untuk laporan ini",
        )
    if not _KEY.fullmatch(key):
        raise ApiError(
            422,
            "invalid_field",
            "Idempotency-Key must be 1-64 of A-Z a-z 0-9 _ . : -",
            "Idempotency-Key harus 1-64 karakter A-Z a-z 0-9 _ . : -",
        )
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            422, "malformed_json", f"the body is not valid JSON: {exc}", REASON_TEXT_ID[Reason.malformed_json]
        ) from None
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_field", "the body must be a JSON object", "Isi harus berupa objek JSON")
    assigned = [f for f in SERVER_FIELDS if f in body]
    if assigned:
        raise ApiError(
            422,
            "unexpected_field",
            f"{', '.join(assigned)}: assigned by the server, not the client",
            f"{', '.join(assigned)} ditentukan oleh server",
        )
    received = datetime.now(UTC)
    body.setdefault("ts", received.astimezone(WIB).isoformat(timespec="seconds"))
    # The key picks the sequence number, so a retried post is the same reading.
    body["seq"] = int.from_bytes(hashlib.blake2b(f"{kind}:{key}".encode(), digest_size=6).digest(), "big")
    device_id = web_device_id(rt_code, kind)
    try:
        payload = json.dumps(body).encode()
        limits = services.settings.ingest.limits()
        reading = accept(str(Topic(device_id, kind)), payload, received, services.registry, limits, channel="http")
    except Rejected as rejection:
        raise ApiError(422, rejection.reason.value, rejection.detail, REASON_TEXT_ID[rejection.reason]) from None
    outcome = services.store.write([reading], [])
    if outcome.conflicts:
        services.app_db.audit(
            who,
            f"{action.value}_refused",
            rt_code,
            {"idempotency_key": key, "why": "conflict"},
            client_address(request),
        )
        raise ApiError(
            409,
            "sequence_conflict",
            f"Idempotency-Key {key!r} was already used for a different post",
            f"Idempotency-Key {key!r} sudah dipakai untuk laporan lain",
        )
    status = "stored" if outcome.stored else "duplicate"
    services.app_db.audit(
        who,
        action.value,
        rt_code,
        {"idempotency_key": key, "status": status, "kind": kind.value},
        client_address(request),
    )
    result = PostResult(status=status, rt_code=rt_code, idempotency_key=key, ts=reading.ts)
    return JSONResponse(status_code=201 if outcome.stored else 200, content=result.model_dump(mode="json"))


@router.post(
    "/bank-sampah/deposits",
    status_code=201,
    response_model=PostResult,
    summary="A bank sampah deposit: deposit_id, household (pseudonymous), items in kg, prices",
)
async def post_deposit(
    rt_code: RTCode, request: Request, services: ServicesDep, who: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    return await _post(request, services, who, rt_code, DeviceKind.bank_sampah, Action.post_deposit, idempotency_key)


@router.post(
    "/poskamling/reports",
    status_code=201,
    response_model=PostResult,
    summary="A poskamling report: duty (on_duty, guards), patrol (checkpoint) or incident",
)
async def post_poskamling(
    rt_code: RTCode, request: Request, services: ServicesDep, who: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    return await _post(request, services, who, rt_code, DeviceKind.poskamling, Action.post_poskamling, idempotency_key)


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
def list_deposits(rt_code: RTCode, period: PeriodDep, services: ServicesDep, who: PrincipalDep) -> list[DepositPublic]:
    require_rt(services, who, rt_code, Action.read_private)
    start, _ = wib_day_bounds_utc(period.start)
    _, end = wib_day_bounds_utc(period.end)
    rows: list[DepositRow] = services.store.rt_readings(rt_code, to_epoch_ms(start), to_epoch_ms(end)).deposits
    return [
        DepositPublic(
            device_id=r.device_id, ts=from_epoch_ms(r.ts_ms), household=r.household, kg=r.kg, value_idr=r.value_idr
        )
        for r in rows
    ]
