"""Prometheus metrics of the two real processes, `bantar ingest` and `bantar api`, scraped while
readings flow through a real Mosquitto, then checked against what the store holds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bantar.domain.registry import Registry
from ingest.broker import MosquittoProcess, free_port, wait_for_port
from simulators.load import bin_burst
from tests.support import REPO, bantar_env, count_rows, publish, start_ingestor, stop_ingestor, wait_until


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition at ``url``: (name, sorted labels) -> value."""
    text = httpx.get(url, timeout=10).raise_for_status().text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_both_processes_count_what_was_stored(
    mosquitto: MosquittoProcess, small_registry: Registry, registry_file: Path, tmp_path: Path
) -> None:
    db = tmp_path / "bantar.db"
    ingest_port, api_port = free_port(), free_port()
    env = bantar_env(
        registry=str(registry_file),
        sqlite__path=str(db),
        app_db=str(tmp_path / "app.db"),
        mqtt__port=str(mosquitto.port),
        ingest__metrics_port=str(ingest_port),
        ingest__batch_max="500",
        evidence_every_s="0.5",
    )
    readings = list(bin_burst(small_registry, 6000))
    bin_topic = readings[0][0]
    bad = [(bin_topic, b"{not json"), (bin_topic.replace("bin1", "nope9"), b"{}")]
    ingest_url, api_url = f"http://127.0.0.1:{ingest_port}/metrics", f"http://127.0.0.1:{api_port}/metrics"

    ingestor = start_ingestor(env, tmp_path / "ingest.log")
    api = subprocess.Popen(
        [sys.executable, "-m", "shell", "api", "--port", str(api_port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(api_port, 20)
        flowing = threading.Thread(target=publish, args=(mosquitto, [*readings, *bad, *readings[:1000]]))
        flowing.start()
        seen = []
        while flowing.is_alive() or not seen:  # scraped while the readings flow
            during = scrape(ingest_url)
            stored_during = during[("bantar_ingest_stored_total", ())]
            assert stored_during <= count_rows(db)  # counted only once durable
            seen.append(stored_during)
            scrape(api_url)
        flowing.join()
        assert seen == sorted(seen)

        total = len(readings) + len(bad) + 1000
        wait_until(lambda: scrape(ingest_url)[("bantar_ingest_received_total", ())] == total, 60, "all received")
        m = scrape(ingest_url)
        assert m[("bantar_ingest_stored_total", ())] == count_rows(db) == len(readings)
        assert m[("bantar_ingest_duplicates_total", ())] == 1000
        assert m[("bantar_ingest_rejected_total", (("reason", "malformed_json"),))] == 1
        assert m[("bantar_ingest_rejected_total", (("reason", "unknown_device"),))] == 1
        assert m[("bantar_ingest_rejected_total", (("reason", "out_of_range"),))] == 0
        assert count_rows(db, "dead_letters") == 2
        assert m[("bantar_ingest_batch_seconds_count", ())] >= total / 500
        assert m[("bantar_ingest_inbox_depth", ())] == 0

        def evidence_caught_up() -> bool:
            a = scrape(api_url)
            return (
                a[("bantar_evidence_pending_rt_days", ())] == 0 and a[("bantar_evidence_derived_rt_days_total", ())] > 0
            )

        wait_until(evidence_caught_up, 60, "the evidence loop to derive every marked RT-day")
        a = scrape(api_url)
        assert a[("bantar_evidence_derived_rt_days_total", ())] >= count_rows(db, "rt_day_evidence") > 0
        assert a[("bantar_archive_runs_total", ())] >= 1  # the daily run starts with the process
        assert a[("bantar_archive_readings_total", ())] == 0  # nothing older than the hot window

        dashboard = json.loads((REPO / "deploy/grafana/dashboards/service-health.json").read_text())
        used = {n for p in dashboard["panels"] for t in p["targets"] for n in re.findall(r"bantar_\w+", t["expr"])}
        served = {name for name, _ in [*m, *a]}
        assert used <= served, used - served  # the service-health dashboard asks for what is exposed
    finally:
        api.terminate()
        api.wait(10)
        stop_ingestor(ingestor)
