"""Scheduled reports: on the configured day of each month, last month's report goes into the
outbox for each of its recipients' channels, once (the sender delivers it as an attachment)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from bantar.domain.notifications import NotificationRules, ReportSchedule
from bantar.domain.registry import RegistryIndex
from bantar.domain.timebase import to_epoch_ms
from bantar.evidence_service import EvidenceQueries
from bantar.report_files import csv_bytes, xlsx_bytes
from bantar.reports import Table, bank_sampah, evidence_recap
from bantar.stores.alertbook import AlertBook, Notification

log = logging.getLogger("bantar.reports")


class ReportDeliveries:
    def __init__(
        self,
        book: AlertBook,
        queries: EvidenceQueries,
        registry: RegistryIndex,
        rules: NotificationRules,
        public_url: str,
        now: Callable[[], datetime],
    ) -> None:
        self.book, self.queries, self.registry, self.rules, self.public_url, self.now = (
            book,
            queries,
            registry,
            rules,
            public_url.rstrip("/"),
            now,
        )

    def table(self, schedule: ReportSchedule, start: date) -> Table:
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if schedule.report == "bank_sampah":
            return bank_sampah(self.queries.store, self.registry, schedule.level, schedule.code, start, end)
        return evidence_recap(self.queries, self.book, self.registry, schedule.level, schedule.code, start, end)

    def plan(self) -> int:
        """Put every report that is due and not yet planned into the outbox; how many."""
        now = self.now()
        planned = 0
        for schedule in self.rules.reports:
            due = schedule.due(now)
            if due is None:
                continue
            _, first = due
            stage = f"report:{schedule.id}:{first:%Y-%m}"
            if self.book.has_stage(stage):
                continue
            table = self.table(schedule, first)
            content = xlsx_bytes(table) if schedule.format == "xlsx" else csv_bytes(table)
            name = f"{schedule.id}-{first:%Y-%m}.{schedule.format}"
            body = "\n".join([f"Terlampir: {table.title}.", *table.notes, f"Dasbor: {self.public_url}/"])
            rows = [
                Notification(
                    recipient=recipient.id,
                    channel=channel,
                    stage=stage,
                    title=f"[BANTAR] {table.title}",
                    body=body,
                    due_ms=to_epoch_ms(now),
                    attachment=content,
                    attachment_name=name,
                )
                for recipient in map(self.rules.recipient, schedule.recipients)
                for channel in recipient.channels
            ]
            self.book.add_report(rows, to_epoch_ms(now))
            log.info("report %s for %s planned for %d channels", schedule.id, f"{first:%Y-%m}", len(rows))
            planned += 1
        return planned
