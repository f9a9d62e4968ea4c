"""Reading the indicator rules (``config/rules.yaml``) into ``domain.scoring.Rules``."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from bantar.domain.errors import RegistryError
from bantar.domain.scoring import Rules
from bantar.registry_file import read_yaml


def load_rules(path: Path) -> Rules:
    """Load and validate; a problem names the file and the rule."""
    raw = read_yaml(path, "the rules")
    try:
        return Rules.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'rules'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)[:10]
        ]
        raise RegistryError(f"{path}: invalid rules:\n  " + "\n  ".join(problems)) from None


def load_criteria(path: Path) -> dict[str, dict[str, str]]:
    """``bersih.a`` -> ``{"id": ..., "en": ...}`` from the programme's criteria file."""
    raw = read_yaml(path, "the criteria")
    try:
        return {
            f"{pillar}.{letter}": {"id": entry["id"], "en": entry["en"]}
            for pillar in ("bersih", "aman", "pintar")
            for letter, entry in raw[pillar].items()
        }
    except (KeyError, TypeError) as exc:
        raise RegistryError(f"{path}: cannot read the criteria: {exc}") from None
