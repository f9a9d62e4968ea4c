"""``bantar demo``: broker + ingestor + a simulated fleet, on embedded defaults."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import httpx

from api.app import create_app
from api.server import BackgroundServer
from bantar.bootstrap import Services
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.timebase import wib_day
from bantar.field_setup import field_app_lines
from ingest.broker import MosquittoProcess, embedded_broker, free_port, mosquitto_binary
from ingest.runner import run_ingestor
from simulators.engine import Simulation
from simulators.run import RunReport, drive
from simulators.sinks import MqttSink

log = logging.getLogger("bantar.demo")

DEMO_SPEED = 360
"""simulated seconds per wall second: a 20 s demo replays the last two hours"""
DEMO_TOKEN_FILE = "demo-token.txt"  # noqa: S105 (a file name)
DEMO_SCENARIOS = ("healthy", "lapsing:0.2", "faulty-sensors:0.1", "hostile:0.1")


@contextlib.contextmanager
def demo_broker(force_embedded: bool) -> Iterator[tuple[int, str]]:
    """Yield (port, MQTT protocol) of a broker started for the demo."""
    if mosquitto_binary() and not force_embedded:
        with tempfile.TemporaryDirectory(prefix="bantar-mosquitto-") as workdir:
            broker = MosquittoProcess.start(Path(workdir))
            log.info("started mosquitto on 127.0.0.1:%d", broker.port)
            try:
                yield broker.port, "5"
            finally:
                broker.stop()
        return
    port = free_port()
    log.info("mosquitto not found; starting the embedded broker (amqtt) on 127.0.0.1:%d", port)
    with embedded_broker(port):
        yield port, "3.1.1"


def run_demo(
    services: Services,
    stop: threading.Event,
    *,
    seconds: int,
    api_port: int = 8080,
    keep_running: bool = False,
    force_embedded: bool = False,
) -> str:
    """Run the demo; return a few lines about the evidence the API serves."""
    registry, store = services.registry, services.store
    with demo_broker(force_embedded) as (port, protocol):
        settings = services.settings.model_copy(
            update={
                "mqtt": services.settings.mqtt.model_copy(
                    update={"port": port, "protocol": protocol, "host": "127.0.0.1"}
                )
            }
        )
        ready = threading.Event()
        ingest_stop = threading.Event()
        ingestor = threading.Thread(
            target=run_ingestor, args=(settings, registry, store, ingest_stop, ready), name="ingestor"
        )
        ingestor.start()
        server = None
        try:
            if not ready.wait(20):
                raise ConnectionError("the ingestor could not connect to the demo broker")
            server = BackgroundServer(create_app(services), _port(api_port)).start()
            click.echo(f"API: {server.url}/docs  (evidence: {server.url}/api/v1/summary)")
            report = _publish(services, port, seconds, stop)
            time.sleep(0.5)  # let the last batch linger out
            services.updater.update_all()
            click.echo(
                f"published {report.messages:,} messages ({report.hostile} hostile) from "
                f"{len(registry.registry.devices)} devices: the last {seconds * DEMO_SPEED / 3600:g} hours "
                f"of {len(registry.rts)} RTs replayed at {DEMO_SPEED}x"
            )
            token = _demo_token(services)
            click.echo(f"an assessor token for the whole city (kept in {DEMO_TOKEN_FILE}): {token}")
            click.echo(field_app_lines(services, server.url))
            summary = _summary_lines(server.url, token)
            if keep_running and not stop.is_set():
                click.echo("ingestor and API keep running; Ctrl-C stops")
                stop.wait()
            return summary
        finally:
            if server is not None:
                server.stop()
            ingest_stop.set()
            ingestor.join()


def _port(wanted: int) -> int:
    if wanted == 0:
        return free_port()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:
            chosen = free_port()
            log.warning("port %d is taken; the API uses %d", wanted, chosen)
            return chosen
    return wanted


def _publish(services: Services, port: int, seconds: int, stop: threading.Event) -> RunReport:
    end = datetime.now(UTC)
    sim = Simulation(
        services.registry.registry,
        start=end - timedelta(seconds=seconds * DEMO_SPEED),
        end=end,
        seed=int(end.timestamp()),
        scenarios=DEMO_SCENARIOS,
        first_seq={device: seq + 1 for device, seq in services.store.last_sequences().items()},
    )
    sink = MqttSink("127.0.0.1", port)
    with click.progressbar(length=seconds, label="fleet publishing", file=sys.stderr) as bar:
        return drive(
            sim.messages(),
            [sink],
            sim_start=sim.start,
            speed=DEMO_SPEED,
            progress=lambda s: bar.update(round(s / DEMO_SPEED)),
            stop=stop.is_set,
        )


def _demo_token(services: Services) -> str:
    """A city-wide assessor token for trying the API, reused across demo runs."""
    path = services.settings.app_db.parent / DEMO_TOKEN_FILE
    if path.exists():
        token = path.read_text().strip()
        if services.app_db.authenticate(token):
            return token
    _, token = services.app_db.create_token("demo assessor", Role.assessor, ScopeLevel.city, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def _summary_lines(url: str, token: str) -> str:
    """Ask the running API, as a user would, for today's city summary."""
    today = wib_day(datetime.now(UTC)).isoformat()
    body = httpx.get(
        f"{url}/api/v1/summary",
        params={"start": today, "end": today},
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    lines = [f"evidence today ({today}, WIB) for {body['rts']} RTs — suggested levels per criterion:"]
    for c in body["criteria"]:
        lines.append(
            f"  {c['criterion']:<9} baik {c['baik']:>3}  sedang {c['sedang']:>3}  kurang {c['kurang']:>3}"
            f"  bukti kurang {c['insufficient']:>3}"
        )
    alerts = ", ".join(f"{k} {v}" for k, v in body["open_alerts"].items()) or "none"
    lines.append(f"open alerts: {alerts}")
    return "\n".join(lines)
