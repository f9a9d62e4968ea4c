"""A fresh API over an empty store for the field app's tests (real SQLite, real uvicorn)."""

from __future__ import annotations

from pathlib import Path

from bantar.bootstrap import Services
from bantar.domain.registry import Registry, RegistryIndex
from bantar.evidence_service import EvidenceQueries, EvidenceUpdater, utc_now
from bantar.rules_file import load_criteria, load_rules
from bantar.settings import Settings
from bantar.stores.appdb import AppDb
from bantar.stores.sqlite import SqliteStore
from tests.support import REPO


def fresh_services(registry: Registry, tmp: Path) -> Services:
    index = RegistryIndex(registry)
    store = SqliteStore(tmp / "bantar.db")
    rules = load_rules(REPO / "config/rules.yaml")
    return Services(
        settings=Settings(),
        store=store,
        registry=index,
        rules=rules,
        updater=EvidenceUpdater(store, index, rules),
        queries=EvidenceQueries(store, index, rules, utc_now),
        app_db=AppDb(tmp / "app.db"),
        criteria=load_criteria(REPO / "config/criteria.yaml"),
    )
