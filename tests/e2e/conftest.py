"""Chromium for the end-to-end tests: Debian's chromium + chromedriver, headless, with helpers to
emulate a phone or a laptop screen and to tap like a person (pointer actions, not script clicks)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.support import REPO

ARTIFACTS = REPO / "artifacts"
PHONE, LAPTOP = 360, 1366


def chromium(profile: Path, phone_width: int | None = None) -> WebDriver:
    """Debian's chromium under chromedriver, headless, with its own profile: a laptop window, or
    with ``phone_width`` a phone's screen (headless windows are at least 500 px wide, so the
    phone is emulated: ``phone_width`` x 844, touch, mobile user agent)."""
    chromium_path = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(chromium_path).exists() or not Path(driver_path).exists():
        pytest.fail("chromium and chromium-driver are not installed: .ci/run installs them (apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if phone_width is None:
        options.add_argument("--window-size=1366,1000")
    else:
        options.add_experimental_option(
            "mobileEmulation", {"deviceMetrics": {"width": phone_width, "height": 844, "pixelRatio": 1}}
        )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    driver = chromium(tmp_path / "profile")
    yield driver
    driver.quit()


def screen(driver: WebDriver, width: int, height: int = 800) -> None:
    """A phone (touch, mobile viewport) below 500 px, a laptop otherwise."""
    phone = width < 500
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone},
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": phone, "maxTouchPoints": 5})


def is_phone(driver: WebDriver) -> bool:
    return bool(driver.execute_script("return window.innerWidth < 500"))


def tap(driver: WebDriver, element: WebElement) -> None:
    """A real tap (touch pointer) on a phone, a real click (mouse pointer) on a laptop, in the
    middle of the element once it is scrolled into view."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    pointer = PointerInput(interaction.POINTER_TOUCH, "finger") if is_phone(driver) else None
    actions = ActionBuilder(driver, mouse=pointer)
    actions.pointer_action.move_to(element).pointer_down().pointer_up()
    actions.perform()


def tap_on(driver: WebDriver, css: str, timeout: float = 20) -> None:
    tap(driver, WebDriverWait(driver, timeout).until(ec.element_to_be_clickable((By.CSS_SELECTOR, css))))


def tap_link(driver: WebDriver, text: str, timeout: float = 20) -> None:
    tap(driver, WebDriverWait(driver, timeout).until(ec.element_to_be_clickable((By.PARTIAL_LINK_TEXT, text))))


def wait_text(driver: WebDriver, css: str, text: str, timeout: float = 20) -> None:
    WebDriverWait(driver, timeout).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def fits(driver: WebDriver, where: str) -> None:
    """Nothing wider than the screen: no horizontal scrolling."""
    scroll, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{where}: the page is {scroll} px wide on a {inner} px screen"


def shot(driver: WebDriver, name: str) -> None:
    """A full-height screenshot into artifacts/ (the README's images are copied from there)."""
    ARTIFACTS.mkdir(exist_ok=True)
    width, height = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    full = driver.execute_script("return document.documentElement.scrollHeight")
    screen(driver, width, min(full, 4000))
    driver.save_screenshot(str(ARTIFACTS / name))
    screen(driver, width, height)
