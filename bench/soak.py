"""Soak benchmark: the ingestor's memory and lag over a long run at a fixed rate, then a burst.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 2200] [--burst 100000]

The whole generated city (1,635 RTs, 5,931 devices of every kind) is simulated and its messages
published at --rate per second (2,200/s: the issue's "ten times the city's rate"; the generated
registry's devices send ~35 msg/s together) through a real Mosquitto to `bantar ingest` (SQLite,
every guarantee on), for --minutes; then a burst of
--burst bin readings as fast as the broker takes them. The ingestor's RSS is sampled every 5 s.
Flat means: after the first minute (imports, caches, SQLite page cache warm) RSS stays within
+/- 10 % of its one-minute value.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bantar.registry_file import dump_registry  # noqa: E402
from bantar.stores.ledger import SERIES  # noqa: E402
from bench.city import generated_city  # noqa: E402
from ingest.broker import MosquittoProcess  # noqa: E402
from simulators.engine import Simulation  # noqa: E402
from simulators.load import bin_burst  # noqa: E402
from simulators.publisher import MqttPublisher  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def handled(db: Path) -> int:
    """Messages the ingestor has finished with: readings stored plus messages dead-lettered."""
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            readings = sum(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in SERIES.values())
            return readings + int(conn.execute("SELECT COALESCE(SUM(times), 0) FROM dead_letters").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=2200, help="messages per second published")
    parser.add_argument("--burst", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bantar-soak-") as tmp:
        work = Path(tmp)
        city = generated_city()
        dump_registry(city, work / "city.yaml")
        broker = MosquittoProcess.start(work / "mosquitto")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BANTAR_")} | {
            "BANTAR_REGISTRY": str(work / "city.yaml"),
            "BANTAR_SQLITE__PATH": str(work / "soak.db"),
            "BANTAR_MQTT__PORT": str(broker.port),
        }
        log = work / "ingest.log"
        with log.open("ab") as handle:
            ingestor = subprocess.Popen(
                [sys.executable, "-m", "shell", "ingest"], env=env, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT
            )
        while "subscribed" not in log.read_text():
            time.sleep(0.1)
        end = datetime.now(UTC)
        hours = 1.5 * args.rate * args.minutes * 60 / 120_000 + 1  # the city sends ~120,000 messages an hour
        messages = Simulation(city, start=end - timedelta(hours=hours), end=end, seed=3).messages()
        publisher = MqttPublisher("127.0.0.1", broker.port, client_id="soak-publisher")
        samples: list[tuple[float, float, int, int]] = []  # (elapsed s, RSS MB, published, stored)
        published = 0
        started = time.monotonic()
        next_sample = started
        print(f"soak: {args.rate:,} msg/s for {args.minutes:g} min, city fleet; RSS of the ingestor every 5 s")
        try:
            while (now := time.monotonic()) - started < args.minutes * 60:
                due = int((now - started) * args.rate) - published
                for _ in range(due):
                    message = next(messages)
                    publisher.publish(message.topic, message.payload)
                    published += 1
                if now >= next_sample:
                    samples.append((now - started, rss_mb(ingestor.pid), published, handled(work / "soak.db")))
                    t, rss, p, s = samples[-1]
                    if len(samples) % 12 == 1:
                        print(f"  {t:6.0f} s  RSS {rss:6.1f} MB  published {p:>9,}  stored {s:>9,}  lag {p - s:>6,}")
                    next_sample += 5
                time.sleep(0.01)
            publisher.wait_acknowledged(published, 120)
            while handled(work / "soak.db") < published:
                time.sleep(0.2)
            soak_end = (time.monotonic() - started, rss_mb(ingestor.pid))
            burst_started = time.monotonic()
            burst_rss = [rss_mb(ingestor.pid)]
            for topic, payload in bin_burst(city, args.burst, start_seq=10**9):
                publisher.publish(topic, payload)
            while handled(work / "soak.db") < published + args.burst:
                burst_rss.append(rss_mb(ingestor.pid))
                time.sleep(0.2)
            burst_s = time.monotonic() - burst_started
        finally:
            publisher.close()
            ingestor.terminate()
            ingestor.wait(30)
            broker.stop()
        after_warmup = [rss for t, rss, _, _ in samples if t >= 60] or [soak_end[1]]
        base = after_warmup[0]
        lags = [p - s for _, _, p, s in samples]
        print(
            f"sustained: {published:,} messages in {soak_end[0]:.0f} s = {published / soak_end[0]:,.0f} msg/s stored "
            f"(max lag {max(lags):,} messages)"
        )
        print(
            f"RSS after 1 min {base:.1f} MB; over the rest of the soak min {min(after_warmup):.1f} / "
            f"max {max(after_warmup):.1f} MB = {min(after_warmup) / base - 1:+.1%} / "
            f"{max(after_warmup) / base - 1:+.1%} "
            f"(target within +/-10 %); at the end {soak_end[1]:.1f} MB"
        )
        print(
            f"burst: {args.burst:,} bin readings stored in {burst_s:.1f} s ({args.burst / burst_s:,.0f} msg/s); "
            f"RSS max {max(burst_rss):.1f} MB ({max(burst_rss) / base - 1:+.1%} of the soak's)"
        )


if __name__ == "__main__":
    main()
