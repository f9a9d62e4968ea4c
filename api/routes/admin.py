"""Administration: tokens, devices and the audit log. An admin acts only inside its own scope and
never grants a scope wider than its own (``bantar.domain.access.MATRIX``); a token or device
outside its scope answers as an unknown one would (no existence oracle)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep, client_address, require, require_rt, unknown_or_forbidden
from api.errors import AUTHENTICATED, ApiError, refusals
from bantar.domain.access import Action, Role, ScopeLevel, scope_problem
from bantar.domain.errors import Reason
from bantar.stores.appdb import AuditEntry, AuditNote, TokenInfo

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=refusals(*AUTHENTICATED, 409, 413))


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="who holds it, e.g. 'Operator BS Melati RT 3'")
    role: Role
    scope_level: ScopeLevel
    scope_code: str | None = Field(default=None, max_length=40)


class TokenCreated(BaseModel):
    id: str
    token: str
    """shown once; only its hash is kept"""


@router.post("/tokens", response_model=TokenCreated, status_code=201, summary="Issue a token (admins, in scope)")
def create_token(body: TokenCreate, request: Request, services: ServicesDep, who: PrincipalDep) -> TokenCreated:
    require(who, Action.manage_tokens, services, request, "tokens")
    problem = scope_problem(services.registry, body.scope_level, body.scope_code)
    if problem:
        raise ApiError(422, Reason.invalid_field, problem, field="scope_code")
    if not who.reaches(services.registry, body.scope_level, body.scope_code):
        scope = f"{body.scope_level.value}:{body.scope_code or ''}".rstrip(":")
        services.app_db.audit(
            who, "manage_tokens_denied", scope, {"reason": Reason.scope_too_wide.value}, client_address(request)
        )
        raise ApiError(403, Reason.scope_too_wide, scope=scope)
    note = AuditNote(
        who,
        "token_create",
        "",
        {"role": body.role.value, "scope": body.scope_level.value, "scope_code": body.scope_code},
        client_address(request),
    )
    token_id, token = services.app_db.create_token(body.name, body.role, body.scope_level, body.scope_code, note)
    return TokenCreated(id=token_id, token=token)


@router.get("/tokens", response_model=list[TokenInfo], summary="Tokens in scope, without their secrets (admins)")
def list_tokens(services: ServicesDep, who: PrincipalDep) -> list[TokenInfo]:
    require(who, Action.manage_tokens)
    return [t for t in services.app_db.tokens() if who.reaches(services.registry, t.scope_level, t.scope_code)]


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token in scope (admins)")
def revoke_token(token_id: str, request: Request, services: ServicesDep, who: PrincipalDep) -> None:
    require(who, Action.manage_tokens, services, request, token_id)
    found = services.app_db.token(token_id)
    note = AuditNote(who, "token_revoke", token_id[:40], {}, client_address(request))
    if (
        found is None
        or not who.reaches(services.registry, found.scope_level, found.scope_code)
        or not services.app_db.revoke_token(token_id, note)
    ):
        services.app_db.audit(
            who, "manage_tokens_denied", token_id[:40], {"reason": Reason.unknown_token.value}, note.client
        )
        raise ApiError(404, Reason.unknown_token, code=repr(token_id[:40]))


@router.get("/audit", response_model=list[AuditEntry], summary="The append-only audit log, newest first (city admins)")
def audit(
    services: ServicesDep,
    who: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[AuditEntry]:
    require(who, Action.read_audit)
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


@router.get("/devices", response_model=list[DeviceAdmin], summary="Devices in scope and their last report (admins)")
def list_devices(services: ServicesDep, who: PrincipalDep) -> list[DeviceAdmin]:
    require(who, Action.manage_devices)
    seen = services.store.last_seen()
    return [
        DeviceAdmin(
            id=d.id, kind=d.kind.value, rt=d.rt, active=d.active, interval_s=d.interval_s, last_seen_ms=seen.get(d.id)
        )
        for d in services.registry.devices.values()
        if d.channel == "mqtt" and who.covers(services.registry.rts[d.rt])
    ]


@router.patch(
    "/devices/{device_id}",
    response_model=DeviceAdmin,
    summary="Switch a device in scope on or off (admins): intake, expectations, alerts and broker logins follow",
)
def switch_device(
    device_id: str, body: DeviceSwitch, request: Request, services: ServicesDep, who: PrincipalDep
) -> DeviceAdmin:
    device = services.registry.devices.get(device_id)
    if device is None or device.channel != "mqtt":
        require(who, Action.manage_devices, services, request, device_id)
        raise unknown_or_forbidden(
            services, request, who, Action.manage_devices, "device", device_id, Reason.unknown_device
        )
    require_rt(services, who, device.rt, Action.manage_devices, request)
    note = AuditNote(who, "device_switch", device_id, {"active": body.active}, client_address(request))
    services.app_db.set_device_active(device_id, body.active, who.name, note)
    services.registry.apply_overrides({device_id: body.active})
    return DeviceAdmin(
        id=device_id,
        kind=device.kind.value,
        rt=device.rt,
        active=body.active,
        interval_s=device.interval_s,
        last_seen_ms=services.store.last_seen().get(device_id),
    )
