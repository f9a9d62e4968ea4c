"""``bantar ingest``: the MQTT source and the ingest service wired together."""

from __future__ import annotations

import threading

from bantar.domain.registry import RegistryIndex
from bantar.ports import ReadingStore
from bantar.settings import Settings
from ingest.counters import IngestCounters
from ingest.inbox import Inbox
from ingest.mqtt import MqttSource
from ingest.service import Inbound, IngestService


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
    )
    source = MqttSource(settings.mqtt, inbox, service.counters, receive_maximum=config.window)
    source.start()
    if ready is not None:
        ready.set()
    try:
        return service.run(source, stop)
    finally:
        source.stop()
