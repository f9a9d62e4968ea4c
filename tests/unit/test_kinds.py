"""Every device kind's plug-in keeps the contract: its docs example is a valid payload, its row
fits its table, its InfluxDB line is what ``Point`` writes, and its metric names are its own
(the rules find every metric through the plug-ins)."""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bantar.domain import alert_text, scoring
from bantar.domain.evidence import DayEvidence
from bantar.domain.intake import payload_digest
from bantar.domain.readings import Material, Reading, canonical_form
from bantar.domain.registry import RegistryIndex
from bantar.domain.timebase import to_utc
from bantar.kinds.contract import KindPlugin, Plot
from bantar.kinds.registry import DeviceKind, plugins
from bantar.stores.influxdb import line, point_line

RECEIVED = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)


def example_reading(p: KindPlugin) -> Reading:
    body = p.parse(json.dumps(p.example).encode())
    ts = to_utc(body.ts)
    return Reading(
        device_id="dev-1",
        kind=p.kind,
        rt_code="RT.01",
        seq=body.seq,
        ts=ts,
        received_at=RECEIVED,
        payload=body,
        digest=payload_digest(canonical_form(body, ts)),
        calibrated=42.5 if p.kind is DeviceKind.bin else None,
    )


@pytest.mark.parametrize("kind", list(DeviceKind))
def test_each_kind_has_a_plugin_whose_example_is_stored_alike_everywhere(kind: DeviceKind) -> None:
    p = plugins()[kind]
    assert p.kind is kind
    reading = example_reading(p)
    row = p.series.row(reading)
    assert len(row) == 5 + len(p.series.values) + 1 + len(p.series.added_columns)
    assert line(reading) == point_line(reading)
    assert p.series.present_field in p.series.fields(reading)


def test_series_and_metric_names_are_unique() -> None:
    names = [p.series.name for p in plugins().values()]
    assert len(names) == len(set(names))
    offered = [m for p in plugins().values() for m in p.metrics]
    assert len(offered) == len(set(offered))


def test_the_rules_get_their_metrics_from_the_plugins_only() -> None:
    offered = {name: m for p in plugins().values() for name, m in p.metrics.items()}
    assert scoring.metrics() == offered
    source = Path(scoring.__file__).read_text()
    assert not [k for k in DeviceKind if f"DeviceKind.{k.name}" in source]  # scoring names no kind


def test_each_chart_of_named_figures_draws_fields_of_the_daily_evidence() -> None:
    charted = {kind: p.chart for kind, p in plugins().items() if p.chart is not None}
    assert {DeviceKind.bin, DeviceKind.cctv, DeviceKind.poskamling, DeviceKind.bank_sampah} <= set(charted)
    canvases = [c.canvas or f"c-kind-{kind.value}" for kind, c in charted.items()]
    assert len(canvases) == len(set(canvases))
    for chart in (c for c in charted.values() if c.named):
        for plot in (s if isinstance(s, Plot) else Plot(*s) for s in chart.series):
            assert plot.figure or plot.constant is not None or plot.rule is not None
            for figure in filter(None, (plot.figure, plot.per)):
                name, _, key = figure.partition(".")
                assert name in DayEvidence.model_fields, figure
                assert not key or key in set(Material), figure  # an entry of a figure by material


def test_each_coverage_metric_is_one_of_its_kinds_metrics() -> None:
    covered = {kind: p.coverage for kind, p in plugins().items() if p.coverage is not None}
    assert {DeviceKind.bin, DeviceKind.cctv, DeviceKind.poskamling, DeviceKind.water_level} <= set(covered)
    for kind, coverage in covered.items():
        assert coverage.metric in plugins()[kind].metrics, kind


def _indicator(metric: str, coverage: float | None) -> scoring.IndicatorResult:
    status = scoring.IndicatorStatus.scored
    return scoring.IndicatorResult(
        metric=metric, status=status, value=0.0, coverage=coverage, baik=1, sedang=0, better=scoring.Better.higher
    )


def test_kind_coverage_comes_from_each_kinds_coverage_metric_scored_or_shown() -> None:
    criterion = scoring.CriterionScore(
        criterion="bersih.b",
        score=None,
        rationale=scoring.Rationale(id="-", en="-"),
        indicators=[_indicator("longest_days_without_collection", 0.2), _indicator("bin_overflow_share", 0.9)],
        shown=[_indicator("flood_danger_hours_per_month", 0.75)],
    )
    coverage = scoring.kind_coverage([criterion])
    assert list(coverage)[:3] == ["bin", "cctv", "poskamling"]
    assert coverage == {"bin": 0.9, "cctv": None, "poskamling": None, "water_level": 0.75}


def test_each_charts_rule_line_names_a_rule_with_a_value() -> None:
    ruled = [
        plot.rule
        for p in plugins().values()
        if p.chart is not None
        for plot in p.chart.series
        if isinstance(plot, Plot) and plot.rule is not None
    ]
    assert "overflow_pct" in ruled
    for rule in ruled:
        assert scoring.Rules.model_fields[rule].annotation is float, rule


def test_each_kind_that_raises_alerts_words_them_in_both_languages_alike() -> None:
    raising = [p for p in plugins().values() if p.alerts is not None]
    assert DeviceKind.water_level in {p.kind for p in raising}
    for p in raising:
        assert p.alert_texts, p.kind
        for words in p.alert_texts.values():
            assert words.label.id, words
            assert words.label.en, words
            assert placeholders(words.message.id) == placeholders(words.message.en) != set(), words


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_a_flood_alert_reads_in_indonesian_and_english() -> None:
    flood = plugins()[DeviceKind.water_level]
    assert flood.alerts is not None
    figures = {"danger_devices": ["wl-1"], "max_level_cm": 131.5}
    (alert,) = flood.alerts("RT.01", date(2026, 12, 14), figures, [])
    assert alert_text.kind_alert_text(alert.code, alert.params, "id") == (
        "Sensor banjir wl-1 mencapai tingkat bahaya pada 2026-12-14 (tertinggi 131,5 cm)"
    )
    assert alert_text.kind_alert_text(alert.code, alert.params, "en") == (
        "Flood sensor wl-1 reached its danger level on 2026-12-14 (highest 131.5 cm)"
    )


def test_a_flood_alerts_notification_takes_its_label_from_the_plugin(registry_index: RegistryIndex) -> None:
    place = next(iter(registry_index.rts.values()))
    opened = datetime(2026, 12, 14, 1, tzinfo=UTC)
    title, body = alert_text.render("flood_danger", {"message_id": "Sensor banjir"}, place, "open", opened, None, [])
    assert title.startswith("[BANTAR] Tingkat bahaya banjir: RT ")
    assert body.startswith("Tingkat bahaya banjir — RT ")
