"""HTTP errors: every refusal carries a stable ``reason`` code, a precise English ``detail`` and
a Bahasa Indonesia ``detail_id``, the same vocabulary as the dead letters."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorBody(BaseModel):
    reason: str
    detail: str
    detail_id: str


_MEANINGS = {
    400: "the body cannot be parsed (not JSON, not UTF-8)",
    401: "no token, or an unknown or revoked one",
    403: "the token's role or scope does not allow this",
    404: "no such RT, area, device, token or assessment",
    409: "conflicts with what is stored (another body under the same Idempotency-Key, a signed assessment)",
    413: "the body is larger than the limit",
    422: "a field is invalid: which one and why is in detail",
    428: "the Idempotency-Key header is required",
    429: "this token's rate limit is exceeded: see Retry-After",
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the refusals a router can answer with, all as ``ErrorBody``."""
    return {status: {"model": ErrorBody, "description": _MEANINGS[status]} for status in statuses}


AUTHENTICATED = (401, 403, 404, 422, 429)
"""what any authenticated route may answer"""


class ApiError(Exception):
    def __init__(
        self, status: int, reason: str, detail: str, detail_id: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail, self.detail_id = status, reason, detail, detail_id
        self.headers = headers or {}


def unknown(what: str, code: str) -> ApiError:
    words = {"RT": "RT", "kecamatan": "Kecamatan", "kelurahan": "Kelurahan"}
    return ApiError(
        404,
        f"unknown_{what.lower()}",
        f"{what} {code!r} is not in the registry",
        f"{words.get(what, what)} {code!r} tidak terdaftar",
    )


def bad_request(reason: str, detail: str, detail_id: str) -> ApiError:
    return ApiError(422, reason, detail, detail_id)


_HTTP_REASONS = {
    400: ("malformed_body", "Isi permintaan tidak dapat dibaca (bukan JSON UTF-8 yang sah)"),
    404: ("not_found", "Alamat tidak ditemukan"),
    405: ("method_not_allowed", "Metode tidak diizinkan untuk alamat ini"),
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status,
            content=ErrorBody(reason=exc.reason, detail=exc.detail, detail_id=exc.detail_id).model_dump(),
            headers=exc.headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals (an unparsable body, an unknown path or method) in our shape."""
        reason, detail_id = _HTTP_REASONS.get(exc.status_code, ("http_error", str(exc.detail)))
        return JSONResponse(
            status_code=exc.status_code,
            content=ErrorBody(reason=reason, detail=str(exc.detail), detail_id=detail_id).model_dump(),
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = list(exc.errors())
        shown = [(".".join(str(p) for p in e["loc"] if p not in ("query", "path", "body")), e) for e in problems[:3]]
        parts = [f"{field}: {e['msg']}" for field, e in shown]
        parts_id = [f"{field}: {_PROBLEM_ID.get(e['type'], 'tidak sah')}" for field, e in shown]
        return JSONResponse(
            status_code=422,
            content=ErrorBody(
                reason="invalid_field", detail="; ".join(parts), detail_id="Isian tidak sah: " + "; ".join(parts_id)
            ).model_dump(),
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
