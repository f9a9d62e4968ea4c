"""``bantar demo``: broker + ingestor + a simulated fleet, on embedded defaults."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import click

from bantar.domain.registry import RegistryIndex
from bantar.ports import ReadingStore
from bantar.settings import Settings
from ingest.broker import MosquittoProcess, embedded_broker, free_port, mosquitto_binary
from ingest.runner import run_ingestor
from simulators.demo_fleet import DemoFleet
from simulators.publisher import MqttPublisher

log = logging.getLogger("bantar.demo")


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
            update={
                "mqtt": settings.mqtt.model_copy(
                    update={"port": port, "protocol": protocol, "host": "127.0.0.1"}
                )
            }
        )
        ready = threading.Event()
        ingestor = threading.Thread(
            target=run_ingestor, args=(settings, registry, store, stop, ready), name="ingestor"
        )
        ingestor.start()
        if not ready.wait(20):
            stop.set()
            ingestor.join()
            raise ConnectionError("the ingestor could not connect to the demo broker")
        fleet = DemoFleet(registry, last_sequences=store.last_sequences())
        publisher = MqttPublisher("127.0.0.1", port, client_id="bantar-demo-fleet")
        published = 0
        try:
            with click.progressbar(length=seconds, label="fleet publishing", file=None) as bar:
                for _ in range(seconds):
                    started = time.monotonic()
                    for topic, payload in fleet.round():
                        publisher.publish(topic, payload)
                        published += 1
                    bar.update(1)
                    if stop.wait(max(0.0, 1.0 - (time.monotonic() - started))):
                        break
            publisher.wait_acknowledged(published, timeout_s=10)
            time.sleep(0.5)  # let the last batch linger out
        finally:
            publisher.close()
            stop.set()
            ingestor.join()
        click.echo(f"published {published} messages from {len(fleet.devices)} devices")
