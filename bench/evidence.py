"""Evidence benchmark: derivation time per RT-day on simulated city data, and API latency for a
city summary and for one RT over a city-sized evidence table (1,635 RTs x --days), on the embedded
SQLite store and on InfluxDB (a real influxd on loopback) in the same run.

    .venv/bin/python bench/evidence.py [--hours 12] [--days 365] [--requests 40] [--no-influxdb]

Per store:
1. Simulate the whole city (5,931 devices) for --hours, store it through the intake, derive the
   evidence of every touched RT-day: figures per RT-day and per reading.
2. Fill --days of daily evidence for every RT by repeating each RT's derived day (evidence rows
   are what summaries read; their content does not change the cost of reading them).
3. Serve the API with uvicorn on loopback and time requests with httpx: p50 and p95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from api.app import create_app  # noqa: E402
from api.server import BackgroundServer  # noqa: E402
from bantar.domain.access import Role, ScopeLevel  # noqa: E402
from bantar.domain.registry import Registry  # noqa: E402
from bench.city import END, city_services, generated_city  # noqa: E402
from ingest.broker import free_port  # noqa: E402
from simulators.engine import Simulation  # noqa: E402
from tests.influx import InfluxProcess  # noqa: E402
from tests.support import store_directly  # noqa: E402


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def percentiles(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples) * 1000:7.1f} ms   p95 {p95(samples) * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=12.0, help="simulated city hours to derive from")
    parser.add_argument("--days", type=int, default=365, help="days of evidence per RT behind the API")
    parser.add_argument("--requests", type=int, default=40, help="requests per timed endpoint")
    parser.add_argument("--no-influxdb", action="store_true", help="only the embedded store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bantar-bench-") as tmp:
        work = Path(tmp)
        city = generated_city()
        started = time.perf_counter()
        messages = list(Simulation(city, start=END - timedelta(hours=args.hours), end=END, seed=1).messages())
        print(
            f"city, {args.hours:g} simulated hours: {len(messages):,} readings from {len(city.devices):,} devices "
            f"(simulated in {time.perf_counter() - started:.1f} s)"
        )
        derive_s = {"SQLite": run(work / "sqlite", None, city, messages, args)}
        if not args.no_influxdb:
            influx = InfluxProcess.start(work / "influxdb")
            try:
                derive_s["InfluxDB"] = run(work / "influx", influx.url, city, messages, args)
            finally:
                influx.stop()
            print(
                f"InfluxDB / SQLite: store {derive_s['InfluxDB'][0] / derive_s['SQLite'][0]:.2f}x the time, "
                f"derive {derive_s['InfluxDB'][1] / derive_s['SQLite'][1]:.2f}x the time"
            )


def run(
    work: Path, influx_url: str | None, city: Registry, messages: list[Any], args: argparse.Namespace
) -> tuple[float, float]:
    """One store's figures; returns (store seconds, derive seconds)."""
    name = "InfluxDB" if influx_url else "SQLite"
    print(f"--- {name} ---")
    _, services = city_services(work, influx_url, city)
    started = time.perf_counter()
    store_directly(services.store, services.registry, messages, END)  # type: ignore[arg-type]
    stored = time.perf_counter() - started
    started = time.perf_counter()
    rt_days = services.updater.update_all()
    derived = time.perf_counter() - started
    print(f"  store (intake + {name}) {stored:6.1f} s ({len(messages) / stored:,.0f} readings/s)")
    print(
        f"  derive   {derived:6.1f} s for {rt_days:,} RT-days: {derived / rt_days * 1000:.1f} ms per RT-day, "
        f"{derived / len(messages) * 1e6:.1f} µs per reading"
    )
    per_day = derived / len(messages) * len(messages) * 24 / args.hours / 1635
    print(
        f"  => a full city day (1,635 RT-days, ~{len(messages) * 24 / args.hours / 1e6:.1f} M readings) "
        f"derives in ~{per_day * 1635:.0f} s; 90 days from scratch in ~{per_day * 1635 * 90 / 60:.0f} min"
    )

    # 2. a city-sized evidence table: --days per RT
    derived_days = {e.rt_code: e for e in services.store.day_evidence(None, END.date() - timedelta(days=2), END.date())}
    start_day = END.date() - timedelta(days=args.days)
    rows = [
        e.model_copy(update={"day": start_day + timedelta(days=i)})
        for e in derived_days.values()
        for i in range(args.days)
    ]
    for i in range(0, len(rows), 20_000):
        services.store.save_evidence(rows[i : i + 20_000], [])
    print(f"evidence table: {len(rows):,} RT-days ({len(derived_days):,} RTs x {args.days} days)")

    # 3. API latency over HTTP
    started = time.perf_counter()
    services.queries.warm()  # what the evidence loop does after each update
    print(
        f"  default city summary computed (the loop's warm-up after each update): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    rt = next(iter(derived_days))
    month = {
        "start": (END.date() - timedelta(days=30)).isoformat(),
        "end": (END.date() - timedelta(days=1)).isoformat(),
    }
    timed = {
        "city summary, 30 days (warm)": ("/api/v1/summary", month),
        "kecamatan summary, 30 days": ("/api/v1/summary", {**month, "level": "kecamatan", "code": "1571010"}),
        "dashboard city table (all RTs), 30 days": ("/api/v1/rts", month),
        "one RT: scores, 30 days": (f"/api/v1/rts/{rt}/scores", month),
        f"one RT: daily evidence, {args.days} days": (
            f"/api/v1/rts/{rt}/evidence",
            {"start": start_day.isoformat(), "end": END.date().isoformat()},
        ),
    }
    _, token = services.app_db.create_token("bench", Role.assessor, ScopeLevel.city, None)
    with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        for label, (path, params) in timed.items():
            http.get(path, params=params).raise_for_status()  # warm
            samples = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                http.get(path, params=params).raise_for_status()
                samples.append(time.perf_counter() - t0)
            print(f"  {label:<40} {percentiles(samples)}")
        some_day = rows[0]
        cold = []
        for _ in range(max(3, args.requests // 6)):
            services.store.save_evidence([some_day], [])  # evidence changed: caches are stale
            t0 = time.perf_counter()
            http.get("/api/v1/summary", params=month).raise_for_status()
            cold.append(time.perf_counter() - t0)
        print(f"  {'city summary, cold (after a change)':<40} {percentiles(cold)}")
        default = dict(zip(("start", "end"), (d.isoformat() for d in services.queries.default_period()), strict=True))
        idle, after = [], []
        services.queries.warm()
        for _ in range(args.requests):
            t0 = time.perf_counter()
            http.get("/api/v1/summary", params=default).raise_for_status()
            idle.append(time.perf_counter() - t0)
        for _ in range(args.requests):
            services.store.save_evidence([some_day], [])  # an evidence update; the loop's turn follows
            loop_turn = threading.Thread(target=services.queries.warm)
            loop_turn.start()
            t0 = time.perf_counter()
            http.get("/api/v1/summary", params=default).raise_for_status()
            after.append(time.perf_counter() - t0)
            loop_turn.join()
        print(f"  {'city summary, default period, idle':<40} {percentiles(idle)}")
        print(f"  {'city summary, right after an update':<40} {percentiles(after)}")
        ratio = p95(after) / p95(idle)
        print(f"  => after an update / idle, p95: {ratio:.2f}x (target: p95 < 100 ms right after an update)")
    server.stop()
    services.close()
    return stored, derived


if __name__ == "__main__":
    main()
