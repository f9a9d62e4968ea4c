"""``bantar demo``: broker + ingestor + a simulated fleet, on embedded defaults."""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bantar.domain.registry import RegistryIndex
from bantar.ports import ReadingStore
from bantar.settings import Settings
from ingest.broker import MosquittoProcess, embedded_broker, free_port, mosquitto_binary
from ingest.runner import run_ingestor
from simulators.engine import Simulation
from simulators.run import drive
from simulators.sinks import MqttSink

log = logging.getLogger("bantar.demo")

DEMO_SPEED = 360
"""simulated seconds per wall second: a 20 s demo replays the last two hours"""
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
    settings: Settings,
    registry: RegistryIndex,
    store: ReadingStore,
    stop: threading.Event,
    *,
    seconds: int,
    force_embedded: bool = False,
) -> None:
    with demo_broker(force_embedded) as (port, protocol):
        settings = settings.model_copy(
            update={"mqtt": settings.mqtt.model_copy(update={"port": port, "protocol": protocol, "host": "127.0.0.1"})}
        )
        ready = threading.Event()
        ingestor = threading.Thread(target=run_ingestor, args=(settings, registry, store, stop, ready), name="ingestor")
        ingestor.start()
        if not ready.wait(20):
            stop.set()
            ingestor.join()
            raise ConnectionError("the ingestor could not connect to the demo broker")
        end = datetime.now(UTC)
        sim = Simulation(
            registry.registry,
            start=end - timedelta(seconds=seconds * DEMO_SPEED),
            end=end,
            seed=int(end.timestamp()),
            scenarios=DEMO_SCENARIOS,
            first_seq={device: seq + 1 for device, seq in store.last_sequences().items()},
        )
        sink = MqttSink("127.0.0.1", port)
        try:
            with click.progressbar(length=seconds, label="fleet publishing", file=sys.stderr) as bar:
                report = drive(
                    sim.messages(),
                    [sink],
                    sim_start=sim.start,
                    speed=DEMO_SPEED,
                    progress=lambda s: bar.update(round(s / DEMO_SPEED)),
                    stop=stop.is_set,
                )
            time.sleep(0.5)  # let the last batch linger out
        finally:
            stop.set()
            ingestor.join()
        click.echo(
            f"published {report.messages:,} messages ({report.hostile} hostile) from "
            f"{len(registry.registry.devices)} devices: the last {seconds * DEMO_SPEED / 3600:g} hours "
            f"of {len(sim.plans)} RTs replayed at {DEMO_SPEED}x"
        )
