"""The README's run command, end to end: `bantar demo` sends a history through the real path
(simulator -> MQTT -> ingestor -> store), starts the API and keeps a live fleet running."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO, bantar_env

LIBRARY_NOISE = ("Traceback", "CancelledError", "transitions.core", "WARNING: Location", "pip ")


def run_demo(tmp_path: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = bantar_env(
        sqlite__path=str(tmp_path / "bantar.db"),
        app_db=str(tmp_path / "app.db"),
        registry=str(REPO / "config/registry.yaml"),
    )
    return subprocess.run(
        [sys.executable, "-m", "bantar", "demo", "--port", "0", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in the output:\n{text}"
    return int(found.group(1).replace(",", ""))


@pytest.mark.parametrize("broker_flag", [[], ["--embedded-broker"]], ids=["mosquitto", "embedded"])
def test_demo_sends_a_history_then_runs_live_and_speaks_plainly(tmp_path: Path, broker_flag: list[str]) -> None:
    done = run_demo(tmp_path, "--days", "2", "--seconds", "2", *broker_flag)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    published = number(r"([\d,]+) messages \(", out)
    stored = number(r"readings stored: (\d+)", out)
    assert 0 < stored <= published
    for reason in ("unknown_device", "malformed_json", "payload_too_large", "bad_topic", "kind_mismatch"):
        assert reason in out
    assert "devices with sequence gaps: 0" in out  # the live fleet continues the history's numbers
    assert re.search(r"dashboard: http://127\.0\.0\.1:\d+/", out)
    token_file = tmp_path / "demo" / "demo-token.txt"
    assert f"also in {token_file}" in out
    assert token_file.read_text().strip() in out
    assert "aman.b" in out  # fetched from the running API
    for noise in LIBRARY_NOISE:
        assert noise not in out and noise not in done.stderr, noise


def test_a_rerun_starts_fresh_unless_told_to_keep_data(tmp_path: Path) -> None:
    first = run_demo(tmp_path, "--days", "1", "--seconds", "1")
    assert first.returncode == 0, first.stderr[-2000:]
    stored_first = number(r"readings stored: (\d+)", first.stdout)
    again = run_demo(tmp_path, "--days", "1", "--seconds", "1")
    assert again.returncode == 0, again.stderr[-2000:]
    assert abs(number(r"readings stored: (\d+)", again.stdout) - stored_first) < stored_first / 2
    kept = run_demo(tmp_path, "--days", "1", "--seconds", "1", "--keep-data")
    assert kept.returncode == 0, kept.stderr[-2000:]
    kept_stored = number(r"readings stored: (\d+)", kept.stdout)
    assert stored_first < kept_stored < stored_first * 1.5  # kept, and the same days not sent twice
