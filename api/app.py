"""The FastAPI application. ``create_app`` takes the services built by the composition root
(``shell.compose.build_services``), so tests and ``bantar api`` build it the same way."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api import errors
from api.deps import known_query_only
from api.headers import SecurityHeaders
from api.limits import BodyLimit
from api.metrics import exposition, metrics_registry
from api.ratelimit import TokenBuckets
from api.routes import (
    admin,
    alerts,
    assessments,
    bank_book,
    evidence,
    field,
    health,
    patrols,
    posts,
    reports,
    sign_in,
)
from bantar.services import Services

STATIC = Path(__file__).parent / "static"
DOCS_HEADERS = {"Content-Security-Policy": "img-src 'self' data: blob:"}


def background_loops(services: Services, stop: threading.Event) -> list[threading.Thread]:
    """The API process's loops: evidence (and the warm summaries), alerts, the registry file's
    edits, and the archive."""
    settings = services.settings
    loops = [
        threading.Thread(
            target=services.updater.run,
            args=(stop, settings.evidence_every_s, lambda: after_evidence_turn(services)),
            name="evidence",
            daemon=True,
        ),
        threading.Thread(
            target=services.alerts.run, args=(stop, settings.notify.sync_every_s), name="alerts", daemon=True
        ),
    ]
    if services.registry_watch is not None:  # edits of the registry file, on the evidence loop's cadence
        loops.append(
            threading.Thread(
                target=services.registry_watch.run, args=(stop, settings.evidence_every_s), name="registry", daemon=True
            )
        )
    if services.archiver is not None and settings.archive.enabled:
        loops.append(
            threading.Thread(
                target=services.archiver.run_every,
                args=(stop, settings.archive.every_h * 3600),
                name="archive",
                daemon=True,
            )
        )
    return loops


def after_evidence_turn(services: Services) -> None:
    """What the evidence loop does after each turn, so that no request pays for it: the default
    period's summaries remade and the alert book synced with the new evidence (a summary and its
    alert states follow the evidence by one turn, as the evidence follows the readings)."""
    services.queries.warm()
    services.alerts.refresh()


def create_app(services: Services, *, run_evidence_loop: bool = True) -> FastAPI:
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        loops = background_loops(services, stop) if run_evidence_loop else []
        for loop in loops:
            loop.start()
        yield
        stop.set()
        for loop in loops:
            loop.join(timeout=10)

    app = FastAPI(
        title="BANTAR evidence service",
        version="0.1.0",
        description=(
            "Bukti sensor harian per RT untuk program Kampung BANTAR (Bersih, Aman, Pintar) Kota Jambi: "
            "skor yang disarankan per kriteria, peringatan penilaian ulang, ringkasan kota. "
            "Daily sensor evidence per RT, suggested scores, re-assessment alerts, city summaries."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(known_query_only)],
    )
    app.state.services = services
    app.state.rate_limits = TokenBuckets(services.settings.api.rate_per_token_s, services.settings.api.burst_per_token)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(evidence.router)
    app.include_router(alerts.router)
    app.include_router(reports.router)
    app.include_router(posts.router)
    app.include_router(assessments.router)
    app.include_router(admin.router)
    for router in (field.router, sign_in.router, bank_book.router, patrols.router):
        app.include_router(router)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/app", StaticFiles(directory=STATIC / "field", html=True), name="field-app")

    metrics = metrics_registry(services)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return exposition(metrics)

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    # The API docs from vendored Swagger UI and ReDoc (api/static/vendor/): they work offline,
    # and their pages carry no inline script. Images from this server only: ReDoc's sidebar
    # would otherwise fetch its maker's logo from a CDN.
    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> FileResponse:
        return FileResponse(STATIC / "docs" / "swagger.html", headers=DOCS_HEADERS)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> FileResponse:
        return FileResponse(STATIC / "docs" / "redoc.html", headers=DOCS_HEADERS)

    return app
