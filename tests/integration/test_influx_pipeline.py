"""The whole pipeline on the production store: simulate -> Mosquitto -> `bantar ingest` ->
InfluxDB -> `bantar api` (evidence loop) -> HTTP, every part a real process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bantar.domain.registry import RegistryIndex
from bantar.stores.influxdb import InfluxClient, InfluxStore
from ingest.broker import MosquittoProcess, free_port, wait_for_port
from simulators.load import bin_burst
from tests.influx import InfluxProcess
from tests.support import REPO, bantar_env, publish, start_ingestor, stop_ingestor, wait_until


def bantar(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "shell", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_simulate_ingest_evidence_api_with_influxdb(
    mosquitto: MosquittoProcess, influxdb: InfluxProcess, registry_file: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.db"
    env = bantar_env(
        store="influxdb",
        influxdb__url=influxdb.url,
        influxdb__database="pipeline",
        influxdb__ledger_path=str(ledger),
        registry=str(registry_file),
        app_db=str(tmp_path / "app.db"),
        mqtt__port=str(mosquitto.port),
        evidence_every_s="0.5",
        ingest__stats_every_s="0.5",
        ingest__heartbeat_file=str(tmp_path / "alive"),
    )
    end = datetime.now(UTC).replace(microsecond=0)
    truth_file = tmp_path / "truth.jsonl"
    ingestor = start_ingestor(env, tmp_path / "ingest.log")
    try:
        out = bantar(env, "simulate", "--days", "3", "--end", end.isoformat(), "--mqtt", "--truth", str(truth_file))
        simulated = int(out.split("simulated ")[1].split(" ")[0].replace(",", ""))
        store = InfluxStore(InfluxClient(influxdb.url, "pipeline"), ledger)
        wait_until(lambda: store.counts().readings == simulated, 60, f"{simulated} readings in InfluxDB")
        wait_until((tmp_path / "alive").exists, 5, "the ingestor's heartbeat (the container healthcheck)")
    finally:
        stop_ingestor(ingestor)
    assert store.sequence_gaps() == []
    (points,) = store.client.query(["SELECT COUNT(fill_pct) FROM bin_readings"])
    assert points[0]["count"] == store.counts().readings_by_kind["bin"]  # one point per reading, none doubled
    store.close()

    token = bantar(env, "token", "create", "--name", "Penilai", "--role", "assessor", "--scope", "city").split()[-1]
    port = free_port()
    api = subprocess.Popen(
        [sys.executable, "-m", "shell", "api", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers={"Authorization": f"Bearer {token}"})
    try:
        wait_for_port(port, 20)
        truth = [json.loads(line) for line in truth_file.read_text().splitlines()[1:]]
        first, last = end.date() - timedelta(days=2), end.date() - timedelta(days=1)  # whole WIB days
        checked = 0
        for t in truth:
            if not first <= date.fromisoformat(t["day"]) < last:  # nights end the next morning
                continue

            def day_evidence(t: dict[str, object] = t) -> dict[str, object] | None:
                got = http.get(f"/rts/{t['rt']}/evidence", params={"start": t["day"], "end": t["day"]}).json()
                assert "count" in got, got
                return got["data"][0] if got["count"] else None

            wait_until(lambda: day_evidence() is not None, 30, f"evidence of {t['rt']} on {t['day']}")
            e = day_evidence()
            assert e is not None
            assert (e["deposits"], e["patrols"], e["night_staffed"]) == (
                t["deposits"],
                t["patrols"],
                t["night_staffed"] if e["night_staffed"] is not None else None,
            ), (t["rt"], t["day"])
            assert abs(e["bin_collections"] - t["bin_collections"]) <= 1
            checked += 1
        assert checked >= 20
    finally:
        http.close()
        api.terminate()
        api.wait(10)


def test_while_influxdb_is_down_nothing_is_acknowledged_and_everything_arrives_later(
    mosquitto: MosquittoProcess, registry_index: RegistryIndex, registry_file: Path, tmp_path: Path
) -> None:
    """F3 on the production store: InfluxDB is down for 30 s; the ingestor keeps retrying with
    backoff (capped at 2 s here) and acknowledges nothing; once InfluxDB is back every message is
    stored once."""
    influx = InfluxProcess.start(tmp_path / "influxdb")
    ledger, log = tmp_path / "ledger.db", tmp_path / "ingest.log"
    env = bantar_env(
        store="influxdb",
        influxdb__url=influx.url,
        influxdb__ledger_path=str(ledger),
        registry=str(registry_file),
        mqtt__port=str(mosquitto.port),
        ingest__retry_max_s="2",
    )
    ingestor = start_ingestor(env, log)
    store = InfluxStore(InfluxClient(influx.url, "bantar"), ledger)
    try:
        influx.stop()
        down_since = time.monotonic()
        publish(mosquitto, list(bin_burst(registry_index.registry, 2000)))
        wait_until(lambda: log.read_text().count("store write failed") >= 3, 30, "the ingestor to retry")
        time.sleep(max(0.0, 30 - (time.monotonic() - down_since)))  # InfluxDB stays down for 30 s
        assert store.counts().readings == 0  # the ledger kept nothing of the failed batches
        assert log.read_text().count("store write failed") >= 10  # retried all along, nothing dropped
        influx.restart()
        wait_until(lambda: store.counts().readings == 2000, 30, "all 2,000 readings once InfluxDB is back")
    finally:
        stop_ingestor(ingestor)
        influx.stop()
    assert "unreachable" in log.read_text()
    influx.restart()
    (points,) = store.client.query(["SELECT COUNT(fill_pct) FROM bin_readings"])
    assert points[0]["count"] == 2000
    store.close()
    influx.stop()
