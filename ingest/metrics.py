"""The ingestor's Prometheus metrics, read from its counters when scraped: nothing is added to
the per-message path. Served on ``BANTAR_INGEST__METRICS_PORT`` (off when unset)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from bantar.domain.errors import Reason
from bantar.registry_file import RegistryWatch
from ingest.counters import BATCH_MS_BOUNDS, IngestCounters


class IngestCollector(Collector):
    def __init__(
        self, counters: IngestCounters, inbox_depth: Callable[[], int], registry: RegistryWatch | None = None
    ) -> None:
        self.counters, self.inbox_depth, self.registry = counters, inbox_depth, registry

    def collect(self) -> Iterator[Metric]:
        c = self.counters
        yield CounterMetricFamily("bantar_ingest_received", "MQTT messages received and processed", value=c.received)
        yield CounterMetricFamily(
            "bantar_ingest_stored", "new readings stored (durable before acknowledged)", value=c.stored
        )
        yield CounterMetricFamily(
            "bantar_ingest_duplicates", "redeliveries or replays of stored readings (no change)", value=c.duplicates
        )
        rejected = CounterMetricFamily("bantar_ingest_rejected", "messages refused, by reason", labels=["reason"])
        for reason in Reason:
            rejected.add_metric([reason.value], c.rejected.get(reason, 0))
        yield rejected
        yield CounterMetricFamily(
            "bantar_ingest_store_retries", "store writes retried after a failure", value=c.store_retries
        )
        yield CounterMetricFamily(
            "bantar_ingest_stale_acks", "acknowledgements dropped after a reconnect (redelivered)", value=c.stale_acks
        )
        if c.sequence_gap_messages is not None:
            yield CounterMetricFamily(
                "bantar_ingest_sequence_gap_messages",
                "messages missing by the devices' sequence numbers (lost upstream)",
                value=c.sequence_gap_messages,
            )
        counts = list(c.batch_ms_counts)
        cumulative = list(accumulate(counts))
        buckets = [(str(bound / 1000), n) for bound, n in zip(BATCH_MS_BOUNDS, cumulative, strict=False)]
        yield HistogramMetricFamily(
            "bantar_ingest_batch_seconds",
            "time to validate and durably store one batch, retries included",
            buckets=[*buckets, ("+Inf", cumulative[-1])],
            sum_value=c.batch_ms_total / 1000,
        )
        yield GaugeMetricFamily(
            "bantar_ingest_inbox_depth", "messages received, waiting to be stored", value=self.inbox_depth()
        )
        if self.registry is not None:
            yield CounterMetricFamily(
                "bantar_registry_edits_taken", "registry file edits taken while running", value=self.registry.replaced
            )
            yield CounterMetricFamily(
                "bantar_registry_edits_refused",
                "registry file edits refused as invalid (registry_invalid: the previous registry stayed)",
                value=self.registry.refused,
            )


def serve_metrics(collector: Collector, host: str, port: int) -> Callable[[], None]:
    """Serve ``collector`` on http://host:port/metrics in a thread; return the function that stops it."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(collector)
    server, thread = start_http_server(port, host, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
