"""Reminders, escalation, acknowledgement, resolution, quiet hours and digests on a clock the
test moves (real SQLite alert book; the evidence's alert list is the port, faked)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bantar.alerting import AckLinks, AlertService
from bantar.domain.notifications import NotificationRules
from bantar.domain.registry import RegistryIndex
from bantar.domain.timebase import WIB, to_epoch_ms
from bantar.evidence_service import Alert
from bantar.sender import messages
from bantar.stores.alertbook import AlertBook


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def setup(registry: RegistryIndex, tmp_path: Path, **extra: object) -> tuple[AlertService, Clock, list[Alert], str]:
    rt = next(iter(registry.rts))
    place = registry.rts[rt]
    rules = NotificationRules.model_validate(
        {
            "recipients": [
                {"id": "ketua", "name": "Ketua", "role": "rt_head", "scope": f"rt:{rt}", "channels": ["wa-ketua"]},
                {
                    "id": "tim-kel",
                    "name": "Kel",
                    "role": "assessor",
                    "scope": f"kelurahan:{place.kelurahan_code}",
                    "channels": ["mail-kel"],
                },
                {
                    "id": "tim-kec",
                    "name": "Kec",
                    "role": "assessor",
                    "scope": f"kecamatan:{place.kecamatan_code}",
                    "channels": ["mail-kec"],
                },
                {"id": "kota", "name": "Kota", "role": "coordinator", "scope": "city", "channels": ["ntfy-kota"]},
            ],
            "rules": [{"kinds": ["device_silent", "reassessment"], "roles": ["rt_head", "assessor"]}],
            "escalation": {"remind_after": "PT1H", "max_reminders": 1, "escalate_after": "PT2H"},
            **extra,
        }
    )
    clock = Clock(datetime(2026, 11, 30, 9, 0, tzinfo=WIB))
    current: list[Alert] = []
    service = AlertService(
        AlertBook(tmp_path / "app.db"), lambda: list(current), registry, rules, AckLinks("http://b", b"s"), clock
    )
    return service, clock, current, rt


def silent(rt: str, device: str) -> Alert:
    return Alert(kind="device_silent", rt_code=rt, device_id=device, message_id=f"Perangkat {device} tidak melapor")


def sent_to(service: AlertService, alert_id: int) -> list[tuple[str, str]]:
    return [(o.stage, o.recipient) for o in service.book.outbox(alert_id) if o.state == "pending"]


def test_reminder_then_escalation_until_acknowledged(registry_index: RegistryIndex, tmp_path: Path) -> None:
    service, clock, current, rt = setup(registry_index, tmp_path)
    current += [silent(rt, "dev-1"), silent(rt, "dev-2")]
    assert service.sync() == (2, 0, 0)
    first, second = service.book.alerts(None, ["open"])
    assert sorted(sent_to(service, first.id)) == [("first", "ketua"), ("first", "tim-kel")]
    clock.now += timedelta(minutes=59)
    assert service.sync() == (0, 0, 0)
    clock.now += timedelta(minutes=1)  # one hour: a reminder to the same people
    service.sync()
    assert sorted(s for s in sent_to(service, first.id) if s[0] != "first") == [
        ("reminder-1", "ketua"),
        ("reminder-1", "tim-kel"),
    ]
    clock.now += timedelta(hours=1)  # two hours: the kecamatan
    service.sync()
    assert ("escalation-1", "tim-kec") in sent_to(service, first.id)
    assert not any(who == "kota" for _, who in sent_to(service, first.id))
    acked = service.book.acknowledge(first.id, "Ketua RT", "baterai diganti", to_epoch_ms(clock.now))
    assert acked is not None
    assert (acked.state, acked.note) == ("acknowledged", "baterai diganti")
    assert sent_to(service, first.id) == [], "acknowledging cancels what was not sent yet"
    clock.now += timedelta(hours=2)  # four hours: the city, but only for the alert nobody acknowledged
    service.sync()
    assert sent_to(service, first.id) == []
    assert ("escalation-2", "kota") in sent_to(service, second.id)
    assert service.sync() == (0, 0, 0), "planning again sends nothing twice"
    assert service.book.state_counts(None) == {"open": 1, "acknowledged": 1, "resolved": 0}


def test_an_ended_cause_resolves_its_alert_and_a_new_lapse_opens_a_new_one(
    registry_index: RegistryIndex, tmp_path: Path
) -> None:
    service, clock, current, rt = setup(registry_index, tmp_path)
    current.append(silent(rt, "dev-1"))
    service.sync()
    current.clear()
    clock.now += timedelta(minutes=30)
    assert service.sync() == (0, 1, 0)
    (resolved,) = service.book.alerts(None, ["resolved"])
    assert resolved.resolved_ms == to_epoch_ms(clock.now)
    assert sent_to(service, resolved.id) == []
    current.append(silent(rt, "dev-1"))
    clock.now += timedelta(hours=5)
    assert service.sync() == (1, 0, 0)
    assert len(service.book.alerts(None, ["open", "resolved"])) == 2, "history kept"


def test_quiet_hours_hold_messages_until_morning_and_digests_go_as_one(
    registry_index: RegistryIndex, tmp_path: Path
) -> None:
    rt = next(iter(registry_index.rts))
    kel = registry_index.rts[rt].kelurahan_code
    service, clock, current, _ = setup(
        registry_index,
        tmp_path,
        quiet_hours={"start": "21:00", "end": "06:00"},
        digest={"kelurahan": [kel], "at": "07:00"},
    )
    clock.now = datetime(2026, 11, 30, 22, 30, tzinfo=WIB)
    current += [silent(rt, "dev-1"), silent(rt, "dev-2")]
    service.sync()
    morning = to_epoch_ms(datetime(2026, 12, 1, 7, 0, tzinfo=WIB))
    assert {o.due_ms for o in service.book.outbox()} == {morning}
    assert service.book.claim("w", morning - 1, 60_000, 100) == []
    rows = service.book.claim("w", morning, 60_000, 1)  # a digest's rows come together
    assert len(rows) == 2
    (digest,) = messages(rows)
    assert "Ringkasan harian" in digest.title
    assert digest.body.count("Perangkat dev-") == 2
