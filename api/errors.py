"""HTTP errors: every refusal carries a stable ``reason`` code from the one vocabulary
(``bantar.domain.errors.Reason``), a precise English ``detail`` and a Bahasa Indonesia ``detail_id``
taken from the catalogue (``explain``), never a library's raw message."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from bantar.domain.errors import Reason, Rejected, explain


class ErrorBody(BaseModel):
    reason: Reason
    detail: str
    detail_id: str


_MEANINGS = {
    401: "no token, or an unknown or revoked one",
    403: "the token's role or scope does not allow this, or the target is not in the registry",
    404: "no such RT, area, device, token or assessment (to a city-wide token)",
    409: "conflicts with what is stored (another body under the same Idempotency-Key, a signed assessment)",
    413: "the body is larger than the limit",
    415: "the body is not JSON",
    422: "the body or a field is invalid: which one and why is in detail",
    428: "the Idempotency-Key header is required",
    429: "this token's rate limit is exceeded: see Retry-After",
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the refusals a router can answer with, all as ``ErrorBody``."""
    return {status: {"model": ErrorBody, "description": _MEANINGS[status]} for status in statuses}


AUTHENTICATED = (401, 403, 404, 422, 429)
"""what any authenticated route may answer"""


class ApiError(Exception):
    """A refusal. ``detail`` defaults to the catalogue's English text; ``detail_id`` is always the
    catalogue's Indonesian text, both filled with ``params``."""

    def __init__(
        self,
        status: int,
        reason: Reason | str,
        detail: str | None = None,
        detail_id: str | None = None,
        headers: dict[str, str] | None = None,
        **params: object,
    ) -> None:
        reason = Reason(reason)
        detail = detail or explain(reason, "en", **params)
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail
        self.detail_id = explain(reason, "id", **params) if params or detail_id is None else detail_id
        self.headers = headers or {}

    @classmethod
    def rejected(cls, rejection: Rejected, status: int = 422) -> ApiError:
        error = cls(status, rejection.reason, rejection.detail)
        error.detail_id = explain(rejection.reason, "id", **(rejection.params or {"field": ""}))
        return error


def unknown(what: str, code: str) -> ApiError:
    return ApiError(404, f"unknown_{what.lower()}", code=repr(code))


def bad_request(reason: str, detail: str, detail_id: str) -> ApiError:
    return ApiError(422, reason, detail, detail_id)


_HTTP_REASONS = {
    400: Reason.malformed_json,
    404: Reason.not_found,
    405: Reason.method_not_allowed,
    415: Reason.unsupported_media_type,
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status,
            content=ErrorBody(reason=exc.reason, detail=exc.detail, detail_id=exc.detail_id).model_dump(mode="json"),
            headers=exc.headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals (an unparsable body, an unknown path or method) in our shape;
        an unparsable body is a 422 like every other bad body."""
        reason = _HTTP_REASONS.get(exc.status_code, Reason.invalid_field)
        status = 422 if exc.status_code == 400 else exc.status_code
        return JSONResponse(
            status_code=status,
            content=ErrorBody(reason=reason, detail=str(exc.detail), detail_id=explain(reason, field="")).model_dump(
                mode="json"
            ),
            headers=exc.headers,
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
        """A body nested beyond the parser's recursion limit is malformed, not a server error."""
        return JSONResponse(
            status_code=422,
            content=ErrorBody(
                reason=Reason.malformed_json,
                detail="the body is nested too deeply",
                detail_id=explain(Reason.malformed_json),
            ).model_dump(mode="json"),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = list(exc.errors())
        shown = [(".".join(str(p) for p in e["loc"] if p not in ("query", "path", "body")), e) for e in problems[:3]]
        parts = [f"{field}: {e['msg']}" for field, e in shown]
        parts_id = [f"{field}: {_PROBLEM_ID.get(e['type'], 'tidak sah')}" for field, e in shown]
        json_broken = any(e["type"] == "json_invalid" for e in problems)
        reason = Reason.malformed_json if json_broken else Reason.invalid_field
        return JSONResponse(
            status_code=422,
            content=ErrorBody(
                reason=reason, detail="; ".join(parts), detail_id=explain(reason, field="; ".join(parts_id))
            ).model_dump(mode="json"),
        )


_PROBLEM_ID = {
    "missing": "wajib diisi",
    "extra_forbidden": "tidak dikenal",
    "string_pattern_mismatch": "formatnya tidak sesuai",
    "string_too_long": "terlalu panjang",
    "string_too_short": "terlalu pendek",
    "literal_error": "bukan salah satu nilai yang diizinkan",
    "enum": "bukan salah satu nilai yang diizinkan",
    "date_parsing": "bukan tanggal (TTTT-BB-HH)",
    "date_from_datetime_parsing": "bukan tanggal (TTTT-BB-HH)",
    "datetime_parsing": "bukan waktu RFC 3339",
    "datetime_from_date_parsing": "bukan waktu RFC 3339",
    "int_parsing": "bukan bilangan bulat",
    "int_type": "bukan bilangan bulat",
    "float_parsing": "bukan angka",
    "float_type": "bukan angka",
    "bool_parsing": "bukan ya/tidak (true/false)",
    "greater_than": "terlalu kecil",
    "greater_than_equal": "terlalu kecil",
    "less_than": "terlalu besar",
    "less_than_equal": "terlalu besar",
    "too_short": "terlalu sedikit isian",
    "too_long": "terlalu banyak isian",
    "json_invalid": "bukan JSON yang sah",
}
"""Bahasa Indonesia for pydantic's problem types: people read a field and a plain reason, not a regex."""
