"""Reading ``config/notifications.yaml`` into ``domain.notifications.NotificationRules``."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from pydantic import ValidationError

from bantar.domain.errors import RegistryError
from bantar.domain.notifications import NotificationRules
from bantar.domain.registry import RegistryIndex
from bantar.registry_file import _describe, read_yaml


def load_notification_rules(
    path: Path, registry: RegistryIndex, channels: Collection[str]
) -> tuple[NotificationRules, list[str]]:
    """Load and validate; every problem names the file, the entry and the field. Recipients'
    scopes must be areas of the registry (else ``RegistryError``). Channels without a URL in the
    settings come back as warnings: their messages wait in the outbox until a URL is set."""
    raw = read_yaml(path, "the notification rules") or {}
    try:
        rules = NotificationRules.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(raw, error) for error in exc.errors(include_url=False)[:10]]
        raise RegistryError(f"{path}: invalid notification rules:\n  " + "\n  ".join(lines)) from None
    problems, warnings = [], []
    for i, recipient in enumerate(rules.recipients):
        label = f"recipients[{i}] (id {recipient.id!r})"
        if recipient.level.value != "city" and not registry.rts_in(recipient.level.value, recipient.code):
            problems.append(f"{label}: field 'scope': {recipient.scope!r} is not an area of the registry")
        missing = [c for c in recipient.channels if c not in channels]
        if missing:
            warnings.append(f"{path}: {label}: field 'channels': no URL for {', '.join(missing)} in the settings")
    for i, schedule in enumerate(rules.reports):
        if not registry.rts_in(schedule.level, schedule.code):
            problems.append(
                f"reports[{i}] (id {schedule.id!r}): field 'code': {schedule.code!r} is not a {schedule.level}"
            )
    for code in rules.digest.kelurahan:
        if not registry.rts_in("kelurahan", code):
            problems.append(f"digest: field 'kelurahan': {code!r} is not a kelurahan of the registry")
    if problems:
        raise RegistryError(f"{path}: invalid notification rules:\n  " + "\n  ".join(problems))
    return rules, warnings
