"""``bantar ingest``: the MQTT sources and the ingest service wired together.

The service's own ``bantar/v1/#`` connection runs in the calling thread; each connection of
``config/sources.yaml`` (``BANTAR_SOURCES``) runs its own client (fixed client id, persistent
session), inbox and ingest loop in a thread of the same process, sharing the store. Every
connection keeps the guarantees of the first: acknowledged after commit, bounded inbox."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bantar.domain.registry import RegistryIndex
from bantar.ports import ReadingStore
from bantar.registry_file import RegistryWatch
from bantar.settings import Settings
from ingest.counters import IngestCounters
from ingest.inbox import Inbox
from ingest.mqtt import MqttSource
from ingest.service import Inbound, IngestService, Translate
from ingest.sources.config import Route, SourcesFile, load_sources
from ingest.sources.sequencing import FrameCounterSessions
from ingest.sources.translate import Translator

log = logging.getLogger("bantar.ingest")


def _service(
    settings: Settings,
    registry: RegistryIndex,
    store: ReadingStore,
    inbox: Inbox[Inbound],
    counters: IngestCounters | None,
    translate: Translate | None = None,
    name: str = "bantar/v1",
) -> IngestService:
    config = settings.ingest
    return IngestService(
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
        max_seq_gap=config.max_seq_gap,
        translate=translate,
        name=name,
    )


class _SourceConnection:
    """One connection of config/sources.yaml: its client, inbox and ingest loop."""

    def __init__(self, name: str, source: MqttSource, service: IngestService) -> None:
        self.name = name
        self.source = source
        self.service = service
        self.thread: threading.Thread | None = None

    def start(self, stop: threading.Event) -> None:
        self.source.start()
        self.thread = threading.Thread(target=self._run, args=(stop,), name=f"source-{self.name}", daemon=True)
        self.thread.start()

    def _run(self, stop: threading.Event) -> None:
        try:
            self.service.run(self.source, stop)
        finally:
            self.source.stop()


def source_connections(
    settings: Settings, sources: SourcesFile, registry: RegistryIndex, store: ReadingStore
) -> list[_SourceConnection]:
    sessions = FrameCounterSessions(store.last_sequences(), store.last_seen())
    latest = store.latest_contents()
    connections = []
    for name, connection in sources.connections.items():
        routes = [Route(s, t) for s in sources.sources if s.connection == name for t in s.templates]
        if not routes:
            continue
        translator = Translator(routes, registry, settings.ingest.limits(), sessions, latest)
        inbox: Inbox[Inbound] = Inbox(settings.ingest.window)
        service = _service(settings, registry, store, inbox, None, translator, f"source connection {name}")
        source = MqttSource(
            connection.mqtt(settings.mqtt),
            inbox,
            service.counters,
            receive_maximum=settings.ingest.window,
            filters=translator.filters,
        )
        connections.append(_SourceConnection(name, source, service))
    return connections


def run_ingestor(
    settings: Settings,
    registry: RegistryIndex,
    store: ReadingStore,
    stop: threading.Event,
    ready: threading.Event | None = None,
    counters: IngestCounters | None = None,
    registry_watch: RegistryWatch | None = None,
) -> IngestCounters:
    """Ingest until ``stop`` is set; then store and acknowledge what was received, and return
    the counters of the bantar/v1 connection (``counters``, when given, is updated live;
    ``registry_watch``'s counts are served with the metrics)."""
    inbox: Inbox[Inbound] = Inbox(settings.ingest.window)
    service = _service(settings, registry, store, inbox, counters)
    if settings.mqtt.shared_group:
        log.info(
            "member of shared group %r: each member sees only its share of a device's sequence numbers, "
            "so gaps are counted from the store (bantar stats), not live",
            settings.mqtt.shared_group,
        )
    stop_metrics = None
    if settings.ingest.metrics_port is not None:
        from ingest.metrics import IngestCollector, serve_metrics  # prometheus-client only when asked

        collector = IngestCollector(service.counters, inbox.__len__, registry_watch)
        stop_metrics = serve_metrics(collector, settings.ingest.metrics_host, settings.ingest.metrics_port)
    extra = source_connections(settings, load_sources(settings.sources), registry, store) if settings.sources else []
    source = MqttSource(settings.mqtt, inbox, service.counters, receive_maximum=settings.ingest.window)
    source.start()
    try:
        for connection in extra:
            connection.start(stop)
    except ConnectionError:
        stop.set()
        source.stop()
        if stop_metrics is not None:
            stop_metrics()
        raise
    if ready is not None:
        ready.set()
    try:
        return service.run(source, stop)
    finally:
        source.stop()
        for connection in extra:
            if connection.thread is not None:
                connection.thread.join(60)
        if stop_metrics is not None:
            stop_metrics()


def follow_registry(
    registry: RegistryIndex,
    read_switches: Callable[[], dict[str, bool]],
    stop: threading.Event,
    every_s: float,
    on_change: Callable[[], object] | None = None,
    watch: RegistryWatch | None = None,
) -> threading.Thread:
    """Apply the admins' device switches now, and every ``every_s`` seconds until ``stop`` them
    and the registry file's edits (``watch``): a device switched off is refused
    (``device_inactive``), one removed from the file is unknown (``unknown_device``), one added
    is accepted, from the next check on. ``on_change`` runs now and after each check that
    changed a device (the broker's logins follow)."""
    registry.apply_overrides(read_switches())
    if on_change is not None:
        on_change()

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                seen = registry.revision
                if watch is not None:
                    watch.check()
                registry.apply_overrides(read_switches())
                if on_change is not None and registry.revision != seen:
                    on_change()
            except Exception:  # a locked or missing app database must not stop ingestion
                log.exception("could not follow the device switches; keeping the last known ones")

    thread = threading.Thread(target=loop, name="registry-follow", daemon=True)
    thread.start()
    return thread
