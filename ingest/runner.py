"""``bantar ingest``: the MQTT source and the ingest service wired together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bantar.domain.registry import RegistryIndex
from bantar.ports import ReadingStore
from bantar.settings import Settings
from ingest.counters import IngestCounters
from ingest.inbox import Inbox
from ingest.mqtt import MqttSource
from ingest.service import Inbound, IngestService

log = logging.getLogger("bantar.ingest")


def run_ingestor(
    settings: Settings,
    registry: RegistryIndex,
    store: ReadingStore,
    stop: threading.Event,
    ready: threading.Event | None = None,
    counters: IngestCounters | None = None,
) -> IngestCounters:
    """Ingest until ``stop`` is set; then store and acknowledge what was received, and return
    the counters (``counters``, when given, is updated live)."""
    config = settings.ingest
    inbox: Inbox[Inbound] = Inbox(config.window)
    service = IngestService(
        store,
        registry,
        config.limits(),
        inbox,
        batch_max=config.batch_max,
        linger_s=config.linger_ms / 1000,
        retry_max_s=config.retry_max_s,
        stats_every_s=config.stats_every_s,
        counters=counters,
        heartbeat=config.heartbeat_file.touch if config.heartbeat_file else None,
        track_sequences=settings.mqtt.shared_group is None,
    )
    if settings.mqtt.shared_group:
        log.info(
            "member of shared group %r: each member sees only its share of a device's sequence numbers, "
            "so gaps are counted from the store (bantar stats), not live",
            settings.mqtt.shared_group,
        )
    stop_metrics = None
    if config.metrics_port is not None:
        from ingest.metrics import IngestCollector, serve_metrics  # prometheus-client only when asked

        collector = IngestCollector(service.counters, inbox.__len__)
        stop_metrics = serve_metrics(collector, config.metrics_host, config.metrics_port)
    source = MqttSource(settings.mqtt, inbox, service.counters, receive_maximum=config.window)
    try:
        source.start()
        if ready is not None:
            ready.set()
        try:
            return service.run(source, stop)
        finally:
            source.stop()
    finally:
        if stop_metrics is not None:
            stop_metrics()


def follow_device_switches(
    registry: RegistryIndex, read_switches: Callable[[], dict[str, bool]], stop: threading.Event, every_s: float
) -> threading.Thread:
    """Apply the admins' device switches now and every ``every_s`` seconds until ``stop``: a
    device switched off is refused (``device_inactive``) from the next check on."""
    registry.apply_overrides(read_switches())

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                registry.apply_overrides(read_switches())
            except Exception:  # a locked or missing app database must not stop ingestion
                log.exception("could not read the device switches; keeping the last known ones")

    thread = threading.Thread(target=loop, name="device-switches", daemon=True)
    thread.start()
    return thread
