"""Dashboard load time for the whole city in a real headless Chromium: 1,635 RTs, evidence for
30 days (each RT's derived day repeated), the API on loopback; time from loading the page to
the city table drawn, and from clicking an RT to its charts drawn.

    .venv/bin/python bench/dashboard.py [--hours 2] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from api.app import create_app  # noqa: E402
from api.server import BackgroundServer  # noqa: E402
from bantar.domain.access import Role, ScopeLevel  # noqa: E402
from bench.city import END, city_services  # noqa: E402
from ingest.broker import free_port  # noqa: E402
from simulators.engine import Simulation  # noqa: E402
from tests.support import store_directly  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bantar-bench-") as tmp:
        work = Path(tmp)
        city, services = city_services(work)
        sim = Simulation(city, start=END - timedelta(hours=args.hours), end=END, seed=1)
        store_directly(services.store, services.registry, sim.messages(), END)  # type: ignore[arg-type]
        services.updater.update_all()
        derived = services.store.day_evidence(None, END.date() - timedelta(days=2), END.date())
        start_day = END.date() - timedelta(days=30)
        rows = [e.model_copy(update={"day": start_day + timedelta(days=i)}) for e in derived for i in range(30)]
        services.store.save_evidence(rows, [])
        services.queries.warm()
        _, token = services.app_db.create_token("bench", Role.assessor, ScopeLevel.city, None)
        server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--user-data-dir={work / 'profile'}",
            "--window-size=1280,1000",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(
            service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
        )
        first, last = services.queries.default_period()
        city_times, rt_times = [], []
        try:
            driver.get(f"{server.url}/#/login")
            me = '{"name": "bench", "role": "assessor", "scope_level": "city"}'
            driver.execute_script(
                "const [token, me, start, end] = arguments;"
                "sessionStorage.setItem('bantar-token', token); sessionStorage.setItem('bantar-me', me);"
                "sessionStorage.setItem('bantar-start', start); sessionStorage.setItem('bantar-end', end);",
                token,
                me,
                first.isoformat(),
                last.isoformat(),
            )
            for _ in range(args.runs):
                started = time.perf_counter()
                driver.get(f"{server.url}/#/")
                driver.refresh()
                WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#rt-table td a")))
                city_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                driver.find_element(By.CSS_SELECTOR, "#rt-table td a").click()
                WebDriverWait(driver, 60).until(lambda d: d.execute_script("return !!Chart.getChart('c-bank')"))
                rt_times.append(time.perf_counter() - started)
        finally:
            driver.quit()
            server.stop()
            services.close()
        rts = len(services.registry.rts)
        print(f"dashboard, {rts:,} RTs, {len(rows):,} RT-days of evidence, {args.runs} runs (headless Chromium):")
        print(
            f"  city view (page load to the RT table drawn): median {statistics.median(city_times):.2f} s, "
            f"max {max(city_times):.2f} s"
        )
        print(
            f"  RT page (click to all four charts drawn):    median {statistics.median(rt_times):.2f} s, "
            f"max {max(rt_times):.2f} s"
        )


if __name__ == "__main__":
    main()
