"""City summary latency right after an evidence update, and when idle, behind the real API.

    .venv/bin/python bench/summary.py [--hours 1] [--days 90] [--updates 30]

The whole generated city (1,635 RTs) on the embedded store: --hours of simulated readings stored
through the intake and derived, and --days of daily evidence for every RT (each RT's derived day
repeated, as ``bench/evidence.py`` builds it). The API serves on loopback (uvicorn, httpx client);
the default period's city summary is what the dashboard asks first.

An update is what the API process's evidence loop does in service, in the same process: new
readings arrive (the next 10 s of the city's traffic, written to the store as the ingestor
would), then a turn of the loop derives the RT-days they touched and saves their evidence (the
update), then runs its follow-up (``api.app.after_evidence_turn``: summaries remade, the alert
book synced). The request is made the moment the update is saved, while the follow-up runs
beside it, and again once the turn is over (the first request after it). Repeated --updates
times: p50 and p95 of each, next to the same request when nothing runs (idle).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from api.app import after_evidence_turn, create_app  # noqa: E402
from api.server import BackgroundServer  # noqa: E402
from bantar.domain.access import Role, ScopeLevel  # noqa: E402
from bantar.services import Services  # noqa: E402
from bench.city import END, city_services  # noqa: E402
from bench.evidence import p95, percentiles  # noqa: E402
from ingest.broker import free_port  # noqa: E402
from simulators.engine import Simulation  # noqa: E402
from tests.support import store_directly  # noqa: E402

ARRIVAL_S = 10
"""readings arriving between two turns of the evidence loop (its default period)"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0, help="simulated city hours stored and derived")
    parser.add_argument("--days", type=int, default=90, help="days of evidence per RT behind the API")
    parser.add_argument("--updates", type=int, default=30, help="evidence updates (and idle requests) timed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bantar-bench-") as tmp:
        work = Path(tmp)
        city, services = city_services(work)
        began = time.perf_counter()
        messages = list(Simulation(city, start=END - timedelta(hours=args.hours), end=END, seed=1).messages())
        held_back = END.timestamp() - args.updates * ARRIVAL_S
        store_directly(services.store, services.registry, (m for m in messages if m.at < held_back), END)  # type: ignore[arg-type]
        services.updater.update_all()
        derived = services.store.day_evidence(None, END.date() - timedelta(days=2), END.date())
        start_day = END.date() - timedelta(days=args.days)
        rows = [e.model_copy(update={"day": start_day + timedelta(days=i)}) for e in derived for i in range(args.days)]
        for i in range(0, len(rows), 20_000):
            services.store.save_evidence(rows[i : i + 20_000], [])
        services.updater.update_all()  # the city's latest day again from its readings, over the copies
        after_evidence_turn(services)
        print(
            f"city summary: {len(services.registry.rts):,} RTs, {len(rows):,} RT-days of evidence, "
            f"{len(messages):,} readings over {args.hours:g} h (set up in {time.perf_counter() - began:.0f} s)"
        )
        arrivals = [
            [m for m in messages if held_back + i * ARRIVAL_S <= m.at < held_back + (i + 1) * ARRIVAL_S]
            for i in range(args.updates)
        ]
        del messages, derived, rows
        gc.collect()
        gc.freeze()  # the bench's own data (the arrivals to come) is not the API process's: not scanned
        _, token = services.app_db.create_token("bench", Role.assessor, ScopeLevel.city, None)
        server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
        first, last = services.queries.default_period()
        params = {"start": first.isoformat(), "end": last.isoformat()}
        idle: list[float] = []
        during: list[float] = []
        after: list[float] = []
        turns: list[float] = []
        derived_days: list[int] = []
        try:
            with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:

                def timed() -> float:
                    t0 = time.perf_counter()
                    http.get("/api/v1/summary", params=params).raise_for_status()
                    return time.perf_counter() - t0

                timed()
                for _ in range(args.updates):
                    idle.append(timed())
                for arrived in arrivals:
                    store_directly(services.store, services.registry, arrived, END)  # type: ignore[arg-type]
                    updated = threading.Event()
                    version = services.store.evidence_version()
                    loop = threading.Thread(target=turn, args=(services, updated, derived_days, turns))
                    loop.start()
                    assert updated.wait(900), "the loop's turn did not save its evidence (see its error above)"
                    assert services.store.evidence_version() != version, "the update changed no evidence"
                    during.append(timed())
                    loop.join()
                    after.append(timed())
        finally:
            server.stop()
            services.close()
    print(
        f"  {args.updates} updates: {sum(len(a) for a in arrivals) / len(arrivals):,.0f} readings each "
        f"({ARRIVAL_S} s of the city), {statistics.mean(derived_days):,.0f} RT-days derived per turn, "
        f"loop turn {percentiles(turns)}"
    )
    print(f"  {'idle':<52} {percentiles(idle)}")
    print(f"  {'right after an update (the turn follow-up running)':<52} {percentiles(during)}")
    print(f"  {'first request after the turn':<52} {percentiles(after)}")
    worst = max(p95(during), p95(after))
    print(
        f"  => after an update / idle, p95: {worst / p95(idle):.2f}x; p95 after an update {worst * 1000:.0f} ms "
        f"(target < 100 ms: {'met' if worst < 0.1 else 'NOT met'})"
    )


def turn(services: Services, updated: threading.Event, derived_days: list[int], turns: list[float]) -> None:
    """One turn of the API process's evidence loop (``EvidenceUpdater.run``), ``updated`` set
    once its evidence is saved."""
    t0 = time.perf_counter()
    derived_days.append(services.updater.update_all())
    updated.set()
    after_evidence_turn(services)
    turns.append(time.perf_counter() - t0)


if __name__ == "__main__":
    main()
