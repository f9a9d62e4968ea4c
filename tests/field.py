"""A fresh API over an empty store for the field app's tests (real SQLite, real uvicorn)."""

from __future__ import annotations

from pathlib import Path

from bantar.bootstrap import Services, build_alert_service
from bantar.domain.registry import Registry, RegistryIndex
from bantar.domain.timebase import utc_now
from bantar.evidence_service import EvidenceQueries, EvidenceUpdater
from bantar.report_schedule import ReportDeliveries
from bantar.rules_file import load_criteria, load_rules
from bantar.settings import Settings
from bantar.stores.appdb import AppDb
from bantar.stores.sqlite import SqliteStore
from tests.support import REPO


def fresh_services(registry: Registry, tmp: Path) -> Services:
    index = RegistryIndex(registry)
    store = SqliteStore(tmp / "bantar.db")
    rules = load_rules(REPO / "config/rules.yaml")
    settings = Settings(app_db=tmp / "app.db")
    queries = EvidenceQueries(store, index, rules, utc_now)
    alerts = build_alert_service(settings, index, queries, utc_now)
    return Services(
        settings=settings,
        store=store,
        registry=index,
        rules=rules,
        updater=EvidenceUpdater(store, index, rules, utc_now),
        queries=queries,
        app_db=AppDb(settings.app_db),
        criteria=load_criteria(REPO / "config/criteria.yaml"),
        alerts=alerts,
        reports=ReportDeliveries(alerts.book, queries, index, alerts.rules, settings.notify.public_url, utc_now),
    )
