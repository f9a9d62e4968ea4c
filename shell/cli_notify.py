"""``bantar notify``: check the notification rules, sync alerts, run the sender."""

from __future__ import annotations

import logging
import sys
import threading

import click

from bantar.domain.errors import RegistryError, StoreError
from bantar.notify_file import load_notification_rules
from bantar.sender import Sender, SenderConfig
from bantar.stores.alertbook import AlertBook
from shell.cli_common import (
    EXIT_CONFIG,
    services_session,
    settings_or_exit,
    setup_logging,
    stop_on_signals,
)


@click.group()
def notify() -> None:
    """Alert notifications: rules in config/notifications.yaml, channel URLs in BANTAR_NOTIFY__CHANNELS."""


@notify.command("check")
def notify_check() -> None:
    """Validate the rules against the registry and the configured channels (never prints URLs)."""
    settings = settings_or_exit()
    with services_session(settings) as services:
        try:
            rules, warnings = load_notification_rules(
                settings.notify.rules, services.registry, settings.notify.channels.keys()
            )
        except RegistryError as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_CONFIG)
    for warning in warnings:
        click.echo(warning, err=True)
    click.echo(
        f"{len(rules.recipients)} recipients, {len(rules.rules)} rules, {len(settings.notify.channels)} channels"
    )
    sys.exit(EXIT_CONFIG if warnings else 0)


@notify.command("sync")
def notify_sync() -> None:
    """Sync the alert set with the evidence once; plan due reminders, escalations and reports."""
    settings = settings_or_exit()
    setup_logging(settings)
    with services_session(settings) as services:
        opened, resolved, followed = services.alerts.sync()
        reports = services.reports.plan()
    click.echo(
        f"{opened} alerts opened, {resolved} resolved, {followed} reminders/escalations planned, "
        f"{reports} scheduled reports planned"
    )


@notify.command("send")
def notify_send() -> None:
    """Deliver the outbox until SIGTERM / Ctrl-C: retries with backoff, one message per alert,
    recipient, channel and stage."""
    settings = settings_or_exit()
    setup_logging(settings)
    logging.getLogger("apprise").propagate = False  # its lines may name addresses; attempts keep a redacted copy
    n = settings.notify
    try:
        book = AlertBook(settings.app_db, settings.sqlite.busy_timeout_ms)
    except StoreError as exc:
        click.echo(str(exc), err=True)
        sys.exit(3)
    sender = Sender(
        book,
        {name: url.get_secret_value() for name, url in n.channels.items()},
        SenderConfig(n.worker, n.lease_s, n.batch, n.retry_base_s, n.retry_max_s),
    )
    stop = threading.Event()
    stop_on_signals(stop)
    log = logging.getLogger("bantar.sender")
    log.info("sender %s started (%d channels)", n.worker, len(n.channels))
    try:
        sender.run(stop, n.poll_s)
    finally:
        book.close()
    log.info("sender %s stopped", n.worker)
