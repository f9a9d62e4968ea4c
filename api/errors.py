"""HTTP errors: every refusal carries a stable ``reason`` code, a precise English ``detail`` and
a Bahasa Indonesia ``detail_id``, the same vocabulary as the dead letters."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class ErrorBody(BaseModel):
    reason: str
    detail: str
    detail_id: str


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


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status,
            content=ErrorBody(reason=exc.reason, detail=exc.detail, detail_id=exc.detail_id).model_dump(),
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems: list[dict[str, Any]] = exc.errors()
        parts = [
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'path', 'body'))}: {e['msg']}"
            for e in problems[:3]
        ]
        return JSONResponse(
            status_code=422,
            content=ErrorBody(
                reason="invalid_field", detail="; ".join(parts), detail_id="Isian tidak sah: " + "; ".join(parts)
            ).model_dump(),
        )
