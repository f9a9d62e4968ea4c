"""The field app on a phone-sized headless Chromium (390x844): offline entries stored exactly
once, a page killed mid-sync, sign-in by link, a revoked phone, no sideways scrolling at 360 px.

"Offline" is the page's DevTools network emulation *and* a gate in front of the server that
refuses every connection: the emulation alone does not reach the service worker's own fetches
(``test_offline_entries_are_stored_exactly_once`` checks that the worker is cut off too)."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.bank_sampah import Price
from bantar.domain.readings import Material
from bantar.domain.registry import Device, ExternalIds, Registry, web_device_id
from bantar.domain.timebase import WIB, utc_now, wib_day
from bantar.domain.topics import DeviceKind
from bantar.registry_file import dump_registry
from bantar.services import Services
from bantar.stores.field_records import Checkpoint
from ingest.broker import MosquittoProcess, free_port
from tests.e2e.conftest import chromium, tap_on
from tests.field import fresh_services
from tests.proxy import CuttableProxy, RefusingHttpProxy
from tests.support import REPO, bantar_env, publish, start_ingestor, stop_ingestor, wait_until

SHOTS = REPO / "docs" / "img"
NO_SIDEWAYS = "return document.documentElement.scrollWidth <= window.innerWidth"


class Site:
    def __init__(self, services: Services, proxy: CuttableProxy, db: Path) -> None:
        self.services, self.proxy, self.db = services, proxy, db
        self.url = f"http://127.0.0.1:{proxy.port}"

    def code(self, name: str, role: Role, rt: str) -> str:
        return self.services.app_db.create_sign_in_code(name, role, ScopeLevel.rt, rt, "test")[1]

    def deposits(self, rt: str) -> int:
        return len(self.services.store.rt_readings(rt, 0, 2**53).of(DeviceKind.bank_sampah))

    def post_reports(self, rt: str) -> list[str]:
        web = web_device_id(rt, DeviceKind.poskamling)
        return [
            r.event
            for r in self.services.store.rt_readings(rt, 0, 2**53).of(DeviceKind.poskamling)
            if r.device_id == web
        ]


@pytest.fixture(scope="module")
def site(small_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("field-app")
    services = fresh_services(small_registry, folder)  # its store: folder/bantar.db
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    proxy = CuttableProxy(int(server.url.rsplit(":", 1)[1]))
    yield Site(services, proxy, folder / "bantar.db")
    proxy.close()
    server.stop()
    services.close()


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Any]:
    opened: list[WebDriver] = []

    def phone(name: str, width: int = 390) -> WebDriver:
        driver = chromium(tmp_path / name, width)
        opened.append(driver)
        return driver

    yield phone
    for driver in opened:
        with contextlib.suppress(Exception):
            driver.quit()


def wait_js(driver: WebDriver, script: str, what: str, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(script), what)


def app_ready(driver: WebDriver) -> None:
    """The page has started and the service worker controls it (so it opens offline)."""
    wait_js(
        driver,
        "return document.body.dataset.ready === '1' && !!navigator.serviceWorker.controller",
        "the app to start under its service worker",
        30,
    )


def sign_in(driver: WebDriver, site: Site, code: str, url: str | None = None) -> None:
    """Sign in by link at the site (or at ``url``, another way to the same server)."""
    driver.get(f"{url or site.url}/app/#masuk={code}")
    wait_js(driver, "return !location.hash.includes('masuk=') && document.body.dataset.ready === '1'", "sign-in")
    wait_js(driver, "return document.body.dataset.offlineReady === '1'", "the service worker to be active", 30)
    driver.refresh()  # the second load is served by the service worker
    app_ready(driver)


def pending(driver: WebDriver) -> int:
    return int(driver.find_element(By.ID, "outbox-status").get_attribute("data-pending") or 0)


def go_offline(driver: WebDriver, site: Site) -> None:
    site.proxy.refusing = True
    site.proxy.cut()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def go_online(driver: WebDriver, site: Site, latency_ms: int = 0) -> None:
    site.proxy.refusing = False
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def worker_fetch(driver: WebDriver, path: str) -> str:
    """A GET under /app/ that the service worker does not hold: it goes to its own network."""
    return str(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(r => done('status ' + r.status)).catch(e => done('failed ' + e));",
            path,
        )
    )


def visit(driver: WebDriver, screen: str, css: str) -> None:
    driver.execute_script("location.hash = arguments[0]", f"#/{screen}")
    wait_js(driver, f"return document.body.dataset.screen === '#/{screen}'", f"#/{screen} to be drawn")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, css), f"#/{screen} to show {css}")


def shot(driver: WebDriver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / name))


def deposit(driver: WebDriver, member: str, material_index: int, kg: str) -> None:
    visit(driver, "setor", "#kg")
    Select(driver.find_element(By.ID, "member")).select_by_visible_text(member)
    Select(driver.find_element(By.ID, "material")).select_by_index(material_index)
    driver.find_element(By.ID, "kg").send_keys(kg)
    save_deposit(driver)


def save_deposit(driver: WebDriver) -> None:
    driver.find_element(By.ID, "save").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "receipt"), "the receipt")


def set_backoff(driver: WebDriver, base_ms: int) -> None:
    """The phone's retry schedule after a failed send: base x 2^tries (outbox.js reads it)."""
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "openStore().then((db) => kvPut(db, 'backoff', { base_ms: arguments[0], max_ms: 3600000 })).then(done);",
        base_ms,
    )


def qr_file(driver: WebDriver, text: str, folder: Path) -> Path:
    """The QR image the RT head's print page draws for ``text`` (the same vendored generator)."""
    data_url = driver.execute_script(
        "const q = qrcode(0, 'M'); q.addData(arguments[0]); q.make(); return q.createDataURL(8, 16);", text
    )
    path = folder / f"qr-{abs(hash(text))}.gif"
    path.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
    return path


def scan(driver: WebDriver, image: Path) -> tuple[str, str]:
    """Feed a photo to the scanner's file input; the outcome's class and text."""
    driver.execute_script(
        "const r = document.getElementById('scan-result'); r.className = 'hidden'; r.textContent = ''"
    )
    driver.find_element(By.ID, "scan-file").send_keys(str(image))
    result = driver.find_element(By.ID, "scan-result")
    WebDriverWait(driver, 20).until(lambda _: result.text, "the scan's outcome")
    return str(result.get_attribute("class")), result.text


def prepare_bank(site: Site, rt: str) -> None:
    field = site.services.app_db.field
    field.save_member(rt, "hh_ani_0001", "Ani", "0812 1111 2222")
    field.save_member(rt, "hh_budi_0002", "Budi", None)
    yesterday = wib_day(utc_now()) - timedelta(days=1)
    field.set_price(
        rt, Price(material=Material.plastic, grade="botol PET", price_idr_per_kg=3000, valid_from=yesterday)
    )
    field.set_price(rt, Price(material=Material.paper, grade="kardus", price_idr_per_kg=1500, valid_from=yesterday))


def test_offline_entries_are_stored_exactly_once(site: Site, phones: Any, tmp_path: Path) -> None:
    rt = next(iter(site.services.registry.rts))
    prepare_bank(site, rt)
    for i, label in enumerate(("Gerbang masjid", "Pos ronda", "Ujung gang")):
        site.services.app_db.field.add_checkpoint(rt, Checkpoint(id=f"cp-{i}", label=label))

    operator, post = phones("operator"), phones("post")
    sign_in(operator, site, site.code("Bu Sari", Role.operator, rt))
    sign_in(post, site, site.code("Pos ronda RT", Role.security_post, rt))
    visit(operator, "setor", "#kg")
    go_offline(operator, site)
    go_offline(post, site)
    assert worker_fetch(operator, "/app/not-cached").startswith("failed")  # the worker is offline too
    entered = [("Ani", 0, "2,5"), ("Budi", 1, "10"), ("Ani", 1, "0,75"), ("Budi", 0, "1,2"), ("Ani", 0, "3")]
    for member, material, kg in entered:
        deposit(operator, member, material, kg)
    assert "Jumlah: Rp 9.000" in operator.find_element(By.ID, "receipt").text  # 3 kg x Rp 3.000
    shot(operator, "field-receipt.png")
    assert pending(operator) == 5
    assert operator.find_element(By.ID, "outbox-status").text == "5 belum terkirim"
    operator.refresh()  # reload with no network: the app still opens, the entries are still there
    app_ready(operator)
    visit(operator, "kirim", ".entry")
    assert pending(operator) == 5
    assert len(operator.find_elements(By.CSS_SELECTOR, ".badge.pending")) == 5
    shot(operator, "field-outbox-offline.png")

    visit(post, "patroli", "#scan-file")
    images = [qr_file(post, f"BANTAR-CP/{rt}/cp-{i}", tmp_path) for i in range(3)]
    outcome = scan(post, images[0])
    assert "error" in outcome[0]
    assert "mulai jaga" in outcome[1]  # a scan outside the duty is refused with its reason
    visit(post, "jaga", "#guards")
    post.find_element(By.ID, "guards").clear()
    post.find_element(By.ID, "guards").send_keys("3")
    post.find_element(By.ID, "duty-start").click()
    WebDriverWait(post, 20).until(lambda d: d.find_elements(By.ID, "duty-end"), "the duty to start")
    shot(post, "field-duty.png")
    visit(post, "patroli", "#scan-file")
    for image in images:
        kind, text = scan(post, image)
        assert "ok" in kind, text
    other_rt = list(site.services.registry.rts)[1]
    kind, text = scan(post, qr_file(post, f"BANTAR-CP/{other_rt}/cp-0", tmp_path))
    assert (kind, text) == ("error", "Kode titik patroli ini milik RT lain")
    kind, text = scan(post, qr_file(post, "https://example.com/not-a-checkpoint", tmp_path))
    assert "bukan kode titik patroli" in text
    shot(post, "field-patrol.png")
    visit(post, "kejadian", "button[data-code='theft']")
    assert post.find_element(By.CSS_SELECTOR, "button[data-code='theft']").text == "pencurian"
    post.find_element(By.CSS_SELECTOR, "button[data-code='theft']").click()
    post.find_element(By.ID, "note").send_keys("Sepeda motor hilang di ujung gang")
    post.find_element(By.ID, "save").click()
    WebDriverWait(post, 20).until(lambda _: pending(post) == 5, "five poskamling entries on the phone")
    shot(post, "field-incident.png")
    post.refresh()
    app_ready(post)
    assert pending(post) == 5

    assert site.deposits(rt) == 0
    assert site.post_reports(rt) == []
    go_online(operator, site)
    go_online(post, site)
    for phone in (operator, post):
        WebDriverWait(phone, 60).until(lambda d: pending(d) == 0, "the outbox to empty")
    assert site.deposits(rt) == 5
    denied = [(e.action, e.detail) for e in site.services.app_db.audit_entries() if e.action.endswith("_denied")]
    assert sorted(site.post_reports(rt)) == ["duty", "incident", "patrol", "patrol", "patrol"], denied
    visit(operator, "kirim", ".badge.sent")
    assert len(operator.find_elements(By.CSS_SELECTOR, ".badge.sent")) == 5
    operator.find_element(By.ID, "send-now").click()  # another sync: nothing is sent twice
    visit(post, "riwayat", "#reports tr")
    shot(post, "field-history.png")
    assert site.deposits(rt) == 5
    assert len(site.post_reports(rt)) == 5
    visit(operator, "buku/hh_ani_0001", "#balance")
    stored = site.services.store.rt_readings(rt, 0, 2**53).of(DeviceKind.bank_sampah)
    balance = sum(d.value_idr for d in stored if d.household == "hh_ani_0001")
    assert balance == 2.5 * 3000 + 0.75 * 1500 + 3 * 3000
    wait_js(operator, f"return document.getElementById('balance').dataset.idr === '{balance}'", "Ani's balance")
    shot(operator, "field-book.png")


def browser_process(driver: WebDriver) -> int:
    """The pid of the Chromium that chromedriver started for this driver (its direct child)."""
    parent = str(driver.service.process.pid)  # type: ignore[attr-defined]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == parent:
                return int(stat.parent.name)
    raise AssertionError("no Chromium process under chromedriver")


def test_a_page_killed_mid_sync_still_stores_each_entry_once(site: Site, phones: Any, tmp_path: Path) -> None:
    rt = list(site.services.registry.rts)[2]
    prepare_bank(site, rt)
    operator = phones("killed")
    sign_in(operator, site, site.code("Pak Dedi", Role.operator, rt))
    visit(operator, "setor", "#kg")
    go_offline(operator, site)
    for member, kg in (("Ani", "1,5"), ("Budi", "2"), ("Ani", "4,25"), ("Budi", "0,5")):
        deposit(operator, member, 0, kg)
    assert pending(operator) == 4
    go_online(operator, site, latency_ms=1500)  # every answer takes 1.5 s to come back
    wait_until(lambda: site.deposits(rt) >= 1, 30, "the first deposit to reach the server")
    os.kill(browser_process(operator), signal.SIGKILL)  # stored, but the phone never heard so
    with contextlib.suppress(Exception):
        operator.quit()
    assert site.deposits(rt) < 4

    reopened = phones("killed")  # the same phone (profile) opens the app again
    reopened.get(f"{site.url}/app/")
    app_ready(reopened)
    WebDriverWait(reopened, 60).until(lambda d: pending(d) == 0, "the outbox to empty after the restart")
    assert site.deposits(rt) == 4


def test_sign_in_by_link_once_and_a_revoked_phone_is_told(site: Site, phones: Any) -> None:
    rt = list(site.services.registry.rts)[3]
    code = site.code("Bu Rina", Role.operator, rt)
    first = phones("first")
    sign_in(first, site, code)
    assert "Bu Rina" in first.find_element(By.ID, "who").text
    second = phones("second")
    second.get(f"{site.url}/app/#masuk={code}")
    WebDriverWait(second, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#message.error"), "the refusal")
    assert "sudah dipakai" in second.find_element(By.ID, "message").text
    shot(second, "field-sign-in-reused.png")
    token_id = next(c.token_id for c in site.services.app_db.sign_in_codes() if c.name == "Bu Rina")
    assert token_id is not None
    assert site.services.app_db.revoke_token(token_id)
    first.refresh()
    WebDriverWait(first, 20).until(lambda d: d.find_elements(By.ID, "revoked"), "the revoked message")
    assert "Akses ponsel ini sudah dicabut" in first.find_element(By.ID, "revoked").text
    shot(first, "field-revoked.png")


def test_no_screen_scrolls_sideways_at_360_px_and_the_rt_head_prints_checkpoints(site: Site, phones: Any) -> None:
    rt = list(site.services.registry.rts)[4]
    prepare_bank(site, rt)
    screens = {
        Role.operator: ["setor", "anggota", "harga", "rekap", "buku/hh_ani_0001", "tarik/hh_ani_0001", "kirim"],
        Role.security_post: ["jaga", "patroli", "kejadian", "riwayat", "kirim"],
        Role.rt_head: ["gotong", "bukti", "titik", "kode", "kirim"],
    }
    for role, names in screens.items():
        phone = phones(f"narrow-{role}", width=360)
        sign_in(phone, site, site.code(f"{role} {rt}", role, rt))
        if role is Role.rt_head:
            visit(phone, "titik", "#cp-label")
            for n, label in enumerate(("Gerbang masjid", "Lapangan voli"), start=1):
                phone.find_element(By.ID, "cp-label").send_keys(label)
                phone.find_element(By.ID, "add-checkpoint").click()
                WebDriverWait(phone, 20).until(
                    lambda d, n=n: len(d.find_elements(By.CSS_SELECTOR, ".checkpoint")) == n, f"checkpoint {n}"
                )
            assert len(phone.find_elements(By.CSS_SELECTOR, ".checkpoint img[data-qr]")) == 2
            shot(phone, "field-checkpoints.png")
            visit(phone, "kode", "#c-name")
            phone.find_element(By.ID, "c-name").send_keys("Pak Joko (pos ronda)")
            Select(phone.find_element(By.ID, "c-role")).select_by_value("security_post")
            phone.find_element(By.ID, "make-code").click()
            WebDriverWait(phone, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#new-code .link"), "a link")
            assert "/app/#masuk=" in phone.find_element(By.CSS_SELECTOR, "#new-code .link").text
            shot(phone, "field-sign-in-code.png")
        for name in names:
            visit(phone, name, "main h1")
            wait_js(phone, "return !document.querySelector('main').textContent.includes('…')", name, 5)
            assert phone.execute_script(NO_SIDEWAYS), f"{role} #/{name} scrolls sideways at 360 px"
            if role is Role.operator and name == "setor":
                phone.find_element(By.ID, "kg").send_keys("2,5")
                shot(phone, "field-deposit.png")
            if role is Role.rt_head and name == "bukti":
                shot(phone, "field-evidence.png")
        phone.find_element(By.ID, "lang").click()
        WebDriverWait(phone, 20).until(lambda d: d.find_element(By.ID, "lang").text == "ID", "English")
        assert phone.execute_script(NO_SIDEWAYS)


# --- a connected scale's weighing, through Mosquitto and `bantar ingest` -------------------------
SCALE_TOPIC = "BANKSAMPAH-TIMBANGAN"


def scale_registry(registry: Registry, rt: str, folder: Path) -> Path:
    """The registry with a Tasmota scale (HX711) at the RT's bank sampah, for the ingestor."""
    scale = Device(
        id=f"{rt}-scale",
        kind=DeviceKind.bank_sampah,
        rt=rt,
        interval_s=86400,
        external_ids=ExternalIds(tasmota_topic=SCALE_TOPIC),
    )
    path = folder / "registry.yaml"
    dump_registry(registry.model_copy(update={"devices": [*registry.devices, scale]}), path)
    return path


def weigh(mosquitto: MosquittoProcess, kg: float, minutes_ago: int) -> None:
    """The scale's Tasmota telemetry (its local time is WIB)."""
    at = (datetime.now(WIB) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S")
    publish(mosquitto, [(f"tele/{SCALE_TOPIC}/SENSOR", json.dumps({"Time": at, "HX711": {"Weight": kg}}).encode())])


def weighing_choices(driver: WebDriver) -> list[str]:
    tap_on(driver, "#from-scale")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#weighings button"), "the weighings")
    return [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#weighings button")]


def test_a_scales_weighing_fills_one_deposits_weight_and_a_second_phone_is_told_it_is_taken(
    site: Site,
    phones: Any,
    small_registry: Registry,
    mosquitto: MosquittoProcess,
    tmp_path: Path,
) -> None:
    rt = list(site.services.registry.rts)[5]
    prepare_bank(site, rt)
    env = bantar_env(
        registry=str(scale_registry(small_registry, rt, tmp_path)),
        sources=str(tmp_path / "sources.yaml"),
        sqlite__path=str(site.db),
        app_db=str(tmp_path / "ingest-app.db"),
        mqtt__port=str(mosquitto.port),
    )
    (tmp_path / "sources.yaml").write_text(
        "connections:\n  service: {broker: service, client_id: bantar-sources}\n"
        "sources:\n  - {name: tasmota, connection: service, format: tasmota}\n"
    )
    log = tmp_path / "ingest.log"
    ingestor = start_ingestor(env, log)
    try:
        wait_until(lambda: log.read_text().count("subscribed") >= 2, 20, "both connections to subscribe")
        weigh(mosquitto, 2.35, minutes_ago=3)
        weigh(mosquitto, 1.2, minutes_ago=1)
        window = (0, 2**53)
        wait_until(
            lambda: len(site.services.store.series_rows(DeviceKind.weighing, rt, *window)) == 2,
            30,
            "two weighings stored",
        )
    finally:
        stop_ingestor(ingestor)

    first, second = phones("scale-1"), phones("scale-2")
    for phone, name in ((first, "Bu Sari"), (second, "Pak Joko")):
        sign_in(phone, site, site.code(name, Role.operator, rt))
        visit(phone, "setor", "#from-scale")
        assert [c.split(" · ")[0] for c in weighing_choices(phone)] == ["1,2 kg", "2,35 kg"]  # newest first
    for phone in (first, second):  # both take the 2,35 kg one: only the first to arrive gets it
        Select(phone.find_element(By.ID, "member")).select_by_visible_text("Ani")
        tap_on(phone, "#weighings button:nth-child(2)")
        assert phone.find_element(By.ID, "kg").get_attribute("value") == "2,35"
        assert "Dari timbangan: 2,35 kg" in phone.find_element(By.ID, "scale-note").text
        assert phone.find_element(By.ID, "total").text == "Rp 7.050"
    shot(first, "field-deposit-scale.png")
    save_deposit(first)
    WebDriverWait(first, 30).until(lambda d: pending(d) == 0, "the first phone's deposit sent")
    save_deposit(second)
    visit(second, "kirim", ".badge.refused")
    refused = second.find_element(By.CSS_SELECTOR, ".entry .error").text
    assert refused == "Hasil timbangan ini sudah dipakai untuk setoran lain"
    stored = site.services.store.rt_readings(rt, 0, 2**53).of(DeviceKind.bank_sampah)
    assert [(d.household, d.kg) for d in stored] == [("hh_ani_0001", {"plastic": 2.35})]
    assert list(site.services.app_db.field.used_weighings(rt)) == [
        (f"{rt}-scale", w.seq)
        for w in site.services.store.series_rows(DeviceKind.weighing, rt, 0, 2**53)
        if w.values == (2.35,)
    ]

    visit(first, "setor", "#from-scale")
    assert [c.split(" · ")[0] for c in weighing_choices(first)] == ["1,2 kg"]  # the taken one is gone
    tap_on(first, "#weighings button")
    note = first.find_element(By.ID, "scale-note")
    first.find_element(By.ID, "kg").send_keys("0")  # 1,20: still the weighing's weight
    assert "Dari timbangan: 1,2 kg" in note.text
    first.find_element(By.ID, "kg").send_keys("5")  # 1,205: typed over, no longer the weighing
    assert not note.is_displayed()
    go_offline(first, site)
    WebDriverWait(first, 20).until(lambda d: not d.find_element(By.ID, "from-scale").is_enabled(), "the button off")
    assert (
        first.find_element(By.ID, "scale-note").text == "Ambil dari timbangan butuh jaringan: tulis beratnya sendiri."
    )
    go_online(first, site)


# --- the server's patrol rules, shown on the phone ---------------------------------------------
def test_a_patrol_the_server_refuses_shows_its_reason_in_indonesian(site: Site, phones: Any, tmp_path: Path) -> None:
    """A post that signed in before its RT printed any checkpoint cannot check a code on the
    phone; the server refuses a code the RT never registered, and the phone says why."""
    rt = list(site.services.registry.rts)[6]
    post = phones("post-refused")
    sign_in(post, site, site.code("Pos ronda RT 7", Role.security_post, rt))
    visit(post, "jaga", "#guards")
    post.find_element(By.ID, "duty-start").click()
    WebDriverWait(post, 20).until(lambda d: d.find_elements(By.ID, "duty-end"), "the duty to start")
    visit(post, "patroli", "#scan-file")
    kind, _ = scan(post, qr_file(post, f"BANTAR-CP/{rt}/cp-lama", tmp_path))
    assert kind == "ok"  # the phone knows no checkpoint of its RT: the server judges
    visit(post, "kirim", ".badge.refused")
    assert post.find_element(By.CSS_SELECTOR, ".entry .error").text == (
        "Titik patroli ini tidak terdaftar di RT ini: minta ketua RT mencetak kodenya"
    )
    assert site.post_reports(rt) == ["duty"]
    assert post.find_element(By.ID, "outbox-status").text == "1 ditolak"


# --- retries: 5xx backoff and the browser's background sync ------------------------------------
def test_a_send_refused_with_503_is_retried_with_growing_gaps_and_stored_once(site: Site, phones: Any) -> None:
    rt = list(site.services.registry.rts)[7]
    prepare_bank(site, rt)
    flaky = RefusingHttpProxy(site.proxy.target_port, "/bank-sampah/deposits", refuse=3)
    try:
        operator = phones("flaky")
        sign_in(operator, site, site.code("Bu Wati", Role.operator, rt), url=flaky.url)
        base_ms = 1000  # tries at 0, 2, 6 and 14 s: time to open the list while it still waits
        set_backoff(operator, base_ms)
        deposit(operator, "Budi", 0, "4")
        visit(operator, "kirim", ".entry .retry")
        card = operator.find_element(By.CSS_SELECTOR, ".entry")
        assert card.find_element(By.CSS_SELECTOR, ".badge").text == "Belum terkirim"
        assert "Server belum bisa menerima (percobaan" in card.find_element(By.CSS_SELECTOR, ".retry").text
        assert pending(operator) == 1
        WebDriverWait(operator, 60).until(lambda d: pending(d) == 0, "the deposit to be sent at last")
    finally:
        flaky.close()
    attempts = flaky.attempts
    assert [a.status for a in attempts] == [503, 503, 503, 201]
    assert len({a.key for a in attempts}) == 1  # one entry, one Idempotency-Key, however often sent
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    scheduled = [base_ms * 2**tries / 1000 for tries in (1, 2, 3)]  # outbox.js: base x 2^tries
    assert all(gap >= wait for gap, wait in zip(gaps, scheduled, strict=True)), (gaps, scheduled)
    assert gaps[0] < gaps[-1], gaps
    assert site.deposits(rt) == 1


class DevTools:
    """A second DevTools connection to the phone's page, for what chromedriver cannot do:
    read the service worker's registration id and dispatch a background sync to it."""

    def __init__(self, driver: WebDriver, origin: str) -> None:
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        targets = httpx.get(f"http://{address}/json/list").json()
        page = next(t for t in targets if t["type"] == "page" and t["url"].startswith(origin))
        self.origin, self._ids = origin, itertools.count(1)
        self._socket = websocket.create_connection(page["webSocketDebuggerUrl"], suppress_origin=True, timeout=30)

    def call(self, method: str, **params: object) -> dict[str, Any]:
        """Send a command; its result, with the events that arrived before it (``events``)."""
        number = next(self._ids)
        self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        events: list[dict[str, Any]] = []
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == number:
                assert "error" not in message, message
                return {**message["result"], "events": events}
            events.append(message)

    def registration_id(self) -> str:
        self.call("ServiceWorker.enable")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for event in self.call("Runtime.evaluate", expression="1")["events"]:
                if event.get("method") == "ServiceWorker.workerRegistrationUpdated":
                    for registration in event["params"]["registrations"]:
                        if registration["scopeURL"] == f"{self.origin}/app/" and not registration["isDeleted"]:
                            return str(registration["registrationId"])
        raise AssertionError("no service worker registration for the app")

    def dispatch_sync(self, registration_id: str, tag: str) -> None:
        self.call(
            "ServiceWorker.dispatchSyncEvent",
            origin=self.origin,
            registrationId=registration_id,
            tag=tag,
            lastChance=False,
        )

    def close(self) -> None:
        self._socket.close()


def sync_tags(driver: WebDriver) -> list[str]:
    """The background syncs the service worker's registration holds (none while one is running)."""
    return list(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.serviceWorker.ready.then((r) => r.sync.getTags()).then(done);"
        )
    )


def test_a_background_sync_sends_what_was_saved_offline_once(site: Site, phones: Any) -> None:
    """Offline here is the server out of reach while the page still believes it is online, so no
    ``online`` event fires; the page's own retry waits an hour. Only the service worker's sync,
    dispatched through DevTools, can send the entry."""
    rt = list(site.services.registry.rts)[8]
    prepare_bank(site, rt)
    operator = phones("background")
    sign_in(operator, site, site.code("Bu Lina", Role.operator, rt))
    assert wait_js(operator, "return navigator.serviceWorker.controller && 'SyncManager' in window", "sync")
    set_backoff(operator, 30 * 60 * 1000)
    site.proxy.refusing = True
    site.proxy.cut()
    try:
        deposit(operator, "Ani", 1, "6,5")
        WebDriverWait(operator, 20).until(
            lambda d: sync_tags(d) == ["outbox"], "the sync registered on Simpan to wait for a retry"
        )
        assert pending(operator) == 1
    finally:
        site.proxy.refusing = False
    operator.execute_script("window.notReloaded = true")  # gone if the page were loaded again
    devtools = DevTools(operator, site.url)
    try:
        registration = devtools.registration_id()
        devtools.dispatch_sync(registration, "outbox")
        wait_until(lambda: site.deposits(rt) == 1, 30, "the background sync to send the deposit")
        WebDriverWait(operator, 20).until(lambda d: pending(d) == 0, "the page to hear the entry was sent")
        devtools.dispatch_sync(registration, "outbox")  # another sync: nothing is sent twice
    finally:
        devtools.close()
    assert site.deposits(rt) == 1
    assert (
        operator.execute_script("return location.hash")
        == f"#/struk/{operator.execute_script('return S.entries[0].key')}"
    )


OUTBOX = """const done = arguments[arguments.length - 1];
(async () => {
  const entries = (await allEntries(S.db)).filter((e) => e.state === 'pending');
  if (arguments[0] === 'due-after-first') {  // the first waits out its backoff, the others are due
    for (const [i, e] of entries.entries()) { e.next_at = i ? 0 : Date.now() + 3600000; await putEntry(S.db, e); }
    return entries.map((e) => e.kind);
  }
  return syncOutbox(S.db, null, arguments[0] === 'forced');
})().then(done, (e) => done(`failed: ${e}`));"""


def test_nothing_overtakes_an_entry_waiting_out_its_backoff(site: Site, phones: Any, tmp_path: Path) -> None:
    """The outbox sends in the order entries were made: a patrol that overtook its duty start
    (still waiting out its backoff after the server was out of reach) would be refused for
    good as outside the duty. A timed retry stops at the first entry not yet due; a sync the
    user or the network asks for sends all, in order."""
    rt = list(site.services.registry.rts)[9]
    site.services.app_db.field.add_checkpoint(rt, Checkpoint(id="cp-0", label="Gerbang"))
    post = phones("in-order")
    sign_in(post, site, site.code("Pos ronda RT 10", Role.security_post, rt))
    set_backoff(post, 30 * 60 * 1000)  # the page's own retries wait half an hour
    site.proxy.refusing = True
    site.proxy.cut()
    try:
        visit(post, "jaga", "#guards")
        post.find_element(By.ID, "duty-start").click()
        WebDriverWait(post, 20).until(lambda d: d.find_elements(By.ID, "duty-end"), "the duty to start")
        visit(post, "patroli", "#scan-file")
        assert scan(post, qr_file(post, f"BANTAR-CP/{rt}/cp-0", tmp_path))[0] == "ok"
        WebDriverWait(post, 20).until(lambda d: pending(d) == 2, "the duty and the patrol on the phone")
    finally:
        site.proxy.refusing = False
    assert post.execute_async_script(OUTBOX, "due-after-first") == ["duty", "patrol"]

    timed = post.execute_async_script(OUTBOX, "timed")
    assert timed == {"sent": 0, "refused": 0, "stopped": None}, timed
    assert site.post_reports(rt) == []  # the patrol waited for its duty
    forced = post.execute_async_script(OUTBOX, "forced")
    assert forced == {"sent": 2, "refused": 0, "stopped": None}, forced
    assert site.post_reports(rt) == ["duty", "patrol"]
