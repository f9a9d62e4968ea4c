"""GET /api/v1/charts draws a rule's reference line at the rule's value as the service loaded it
from ``config/rules.yaml``: the bin chart's overflow line follows ``overflow_pct``."""

from __future__ import annotations

from pathlib import Path

import httpx

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.settings import Settings, SqliteSettings
from ingest.broker import free_port
from shell.compose import build_services
from tests.support import REPO


def test_the_bin_charts_overflow_line_follows_the_rule(registry_file: Path, tmp_path: Path) -> None:
    rules = (REPO / "config/rules.yaml").read_text()
    assert "\noverflow_pct: 90 " in rules
    (tmp_path / "rules.yaml").write_text(rules.replace("\noverflow_pct: 90 ", "\noverflow_pct: 82.5 "))
    settings = Settings(
        registry=registry_file,
        rules=tmp_path / "rules.yaml",
        sqlite=SqliteSettings(path=tmp_path / "r.db"),
        app_db=tmp_path / "a.db",
    )
    services = build_services(settings)
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    try:
        _, token = services.app_db.create_token("assessor", Role.assessor, ScopeLevel.city, None)
        charts = httpx.get(f"{server.url}/api/v1/charts", headers={"Authorization": f"Bearer {token}"}).json()
    finally:
        server.stop()
        services.close()
    bins = next(c for c in charts if c["kind"] == "bin")
    (line,) = [s for s in bins["series"] if s["constant"] is not None]
    assert line["constant"] == 82.5
    assert line["label"] == {"id": "batas penuh 82.5 %", "en": "overflow line 82.5 %"}
