"""The assessor dashboard in a real headless Chromium: every screen at 360 px (a phone, touch
taps) and 1366 px (a laptop, mouse clicks), in Bahasa Indonesia and English, under the
Content-Security-Policy the API is to send (no inline script or style)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import Request, Response
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from api.app import STATIC, create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.services import Services
from ingest.broker import free_port
from tests.e2e.conftest import LAPTOP, PHONE, fits, screen, shot, tap, tap_link, tap_on, wait_text
from tests.world import END, World, services_for

PERIOD = {"bantar-start": "2026-10-03", "bantar-end": END.date().isoformat()}
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:"
WORDS = {
    "id": {
        "login": "Masuk",
        "wrong": "Token ini tidak dikenal",
        "coverage": "Cakupan bukti",
        "reassess": "penilaian ulang",
        "saved": "Tersimpan",
        "forbidden": "Tidak boleh dibuka",
        "scope": "di luar wilayah",
        "ended": "Sesi berakhir",
        "metric": "Malam poskamling dijaga",
        "material": "plastik",
        "kind": "tong sampah",
    },
    "en": {
        "login": "Log in",
        "wrong": "This token is not known",
        "coverage": "Evidence coverage",
        "reassess": "re-assessment",
        "saved": "Saved",
        "forbidden": "may not open",
        "scope": "outside the token's scope",
        "ended": "Session ended",
        "metric": "Poskamling nights staffed",
        "material": "plastic",
        "kind": "waste bin",
    },
}
OFFSITE = (  # resources fetched from elsewhere; an attempt the page's CSP blocked shows with duration 0
    "return performance.getEntriesByType('resource').filter(e => e.duration > 0)"
    ".map(e => e.name).filter(n => !n.startsWith(arguments[0]))"
)


@pytest.fixture(scope="module")
def site(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Services]]:
    services = services_for(world, tmp_path_factory.mktemp("dash") / "app.db")
    app = create_app(services, run_evidence_loop=False)

    @app.middleware("http")
    async def strict_csp(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers["Content-Security-Policy"] = CSP
        return response

    server = BackgroundServer(app, free_port()).start()
    yield server.url, services
    server.stop()


def open_login(driver: WebDriver, url: str, lang: str) -> None:
    driver.get(f"{url}/#/login")
    driver.execute_script(
        "for (const [k, v] of Object.entries(arguments[0])) sessionStorage.setItem(k, v);",
        {**PERIOD, "bantar-lang": lang},
    )
    driver.refresh()  # the page reads the period and language when it loads
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "token")))


def sign_in(driver: WebDriver, token: str) -> None:
    """Submit the token and wait for the API's answer: signed in (the page keeps who it is) or
    refused (the form shows why). Navigating before it would reload a page without a session."""
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(token)
    tap_on(driver, "#login button[type=submit]")
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return !!sessionStorage.getItem('bantar-me') || document.getElementById('login-error')?.hidden === false"
        ),
        "the sign-in's answer",
    )


def no_csp_violations(driver: WebDriver) -> None:
    problems = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert not problems, problems


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_every_screen_fits_and_answers_taps(
    site: tuple[str, Services], world: World, browser: WebDriver, width: int, lang: str
) -> None:
    url, services = site
    words = WORDS[lang]
    _, token = services.app_db.create_token(f"Tim DLH {width}{lang}", Role.assessor, ScopeLevel.city, None)
    screen(browser, width)
    open_login(browser, url, lang)
    wait_text(browser, "main h1", words["login"])
    fits(browser, "login")

    sign_in(browser, "bnt_wrong_token")  # a clear message, and the form stays
    wait_text(browser, "#login-error", words["wrong"])
    fits(browser, "login with an error")
    shot(browser, f"login-error-{width}-{lang}.png")

    sign_in(browser, token)
    wait_text(browser, "main h1", "Kota Jambi")
    assert words["coverage"] in browser.find_element(By.TAG_NAME, "main").text
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#rt-table tbody tr")))
    fits(browser, "city")
    shot(browser, f"city-{width}-{lang}.png")

    lapsing = world.lapsing[0]
    place = world.registry.rts[lapsing]
    tap_link(browser, place.kecamatan_name)
    wait_text(browser, "main h1", place.kecamatan_name)
    fits(browser, "kecamatan")
    tap_link(browser, place.kelurahan_name)
    wait_text(browser, "main h1", place.kelurahan_name)
    fits(browser, "kelurahan")
    search = browser.find_element(By.ID, "rt-search")
    tap(browser, search)
    search.send_keys(lapsing)
    wait_text(browser, "#rt-count", "1")
    tap_link(browser, lapsing)

    wait_text(browser, "#alerts", words["reassess"])
    main = browser.find_element(By.TAG_NAME, "main").text
    for word in ("Rp", words["metric"], words["kind"]):
        assert word in main
    assert "_" not in browser.find_element(By.ID, "scores").text  # names, not snake_case metric codes
    legends = browser.execute_script("return Chart.getChart('c-bank').data.datasets.map(d => d.label)")
    assert words["material"] in legends
    drawn = browser.execute_script(
        "return ['c-fill', 'c-cctv', 'c-posts', 'c-bank'].map(id => Chart.getChart(id)?.data.labels.length ?? 0)"
    )
    assert all(n >= 28 for n in drawn), drawn
    fits(browser, "RT")
    shot(browser, f"rt-{width}-{lang}.png")

    tap_on(browser, "#open-assessment")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "a-form")))
    first_id = browser.current_url.rsplit("/", 1)[1]
    for criterion in ("bersih.a", "bersih.b", "aman.b"):
        tap_on(browser, f"fieldset[data-criterion='{criterion}'] label.choice.l2")
    tap_on(browser, "#save")
    wait_text(browser, "#a-message", words["saved"])
    wait_text(browser, "#a-total", "6 / 42")
    fits(browser, "assessment")
    shot(browser, f"assessment-{width}-{lang}.png")

    tap_link(browser, f"RT {lapsing}")  # back to the RT; opening again returns the same draft
    tap_on(browser, "#open-assessment")
    WebDriverWait(browser, 20).until(ec.url_contains("#/assessment/"))
    wait_text(browser, "#a-total", "6 / 42")
    assert browser.current_url.rsplit("/", 1)[1] == first_id
    no_csp_violations(browser)


def test_an_assessor_scores_every_criterion_and_signs(
    site: tuple[str, Services], world: World, browser: WebDriver
) -> None:
    url, services = site
    _, token = services.app_db.create_token("Tim Puskesmas", Role.assessor, ScopeLevel.city, None)
    screen(browser, PHONE)
    open_login(browser, url, "id")
    sign_in(browser, token)
    wait_text(browser, "main h1", "Kota Jambi")
    browser.get(f"{url}/#/rt/{world.healthy_awarded[0]}")
    tap_on(browser, "#open-assessment")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "a-form")))
    for choice in browser.find_elements(By.CSS_SELECTOR, "#a-form label.choice.l2"):
        tap(browser, choice)
    tap_on(browser, "#save")
    wait_text(browser, "#a-message", "Tersimpan")
    wait_text(browser, "#a-total", "42 / 42")
    tap_on(browser, "#sign")
    wait_text(browser, "#a-status", "Ditandatangani")
    assert not browser.find_elements(By.ID, "save")  # a signed assessment offers no edits
    fits(browser, "signed assessment")


def test_an_rt_head_takes_an_alert_as_a_work_item(site: tuple[str, Services], world: World, browser: WebDriver) -> None:
    url, services = site
    lapsing = world.lapsing[0]
    place = world.registry.rts[lapsing]
    kelurahan = place.kelurahan_code
    _, token = services.app_db.create_token("Ketua RT", Role.rt_head, ScopeLevel.kelurahan, kelurahan)
    screen(browser, PHONE)
    open_login(browser, url, "id")
    sign_in(browser, token)
    # the landing page (the token's kelurahan) drawn first: a view still loading would be drawn
    # over the RT's page when its answers come in
    wait_text(browser, "main h1", place.kelurahan_name)
    assert f"#/kelurahan/{kelurahan}" in browser.current_url
    browser.get(f"{url}/#/rt/{lapsing}")
    wait_text(browser, "#alerts", "terbuka")
    tap_on(browser, "#alerts button.ack")
    wait_text(browser, "#alerts", "ditanggapi Ketua RT")
    states = {a.state for a in services.alerts.book.alerts([lapsing], ["acknowledged"])}
    assert states == {"acknowledged"}
    assert browser.find_element(By.ID, "reports").text.startswith("Laporan")
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#scores .basis")]
    assert labels  # every criterion says whose rule it is
    assert all(text.startswith(("Aturan program: ", "Asumsi layanan ini: ")) for text in labels)
    browser.get(f"{url}/#/kelurahan/{kelurahan}")
    wait_text(browser, "#alert-states", "ditanggapi")
    fits(browser, "alerts as work items")
    no_csp_violations(browser)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_revoked_token_goes_back_to_the_login_with_the_reason(
    site: tuple[str, Services], world: World, browser: WebDriver, lang: str
) -> None:
    url, services = site
    token_id, token = services.app_db.create_token("Soon revoked", Role.assessor, ScopeLevel.city, None)
    screen(browser, PHONE)
    open_login(browser, url, lang)
    sign_in(browser, token)
    wait_text(browser, "main h1", "Kota Jambi")
    services.app_db.revoke_token(token_id)
    tap_on(browser, "#rt-table tbody tr a")
    wait_text(browser, "#login-error", WORDS[lang]["ended"])
    assert "#/login" in browser.current_url
    fits(browser, "login after a revoked token")


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_an_operator_cannot_open_another_rts_page(
    site: tuple[str, Services], world: World, browser: WebDriver, width: int, lang: str
) -> None:
    url, services = site
    mine, other = world.healthy_awarded[0], world.lapsing[0]
    _, token = services.app_db.create_token("Operator", Role.operator, ScopeLevel.rt, mine)
    screen(browser, width)
    open_login(browser, url, lang)
    sign_in(browser, token)
    wait_text(browser, "main h1", "RT")  # an RT-scoped token lands on its own RT
    assert f"#/rt/{mine}" in browser.current_url
    assert not browser.find_elements(By.ID, "open-assessment")  # only assessors open assessments
    browser.get(f"{url}/#/rt/{other}")
    wait_text(browser, "#error", WORDS[lang]["forbidden"])
    assert WORDS[lang]["scope"] in browser.find_element(By.ID, "error").text
    fits(browser, "error")
    shot(browser, f"error-{width}-{lang}.png")


def test_the_language_switch_translates_the_open_screen(site: tuple[str, Services], browser: WebDriver) -> None:
    url, services = site
    _, token = services.app_db.create_token("Assessor", Role.assessor, ScopeLevel.city, None)
    screen(browser, PHONE)
    open_login(browser, url, "id")
    sign_in(browser, token)
    wait_text(browser, "main h1", "Kota Jambi")
    tap_on(browser, "#lang")
    wait_text(browser, "main", "Evidence coverage")
    assert "District" in browser.execute_script("return document.querySelector('#areas thead').textContent")
    assert browser.execute_script("return document.documentElement.lang") == "en"
    tap_on(browser, "#lang")
    wait_text(browser, "main", "Cakupan bukti")


def test_the_dashboard_builds_its_page_without_markup_from_data() -> None:
    """No innerHTML and no inline script or handler anywhere: data can never become markup."""
    for name in ("app.js", "i18n.js"):
        source = (STATIC / name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in source, (name, sink)
    for page in ("index.html", "docs/swagger.html", "docs/redoc.html"):
        html = (STATIC / page).read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page
        assert not re.search(r"\son[a-z]+\s*=", html), page
        assert "style=" not in html, page
        assert "<style" not in html, page


@pytest.mark.parametrize(("page", "ready"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_api_docs_load_from_this_server_only(
    site: tuple[str, Services], browser: WebDriver, page: str, ready: str
) -> None:
    url, _ = site
    assert "cdn" not in httpx.get(f"{url}{page}").text.lower()
    browser.get(f"{url}{page}")
    wait_text(browser, ready, "BANTAR", timeout=30)
    elsewhere = [n for n in browser.execute_script(OFFSITE, url) if not n.startswith(("blob:", "data:"))]
    assert elsewhere == []
