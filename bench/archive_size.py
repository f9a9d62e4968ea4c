"""Bytes per reading, hot and archived, per kind; the projected size of a city-year.

    .venv/bin/python bench/archive_size.py [--every 10] [--days 3]

Every ``--every``-th RT of the generated city (all its devices, simulated with the usual mix of
scenarios) for ``--days`` days, through the intake into the embedded store (batches of 5,000),
evidence derived. The hot store's bytes per kind come from SQLite's own page accounting
(``dbstat``: table and index pages); then everything is archived and the Parquet parts' bytes are
divided by the readings they hold. The city-year projection scales the sample's readings per day
by RTs to 1,635 and 365 days, and sizes the default configuration: the hot window
(``BANTAR_ARCHIVE__HOT_DAYS``) at hot bytes, the rest of the year at archived bytes, the kinds
that stay hot (bank sampah, gotong royong) and the daily evidence at hot bytes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bantar.archive.archiver import Archiver  # noqa: E402
from bantar.archive.parts import ARCHIVED  # noqa: E402
from bantar.domain.errors import Rejected  # noqa: E402
from bantar.domain.intake import IntakeLimits, accept  # noqa: E402
from bantar.domain.readings import Reading  # noqa: E402
from bantar.domain.registry import RegistryIndex  # noqa: E402
from bantar.domain.topics import DeviceKind  # noqa: E402
from bantar.evidence_service import EvidenceUpdater  # noqa: E402
from bantar.rules_file import load_rules  # noqa: E402
from bantar.settings import ArchiveSettings  # noqa: E402
from bantar.stores.ledger import SERIES  # noqa: E402
from bantar.stores.sqlite import SqliteStore  # noqa: E402
from bench.city import END, generated_city  # noqa: E402
from simulators.engine import Simulation  # noqa: E402

CITY_RTS = 1635
GB = 1e9
TARGETS = {DeviceKind.bin: "target <= 8 B archived", DeviceKind.cctv: "target <= 1% of raw rows"}


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def table_bytes(store: SqliteStore) -> dict[str, int]:
    """Bytes of each table with its indexes (SQLite's dbstat)."""
    with store.ledger.reading() as db:
        pages = db.execute("SELECT tbl_name, name FROM sqlite_master WHERE type IN ('table', 'index')").fetchall()
        owner = {name: table for table, name in pages}
        sizes: Counter[str] = Counter()
        for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            sizes[owner.get(name, name)] += size
    return dict(sizes)


def store_sample(store: SqliteStore, registry: RegistryIndex, simulation: Simulation) -> Counter[str]:
    limits = IntakeLimits(max_age=timedelta(days=3650))
    batch: list[Reading] = []
    per_kind: Counter[str] = Counter()
    for message in simulation.messages():
        received = datetime.fromtimestamp(message.at + 0.2, UTC)
        try:
            reading = accept(message.topic, message.payload, received, registry, limits)
        except Rejected:
            continue
        batch.append(reading)
        per_kind[reading.kind.value] += 1
        if len(batch) >= 5000:
            store.write(batch, [])
            batch = []
    store.write(batch, [])
    return per_kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--every", type=int, default=10, help="take every N-th RT of the city")
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    hot_days = ArchiveSettings().hot_days
    city = generated_city()
    rts = [rt.code for kec in city.kecamatan for kel in kec.kelurahan for rt in kel.rts][:: args.every]
    sample = city.model_copy(update={"devices": [d for d in city.devices if d.rt in set(rts)]})
    registry = RegistryIndex(sample)
    start = END - timedelta(days=args.days)
    simulation = Simulation(sample, start=start, end=END, seed=19, scenarios=["healthy", "faulty-sensors:0.1"])
    print(
        f"sample: {len(rts)} of {CITY_RTS} RTs, {len(sample.devices)} devices, {args.days} days "
        f"(sizes do not depend on the machine's load)"
    )
    with tempfile.TemporaryDirectory(prefix="bantar-archive-bench-") as tmp:
        work = Path(tmp)
        store = SqliteStore(work / "sample.db", synchronous="NORMAL", archive_root=work / "archive")
        began = time.perf_counter()
        readings = store_sample(store, registry, simulation)
        EvidenceUpdater(store, registry, load_rules(REPO / "config/rules.yaml")).update_all()
        print(f"stored {sum(readings.values()):,} readings in {time.perf_counter() - began:.0f} s: {dict(readings)}")
        hot = table_bytes(store)
        began = time.perf_counter()
        done = Archiver(store, work / "archive", 1, lambda: END + timedelta(days=1, minutes=1)).run()
        print(
            f"archived {done.readings:,} readings as {done.rows:,} rows in {done.parts} parts, "
            f"{time.perf_counter() - began:.1f} s"
        )
        archived_bytes: dict[str, int] = defaultdict(int)
        rows: dict[str, int] = defaultdict(int)
        for part in store.archive_parts():
            archived_bytes[part.kind.value] += part.size
            rows[part.kind.value] += part.rows
        evidence_bytes = hot.get("rt_day_evidence", 0)
        store.close()

    scale = CITY_RTS / len(rts) * 365 / args.days
    print(f"\n{'kind':<14}{'readings':>10}{'hot B/reading':>15}{'archived B/reading':>20}{'archive rows':>14}")
    year_all_hot = year_default = 0.0
    verdicts: list[str] = []
    for kind in DeviceKind:
        n = readings.get(kind.value, 0)
        if not n:
            continue
        hot_per = hot.get(SERIES[kind], 0) / n
        archived = kind in ARCHIVED
        per = archived_bytes[kind.value] / n if archived else hot_per
        share = f"{rows[kind.value] / n:.2%}" if archived else "stays hot"
        print(f"{kind.value:<14}{n:>10,}{hot_per:>15.1f}{per:>20.2f}{share:>14}   {TARGETS.get(kind, '')}")
        if kind is DeviceKind.bin:
            verdicts.append(f"archived bin reading {per:.2f} B (target <= 8 B: {met(per <= 8)})")
        if kind is DeviceKind.cctv:
            share_of_raw = rows[kind.value] / n
            verdicts.append(
                f"heartbeats as intervals {share_of_raw:.2%} of raw rows (<= 1%: {met(share_of_raw <= 0.01)})"
            )
        year = n * scale
        year_all_hot += year * hot_per
        hot_share = min(1.0, hot_days / 365)
        year_default += year * (hot_share * hot_per + (1 - hot_share) * per)
    evidence_year = evidence_bytes / (len(rts) * args.days) * CITY_RTS * 365
    print(f"\ncity-year readings: {sum(readings.values()) * scale / 1e9:.2f} billion")
    print(f"daily evidence, a city-year: {evidence_year / GB:.2f} GB")
    print(f"city-year, everything hot (no archive):       {(year_all_hot + evidence_year) / GB:7.1f} GB")
    default_gb = (year_default + evidence_year) / GB
    print(f"city-year, default ({hot_days} hot days + archive):  {default_gb:7.1f} GB   (target <= 15 GB)")
    verdicts.append(f"city-year, default configuration {default_gb:.1f} GB (<= 15 GB: {met(default_gb <= 15)})")
    print(f"ratio hot / archived configuration: {(year_all_hot + evidence_year) / (year_default + evidence_year):.0f}x")
    print("targets: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
