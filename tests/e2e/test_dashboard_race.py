"""Quick navigation in the dashboard: a view whose answers come in after the user moved on is
dropped, never drawn over the newer view (real Chromium, a real server holding one answer back)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from fastapi import Request, Response
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.services import Services
from ingest.broker import free_port
from tests.e2e.conftest import LAPTOP, screen, tap_on, wait_text
from tests.e2e.test_dashboard import open_login, sign_in
from tests.world import World, services_for

HELD = "/evidence"
"""the answer held back: an RT page's daily evidence"""

ANSWERED = """
const held = arguments[0];
const json = Response.prototype.json;
Response.prototype.json = function () {
  const body = json.call(this);
  // after the page's own handlers of this answer: they run in the microtasks before this task
  if (this.url.includes(held)) body.then(() => setTimeout(() => { window.heldAnswered = true; }));
  return body;
};
"""
"""marks when the page has handled the held answer (its handlers run before the next task)"""


class Held(NamedTuple):
    url: str
    services: Services
    asked: threading.Event
    release: threading.Event


@pytest.fixture(scope="module")
def held(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Held]:
    services = services_for(world, tmp_path_factory.mktemp("race") / "app.db")
    app = create_app(services, run_evidence_loop=False)
    asked, release = threading.Event(), threading.Event()

    @app.middleware("http")
    async def hold_back(request: Request, call_next):  # type: ignore[no-untyped-def]
        if request.url.path.endswith(HELD):
            asked.set()
            await asyncio.to_thread(release.wait, 60)
        response: Response = await call_next(request)
        return response

    server = BackgroundServer(app, free_port()).start()
    yield Held(server.url, services, asked, release)
    release.set()
    server.stop()


def test_a_slow_rt_page_is_not_drawn_over_the_page_the_user_went_back_to(held: Held, browser: WebDriver) -> None:
    _, token = held.services.app_db.create_token("Assessor", Role.assessor, ScopeLevel.city, None)
    screen(browser, LAPTOP)
    open_login(browser, held.url, "id")
    sign_in(browser, token)
    wait_text(browser, "main h1", "Kota Jambi")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#rt-table tbody tr")))
    browser.execute_script(ANSWERED, HELD)

    tap_on(browser, "#rt-table tbody tr a")  # the RT's page asks for its evidence: held back
    assert held.asked.wait(30), "the RT page never asked for its evidence"
    browser.back()  # the user goes back to the city before the RT's answers are in
    wait_text(browser, "#alert-states", "terbuka")  # the city's view, drawn to its last answer
    held.release.set()
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return window.heldAnswered === true"))

    assert browser.find_element(By.CSS_SELECTOR, "main h1").text == "Kota Jambi"
    assert browser.find_elements(By.ID, "rt-table")
    assert not browser.find_elements(By.ID, "scores")  # the RT page's late answer was dropped
    assert not browser.find_elements(By.TAG_NAME, "canvas")
