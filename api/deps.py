"""Request dependencies, as ``Annotated`` aliases: the services, who is asking, and the one check
of the access matrix (``bantar.domain.access.MATRIX``): ``require`` / ``require_rt``."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.ratelimit import retry_after
from bantar.domain.access import Action, Principal, ScopeLevel
from bantar.domain.errors import Reason
from bantar.services import Services


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]  # Starlette's app.state is untyped


ServicesDep = Annotated[Services, Depends(services)]
_bearer = HTTPBearer(auto_error=False, description="an API token from `bantar token create`")


def principal(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise ApiError(401, Reason.missing_token)
    who = services.app_db.authenticate(credentials.credentials)
    if who is None:
        raise ApiError(401, Reason.invalid_token)
    wait = request.app.state.rate_limits.take(who.token_id)
    if wait:
        raise ApiError(429, Reason.rate_limited, headers={"Retry-After": retry_after(wait)}, wait=f"{wait:.1f}")
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
        raise ApiError(422, Reason.repeated_parameter, names=", ".join(repeated))
    unknown = sorted(set(names) - known)
    if unknown:
        raise ApiError(
            422, Reason.unknown_parameter, names=", ".join(unknown)[:200], allowed=", ".join(sorted(known)) or "none"
        )


def _query_params(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _query_params(inner)
    return names


def client_address(request: Request) -> str | None:
    """The caller's address: the direct peer, or, when that peer is a configured trusted proxy,
    the nearest address in ``X-Forwarded-For`` that is not one of the trusted proxies."""
    peer = request.client.host if request.client else None
    trusted = request.app.state.services.settings.api.trusted_proxies
    if peer is None or not _within(peer, trusted):
        return peer
    chain = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    for hop in reversed(chain):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _refuse(
    services: Services | None, request: Request | None, who: Principal, action: Action, target: str, error: ApiError
) -> ApiError:
    """The refusal, audited when the action is a write (who tried, what, where from)."""
    if action.writes and services is not None:
        services.app_db.audit(
            who,
            f"{action.value}_denied",
            target[:120],
            {"reason": error.reason.value},
            client_address(request) if request is not None else None,
        )
    return error


def require(
    who: Principal,
    action: Action,
    services: Services | None = None,
    request: Request | None = None,
    target: str = "",
) -> None:
    """The matrix allows this role the action (somewhere; where is for ``require_rt``/``reaches``).
    With ``services`` a refused write is audited."""
    if not who.may(action):
        raise _refuse(
            services,
            request,
            who,
            action,
            target,
            ApiError(403, Reason.forbidden_role, role=who.role.value, action=action.value.replace("_", " ")),
        )


def unknown_or_forbidden(
    services: Services, request: Request | None, who: Principal, action: Action, what: str, code: str, reason: Reason
) -> ApiError:
    """An unknown target (device, assessment, token) answers like a forbidden one to a token that
    does not cover the whole city: the same 403, so no one learns what exists outside their scope."""
    if who.scope_level is ScopeLevel.city:
        return ApiError(404, reason, code=repr(code[:40]))
    return _refuse(
        services, request, who, action, code, ApiError(403, Reason.out_of_scope, what=what, code=repr(code[:40]))
    )


def require_rt(
    services: Services, who: Principal, rt_code: str, action: Action, request: Request | None = None
) -> None:
    """The role allows the action and the RT lies inside the token's scope. An unknown RT answers
    like a forbidden one to a token that does not cover the whole city (no existence oracle)."""
    require(who, action, services, request, rt_code)
    place = services.registry.rts.get(rt_code)
    if place is None:
        raise unknown_or_forbidden(services, request, who, action, "RT", rt_code, Reason.unknown_rt)
    if not who.covers(place):
        raise _refuse(
            services, request, who, action, rt_code, ApiError(403, Reason.out_of_scope, what="RT", code=repr(rt_code))
        )
