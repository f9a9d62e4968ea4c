"""What the API, the evidence loop and the commands share, built once from settings by the
composition root (``shell.compose.build_services``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bantar.alerting import AlertService
from bantar.domain.registry import RegistryIndex
from bantar.domain.scoring import Rules
from bantar.evidence_service import EvidenceQueries, EvidenceUpdater
from bantar.ports import ReadingStore
from bantar.registry_file import RegistryWatch
from bantar.report_schedule import ReportDeliveries
from bantar.settings import Settings
from bantar.stores.appdb import AppDb

if TYPE_CHECKING:
    from bantar.archive.archiver import Archiver


@dataclass
class Services:
    """Everything the API and the evidence loop need, built once from settings."""

    settings: Settings
    store: ReadingStore
    registry: RegistryIndex
    rules: Rules
    updater: EvidenceUpdater
    queries: EvidenceQueries
    app_db: AppDb
    criteria: dict[str, dict[str, str]]
    """criterion -> its name in Bahasa Indonesia (id) and English (en)"""
    alerts: AlertService
    reports: ReportDeliveries
    archiver: Archiver | None = None
    registry_watch: RegistryWatch | None = None
    """follows edits of the registry file (None: the registry was given, not loaded from a file)"""

    def close(self) -> None:
        self.store.close()
        self.app_db.close()
        self.alerts.book.close()
