"""The peer side by side: the Node-RED flow a city team would build instead of `bantar ingest`,
on the same Mosquitto, the same publisher and the same InfluxDB (1.6.7), in one run.

    .venv/bin/python bench/nodered.py [--messages 50000]

Node-RED (npm ``node-red`` 4 and ``node-red-contrib-influxdb`` 0.7) is installed by this script
into ``bench/.node-red/`` (not committed). Two flows, both ``mqtt in`` at QoS 1 with a persistent
session (fixed client id, clean session off, and "automatically unsubscribe" off: by default a
stopped flow unsubscribes, and the broker keeps nothing for it) -> ``json`` -> ``function``:
- *per message*: -> ``influxdb out`` (one HTTP write per message; live run only);
- *batched*: -> ``join`` (1,000 messages or 1 s) -> ``influxdb batch``.
Each point's time is the device time and its tag the device, so a redelivery overwrites itself:
nothing can be doubled in InfluxDB, and lost = published - points stored.
Against them, `bantar ingest` with the InfluxDB store (ledger claim, write, commit, then ack).
Per consumer: *live* (publisher running), *drain* (backlog waiting in the broker; every message
counted from the moment the consumer's log says it is connected to the last point stored), and
a SIGKILL once half the messages are stored, then a restart: what ends up stored.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bantar.registry_file import dump_registry  # noqa: E402
from bantar.stores.influxdb import InfluxClient  # noqa: E402
from bench.city import generated_city  # noqa: E402
from bench.ingest import Bench, cpu_seconds  # noqa: E402
from ingest.broker import MosquittoProcess, free_port  # noqa: E402
from tests.influx import InfluxProcess  # noqa: E402

NODE_RED = REPO / "bench" / ".node-red"
PACKAGES = ["node-red@4", "node-red-contrib-influxdb@0.7"]
PER_MESSAGE_FLOW = "Node-RED per message"
BATCHED_FLOW = "Node-RED batched (join 1,000)"
BANTAR = "bantar ingest, InfluxDB"
BANTAR_SHARED = "bantar ingest, InfluxDB, 2 members"
"""two ``bantar ingest`` processes in one shared subscription (``BANTAR_MQTT__SHARED_GROUP``): a
Python MQTT client costs a core at about 30,000 msg/s doing nothing else (the bare paho
subscriber's drain), while Node-RED's runs in one Node.js process; the drain only"""
SETTLED_S = 10.0
"""a consumer is done when its stored count has not moved for this long (a batch can take
seconds on a busy machine)"""

PER_MESSAGE = """
const b = msg.payload;
msg.payload = [{fill_pct: b.fill_pct, battery_pct: b.battery_pct, seq: b.seq, time: new Date(b.ts)},
               {device_id: msg.topic.split('/')[2]}];
return msg;
"""
AS_POINT = """
const b = msg.payload;
msg.payload = {measurement: 'bin_readings', tags: {device_id: msg.topic.split('/')[2]},
               fields: {fill_pct: b.fill_pct, battery_pct: b.battery_pct, seq: b.seq},
               timestamp: new Date(b.ts)};
return msg;
"""


def install() -> Path:
    red = NODE_RED / "node_modules" / "node-red" / "red.js"
    if not red.exists():
        NODE_RED.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES], cwd=NODE_RED, check=True
        )
    return red


def flow(mqtt_port: int, influx_port: int, database: str, client_id: str, batched: bool) -> list[dict[str, Any]]:
    """The flow's nodes; ids are plain hex like the editor's (Node-RED takes any property value
    equal to a node id for a reference, so an id like "json" would clash with a type)."""
    tab, broker, influx, source, parse, shape, join, sink = (f"b000000{i}" for i in range(1, 9))

    def node(node_id: str, kind: str, wires: list[str] | None = None, **props: Any) -> dict[str, Any]:
        return {"id": node_id, "type": kind, "z": tab, "wires": [wires] if wires else [], **props}

    config: list[dict[str, Any]] = [
        {"id": tab, "type": "tab", "label": "bantar"},
        {
            "id": broker, "type": "mqtt-broker", "name": "mosquitto", "broker": "127.0.0.1", "port": str(mqtt_port),
            "clientid": client_id, "autoConnect": True, "usetls": False, "protocolVersion": "4", "keepalive": "60",
            "cleansession": False, "autoUnsubscribe": False, "birthTopic": "", "closeTopic": "", "willTopic": "",
        },
        {
            "id": influx, "type": "influxdb", "hostname": "127.0.0.1", "port": str(influx_port), "protocol": "http",
            "database": database, "name": "", "usetls": False, "influxdbVersion": "1.x",
        },
    ]  # fmt: skip
    nodes = [
        node(source, "mqtt in", [parse], topic="bantar/v1/+/bin", qos="1", datatype="utf8", broker=broker, inputs=0),
        node(parse, "json", [shape], property="payload", action="obj"),
        node(shape, "function", [join if batched else sink], func=AS_POINT if batched else PER_MESSAGE, outputs=1),
    ]
    if batched:
        nodes += [
            node(join, "join", [sink], mode="custom", build="array", property="payload", propertyType="msg",
                 key="topic", joiner="\\n", joinerType="str", accumulate=False, timeout="1", count="1000"),
            node(sink, "influxdb batch", influxdb=influx, precision="ms"),
        ]  # fmt: skip
    else:
        nodes.append(node(sink, "influxdb out", influxdb=influx, measurement="bin_readings", precision="ms"))
    return [*config, *nodes]


class NodeRed:
    def __init__(self, red: Path, work: Path, name: str, flows: list[dict[str, Any]]) -> None:
        self.red, self.dir = red, work / name
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "flows.json").write_text(json.dumps(flows))
        self.log = self.dir / "node-red.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        before = self.log.read_text().count("Connected to broker") if self.log.exists() else 0
        port = free_port()
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                ["node", str(self.red), "--userDir", str(self.dir), "--port", str(port), "flows.json"],
                cwd=self.dir,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while self.log.read_text().count("Connected to broker") <= before:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Node-RED did not connect: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop (killed after 30 s if it will not: a flow busy with failing writes may not)."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)


def settled(count: Callable[[], int], until: int, first_within_s: float = 60.0) -> Settled:
    """Wait until ``count()`` reaches ``until`` or stops moving for ``SETTLED_S`` (or nothing came
    at all within ``first_within_s``)."""
    began = time.time()
    first = last = 0.0
    seen = -1
    while True:
        now, n = time.time(), count()
        if n and not first:
            first = now
        if n != seen:
            seen, last = n, now
        if n >= until or (first and now - last > SETTLED_S) or (not first and now - began > first_within_s):
            return Settled(n, last)
        time.sleep(0.05)


@dataclass
class Settled:
    stored: int
    last: float
    """when the count last moved"""

    def drain_rate(self, connected: float) -> float:
        """msg/s from ``connected`` (when the consumer's log said it was connected) to the last
        point stored. Not from the first point stored: the batched flow's first write is a
        thousand points, and a drain of a few seconds is then over before a second count
        (a quick run once measured nothing at all that way)."""
        return self.stored / max(self.last - connected, 1e-9)


def halfway(count: Callable[[], int], n: int, publishing: threading.Thread) -> int:
    """Wait until half the burst is stored, or the publisher is done if that comes first (a
    consumer that keeps less than half); the count then."""
    while (stored := count()) < n // 2 and publishing.is_alive():
        time.sleep(0.02)
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=50_000)
    args = parser.parse_args()
    n = args.messages
    red = install()
    with tempfile.TemporaryDirectory(prefix="bantar-nodered-") as tmp:
        work = Path(tmp)
        registry = work / "city.yaml"
        dump_registry(generated_city(), registry)
        broker = MosquittoProcess.start(work / "mosquitto")
        influx = InfluxProcess.start(work / "influxdb")
        influx_port = int(influx.url.rsplit(":", 1)[1])
        try:
            bench = Bench(broker.port, registry, work, influx.url, broker.process.pid)
            print(
                f"Node-RED side by side: {n:,} bin readings per run, Mosquitto QoS 1, InfluxDB 1.6.7 "
                f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start)"
            )
            results: dict[str, dict[str, str]] = {}
            rates: dict[str, dict[str, float]] = {}
            for name, batched in ((PER_MESSAGE_FLOW, False), (BATCHED_FLOW, True)):
                rates[name] = {}
                results[name] = run_nodered(red, work, bench, influx, influx_port, name, batched, n, rates[name])
            rates[BANTAR] = {}
            results[BANTAR] = run_bantar(bench, influx, n, rates[BANTAR])
            rates[BANTAR_SHARED] = {}
            results[BANTAR_SHARED] = run_bantar_shared(bench, influx, n, rates[BANTAR_SHARED])
            print(f"\n{'consumer':<36}{'live msg/s':>18}{'drain msg/s':>13}   after SIGKILL halfway, restarted")
            for name, r in results.items():
                print(f"{name:<36}{r['live']:>18}{r['drain']:>13}   {r['kill']}")
            ours, peer = rates[BANTAR], rates[BATCHED_FLOW]
            print(
                f"ratios: bantar / batched flow: live {ours['live'] / peer['live']:.2f}x, "
                f"drain {ours['drain'] / peer['drain']:.2f}x with one process, "
                f"{rates[BANTAR_SHARED]['drain'] / peer['drain']:.2f}x with two members "
                f"(target: drain > 1x, every guarantee on); "
                f"nothing is doubled in either (a redelivery overwrites its own point: same device, same time)"
            )
        finally:
            broker.stop()
            influx.stop()


def points(influx: InfluxProcess, database: str) -> Callable[[], int]:
    client = InfluxClient(influx.url, database)

    def count() -> int:
        (rows,) = client.query(["SELECT COUNT(fill_pct) FROM bin_readings"])
        return int(rows[0]["count"]) if rows else 0

    return count


def settle_influxd(influx: InfluxProcess, timeout_s: float = 60.0) -> None:
    """Wait until influxd is idle (under 5 % of a core over a second, at most ``timeout_s``): it
    compacts what the previous run wrote, and the next consumer should not pay for that."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(influx.process.pid)
        time.sleep(1.0)
        if cpu_seconds(influx.process.pid) - before < 0.05:
            return


def kept(stored: int, n: int) -> str:
    return "" if stored == n else f" (stored {stored / n:.0%})"


def run_nodered(
    red: Path,
    work: Path,
    bench: Bench,
    influx: InfluxProcess,
    influx_port: int,
    name: str,
    batched: bool,
    n: int,
    rates: dict[str, float],
) -> dict[str, str]:
    """One flow's live, drain (batched only) and kill runs; ``rates`` gets its msg/s."""
    out = {"live": "-", "drain": "-", "kill": "-"}
    # the per-message flow stores a fraction at ~100 msg/s here: its live run says enough, and
    # its drain and kill runs would take most of an hour
    for mode in ("live", "drain", "kill") if batched else ("live",):
        database, client_id = f"nr_{int(batched)}_{mode}", f"bench-nr-{int(batched)}-{mode}"
        InfluxClient(influx.url, database).create_database()
        node = NodeRed(red, work, f"{database}", flow(bench.port, influx_port, database, client_id, batched))
        count = points(influx, database)
        settle_influxd(influx)
        node.start()
        if mode == "live":
            started = bench.publish(n)
            done = settled(count, n)
            out["live"] = f"{done.stored / (done.last - started):,.0f}" + kept(done.stored, n)
            rates["live"] = done.stored / (done.last - started)
            node.stop()
        elif mode == "drain":
            node.stop()  # the session and its subscription stay (autoUnsubscribe off); the burst waits
            bench.publish(n)
            node.start()
            connected = time.time()
            done = settled(count, n)
            out["drain"] = f"{done.drain_rate(connected):,.0f}" + kept(done.stored, n)
            rates["drain"] = done.drain_rate(connected)
            node.stop()
        else:
            publishing = threading.Thread(target=bench.publish, args=(n,))
            publishing.start()
            at_kill = halfway(count, n, publishing)
            node.stop(signal.SIGKILL)
            publishing.join()
            node.start()
            settled(count, n)
            node.stop()  # what ends up stored: counted once the consumer is gone
            out["kill"] = f"lost {n - count():,} of {n:,} (killed at {at_kill:,} stored)"
        bench.forget(client_id)
        print(f"  {name}: {mode} {out[mode]}", flush=True)
    return out


def run_bantar_shared(bench: Bench, influx: InfluxProcess, n: int, rates: dict[str, float]) -> dict[str, str]:
    """The drain with two ``bantar ingest`` members of one shared subscription (one ledger)."""
    bench.fresh_store("influxdb", "nr-drain-shared")
    settle_influxd(influx)
    figure = bench.bantar_drain_shared(n, 2)
    assert figure.from_connect is not None
    rates["drain"] = figure.from_connect
    print(f"  bantar, 2 members: drain {figure.from_connect:,.0f}", flush=True)
    return {"live": "-", "drain": f"{figure.from_connect:,.0f}", "kill": "-"}


def run_bantar(bench: Bench, influx: InfluxProcess, n: int, rates: dict[str, float]) -> dict[str, str]:
    """bantar ingest on the InfluxDB store: live, drain, and the kill run (lost: published
    readings not in InfluxDB; the ledger must hold exactly the points InfluxDB holds)."""
    bench.fresh_store("influxdb", "nr-live")
    settle_influxd(influx)
    live = bench.bantar_live(n)
    print(f"  bantar: live {live.rate:,.0f}", flush=True)
    bench.fresh_store("influxdb", "nr-drain")
    settle_influxd(influx)
    figure = bench.bantar_drain(n)
    assert figure.from_connect is not None
    drain = figure.from_connect
    print(f"  bantar: drain {drain:,.0f}", flush=True)
    rates["live"], rates["drain"] = live.rate, drain
    bench.fresh_store("influxdb", "nr-kill")
    settle_influxd(influx)
    process, _ = bench._ingestor()
    publishing = threading.Thread(target=bench.publish, args=(n,))
    publishing.start()
    at_kill = halfway(bench._rows, n, publishing)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    publishing.join()
    running = bench._ingestor()
    deadline = time.monotonic() + 600  # every reading, or the kill lost some: then stop waiting
    while bench._rows() < n and time.monotonic() < deadline:
        time.sleep(0.1)
    bench._stop(running)  # finishes its batch; what ends up stored is counted once it is gone
    bench.forget(bench._client_id(None))
    stored, ledger = points(influx, "bench_nr_kill")(), bench._rows()
    kill = f"lost {n - stored:,} of {n:,} (killed at {at_kill:,} stored)"
    kill += "" if ledger == stored else f"; ledger {ledger:,} != InfluxDB {stored:,}"
    print(f"  bantar: kill {kill}", flush=True)
    return {"live": f"{live.rate:,.0f}", "drain": f"{drain:,.0f}", "kill": kill}


if __name__ == "__main__":
    main()
