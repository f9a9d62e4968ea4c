"""The field app's own endpoints: the catalogue of Indonesian names and refusal texts it shows,
and who the phone is signed in as (with a clear answer for a revoked phone). The app itself is
served from ``api/static/field/`` at ``/app/``."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.deps import ServicesDep
from api.errors import ApiError, refusals
from bantar.domain.errors import REASON_TEXT_ID, Reason
from bantar.domain.names_id import INCIDENT_CATEGORIES, MATERIALS

router = APIRouter(prefix="/api/v1/field", tags=["field app"], responses=refusals(422))
_bearer = HTTPBearer(auto_error=False, description="the phone's token, from its sign-in code")

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="client-chosen id of this entry (1-64 of A-Z a-z 0-9 _ . : -)"),
]


def checked_key(key: str | None) -> str:
    """The entry's Idempotency-Key, refused when missing or malformed (as the posts refuse it)."""
    if key is None:
        raise ApiError(
            428,
            "missing_idempotency_key",
            "send an Idempotency-Key header identifying this entry",
            "Sertakan header Idempotency-Key untuk catatan ini",
        )
    if not KEY_PATTERN.fullmatch(key):
        raise ApiError(
            422,
            "invalid_field",
            "Idempotency-Key must be 1-64 of A-Z a-z 0-9 _ . : -",
            "Idempotency-Key harus 1-64 karakter A-Z a-z 0-9 _ . : -",
        )
    return key


def refusal(status: int, reason: Reason, detail: str) -> ApiError:
    """An ApiError whose Indonesian text comes from the one catalogue of reasons."""
    return ApiError(status, reason.value, detail, REASON_TEXT_ID[reason])


class Catalogue(BaseModel):
    materials: dict[str, dict[str, str]]
    incident_categories: dict[str, dict[str, str]]
    reasons_id: dict[str, str]


@router.get("/catalogue", response_model=Catalogue, summary="Indonesian names of stored codes and refusal texts")
def catalogue() -> Catalogue:
    return Catalogue(
        materials=dict(MATERIALS),
        incident_categories=dict(INCIDENT_CATEGORIES),
        reasons_id={reason.value: text for reason, text in REASON_TEXT_ID.items()},
    )


class FieldMe(BaseModel):
    name: str
    role: str
    scope_level: str
    scope_code: str | None
    rt_label: str | None
    """"RT 3, Kelurahan Sungai Putri" when the scope is one RT"""


@router.get("/me", response_model=FieldMe, summary="Who this phone is signed in as", responses=refusals(401, 422))
def me(services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> FieldMe:
    token = credentials.credentials if credentials else ""
    who = services.app_db.authenticate(token)
    if who is None:
        if services.app_db.token_revoked(token):
            raise refusal(401, Reason.token_revoked, "this phone's access was revoked; ask for a new sign-in code")
        raise ApiError(
            401, "invalid_token", "the token is unknown or revoked", "Token tidak dikenal atau sudah dicabut"
        )
    place = services.registry.rts.get(who.scope_code or "") if who.scope_level == "rt" else None
    label = f"RT {place.rt.number}, Kelurahan {place.kelurahan_name}" if place else None
    return FieldMe(
        name=who.name, role=who.role.value, scope_level=who.scope_level.value, scope_code=who.scope_code, rt_label=label
    )
