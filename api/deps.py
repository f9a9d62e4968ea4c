"""Request dependencies, as ``Annotated`` aliases: the services, and who is asking."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.ratelimit import retry_after
from bantar.bootstrap import Services
from bantar.domain.access import Action, Principal


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]
_bearer = HTTPBearer(auto_error=False, description="an API token from `bantar token create`")


def principal(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise ApiError(
            401,
            "missing_token",
            "send an API token: Authorization: Bearer <token>",
            "Sertakan token API: Authorization: Bearer <token>",
        )
    who = services.app_db.authenticate(credentials.credentials)
    if who is not None:
        wait = request.app.state.rate_limits.take(who.token_id)
        if wait:
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests from this token; retry in {wait:.1f} s",
                "Terlalu banyak permintaan dari token ini; coba lagi sebentar",
                headers={"Retry-After": retry_after(wait)},
            )
    if who is None:
        raise ApiError(
            401, "invalid_token", "the token is unknown or revoked", "Token tidak dikenal atau sudah dicabut"
        )
    return who


PrincipalDep = Annotated[Principal, Depends(principal)]


def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not take, and any given twice: a typo (``strat=``)
    or a second ``start=`` would otherwise be ignored and answer for a period nobody asked for."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_params(route.dependant)  # a few µs per request; no cache to go stale
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ApiError(
            422,
            "repeated_parameter",
            f"query parameter(s) given more than once: {', '.join(repeated)}",
            f"Parameter diberikan lebih dari sekali: {', '.join(repeated)}",
        )
    unknown = sorted(set(names) - known)
    if unknown:
        strangers = ", ".join(unknown)
        allowed = ", ".join(sorted(known)) or "none"
        raise ApiError(
            422,
            "unknown_parameter",
            f"unknown query parameter(s): {strangers} (this route takes: {allowed})",
            f"Parameter tidak dikenal: {strangers} (yang diterima: {allowed})",
        )


def _query_params(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _query_params(inner)
    return names


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def require(who: Principal, action: Action) -> None:
    if not who.may(action):
        raise ApiError(
            403,
            "forbidden_role",
            f"role {who.role} may not {action.value.replace('_', ' ')}",
            f"Peran {who.role} tidak boleh melakukan ini",
        )


def require_rt(services: Services, who: Principal, rt_code: str, action: Action) -> None:
    """The role allows the action and the RT lies inside the token's scope."""
    require(who, action)
    place = services.registry.rts.get(rt_code)
    if place is None:
        from api.errors import unknown

        raise unknown("RT", rt_code)
    if not who.covers(place):
        raise ApiError(
            403,
            "out_of_scope",
            f"RT {rt_code!r} is outside this token's scope",
            f"RT {rt_code!r} di luar wilayah token ini",
        )
