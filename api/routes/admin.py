"""Administration: tokens and the audit log (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep, client_address, require
from api.errors import AUTHENTICATED, ApiError, refusals
from bantar.domain.access import Action, Role, ScopeLevel, scope_problem
from bantar.stores.appdb import AuditEntry, TokenInfo

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=refusals(*AUTHENTICATED, 400, 409, 413))


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="who holds it, e.g. 'Operator BS Melati RT 3'")
    role: Role
    scope_level: ScopeLevel
    scope_code: str | None = Field(default=None, max_length=40)


class TokenCreated(BaseModel):
    id: str
    token: str
    """shown once; only its hash is kept"""


@router.post("/tokens", response_model=TokenCreated, status_code=201, summary="Issue a token (admins)")
def create_token(body: TokenCreate, request: Request, services: ServicesDep, who: PrincipalDep) -> TokenCreated:
    require(who, Action.administer)
    problem = scope_problem(services.registry, body.scope_level, body.scope_code)
    if problem:
        raise ApiError(422, "invalid_field", problem, "Wilayah token tidak terdaftar")
    token_id, token = services.app_db.create_token(body.name, body.role, body.scope_level, body.scope_code)
    services.app_db.audit(
        who,
        "token_create",
        token_id,
        {"role": body.role.value, "scope": body.scope_level.value, "scope_code": body.scope_code},
        client_address(request),
    )
    return TokenCreated(id=token_id, token=token)


@router.get("/tokens", response_model=list[TokenInfo], summary="Tokens, without their secrets (admins)")
def list_tokens(services: ServicesDep, who: PrincipalDep) -> list[TokenInfo]:
    require(who, Action.administer)
    return services.app_db.tokens()


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token (admins)")
def revoke_token(token_id: str, request: Request, services: ServicesDep, who: PrincipalDep) -> None:
    require(who, Action.administer)
    if not services.app_db.revoke_token(token_id):
        raise ApiError(404, "unknown_token", f"no active token {token_id!r}", f"Token {token_id!r} tidak aktif")
    services.app_db.audit(who, "token_revoke", token_id, {}, client_address(request))


@router.get("/audit", response_model=list[AuditEntry], summary="The append-only audit log, newest first (admins)")
def audit(
    services: ServicesDep,
    who: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[AuditEntry]:
    require(who, Action.administer)
    return services.app_db.audit_entries(limit, before_id)


class DeviceAdmin(BaseModel):
    id: str
    kind: str
    rt: str
    active: bool
    interval_s: int
    last_seen_ms: int | None


class DeviceSwitch(BaseModel):
    active: bool


@router.get("/devices", response_model=list[DeviceAdmin], summary="Registered devices and their last report (admins)")
def list_devices(services: ServicesDep, who: PrincipalDep) -> list[DeviceAdmin]:
    require(who, Action.administer)
    seen = services.store.last_seen()
    return [
        DeviceAdmin(
            id=d.id, kind=d.kind.value, rt=d.rt, active=d.active, interval_s=d.interval_s, last_seen_ms=seen.get(d.id)
        )
        for d in services.registry.devices.values()
        if d.channel == "mqtt"
    ]


@router.patch(
    "/devices/{device_id}",
    response_model=DeviceAdmin,
    summary="Switch a device on or off (admins); run `bantar broker config` to update the broker's logins",
)
def switch_device(
    device_id: str, body: DeviceSwitch, request: Request, services: ServicesDep, who: PrincipalDep
) -> DeviceAdmin:
    require(who, Action.administer)
    device = services.registry.devices.get(device_id)
    if device is None or device.channel != "mqtt":
        raise ApiError(
            404, "unknown_device", f"device {device_id!r} is not registered", f"Perangkat {device_id!r} tidak terdaftar"
        )
    services.app_db.set_device_active(device_id, body.active, who.name)
    services.registry.apply_overrides({device_id: body.active})
    services.app_db.audit(who, "device_switch", device_id, {"active": body.active}, client_address(request))
    return DeviceAdmin(
        id=device_id,
        kind=device.kind.value,
        rt=device.rt,
        active=body.active,
        interval_s=device.interval_s,
        last_seen_ms=services.store.last_seen().get(device_id),
    )
