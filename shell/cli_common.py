"""What every ``bantar`` subcommand shares: exit codes, settings, logging, signals."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from types import FrameType

import click
from pydantic import ValidationError

from bantar.domain.errors import RegistryError, StoreError
from bantar.domain.registry import RegistryIndex
from bantar.ports import ReadingStore
from bantar.services import Services
from bantar.settings import Settings
from shell.compose import build_registry, build_services, build_store

EXIT_FAILED, EXIT_CONFIG, EXIT_UNREACHABLE = 1, 2, 3


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        click.echo(f"invalid settings (BANTAR_* environment):\n{exc}", err=True)
        sys.exit(EXIT_CONFIG)


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT ask for a clean stop: store and acknowledge what was received, then exit."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("bantar").info("received %s: finishing the current batch", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def registry_and_store_or_exit(settings: Settings) -> tuple[RegistryIndex, ReadingStore]:
    try:
        index = build_registry(settings)
    except RegistryError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    try:
        store = build_store(settings)
    except StoreError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_UNREACHABLE)
    return index, store


def when(value: str) -> datetime:
    """An ISO 8601 time with an offset, or ``now``."""
    if value == "now":
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2026-11-01T00:00:00+07:00)") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no UTC offset (add +07:00 for WIB)")
    return moment


@contextlib.contextmanager
def services_session(settings: Settings) -> Iterator[Services]:
    """The composed services for one command, closed at its end; a bad registry, rules or
    store ends the command with the matching exit code."""
    try:
        services = build_services(settings)
    except RegistryError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    except StoreError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_UNREACHABLE)
    try:
        yield services
    finally:
        services.close()
