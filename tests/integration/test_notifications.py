"""Delivery of alert notifications through real receivers (aiosmtpd, an HTTP webhook) by the
real ``bantar notify send`` process, killed mid-batch; retries against a failing receiver; who
receives a lapse."""

from __future__ import annotations

import io
import json
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bantar.alerting import AckLinks, AlertService
from bantar.domain.notifications import NotificationRules
from bantar.domain.timebase import WIB
from bantar.report_schedule import ReportDeliveries
from bantar.reports import bank_sampah
from bantar.stores.alertbook import AlertBook
from tests.receivers import SmtpReceiver, WebhookReceiver
from tests.support import REPO, bantar_env, wait_until
from tests.world import World


def rules_for(world: World) -> NotificationRules:
    a, b = world.lapsing[0], world.healthy_awarded[0]
    place = world.registry.rts[a]
    return NotificationRules.model_validate(
        {
            "recipients": [
                {
                    "id": "ketua-a",
                    "name": "Ketua RT A",
                    "role": "rt_head",
                    "scope": f"rt:{a}",
                    "channels": ["mail-ketua-a"],
                },
                {
                    "id": "ketua-b",
                    "name": "Ketua RT B",
                    "role": "rt_head",
                    "scope": f"rt:{b}",
                    "channels": ["hook-ketua-b"],
                },
                {
                    "id": "tim-kel",
                    "name": "Tim kelurahan",
                    "role": "assessor",
                    "scope": f"kelurahan:{place.kelurahan_code}",
                    "channels": ["hook-tim-kel", "mail-tim-kel"],
                },
                {
                    "id": "tim-kec",
                    "name": "Tim kecamatan",
                    "role": "assessor",
                    "scope": f"kecamatan:{place.kecamatan_code}",
                    "channels": ["mail-tim-kec"],
                },
                {
                    "id": "kota",
                    "name": "Sekretariat",
                    "role": "coordinator",
                    "scope": "city",
                    "channels": ["hook-kota"],
                },
            ],
            "rules": [{"kinds": ["reassessment"], "roles": ["rt_head", "assessor"]}],
        }
    )


@pytest.fixture
def receivers() -> Iterator[tuple[SmtpReceiver, WebhookReceiver]]:
    smtp, hook = SmtpReceiver().start(), WebhookReceiver().start()
    yield smtp, hook
    hook.stop()
    smtp.stop()


def planned_outbox(world: World, app_db: Path) -> AlertBook:
    book = AlertBook(app_db)
    service = AlertService(
        book, world.queries.alerts, world.registry, rules_for(world), AckLinks("http://x", b"k"), world.queries.now
    )
    service.sync()
    return book


def channels(smtp: SmtpReceiver, hook: WebhookReceiver) -> str:
    return json.dumps(
        {
            "mail-ketua-a": smtp.url("ketua-a@example.org"),
            "hook-ketua-b": hook.url,
            "hook-tim-kel": hook.url,
            "mail-tim-kel": smtp.url("tim-kel@example.org"),
            "mail-tim-kec": smtp.url("tim-kec@example.org"),
            "hook-kota": hook.url,
        }
    )


def start_sender(app_db: Path, channel_json: str, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = bantar_env(
        app_db=str(app_db),
        notify__channels=channel_json,
        notify__poll_s="0.05",
        notify__retry_base_s="0.1",
        notify__lease_s="600",  # only the restart (same worker name) takes the dead sender's messages back
        notify__batch="1000",
        **extra,
    )
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "shell", "notify", "send"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )


def outbox_rows(app_db: Path) -> list[tuple[int, int, str, str, str]]:
    with sqlite3.connect(app_db) as db:
        return db.execute("SELECT id, alert_id, recipient, channel, state FROM outbox ORDER BY id").fetchall()


def pending(app_db: Path) -> int:
    return sum(1 for r in outbox_rows(app_db) if r[4] == "pending")


def test_each_alert_reaches_each_recipient_once_across_a_sender_killed_mid_batch(
    world: World, tmp_path: Path, receivers: tuple[SmtpReceiver, WebhookReceiver]
) -> None:
    smtp, hook = receivers
    app_db = tmp_path / "app.db"
    planned_outbox(world, app_db).close()
    rows = outbox_rows(app_db)
    hooks = [r for r in rows if r[3].startswith("hook-")]
    assert len(hooks) >= 3, "the world's lapsing RTs give several webhook messages"
    hook.hold(3)  # the sender is killed while the third webhook message waits for its answer
    log = tmp_path / "sender.log"
    sender = start_sender(app_db, channels(smtp, hook), log)
    try:
        wait_until(hook.holding.is_set, 60, "the third webhook message to arrive")
        sender.send_signal(signal.SIGKILL)
        sender.wait(10)
        hook.release()
        assert pending(app_db) > 0, "killed in the middle of the batch"
        assert len(hook.ids()) == 2  # the held message was never answered: not delivered
        sender = start_sender(app_db, channels(smtp, hook), log)
        wait_until(lambda: pending(app_db) == 0, 120, "the restarted sender to deliver the rest")
    finally:
        sender.send_signal(signal.SIGTERM)
        sender.wait(20)
    delivered = Counter(smtp.ids() + hook.ids())
    assert set(delivered) == {str(r[0]) for r in rows}
    assert set(delivered.values()) == {1}, "no message twice"
    with sqlite3.connect(app_db) as db:
        failed = db.execute("SELECT COUNT(*) FROM delivery_attempts WHERE ok = 0").fetchone()[0]
        ok = db.execute("SELECT COUNT(*) FROM delivery_attempts WHERE ok = 1").fetchone()[0]
    assert (ok, failed) == (len(rows), 0)
    text = log.read_text()
    for secret in ("mailto://", "json://", "127.0.0.1:"):
        assert secret not in text, "channel URLs are never logged"
    # Who got what: a lapse reaches its RT head and its kelurahan's assessors, nobody else.
    a = world.lapsing[0]
    alert_rt = {alert.id: alert.rt_code for alert in AlertBook(app_db).alerts(None, ["open"])}
    got = {(alert_rt[r[1]], r[2]) for r in rows}
    assert {(a, "ketua-a"), (a, "tim-kel")} <= got
    assert {who for rt, who in got} == {"ketua-a", "tim-kel"}
    assert all(rt == a for rt, who in got if who == "ketua-a")
    assert {m["To"] for m in smtp.messages} == {"ketua-a@example.org", "tim-kel@example.org"}
    first = next(m for m in smtp.messages if m["To"] == "ketua-a@example.org")
    assert "Perlu penilaian ulang" in str(first["Subject"])


def test_a_failing_receiver_gets_retries_until_it_answers(world: World, tmp_path: Path) -> None:
    hook = WebhookReceiver(answer=lambda n: 500 if n <= 3 else 200).start()
    app_db = tmp_path / "app.db"
    planned_outbox(world, app_db).close()
    with sqlite3.connect(app_db) as db:  # only the webhook recipients' messages in this test
        db.execute("UPDATE outbox SET state = 'cancelled' WHERE channel NOT LIKE 'hook-%'")
    expected = {str(r[0]) for r in outbox_rows(app_db) if r[4] == "pending"}
    sender = start_sender(app_db, json.dumps({"hook-tim-kel": hook.url}), tmp_path / "sender.log")
    try:
        wait_until(lambda: pending(app_db) == 0, 60, "every message to get through")
    finally:
        sender.send_signal(signal.SIGTERM)
        assert sender.wait(20) == 0
        hook.stop()
    assert Counter(hook.ids()) == Counter(expected)
    assert hook.requests == len(expected) + 3
    with sqlite3.connect(app_db) as db:
        attempts = db.execute("SELECT ok, error FROM delivery_attempts ORDER BY id").fetchall()
        per_row = db.execute("SELECT SUM(attempts) FROM outbox WHERE state = 'sent'").fetchone()[0]
    assert [ok for ok, _ in attempts].count(0) == 3
    assert all(error and "127.0.0.1" not in error for ok, error in attempts if not ok)
    assert per_row == len(expected) + 3


def test_a_scheduled_report_is_emailed_once_as_xlsx_with_the_apis_totals(world: World, tmp_path: Path) -> None:
    kel = world.registry.rts[world.lapsing[0]].kelurahan_code
    rules = NotificationRules.model_validate(
        {
            "recipients": [{"id": "dlh", "name": "DLH", "role": "dlh", "scope": "city", "channels": ["mail-dlh"]}],
            "reports": [
                {"id": "bs-kel", "report": "bank_sampah", "level": "kelurahan", "code": kel, "recipients": ["dlh"]}
            ],
        }
    )
    app_db = tmp_path / "app.db"
    book = AlertBook(app_db)
    clock = [datetime(2026, 11, 1, 7, 59, tzinfo=WIB)]
    deliveries = ReportDeliveries(book, world.queries, world.registry, rules, "http://bantar.test", lambda: clock[0])
    assert deliveries.plan() == 0, "not due before 08:00 WIB on the 1st"
    clock[0] += timedelta(minutes=1)
    assert deliveries.plan() == 1
    clock[0] += timedelta(hours=3)
    assert deliveries.plan() == 0, "once a month"
    book.close()
    smtp = SmtpReceiver().start()
    sender = start_sender(app_db, json.dumps({"mail-dlh": smtp.url("dlh@example.org")}), tmp_path / "sender.log")
    try:
        wait_until(lambda: pending(app_db) == 0, 60, "the report to be sent")
    finally:
        sender.send_signal(signal.SIGTERM)
        sender.wait(20)
        smtp.stop()
    (message,) = smtp.messages
    assert "Laporan bank sampah" in str(message["Subject"])
    (attachment,) = [p for p in message.walk() if p.get_filename()]
    assert attachment.get_filename() == "bs-kel-2026-10.xlsx"
    sheet = load_workbook(io.BytesIO(attachment.get_payload(decode=True)), read_only=True)["data"]
    rows = list(sheet.iter_rows(values_only=True))
    expected = bank_sampah(world.store, world.registry, "kelurahan", kel, date(2026, 10, 1), date(2026, 10, 31))
    assert list(rows[2 + len(expected.rows)]) == expected.totals
