"""Alerts as work items: the evidence's current alerts synced into the alert book, with the
notifications the rules call for written in the same transaction; reminders and escalations
for alerts nobody acknowledged; signed acknowledgement links.

The alert kinds come from ``EvidenceQueries.alerts()``; any kind is synced the same way (its
cause is the kind, the RT and the device or criterion it names).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from bantar.domain.alert_text import digest_title, render
from bantar.domain.notifications import NotificationRules, Recipient, due_stages
from bantar.domain.registry import RegistryIndex, RTPlace
from bantar.domain.timebase import from_epoch_ms, to_epoch_ms
from bantar.stores.alertbook import AlertBook, CurrentAlert, Notification, StoredAlert

log = logging.getLogger("bantar.alerts")
CAUSE_FIELDS = ("device_id", "criterion")
"""besides kind and RT, what tells two alerts of one kind apart"""


def current_alert(alert: BaseModel) -> CurrentAlert:
    """An evidence alert (any kind) with its stable cause."""
    detail: dict[str, Any] = alert.model_dump(mode="json")
    kind, rt_code = str(detail["kind"]), str(detail["rt_code"])
    cause = "|".join([kind, rt_code, *(str(detail.get(f) or "") for f in CAUSE_FIELDS)])
    return CurrentAlert(cause=cause, kind=kind, rt_code=rt_code, detail=detail)


class AckLinks:
    """Acknowledgement links a recipient can use from a message: HMAC-signed per alert and
    recipient, so a link acknowledges only its own alert and names who used it."""

    def __init__(self, public_url: str, secret: bytes | None) -> None:
        self.public_url, self._secret = public_url.rstrip("/"), secret

    def signature(self, alert_id: int, recipient: str) -> str:
        assert self._secret is not None
        digest = hmac.new(self._secret, f"{alert_id}.{recipient}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def valid(self, alert_id: int, recipient: str, signature: str) -> bool:
        return self._secret is not None and hmac.compare_digest(self.signature(alert_id, recipient), signature)

    def link(self, alert_id: int, recipient: str) -> str | None:
        if self._secret is None:
            return None
        sig = self.signature(alert_id, recipient)
        return f"{self.public_url}/api/v1/alerts/{alert_id}/ack-link?r={quote(recipient)}&sig={sig}"


class AlertService:
    def __init__(
        self,
        book: AlertBook,
        alerts: Callable[[], list[Any]],
        registry: RegistryIndex,
        rules: NotificationRules,
        links: AckLinks,
        now: Callable[[], datetime],
        version: Callable[[], int] = lambda: 0,
    ) -> None:
        self.book, self._alerts, self.registry, self.rules, self.links, self.now = (
            book,
            alerts,
            registry,
            rules,
            links,
            now,
        )
        self._lock = threading.Lock()
        self._version = version
        self._synced: tuple[int, int] | None = None

    def refresh(self) -> None:
        """Sync unless nothing could have changed: same stored evidence, same minute."""
        key = (self._version(), int(self.now().timestamp() // 60))
        if key != self._synced:
            self.sync()
            self._synced = key

    def sync(self) -> tuple[int, int, int]:
        """Bring the book up to date with the evidence; plan due reminders and escalations.
        Returns (opened, resolved, follow-ups planned)."""
        with self._lock:
            now = self.now()
            current = [current_alert(a) for a in self._alerts()]
            current = [a for a in current if a.rt_code in self.registry.rts]
            opened, resolved = self.book.sync(current, to_epoch_ms(now), lambda a: self._plan_first(a, now))
            followed = self.book.follow_up(
                to_epoch_ms(now),
                lambda a: len(due_stages(self.rules.escalation, from_epoch_ms(a.opened_ms), now)),
                lambda a: self._plan_follow_ups(a, now),
            )
        if opened or resolved or followed:
            log.info("alerts: %d opened, %d resolved, %d reminders/escalations planned", opened, resolved, followed)
        return opened, resolved, followed

    def run(self, stop: threading.Event, every_s: float, then: Callable[[], object] | None = None) -> None:
        """Sync every ``every_s`` until ``stop``; ``then`` runs after each sync (scheduled reports)."""
        while not stop.is_set():
            try:
                self.sync()
                if then is not None:
                    then()
            except Exception:  # keep the loop alive; the next pass retries the whole sync
                log.exception("alert sync failed; will retry")
            stop.wait(every_s)

    # --- planning ---------------------------------------------------------------------------------
    def _messages(
        self, alert: StoredAlert, place: RTPlace, stage: str, recipients: list[Recipient], due: datetime
    ) -> list[Notification]:
        urgent = bool((rule := self.rules.rule_for(alert.kind)) and rule.urgent)
        digest = None
        if not urgent and stage == "first" and place.kelurahan_code in self.rules.digest.kelurahan:
            due, day = self.rules.digest.next_at(due)
            digest = f"{place.kelurahan_code}:{day.isoformat()}|{digest_title(place.kelurahan_name, day.isoformat())}"
        elif not urgent and self.rules.quiet_hours is not None:
            due = self.rules.quiet_hours.next_allowed(due)
        levels = [lv.value for lv in self.rules.escalation.levels]
        rows = []
        for recipient in recipients:
            title, body = render(
                alert.kind,
                alert.detail,
                place,
                stage,
                from_epoch_ms(alert.opened_ms),
                self.links.link(alert.id, recipient.id),
                levels,
            )
            for channel in recipient.channels:
                rows.append(
                    Notification(
                        recipient=recipient.id,
                        channel=channel,
                        stage=stage,
                        title=title,
                        body=body,
                        due_ms=to_epoch_ms(due),
                        digest=None if digest is None else f"{recipient.id}|{channel}|{digest}",
                    )
                )
        return rows

    def _plan_first(self, alert: StoredAlert, now: datetime) -> list[Notification]:
        place = self.registry.rts[alert.rt_code]
        return self._messages(alert, place, "first", self.rules.first_recipients(alert.kind, place), now)

    def _plan_follow_ups(self, alert: StoredAlert, now: datetime) -> list[Notification]:
        place = self.registry.rts[alert.rt_code]
        rows = []
        for stage in due_stages(self.rules.escalation, from_epoch_ms(alert.opened_ms), now):
            kind, _, n = stage.name.partition("-")
            recipients = (
                self.rules.first_recipients(alert.kind, place)
                if kind == "reminder"
                else self.rules.escalation_recipients(int(n), place)
            )
            rows += self._messages(alert, place, stage.name, recipients, now)
        return rows
