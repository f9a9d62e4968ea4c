"""The README's run command, end to end: broker + ingestor + fleet in one `bantar demo`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO, bantar_env


@pytest.mark.parametrize("broker_flag", [[], ["--embedded-broker"]], ids=["mosquitto", "embedded"])
def test_demo_stores_readings_and_reports_rejections(tmp_path: Path, broker_flag: list[str]) -> None:
    env = bantar_env(
        sqlite__path=str(tmp_path / "demo.db"),
        app_db=str(tmp_path / "app.db"),
        registry=str(REPO / "config/registry.yaml"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bantar", "demo", "--seconds", "4", "--port", "0", *broker_flag],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    stored = int(re.search(r"readings stored: (\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    published = int(re.search(r"published (\d+) messages", done.stdout).group(1))  # type: ignore[union-attr]
    assert stored > 0
    for reason in ("unknown_device", "malformed_json", "payload_too_large", "bad_topic", "kind_mismatch"):
        assert reason in done.stdout
    assert "devices with sequence gaps: 0" in done.stdout
    assert "API: http://127.0.0.1:" in done.stdout
    assert "evidence today" in done.stdout  # fetched from the running API
    assert "aman.b" in done.stdout
    assert "an assessor token for the whole city" in done.stdout
    assert stored + int(re.search(r"rejected \(dead letters\): (\d+)", done.stdout).group(1)) <= published  # type: ignore[union-attr]
