"""A fresh API over an empty store for the field app's tests (real SQLite, real uvicorn)."""

from __future__ import annotations

from pathlib import Path

from bantar.domain.registry import Registry, RegistryIndex
from bantar.services import Services
from bantar.settings import ArchiveSettings, NotifySettings, Settings, SqliteSettings
from shell.compose import build_services
from tests.support import REPO


def fresh_services(registry: Registry, tmp: Path) -> Services:
    settings = Settings(
        rules=REPO / "config/rules.yaml",
        criteria=REPO / "config/criteria.yaml",
        sqlite=SqliteSettings(path=tmp / "bantar.db"),
        app_db=tmp / "app.db",
        notify=NotifySettings(rules=REPO / "config/notifications.yaml"),
        archive=ArchiveSettings(enabled=False),
    )
    return build_services(settings, registry=RegistryIndex(registry))
