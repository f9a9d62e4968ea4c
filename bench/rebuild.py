"""Evidence rebuild benchmark: bulk derivation (``bantar.bulk``) against the incremental per-day
path in the same run, and a city-week rebuilt from scratch, projected to a city-year.

    .venv/bin/python bench/rebuild.py [--days 7] [--every 1] [--sample 200] [--workers N]

1. The generated city (1,635 RTs, 5,931 devices; ``--every N``: every N-th RT) gets ``--days``
   days of readings at the registry's cadence (bins every 5 minutes, cameras every minute,
   posts hourly: about 3 million a day for the whole city, 21 million a week), written straight
   into a SQLite store's tables (not through MQTT or the intake, which ``bench/ingest.py``
   measures): fills rise and fall with collections, some sensors stick for a day, some cameras go
   offline for hours or stop recording, a few clocks are skewed.
2. Hot store: the incremental path (``EvidenceUpdater.update``: read, derive and save one
   RT-day at a time) on the first ``--sample`` RT-days, then ``EvidenceUpdater.rebuild`` (bulk) on
   every RT-day, in one process and on ``--workers`` (default: every core). Readings per second
   of each, and their ratios.
3. The same after archiving everything (``Archiver``, hot window 0 days): reads from Parquet.
4. A city-year projected: 51 archived weeks and one hot week (the default hot window is 7 days),
   scaled from the measured RT-days to the whole city (the faster bulk runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bantar.archive.archiver import Archiver  # noqa: E402
from bantar.domain.registry import Device, Registry, RegistryIndex  # noqa: E402
from bantar.domain.timebase import DAY_MS, to_epoch_ms, wib_day  # noqa: E402
from bantar.domain.topics import DeviceKind  # noqa: E402
from bantar.evidence_service import EvidenceUpdater  # noqa: E402
from bantar.rules_file import load_rules  # noqa: E402
from bantar.stores.sqlite import SqliteStore  # noqa: E402
from bench.city import END, generated_city  # noqa: E402

CITY_RTS = 1635


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7, help="days of readings")
    parser.add_argument("--every", type=int, default=1, help="every N-th RT of the city (1: the whole city)")
    parser.add_argument("--sample", type=int, default=200, help="RT-days the incremental path derives")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes of the second bulk run")
    args = parser.parse_args()
    city = generated_city()
    rts = [rt.code for k in city.kecamatan for kel in k.kelurahan for rt in kel.rts][:: args.every]
    wanted = set(rts)
    registry = city.model_copy(update={"devices": [d for d in city.devices if d.rt in wanted]})
    index = RegistryIndex(registry)
    now = END + timedelta(minutes=1)
    with tempfile.TemporaryDirectory(prefix="bantar-rebuild-") as tmp:
        work = Path(tmp)
        store = SqliteStore(work / "store.db", synchronous="OFF", archive_root=work / "archive")
        started = time.perf_counter()
        per_rt_day = load_week(store, registry, args.days)
        total = sum(per_rt_day.values())
        print(
            f"{len(rts):,} RTs, {len(registry.devices):,} devices, {args.days} days: {total:,} readings "
            f"written in {time.perf_counter() - started:.0f} s"
        )
        updater = EvidenceUpdater(store, index, load_rules(REPO / "config/rules.yaml"), now=lambda: now)
        hot = compare(store, updater, per_rt_day, args.sample, args.workers, "hot store (SQLite)")
        started = time.perf_counter()
        run = Archiver(store, work / "archive", 0, lambda: now).run()
        print(f"archived {run.readings:,} readings in {run.parts} parts in {time.perf_counter() - started:.0f} s")
        archived = compare(store, updater, per_rt_day, args.sample, args.workers, "archive (Parquet)")
        store.close()
    scale = CITY_RTS / len(rts) * 7 / args.days
    week_hot, week_archived = hot * scale, archived * scale
    year = week_hot + 51 * week_archived
    print(
        f"=> a city-week rebuilt in bulk: {week_hot:.0f} s from the hot store, {week_archived:.0f} s from the archive; "
        f"a city-year (1 hot week + 51 archived): {year / 60:.1f} min (target <= 10 min)"
    )


def compare(
    store: SqliteStore,
    updater: EvidenceUpdater,
    per_rt_day: Counter[tuple[str, date]],
    sample: int,
    workers: int,
    where: str,
) -> float:
    """Incremental on ``sample`` RT-days, then bulk on all, in one process and on ``workers``;
    prints the rates; returns the seconds of the faster bulk run."""
    store.mark_all_dirty()
    marks = store.take_dirty(sample)
    started = time.perf_counter()
    updater.update(sample)
    incremental_s = time.perf_counter() - started
    incremental = sum(per_rt_day[(m.rt_code, m.day)] for m in marks) / incremental_s
    print(f"--- {where} ---")
    print(f"  incremental: {len(marks):,} RT-days in {incremental_s:.1f} s: {incremental:,.0f} readings/s")
    fastest = float("inf")
    for processes in sorted({1, workers}):
        started = time.perf_counter()
        derived = updater.rebuild(processes)
        bulk_s = time.perf_counter() - started
        bulk = sum(per_rt_day.values()) / bulk_s
        print(f"  bulk, {processes} process(es): {derived:,} RT-days in {bulk_s:.1f} s: {bulk:,.0f} readings/s")
        print(f"  => bulk ({processes}) / incremental: {bulk / incremental:.1f}x (target >= 10x)")
        fastest = min(fastest, bulk_s)
    return fastest


def load_week(store: SqliteStore, registry: Registry, days: int) -> Counter[tuple[str, date]]:
    """Readings of every device for ``days`` days before ``END``; the readings per (RT, WIB day)."""
    rng = np.random.default_rng(7)
    start = to_epoch_ms(END) - days * DAY_MS
    by_kind: dict[DeviceKind, list[Device]] = {}
    for device in registry.devices:
        by_kind.setdefault(device.kind, []).append(device)
    counts: Counter[tuple[str, date]] = Counter()
    for n in range(days):
        day_start = start + n * DAY_MS
        day = wib_day(END - timedelta(days=days - n))
        makers = {
            "bin_readings": (_bins, DeviceKind.bin),
            "cctv_heartbeats": (_cameras, DeviceKind.cctv),
            "poskamling_events": (_posts, DeviceKind.poskamling),
        }
        for table, (make, kind) in makers.items():
            devices = by_kind.get(kind, [])
            for first in range(0, len(devices), 400):  # a few hundred devices' day per transaction
                columns, values = make(devices[first : first + 400], day_start, n, rng)
                marks = ", ".join("?" for _ in columns)
                # the benchmark's own bulk load, straight into the tables, in the ledger's transaction
                with store.ledger.transaction("bench bulk load failed") as db:
                    db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
                counts.update((row[2], day) for row in values)
    return counts


def _times(devices: list[Device], day_start: int, interval_ms: int, rng: np.random.Generator) -> np.ndarray:
    offsets = rng.integers(0, interval_ms, len(devices))
    return day_start + offsets[:, None] + np.arange(DAY_MS // interval_ms)[None, :] * interval_ms


def _received(ts: np.ndarray, skewed: np.ndarray) -> np.ndarray:
    return ts + 1500 + np.where(skewed[:, None], 1_800_000, 0)


def _bins(devices: list[Device], day_start: int, n: int, rng: np.random.Generator) -> tuple[tuple[str, ...], list[Any]]:
    ts = _times(devices, day_start, 300_000, rng)
    per_day = ts.shape[1]
    rate = rng.uniform(10, 45, len(devices))[:, None]  # % per day
    phase = (np.arange(len(devices)) * 7919 % 1000 / 1000 * 2.0)[:, None]
    days = (ts - day_start) / DAY_MS + n + phase
    fill = np.minimum(100.0, rate * (days % 2.0)) + rng.normal(0, 0.4, ts.shape)
    stuck = rng.random(len(devices)) < 0.01  # a sensor reads the same all day
    fill[stuck] = fill[stuck, :1]
    fill = np.asarray(np.round(np.clip(fill, 0, 100), 1), float)
    received = _received(ts, rng.random(len(devices)) < 0.002)
    seq = n * per_day + np.arange(per_day)
    rows = [
        (d.id, int(s), d.rt, int(t), int(r), float(f), 80.0, int(s), None)
        for i, d in enumerate(devices)
        for s, t, r, f in zip(seq, ts[i], received[i], fill[i], strict=True)
    ]
    columns = (
        "device_id",
        "seq",
        "rt_code",
        "ts_ms",
        "received_ms",
        "fill_pct",
        "battery_pct",
        "digest",
        "distance_cm",
    )
    return columns, rows


def _cameras(
    devices: list[Device], day_start: int, n: int, rng: np.random.Generator
) -> tuple[tuple[str, ...], list[Any]]:
    ts = _times(devices, day_start, 60_000, rng)
    per_day = ts.shape[1]
    online = np.ones(ts.shape, bool)
    down = rng.random(len(devices)) < 0.08  # an outage of three hours
    begin = rng.integers(0, per_day - 180, len(devices))
    for i in np.flatnonzero(down):
        online[i, begin[i] : begin[i] + 180] = False
    recording = ~(rng.random(len(devices)) < 0.01)[:, None] | np.zeros(ts.shape, bool)
    received = _received(ts, rng.random(len(devices)) < 0.002)
    seq = n * per_day + np.arange(per_day)
    rows = [
        (d.id, int(s), d.rt, int(t), int(r), int(o), int(rec), 60.0, int(s))
        for i, d in enumerate(devices)
        for s, t, r, o, rec in zip(seq, ts[i], received[i], online[i], recording[i], strict=True)
    ]
    return (
        "device_id",
        "seq",
        "rt_code",
        "ts_ms",
        "received_ms",
        "online",
        "recording",
        "storage_free_pct",
        "digest",
    ), rows


def _posts(
    devices: list[Device], day_start: int, n: int, rng: np.random.Generator
) -> tuple[tuple[str, ...], list[Any]]:
    rows = []
    for d in devices:
        for h in range(24):
            on = h >= 22 or h < 4  # ``day_start`` is midnight WIB: a four-hour shift from 22:00
            t = day_start + h * 3_600_000 + 60_000
            rows.append((d.id, n * 24 + h, d.rt, t, t + 1500, "duty", int(on), 2 if on else 0, n * 24 + h))
    return ("device_id", "seq", "rt_code", "ts_ms", "received_ms", "event", "on_duty", "guards", "digest"), rows


if __name__ == "__main__":
    main()
