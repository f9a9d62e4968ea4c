"""Flood sensors as users see them. The demo's kelurahan's flood sensors, at the demo's intervals
and seed, send the 60 days before a rainy-season moment (the messages a demo run at that moment
sends for them: a sensor's stream depends only on the seed, its id and the period); the API
serves their evidence and alerts. The demo's summary lines show the water levels, the hours
above warning and danger and the flood_danger alerts; in a real Chromium, the RT page of an RT
whose sensor crossed its danger level draws the water-level chart as GET /api/v1/charts
describes it, with the figures the API serves, and lists the alert with the RT's alerts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.registry import RegistryIndex
from bantar.domain.timebase import WIB
from bantar.kinds.registry import DeviceKind
from bantar.registry_file import dump_registry, load_registry
from bantar.settings import Settings, SqliteSettings
from ingest.broker import free_port
from shell.compose import build_services
from shell.demo import (
    DEMO_DAYS,
    DEMO_SEED,
    DemoResult,
    ask_the_api,
    at_demo_intervals,
    default_period,
    flood_rts,
    summary_lines,
)
from simulators.engine import Simulation
from tests.e2e.conftest import LAPTOP, screen, shot, tap_on
from tests.support import REPO, store_directly

END = datetime(2026, 1, 19, 9, 30, tzinfo=WIB)
"""a Monday morning in the rainy season (November to March): the demo run at this moment"""
NOW = END + timedelta(minutes=1)
CHART = "c-kind-water_level"
DRAWN = (  # the chart as Chart.js holds it, and how many of the canvas's pixels are painted
    "const canvas = document.getElementById(arguments[0]); const c = Chart.getChart(canvas);"
    "const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;"
    "let painted = 0; for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;"
    "return {title: c.options.plugins.title.text, type: c.config.type, labels: c.data.labels,"
    " sets: c.data.datasets.map((d) => ({label: d.label, data: d.data})), painted};"
)


@pytest.fixture(scope="module")
def rainy_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(API url, assessor token) over the demo's flood sensors' last 60 rainy-season days."""
    folder = tmp_path_factory.mktemp("floods")
    demo = at_demo_intervals(load_registry(REPO / "config/registry.yaml"))
    sensors = demo.model_copy(update={"devices": [d for d in demo.devices if d.kind is DeviceKind.water_level]})
    dump_registry(sensors, folder / "registry.yaml")
    settings = Settings(
        registry=folder / "registry.yaml", sqlite=SqliteSettings(path=folder / "floods.db"), app_db=folder / "app.db"
    )
    services = build_services(settings, now=lambda: NOW)
    sim = Simulation(sensors, start=END - timedelta(days=DEMO_DAYS), end=END, seed=DEMO_SEED)
    store_directly(services.store, services.registry, sim.messages(), END)
    services.updater.update_all()
    services.alerts.sync()
    _, token = services.app_db.create_token("Penilai banjir", Role.assessor, ScopeLevel.city, None)
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    yield server.url, token
    server.stop()
    services.store.close()


def api(url: str, token: str, path: str, **params: str) -> Any:
    response = httpx.get(f"{url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    response.raise_for_status()
    return response.json()


def test_the_demos_summary_shows_water_levels_and_flood_alerts(rainy_demo: tuple[str, str]) -> None:
    url, token = rainy_demo
    result = DemoResult(url=url, token=token, token_file=Path("token"), log_file=Path("log"), days=DEMO_DAYS)
    registry = RegistryIndex(load_registry(REPO / "config/registry.yaml"))
    ask_the_api(result, NOW, flood_rts(registry))
    out = "\n".join(summary_lines(result))

    start, end = default_period(NOW)
    days = [
        d["kinds"]["water_level"]
        for code in flood_rts(registry)
        for d in api(url, token, f"/api/v1/rts/{code}/evidence", start=start, end=end)["data"]
    ]
    line = re.search(
        r"water levels \(tinggi air\) in (\d+) RTs: highest ([\d.]+) cm; "
        r"sensor-hours above warning \(siaga\) ([\d,.]+), above danger \(bahaya\) ([\d,.]+)",
        out,
    )
    assert line, out
    rts, highest, warning, danger = (float(g.replace(",", "")) for g in line.groups())
    assert rts == 8  # the demo's kelurahan: six RTs on the Batanghari bank, three drains (one on the bank)
    assert highest == max(d["max_level_cm"] for d in days)
    assert warning == pytest.approx(sum(d["hours_above_warning"] for d in days), abs=0.05)
    assert danger == pytest.approx(sum(d["hours_above_danger"] for d in days), abs=0.05)
    assert 0 < danger < warning
    floods = api(url, token, "/api/v1/alerts", kind="flood_danger")["data"]
    assert floods
    assert f", {len(floods)} flood danger (bahaya banjir)" in out


def test_an_rt_page_draws_the_water_level_chart_and_lists_the_flood_alert(
    rainy_demo: tuple[str, str], browser: WebDriver
) -> None:
    url, token = rainy_demo
    alert = api(url, token, "/api/v1/alerts", kind="flood_danger")["data"][0]
    code = alert["rt_code"]
    start, end = default_period(NOW)
    evidence = api(url, token, f"/api/v1/rts/{code}/evidence", start=start, end=end)["data"]
    described = next(c for c in api(url, token, "/api/v1/charts") if c["kind"] == "water_level")

    screen(browser, LAPTOP)
    browser.get(f"{url}/#/login")
    browser.execute_script(
        "for (const [k, v] of Object.entries(arguments[0])) sessionStorage.setItem(k, v);",
        {"bantar-start": start, "bantar-end": end, "bantar-lang": "id"},
    )
    browser.refresh()
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "token"))).send_keys(token)
    tap_on(browser, "#login button[type=submit]")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return !!sessionStorage.getItem('bantar-me')"))
    browser.get(f"{url}/#/rt/{code}")
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "return !!window.Chart && !!Chart.getChart(document.getElementById(arguments[0]))", CHART
        ),
        "the water-level chart",
    )

    drawn = browser.execute_script(DRAWN, CHART)
    assert described["title"]["id"] == "Tinggi air (cm) dan jam siaga/bahaya"
    assert drawn["title"] == described["title"]["id"]
    assert drawn["type"] == described["type"] == "line"
    assert len(drawn["labels"]) == len(evidence) == 29  # four full weeks and the day in progress
    assert [s["label"] for s in drawn["sets"]] == [s["label"]["id"] for s in described["series"]]
    for s, figure in zip(drawn["sets"], described["series"], strict=True):
        assert s["data"] == [d["kinds"]["water_level"][figure["figure"]] for d in evidence], figure["figure"]
    assert max(drawn["sets"][2]["data"]) > 0  # hours above danger: the flood the alert is about
    assert drawn["painted"] > 1000

    shown = browser.find_element(By.CSS_SELECTOR, f"#alerts li[data-alert='{alert['id']}']")
    assert alert["message_id"].startswith(f"Sensor banjir {alert['device_id']} mencapai tingkat bahaya")
    assert alert["message_id"] in shown.text
    assert "terbuka" in shown.text  # open, and so a work item
    devices = browser.find_element(By.ID, "devices").text
    assert f"{alert['device_id']}\nsensor tinggi air" in devices or "sensor tinggi air" in devices, devices
    assert "water_level" not in devices  # the kind's own name (its plug-in's), not its key
    shot(browser, "flood-rt-1366.png")
    said = f"#alerts li[data-alert='{alert['id']}']"
    for lang, words in (("en", alert["message_en"]), ("id", alert["message_id"])):  # its plug-in's texts
        tap_on(browser, "#lang")
        WebDriverWait(browser, 30).until(lambda d, w=words: w in d.find_element(By.CSS_SELECTOR, said).text, lang)

    # the RT lists count the kind's alerts next to the service's own
    row = next(r for r in api(url, token, "/api/v1/rts", start=start, end=end) if r["code"] == code)
    raised = [a for a in api(url, token, "/api/v1/alerts", kind="flood_danger")["data"] if a["rt_code"] == code]
    assert row["kind_alerts"] == len(raised) > 0
    browser.get(f"{url}/#/kelurahan/{row['kelurahan_code']}")
    link = WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f"#rt-table a[href='#/rt/{code}']"))
    )
    cells = link.find_element(By.XPATH, "ancestor::tr").text
    assert f"{len(raised)} peringatan lain" in cells, cells
