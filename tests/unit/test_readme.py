"""The README's message examples are valid messages (docs that cannot rot)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bantar.domain.intake import IntakeLimits, accept
from bantar.domain.registry import RegistryIndex
from bantar.registry_file import load_registry
from bantar.settings import config_rows
from tests.support import REPO

EXAMPLE = re.compile(r"<!-- example: (\S+) -->\n```json\n(.*?)```", re.S)


def test_every_readme_example_is_accepted() -> None:
    registry = RegistryIndex(load_registry(REPO / "config/registry.yaml"))
    examples = EXAMPLE.findall((REPO / "README.md").read_text())
    assert len(examples) == 6
    received = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    for topic, body in examples:
        reading = accept(topic, body.encode(), received, registry, IntakeLimits())
        assert reading.rt_code == registry.devices[reading.device_id].rt


def test_the_readme_prints_every_setting_of_the_settings_model() -> None:
    assert "\n".join(config_rows()) in (REPO / "README.md").read_text()
