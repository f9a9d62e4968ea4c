"""Store growth benchmark: what one stored bin reading costs the embedded store as its table
grows, with the ingestor's batch sizes, in the same run.

    .venv/bin/python bench/store_growth.py [--rows 500000] [--step 100000] [--batches 2000,5000]

Readings from the 2,231 bins of the generated city, round-robin (as a burst arrives), validated
by the intake and written through ``SqliteStore.write`` (``synchronous=FULL``, one transaction per
batch). Each batch touches one spot per device in the ``(device_id, seq)`` key and one per RT in
the ``(rt_code, ts_ms)`` index, so once those indexes outgrow the batch, nearly every row dirties
its own pages: the cost per row grows with the table until every row costs whole page writes.
Larger batches share more pages between rows. A time-series engine (InfluxDB) appends instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bantar.domain.intake import IntakeLimits, accept  # noqa: E402
from bantar.domain.readings import Reading  # noqa: E402
from bantar.domain.registry import RegistryIndex  # noqa: E402
from bantar.stores.sqlite import SqliteStore  # noqa: E402
from bench.city import generated_city  # noqa: E402
from simulators.load import bin_burst  # noqa: E402


def grow(readings: Sequence[Reading], batch: int, step: int, work: Path) -> list[tuple[int, float, float]]:
    """(rows in the table after the step, wall µs per row, CPU µs per row) for each step."""
    store = SqliteStore(work / f"growth-{batch}.db")
    figures = []
    try:
        for start in range(0, len(readings), step):
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(start, min(start + step, len(readings)), batch):
                store.write(readings[i : min(i + batch, start + step)], [])
            rows = min(start + step, len(readings))
            done = rows - start
            wall_us, cpu_us = (time.perf_counter() - wall) * 1e6 / done, (time.process_time() - cpu) * 1e6 / done
            figures.append((rows, wall_us, cpu_us))
            print(f"  batch {batch:>5,}: table {rows:>9,} rows  {wall_us:6.1f} µs/row  ({cpu_us:.1f} CPU)")
    finally:
        store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000, help="rows written per batch size")
    parser.add_argument("--step", type=int, default=100_000, help="rows per measured step")
    parser.add_argument("--batches", default="2000,5000", help="batch sizes, comma-separated")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    city = RegistryIndex(generated_city())
    received = datetime.now(UTC)
    readings = [accept(t, p, received, city, IntakeLimits()) for t, p in bin_burst(city.registry, args.rows)]
    print(f"store growth: {args.rows:,} bin readings from 2,231 bins into SQLite, per {args.step:,}-row step")
    results: dict[int, list[tuple[int, float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bantar-growth-") as tmp:
        for batch in batches:
            results[batch] = grow(readings, batch, args.step, Path(tmp))
    first, last = results[batches[0]][0], results[batches[0]][-1]
    print(
        f"ratios: batch {batches[0]:,}, last step / first step = {last[1] / first[1]:.1f}x per row "
        f"({first[0]:,} -> {last[0]:,} rows)"
        + "".join(
            f"; batch {b:,} / batch {batches[0]:,} at {last[0]:,} rows = {results[b][-1][1] / last[1]:.0%}"
            for b in batches[1:]
        )
    )


if __name__ == "__main__":
    main()
