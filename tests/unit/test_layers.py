"""The package graph has no loops: the shell composes the adapters (api, ingest, simulators),
the adapters use the core (bantar), and nothing imports upwards (import-linter's layers
contract in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import REPO


def test_no_import_runs_upwards_from_the_core_or_between_adapters() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache", "--config", str(REPO / "pyproject.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_no_code_of_the_core_or_the_shell_reaches_into_another_objects_private_state() -> None:
    """Components are used through their public methods: the stores hold their ledger and speak to
    it as any caller would (issue #13, item 4). Ruff's SLF001 finds ``other._private`` anywhere."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--select", "SLF001", "--output-format", "concise", "bantar", "shell"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
