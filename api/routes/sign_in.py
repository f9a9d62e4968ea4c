"""One-time sign-in codes: an admin (any role and scope) or an RT head (the RT's operator and
security post) issues a code per person; the phone exchanges it once for its own token. The
phone is locked out by revoking that token (``DELETE /api/v1/tokens/{token_id}``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep, client_address, require
from api.errors import AUTHENTICATED, ApiError, refusals
from api.routes.field import refusal
from bantar.domain.access import Action, Principal, Role, ScopeLevel, scope_problem
from bantar.domain.errors import Reason
from bantar.domain.registry import RegistryIndex
from bantar.stores.appdb import SignInCodeInfo

router = APIRouter(prefix="/api/v1", tags=["sign-in"], responses=refusals(413, 422))
RT_HEAD_ISSUES = (Role.operator, Role.security_post)


class SignInCodeCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="who will hold the phone, e.g. 'Bu Sari (operator)'")
    role: Role
    scope_level: ScopeLevel = ScopeLevel.rt
    scope_code: str | None = Field(default=None, max_length=40)


class SignInCodeCreated(BaseModel):
    id: str
    code: str
    """shown once; only its hash is kept"""
    link: str
    """open on the phone (or scan as a QR code): the field app signs in with the code"""
    expires_ms: int


class SignIn(BaseModel):
    code: str = Field(min_length=3, max_length=80)


class SignedIn(BaseModel):
    token_id: str
    token: str
    name: str
    role: Role
    scope_level: ScopeLevel
    scope_code: str | None


def sign_in_link(base_url: str, code: str) -> str:
    """The field app's address with the code in the fragment (never sent to a server log)."""
    return f"{base_url.rstrip('/')}/app/#masuk={code}"


def check_issuer(registry: RegistryIndex, issuer: Principal, body: SignInCodeCreate) -> None:
    """Refuse a code for an unknown area, and an RT head's code for another role or RT."""
    problem = scope_problem(registry, body.scope_level, body.scope_code)
    if problem:
        raise ApiError(422, "invalid_field", problem, "Wilayah kode masuk tidak terdaftar")
    if issuer.role is Role.admin:
        if not issuer.reaches(registry, body.scope_level, body.scope_code):  # never wider than the issuer
            scope = f"{body.scope_level.value}:{body.scope_code or ''}".rstrip(":")
            raise ApiError(403, Reason.scope_too_wide, scope=scope)
        return
    place = registry.rts.get(body.scope_code or "")
    if body.role not in RT_HEAD_ISSUES or body.scope_level is not ScopeLevel.rt or place is None:
        raise ApiError(
            403,
            "forbidden_role",
            "an RT head issues codes for an operator or a security post of one RT",
            "Ketua RT hanya membuat kode masuk untuk operator bank sampah atau pos ronda satu RT",
        )
    if not issuer.covers(place):
        raise ApiError(
            403,
            "out_of_scope",
            f"RT {body.scope_code!r} is outside this token's scope",
            f"RT {body.scope_code!r} di luar wilayah token ini",
        )


@router.post(
    "/sign-in-codes",
    response_model=SignInCodeCreated,
    status_code=201,
    summary="Issue a one-time sign-in code for one person (admins; RT heads for their RT's operator and post)",
    responses=refusals(*AUTHENTICATED, 413),
)
def create_code(
    body: SignInCodeCreate, request: Request, services: ServicesDep, who: PrincipalDep
) -> SignInCodeCreated:
    require(who, Action.issue_sign_in)
    check_issuer(services.registry, who, body)
    code_id, code = services.app_db.create_sign_in_code(
        body.name, body.role, body.scope_level, body.scope_code, who.name
    )
    info = next(c for c in services.app_db.sign_in_codes() if c.id == code_id)
    services.app_db.audit(
        who,
        "sign_in_code_create",
        code_id,
        {"role": body.role.value, "scope": body.scope_level.value, "scope_code": body.scope_code},
        client_address(request),
    )
    return SignInCodeCreated(
        id=code_id, code=code, link=sign_in_link(str(request.base_url), code), expires_ms=info.expires_ms
    )


@router.get(
    "/sign-in-codes",
    response_model=list[SignInCodeInfo],
    summary="Sign-in codes and the phones that used them (admins: all; RT heads: their RT's)",
    responses=refusals(*AUTHENTICATED, 413),
)
def list_codes(services: ServicesDep, who: PrincipalDep) -> list[SignInCodeInfo]:
    require(who, Action.issue_sign_in)
    if who.scope_level is ScopeLevel.city:
        return services.app_db.sign_in_codes()
    return [  # a scoped issuer (admin or RT head) sees only the codes for RTs inside its scope
        c
        for c in services.app_db.sign_in_codes()
        if c.scope_level is ScopeLevel.rt
        and c.scope_code in services.registry.rts
        and who.covers(services.registry.rts[c.scope_code])
    ]


@router.post(
    "/sign-in",
    response_model=SignedIn,
    status_code=201,
    summary="Exchange a one-time sign-in code for this phone's token (no token needed)",
    responses=refusals(404, 409, 413, 422),
)
def sign_in(body: SignIn, request: Request, services: ServicesDep) -> SignedIn:
    outcome = services.app_db.redeem_sign_in_code(body.code.strip())
    code_id = body.code.partition(".")[0][:16]
    if isinstance(outcome, Reason):
        services.app_db.audit(None, "sign_in_refused", code_id, {"reason": outcome.value}, client_address(request))
        status = 404 if outcome is Reason.sign_in_code_unknown else 409
        raise refusal(status, outcome, f"sign-in code {code_id!r}: {outcome.value.replace('_', ' ')}")
    token_id, token = outcome
    who = services.app_db.authenticate(token)
    assert who is not None  # just created
    services.app_db.audit(who, "sign_in", code_id, {"token_id": token_id}, client_address(request))
    return SignedIn(
        token_id=token_id,
        token=token,
        name=who.name,
        role=who.role,
        scope_level=who.scope_level,
        scope_code=who.scope_code,
    )
