"""The assessor dashboard in a real headless Chromium (Debian's chromium + chromedriver)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from api.app import create_app
from api.server import BackgroundServer
from bantar.bootstrap import Services
from bantar.domain.access import Role, ScopeLevel
from ingest.broker import free_port
from tests.support import REPO
from tests.world import END, World, services_for

ARTIFACTS = REPO / "artifacts"
PERIOD = {"bantar-start": "2026-10-03", "bantar-end": (END.date()).isoformat()}


@pytest.fixture(scope="module")
def site(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Services]]:
    services = services_for(world, tmp_path_factory.mktemp("dash") / "app.db")
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    yield server.url, services
    server.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(chromium).exists() or not Path(driver_path).exists():
        pytest.fail("chromium and chromium-driver are not installed: .ci/run installs them (apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,1100",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    blocked = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    driver.quit()
    assert not blocked, blocked  # the dashboard works under its CSP: nothing was refused


def login(driver: WebDriver, url: str, token: str) -> None:
    driver.get(f"{url}/#/login")
    driver.execute_script("for (const [k, v] of Object.entries(arguments[0])) sessionStorage.setItem(k, v);", PERIOD)
    driver.refresh()  # the page reads the period when it loads
    field = WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "token")))
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login button").click()


def wait_text(driver: WebDriver, css: str, text: str, timeout: float = 20) -> None:
    WebDriverWait(driver, timeout).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def click_link(driver: WebDriver, text: str) -> None:
    WebDriverWait(driver, 20).until(ec.element_to_be_clickable((By.LINK_TEXT, text))).click()


def shot(driver: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


def test_assessor_drills_down_to_a_lapsing_rt_and_signs_an_assessment(
    site: tuple[str, Services], world: World, browser: WebDriver
) -> None:
    url, services = site
    _, token = services.app_db.create_token("Tim DLH", Role.assessor, ScopeLevel.city, None)
    started = time.perf_counter()
    login(browser, url, token)
    wait_text(browser, "main h1", "Kota Jambi")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#rt-table td")))
    print(f"city view ready {time.perf_counter() - started:.2f} s after submitting the token")
    shot(browser, "city.png")
    lapsing = world.lapsing[0]
    place = world.registry.rts[lapsing]
    click_link(browser, place.kecamatan_name)
    wait_text(browser, "main h1", place.kecamatan_name)
    click_link(browser, place.kelurahan_name)
    wait_text(browser, "main h1", place.kelurahan_name)
    search = WebDriverWait(browser, 20).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#rt-table input.gridjs-search-input"))
    )
    search.send_keys(lapsing)
    WebDriverWait(browser, 10).until(ec.element_to_be_clickable((By.PARTIAL_LINK_TEXT, lapsing))).click()
    wait_text(browser, "#alerts", "penilaian ulang")
    drawn = browser.execute_script(
        "return ['c-fill', 'c-cctv', 'c-posts', 'c-bank'].map(id => Chart.getChart(id)?.data.labels.length ?? 0)"
    )
    assert all(n >= 28 for n in drawn), drawn
    assert "Rp" in browser.find_element(By.CSS_SELECTOR, ".cards").text
    shot(browser, "rt.png")
    browser.find_element(By.ID, "open-assessment").click()
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "a-table")))
    for select in browser.find_elements(By.CSS_SELECTOR, "#a-table select"):
        Select(select).select_by_value("2")
    browser.find_element(By.ID, "save").click()
    wait_text(browser, "#a-message", "Tersimpan")
    wait_text(browser, "#a-total", "42 / 42")
    browser.find_element(By.ID, "sign").click()
    wait_text(browser, "#a-status", "Ditandatangani")
    assert not browser.find_elements(By.ID, "save")  # a signed assessment offers no edits
    shot(browser, "assessment.png")


def test_an_operator_cannot_open_another_rts_page(site: tuple[str, Services], world: World, browser: WebDriver) -> None:
    url, services = site
    mine, other = world.healthy_awarded[0], world.lapsing[0]
    _, token = services.app_db.create_token("Operator", Role.operator, ScopeLevel.rt, mine)
    login(browser, url, token)
    wait_text(browser, "main h1", "RT")  # an RT-scoped token lands on its own RT
    assert f"#/rt/{mine}" in browser.current_url
    browser.get(f"{url}/#/rt/{other}")
    wait_text(browser, "#error", "Tidak boleh dibuka")
    assert "di luar wilayah" in browser.find_element(By.ID, "error").text


def test_the_dashboard_speaks_english_on_request(site: tuple[str, Services], browser: WebDriver) -> None:
    url, services = site
    _, token = services.app_db.create_token("Assessor", Role.assessor, ScopeLevel.city, None)
    login(browser, url, token)
    wait_text(browser, "main h1", "Kota Jambi")
    assert "Cakupan bukti" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.ID, "lang").click()
    wait_text(browser, "main", "Evidence coverage")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#areas td a")))
    assert "District" in browser.find_element(By.ID, "areas").text
    browser.set_window_size(390, 844)  # a phone
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#rt-table td a")))
    shot(browser, "city-phone.png")
