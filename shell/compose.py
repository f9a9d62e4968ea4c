"""The composition root: every adapter is chosen and built here, from settings, and nowhere else."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bantar.alerting import AckLinks, AlertService
from bantar.domain.registry import RegistryIndex
from bantar.domain.scoring import Rules
from bantar.domain.timebase import utc_now
from bantar.evidence_service import EvidenceQueries, EvidenceUpdater
from bantar.notify_file import load_notification_rules
from bantar.ports import ReadingStore
from bantar.registry_file import RegistryWatch, load_registry
from bantar.report_schedule import ReportDeliveries
from bantar.rules_file import load_criteria, load_rules
from bantar.services import Services
from bantar.settings import Settings
from bantar.stores.alertbook import AlertBook
from bantar.stores.appdb import AppDb
from bantar.stores.sqlite import SqliteStore
from ingest.broker_auth import BrokerLogins
from ingest.counters import IngestCounters
from ingest.runner import follow_registry, run_ingestor
from ingest.sources.config import load_sources

if TYPE_CHECKING:
    from bantar.archive.archiver import Archiver


def build_store(settings: Settings) -> ReadingStore:
    match settings.store:
        case "sqlite":
            sqlite = settings.sqlite
            return SqliteStore(sqlite.path, sqlite.synchronous, sqlite.busy_timeout_ms, settings.archive_root())
        case "influxdb":
            from bantar.stores.archive_influx import ensure_retention_policy
            from bantar.stores.influxdb import InfluxClient, InfluxStore  # an optional dependency

            influx = settings.influxdb
            client = InfluxClient(
                influx.url,
                influx.database,
                retention_policy=influx.retention_policy,
                token=influx.token.get_secret_value() if influx.token else None,
                username=influx.username,
                password=influx.password.get_secret_value() if influx.password else None,
                timeout_s=influx.timeout_s,
            )
            if influx.create_database:
                client.create_database()
            if influx.retention_days is not None:
                ensure_retention_policy(client, influx.retention_policy or "autogen", influx.retention_days)
            sqlite = settings.sqlite
            return InfluxStore(
                client, influx.ledger_path, sqlite.synchronous, sqlite.busy_timeout_ms, settings.archive_root()
            )


def build_archiver(settings: Settings, store: ReadingStore, now: Callable[[], datetime] = utc_now) -> Archiver | None:
    """The archiver of the store: the SQLite store is its own archive side, the InfluxDB store
    holds one."""
    from bantar.archive.archiver import Archiver  # pyarrow: only where the archive is used

    if isinstance(store, SqliteStore):
        return Archiver(store, settings.archive_root(), settings.archive.hot_days, now)
    from bantar.stores.influxdb import InfluxStore

    if isinstance(store, InfluxStore):
        return Archiver(store.archive, settings.archive_root(), settings.archive.hot_days, now)
    return None


def build_registry(settings: Settings) -> RegistryIndex:
    return RegistryIndex(load_registry(settings.registry))


def build_rules(settings: Settings) -> Rules:
    return load_rules(settings.rules)


def build_services(
    settings: Settings,
    now: Callable[[], datetime] = utc_now,
    *,
    store: ReadingStore | None = None,
    registry: RegistryIndex | None = None,
) -> Services:
    """Everything the API, the evidence loop and the commands need. ``store`` and ``registry``,
    when given, are used instead of the ones the settings name (tests that filled a store first);
    a registry loaded here from its file is watched (``Services.registry_watch``)."""
    store = store or build_store(settings)
    rules = build_rules(settings)
    app_db = AppDb(settings.app_db, now)
    watch = None
    if registry is None:
        watch = RegistryWatch.load(settings.registry, app_db.device_overrides, on_replace=lambda _: freeze_registry())
        registry = watch.index
    else:
        registry.apply_overrides(app_db.device_overrides())
    freeze_registry()
    queries = EvidenceQueries(store, registry, rules, now)
    alerts = build_alert_service(settings, registry, queries, now)
    return Services(
        settings=settings,
        store=store,
        registry=registry,
        rules=rules,
        updater=EvidenceUpdater(store, registry, rules, now),
        queries=queries,
        app_db=app_db,
        criteria=load_criteria(settings.criteria),
        alerts=alerts,
        reports=ReportDeliveries(alerts.book, queries, registry, alerts.rules, settings.notify.public_url, now),
        archiver=build_archiver(settings, store, now),
        registry_watch=watch,
    )


def freeze_registry() -> None:
    """Keep the registry (thousands of long-lived models, changed only by a new file) out of the
    garbage collector's scans, which otherwise paused city-wide views for ~0.2 s
    (bench/evidence.py): at start and after each new registry file."""
    gc.collect()
    gc.freeze()


def run_ingest(settings: Settings, stop: threading.Event, ready: threading.Event | None = None) -> IngestCounters:
    """The ingestor (``bantar ingest``): the registry, the store and the admins' device switches
    and registry file edits (followed while it runs: by the intake and, when configured, the
    broker's logins), ingesting until ``stop``."""
    app_db = AppDb(settings.app_db)
    try:
        watch = RegistryWatch.load(settings.registry, app_db.device_overrides)
        registry = watch.index
        store = build_store(settings)
        try:
            mqtt = settings.mqtt
            sources = load_sources(settings.sources) if settings.sources else None
            auth = mqtt.broker_auth_dir
            logins = None if auth is None else BrokerLogins(auth, mqtt.broker_pid_file, sources)
            follow_registry(
                registry,
                app_db.device_overrides,
                stop,
                settings.ingest.device_switches_every_s,
                on_change=None if logins is None else lambda: logins.follow(registry.devices.values()),
                watch=watch,
            )
            return run_ingestor(settings, registry, store, stop, ready, registry_watch=watch)
        finally:
            store.close()
    finally:
        app_db.close()


def build_alert_service(
    settings: Settings, registry: RegistryIndex, queries: EvidenceQueries, now: Callable[[], datetime]
) -> AlertService:
    notify = settings.notify
    rules, warnings = load_notification_rules(notify.rules, registry, notify.channels.keys())
    for warning in warnings:
        logging.getLogger("bantar.alerts").warning("%s", warning)
    secret = notify.link_secret.get_secret_value().encode() if notify.link_secret else None
    return AlertService(
        AlertBook(settings.app_db, settings.sqlite.busy_timeout_ms),
        queries.alerts,
        registry,
        rules,
        AckLinks(notify.public_url, secret),
        now,
        queries.version,
    )
