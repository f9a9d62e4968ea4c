"""Who hears about which alert, when and how: the notification rules. Pure.

``config/notifications.yaml`` names the recipients (a role, a scope and the channels that reach
them), the rules (alert kinds -> roles at the RT's own levels), quiet hours (WIB), the kelurahan
that get one daily digest instead of a message per alert, and the reminder/escalation schedule.
Channel *names* live here; their Apprise URLs are secrets in the settings (``BANTAR_NOTIFY__CHANNELS``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bantar.domain.registry import RTPlace
from bantar.domain.timebase import WIB

NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class RecipientRole(StrEnum):
    rt_head = "rt_head"
    """ketua RT"""
    assessor = "assessor"
    """tim penilai of a kelurahan or kecamatan"""
    dlh = "dlh"
    """Dinas Lingkungan Hidup: bank sampah figures"""
    coordinator = "coordinator"
    """programme coordinators (Bappeda, the city's secretariat): escalations"""


class Level(StrEnum):
    rt = "rt"
    kelurahan = "kelurahan"
    kecamatan = "kecamatan"
    city = "city"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Recipient(_Strict):
    id: str = Field(pattern=NAME)
    name: str = Field(min_length=1, max_length=80)
    role: RecipientRole
    scope: str = Field(description="city, or rt:CODE, kelurahan:CODE, kecamatan:CODE")
    channels: list[str] = Field(min_length=1, description="channel names; their URLs are secrets in the settings")

    @field_validator("scope")
    @classmethod
    def _scope_shape(cls, value: str) -> str:
        if value == "city" or re.fullmatch(r"(rt|kelurahan|kecamatan):[0-9A-Za-z-]{1,40}", value):
            return value
        raise ValueError("scope must be 'city' or rt:CODE, kelurahan:CODE, kecamatan:CODE")

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(NAME, name):
                raise ValueError(f"channel name {name!r} must be lower-case letters, digits, '_', '.', '-'")
        return value

    @property
    def level(self) -> Level:
        return Level(self.scope.partition(":")[0])

    @property
    def code(self) -> str | None:
        return self.scope.partition(":")[2] or None

    def is_at(self, level: Level, place: RTPlace) -> bool:
        """Is this recipient's scope exactly the RT's area at ``level``?"""
        if self.level is not level:
            return False
        match level:
            case Level.rt:
                return self.code == place.rt.code
            case Level.kelurahan:
                return self.code == place.kelurahan_code
            case Level.kecamatan:
                return self.code == place.kecamatan_code
            case Level.city:
                return True


class Rule(_Strict):
    kinds: list[str] = Field(min_length=1, description="alert kinds, e.g. device_silent, reassessment")
    roles: list[RecipientRole] = Field(min_length=1)
    levels: list[Level] = Field(
        default=[Level.rt, Level.kelurahan], min_length=1, description="where the first message goes"
    )
    urgent: bool = Field(default=False, description="sent in quiet hours too, never held for a digest")


class QuietHours(_Strict):
    start: time = Field(description="WIB")
    end: time = Field(description="WIB")

    def covers(self, moment: datetime) -> bool:
        t = moment.astimezone(WIB).time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment``, or the end of the quiet hours it falls in."""
        if not self.covers(moment):
            return moment
        local = moment.astimezone(WIB)
        end = datetime.combine(local.date(), self.end, tzinfo=WIB)
        if end <= local:
            end += timedelta(days=1)
        return end


class Digest(_Strict):
    kelurahan: list[str] = Field(default=[], description="kelurahan codes that get one message a day")
    at: time = Field(default=time(7, 0), description="WIB")

    def next_at(self, moment: datetime) -> tuple[datetime, date]:
        """When the digest holding an alert raised at ``moment`` goes out, and its WIB day."""
        local = moment.astimezone(WIB)
        due = datetime.combine(local.date(), self.at, tzinfo=WIB)
        if due <= local:
            due += timedelta(days=1)
        return due, due.date()


class Escalation(_Strict):
    remind_after: timedelta = Field(default=timedelta(hours=24), description="repeat to the same people")
    max_reminders: int = Field(default=3, ge=0, le=30)
    escalate_after: timedelta = Field(
        default=timedelta(hours=48), description="then to the next level, and again after as long"
    )
    levels: list[Level] = Field(default=[Level.kecamatan, Level.city])
    roles: list[RecipientRole] = Field(default=[RecipientRole.assessor, RecipientRole.coordinator])

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if self.remind_after <= timedelta(0) or self.escalate_after <= timedelta(0):
            raise ValueError("remind_after and escalate_after must be positive durations")
        return self


class ReportSchedule(_Strict):
    """A monthly report sent by email (or any channel taking attachments) on a day of the month."""

    id: str = Field(pattern=NAME)
    report: Literal["bank_sampah", "evidence_recap"]
    level: Literal["rt", "kelurahan", "kecamatan"]
    code: str = Field(min_length=1, max_length=40)
    format: Literal["xlsx", "csv"] = "xlsx"
    recipients: list[str] = Field(min_length=1, description="recipient ids")
    day: int = Field(default=1, ge=1, le=28, description="day of the month (WIB) the last month's report goes out")
    at: time = Field(default=time(8, 0), description="WIB")

    def due(self, moment: datetime) -> tuple[datetime, date] | None:
        """When this month's sending was due and the first day of the month it reports on;
        None before it is due."""
        local = moment.astimezone(WIB)
        when = datetime.combine(local.date().replace(day=self.day), self.at, tzinfo=WIB)
        if moment < when:
            return None
        first = local.date().replace(day=1)
        return when, (first - timedelta(days=1)).replace(day=1)


class NotificationRules(_Strict):
    recipients: list[Recipient] = []
    rules: list[Rule] = []
    quiet_hours: QuietHours | None = None
    digest: Digest = Digest()
    escalation: Escalation = Escalation()
    reports: list[ReportSchedule] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for r in self.recipients:
            if r.id in seen:
                raise ValueError(f"recipient id {r.id!r} appears twice")
            seen.add(r.id)
        for schedule in self.reports:
            unknown = [r for r in schedule.recipients if r not in seen]
            if unknown:
                raise ValueError(f"report {schedule.id!r} names unknown recipients: {', '.join(unknown)}")
        return self

    def recipient(self, recipient_id: str) -> Recipient:
        return next(r for r in self.recipients if r.id == recipient_id)

    def rule_for(self, kind: str) -> Rule | None:
        return next((r for r in self.rules if kind in r.kinds), None)

    def channel_names(self) -> set[str]:
        return {c for r in self.recipients for c in r.channels}

    def first_recipients(self, kind: str, place: RTPlace) -> list[Recipient]:
        rule = self.rule_for(kind)
        if rule is None:
            return []
        return [r for r in self.recipients if r.role in rule.roles and any(r.is_at(lv, place) for lv in rule.levels)]

    def escalation_recipients(self, step: int, place: RTPlace) -> list[Recipient]:
        """Recipients of the ``step``-th escalation (1: the first level after the RT's own)."""
        if not 1 <= step <= len(self.escalation.levels):
            return []
        level = self.escalation.levels[step - 1]
        return [r for r in self.recipients if r.role in self.escalation.roles and r.is_at(level, place)]


class Stage(BaseModel):
    """One notification of an alert: the first message, a reminder or an escalation."""

    name: str
    """``first``, ``reminder-N`` or ``escalation-N``: with alert and recipient, its identity"""
    due: datetime


def due_stages(rules: Escalation, opened: datetime, now: datetime) -> list[Stage]:
    """Reminders and escalations an unacknowledged alert opened at ``opened`` has reached by ``now``."""
    stages = []
    for n in range(1, rules.max_reminders + 1):
        at = opened + n * rules.remind_after
        if at <= now:
            stages.append(Stage(name=f"reminder-{n}", due=at))
    for n in range(1, len(rules.levels) + 1):
        at = opened + n * rules.escalate_after
        if at <= now:
            stages.append(Stage(name=f"escalation-{n}", due=at))
    return stages
