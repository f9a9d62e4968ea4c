"""The API process's Prometheus metrics (at ``/metrics``, like ``/api/v1/health`` without a
token: counts only, no RT or household data): the evidence loop's queue and work, and the
archive's runs. Read when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bantar.services import Services


class ApiCollector(Collector):
    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        store, updater, archiver = self.services.store, self.services.updater, self.services.archiver
        yield GaugeMetricFamily(
            "bantar_evidence_pending_rt_days",
            "RT-days whose evidence must be derived again (the evidence loop's queue)",
            value=store.pending_rt_days(),
        )
        yield CounterMetricFamily(
            "bantar_evidence_derived_rt_days", "RT-days derived by this process", value=updater.derived_total
        )
        yield GaugeMetricFamily(
            "bantar_evidence_version", "grows whenever stored evidence changes", value=store.evidence_version()
        )
        if (watch := self.services.registry_watch) is not None:
            yield CounterMetricFamily(
                "bantar_registry_edits_taken", "registry file edits taken while running", value=watch.replaced
            )
            yield CounterMetricFamily(
                "bantar_registry_edits_refused",
                "registry file edits refused as invalid (registry_invalid: the previous registry stayed)",
                value=watch.refused,
            )
        if archiver is not None:
            yield CounterMetricFamily("bantar_archive_runs", "archive runs completed", value=archiver.runs)
            yield CounterMetricFamily("bantar_archive_failures", "archive runs that failed", value=archiver.failures)
            yield CounterMetricFamily("bantar_archive_parts", "archive parts written", value=archiver.totals.parts)
            yield CounterMetricFamily(
                "bantar_archive_readings", "readings moved to the archive", value=archiver.totals.readings
            )


def metrics_registry(services: Services) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(ApiCollector(services))
    return registry


def exposition(registry: CollectorRegistry) -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
