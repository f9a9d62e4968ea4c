"""Administration: tokens and the audit log (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep, client_address, require
from api.errors import ApiError
from bantar.domain.access import Action, Role, ScopeLevel
from bantar.stores.appdb import AuditEntry, TokenInfo

router = APIRouter(prefix="/api/v1", tags=["admin"])


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="who holds it, e.g. 'Operator BS Melati RT 3'")
    role: Role
    scope_level: ScopeLevel
    scope_code: str | None = Field(default=None, max_length=40)


class TokenCreated(BaseModel):
    id: str
    token: str
    """shown once; only its hash is kept"""


def check_scope(services_registry_rts: dict, level: ScopeLevel, code: str | None) -> None:  # type: ignore[type-arg]
    if level is ScopeLevel.city:
        if code is not None:
            raise ApiError(422, "invalid_field", "a city scope takes no code", "Wilayah kota tanpa kode")
        return
    key = {"rt": None, "kelurahan": "kelurahan_code", "kecamatan": "kecamatan_code"}[level.value]
    found = (
        code in services_registry_rts
        if key is None
        else any(getattr(p, key) == code for p in services_registry_rts.values())
    )
    if not found:
        raise ApiError(
            422,
            "invalid_field",
            f"scope_code {code!r} is not a {level.value} in the registry",
            f"Kode wilayah {code!r} bukan {level.value} yang terdaftar",
        )


@router.post("/tokens", response_model=TokenCreated, status_code=201, summary="Issue a token (admins)")
def create_token(body: TokenCreate, request: Request, services: ServicesDep, who: PrincipalDep) -> TokenCreated:
    require(who, Action.administer)
    check_scope(services.registry.rts, body.scope_level, body.scope_code)
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
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> list[AuditEntry]:
    require(who, Action.administer)
    return services.app_db.audit_entries(limit, before_id)
