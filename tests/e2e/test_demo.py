"""The README's run command, end to end: `bantar demo` sends a history through the real path
(simulator -> MQTT -> ingestor -> store), starts the API and keeps a live fleet running."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from shell.demo import default_period
from tests.e2e.conftest import LAPTOP, PHONE, fits, screen, shot, tap_on, wait_text
from tests.support import REPO, bantar_env

LIBRARY_NOISE = ("Traceback", "CancelledError", "transitions.core", "WARNING: Location", "pip ")


def run_demo(tmp_path: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = bantar_env(
        sqlite__path=str(tmp_path / "bantar.db"),
        app_db=str(tmp_path / "app.db"),
        registry=str(REPO / "config/registry.yaml"),
    )
    return subprocess.run(
        [sys.executable, "-m", "shell", "demo", "--port", "0", *args],
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
    # the flood sensors of the bank and drains, any season (flood alerts come with the rains)
    assert re.search(r"water levels \(tinggi air\) in 8 RTs: highest [\d.]+ cm; sensor-hours above warning", out)
    assert re.search(r"silent devices, \d+ flood danger \(bahaya banjir\)", out)
    for noise in LIBRARY_NOISE:
        assert noise not in out + done.stderr, noise


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


def test_the_demos_link_shows_every_level_and_a_reassessment_on_the_default_period(
    tmp_path: Path, browser: WebDriver
) -> None:
    """What a newcomer sees: the printed link, the printed token, the default period."""
    env = bantar_env(
        sqlite__path=str(tmp_path / "bantar.db"),
        app_db=str(tmp_path / "app.db"),
        registry=str(REPO / "config/registry.yaml"),
    )
    demo = subprocess.Popen(
        [sys.executable, "-m", "shell", "demo", "--port", "0"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        printed = []
        for line in demo.stdout:  # the summary is printed once the API is up
            printed.append(line)
            if "Ctrl-C stops everything" in line:
                break
        out = "".join(printed)
        url = re.search(r"dashboard: (http://127\.0\.0\.1:\d+)/", out).group(1)  # type: ignore[union-attr]
        token = re.search(r"^  (bnt_\S+)$", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
        auth = {"Authorization": f"Bearer {token}"}
        start, end = default_period(datetime.now(UTC))
        rts = httpx.get(f"{url}/api/v1/rts", params={"start": start, "end": end}, headers=auth, timeout=60).json()
        levels = {r["bersih"] for r in rts} | {r["aman"] for r in rts}
        assert levels == {2, 1, 0, None}  # baik, sedang, kurang and bukti kurang
        alerts = httpx.get(f"{url}/api/v1/alerts", headers=auth, timeout=60).json()["data"]
        assert any(a["kind"] == "reassessment" for a in alerts)

        screen(browser, PHONE)
        browser.get(f"{url}/")  # no period stored: the page picks its default
        field = WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "token")))
        field.send_keys(token)
        tap_on(browser, "#login button[type=submit]")
        wait_text(browser, "main h1", "Kota Jambi")
        WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#rt-table tbody tr")))
        assert browser.find_element(By.ID, "start").get_attribute("value") == start
        assert browser.find_element(By.ID, "end").get_attribute("value") == end
        assert "berjalan" in browser.find_element(By.ID, "period-line").text  # today is in progress
        table = browser.find_element(By.ID, "rt-table")
        for css in (".l2", ".l1", ".l0", ".ln"):
            assert table.find_elements(By.CSS_SELECTOR, css), css
        assert "penilaian ulang" in table.text
        fits(browser, "the demo's city")
        shot(browser, "demo-city-360.png")
        screen(browser, LAPTOP)
        shot(browser, "demo-city-1366.png")
    finally:
        demo.send_signal(signal.SIGINT)
        _, errors = demo.communicate(timeout=60)
    assert demo.returncode == 0, errors[-2000:]
    for noise in LIBRARY_NOISE:
        assert noise not in errors, noise
