"""From evidence to suggested scores: indicator rules, period scores, lapse and Kencana. Pure.

A period's evidence arrives as ``PeriodTotals`` (sums over an RT's daily evidence). Each
indicator of a criterion turns one metric into 2 / 1 / 0 by the thresholds in
``config/rules.yaml``, or into "insufficient evidence" when its devices sent too little.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator, model_validator

from bantar.domain.evidence import CollectionRules, DerivationRules
from bantar.domain.quality import QualityRules, ShiftRules
from bantar.domain.registry import AWARD_IDR, RT, Category, Device
from bantar.domain.topics import DeviceKind
from bantar.kinds.contract import Figures
from bantar.kinds.registry import plugins


@dataclass
class PeriodTotals:
    """Sums of an RT's daily evidence over a period (see ``bantar.domain.evidence.DayEvidence``)."""

    days: int = 0
    bin_readings: int = 0
    bin_readings_expected: int = 0
    bin_hours_observed: float = 0.0
    bin_hours_expected: float = 0.0
    bin_overflow_hours: float = 0.0
    bin_collections: int = 0
    longest_days_without_collection: int = 0
    """over the days with enough bin evidence; a dead day breaks a run, it never lengthens one"""
    bin_days_observed: int = 0
    camera_days: int = 0
    camera_days_reporting: int = 0
    cctv_online_heartbeats: int = 0
    cctv_heartbeats_expected: int = 0
    cctv_heartbeats_flagged: int = 0
    post_reports: int = 0
    post_reports_expected: int = 0
    nights: int = 0
    """nights of the period that are over"""
    nights_observed: int = 0
    staffed_nights: int = 0
    patrols: int = 0
    incidents: int = 0
    incidents_daytime: int = 0
    deposits: int = 0
    deposits_flagged: int = 0
    deposit_kg: float = 0.0
    distinct_households: int = 0
    gotong_royong_events: int = 0
    gotong_royong_attendance: int = 0
    kinds: dict[str, Figures] = field(default_factory=dict)
    """the period figures of kinds added as plug-ins (``KindPlugin.totals``), by kind"""


def longest_run_without(days_with: Sequence[date], start: date, end: date, unobserved: Sequence[date] = ()) -> int:
    """Longest stretch of days in [start, end] on which nothing happened, given the days it did.
    ``unobserved`` days (dead sensors) break a stretch without counting in it: nobody knows what
    happened on them, so they neither lengthen a run nor count as a collection."""
    breaks = {d for d in unobserved if start <= d <= end}
    marks = [
        start - timedelta(days=1),
        *sorted({d for d in days_with if start <= d <= end} | breaks),
        end + timedelta(days=1),
    ]
    return max((b - a).days - 1 for a, b in itertools.pairwise(marks))


class Better(StrEnum):
    higher = "higher"
    lower = "lower"  # type: ignore[assignment]  # the rules' word; shadows str.lower on members only


class Rationale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    en: str


class Basis(BaseModel):
    """Where a rule or threshold comes from: the programme's own (with its source), or this
    service's assumption (with its reason). Shown next to every figure it shapes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Literal["programme", "assumption"]
    ref: str | None = None
    """programme: the document and passage"""
    reason: str | None = None
    """assumption: why this value"""

    @model_validator(mode="after")
    def _explained(self) -> Basis:
        if self.source == "programme" and not self.ref:
            raise ValueError("a programme rule names its source ('ref')")
        if self.source == "assumption" and not self.reason:
            raise ValueError("an assumption gives its reason ('reason')")
        return self


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    better: Better
    baik: float = Field(description="the bound for a 2")
    sedang: float = Field(description="the bound for a 1")
    basis: Basis | None = None
    """whose rule this figure is, when not its criterion's (a plug-in kind's figure)"""

    @model_validator(mode="after")
    def _known_and_ordered(self) -> Indicator:
        if metric_named(self.metric) is None:
            known = sorted(metrics())
            raise ValueError(f"unknown metric {self.metric!r}; known: {', '.join(known)}")
        ordered = self.baik >= self.sedang if self.better is Better.higher else self.baik <= self.sedang
        if not ordered:
            raise ValueError(f"{self.metric}: 'baik' must be a better bound than 'sedang'")
        return self

    def score(self, value: float) -> int:
        if self.better is Better.higher:
            return 2 if value >= self.baik else 1 if value >= self.sedang else 0
        return 2 if value <= self.baik else 1 if value <= self.sedang else 0


class CriterionRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    indicators: list[Indicator] = Field(min_length=1)
    shown: list[Indicator] = []
    """figures shown next to the score but not scored (e.g. incidents, see the rationale)"""
    rationale: Rationale
    basis: Basis


class AssessmentRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pass_share: float = Field(default=0.7, gt=0, le=1)
    """share of the 42 points a recap needs to meet the bar"""
    no_zero: bool = True
    """and no criterion at 0"""
    recap: Literal["mean", "majority"] = "mean"
    """the recap method an assessment uses unless the team picks the other"""


LABELLED = (
    "overflow_pct",
    "coverage_min",
    "lapse_weeks",
    "kencana_months",
    "device_silent_after",
    "quality",
    "shift",
    "collection",
    "assessment",
    "category_boundary",
)
"""Every top-level rule that must say whose it is (``basis``)."""


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    overflow_pct: float = Field(gt=0, le=100)
    coverage_min: float = Field(gt=0, le=1)
    lapse_weeks: int = Field(ge=1, le=52)
    kencana_months: int = Field(ge=1, le=60)
    device_silent_after: float = Field(gt=1, le=100)
    quality: QualityRules = QualityRules()
    shift: ShiftRules = ShiftRules()
    collection: CollectionRules = CollectionRules()
    assessment: AssessmentRules = AssessmentRules()
    criteria: dict[Literal["bersih.b", "bersih.c", "bersih.g", "aman.b"], CriterionRule]
    kinds: dict[str, SerializeAsAny[BaseModel]] = {}
    """each plug-in kind's own rules (its ``KindPlugin.rules`` model), by kind"""
    basis: dict[str, Basis] = {}

    @field_validator("kinds", mode="before")
    @classmethod
    def _kind_rules(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        found = {}
        for name, section in value.items():
            kind = next((p for k, p in plugins().items() if k.value == name), None)
            if kind is None or kind.rules is None:
                raise ValueError(f"kinds: {name!r} is not a kind with rules")
            found[name] = section if isinstance(section, kind.rules) else kind.rules.model_validate(section)
        return found

    @model_validator(mode="after")
    def _every_rule_labelled(self) -> Rules:
        missing = [name for name in LABELLED if name not in self.basis]
        if self.basis and missing:
            raise ValueError(f"basis: say whose rule each of these is: {', '.join(missing)}")
        return self

    def derivation(self) -> DerivationRules:
        return DerivationRules(
            self.overflow_pct, self.coverage_min, self.quality, self.shift, self.collection, self.kinds
        )


# --- metrics: (value, coverage) or None when the RT has nothing this metric could measure ------
Measured = tuple[float, float | None] | None
Metric = Callable[[PeriodTotals, RT, dict[DeviceKind, int]], Measured]
"""a kind's metric (``KindPlugin.metrics``), typed for the plug-ins that name their totals"""


def ratio(part: float, whole: float) -> float | None:
    """A share capped at 1, or None when there was nothing to share (for metrics' coverage)."""
    return min(1.0, part / whole) if whole else None


def metrics() -> dict[str, Metric]:
    """Every metric the kinds offer the rules (``KindPlugin.metrics``), by name."""
    return {name: metric for p in plugins().values() for name, metric in p.metrics.items()}


def metric_named(name: str) -> Metric | None:
    return metrics().get(name)


# --- scores -----------------------------------------------------------------------------------
class IndicatorStatus(StrEnum):
    scored = "scored"
    insufficient = "insufficient"
    not_applicable = "not_applicable"


class IndicatorResult(BaseModel):
    metric: str
    status: IndicatorStatus
    value: float | None = None
    coverage: float | None = None
    score: int | None = None
    baik: float
    sedang: float
    better: Better


class CriterionScore(BaseModel):
    criterion: str
    score: int | None = Field(description="2 baik, 1 sedang, 0 kurang; null: insufficient evidence")
    indicators: list[IndicatorResult]
    rationale: Rationale
    shown: list[IndicatorResult] = []
    """figures shown next to the score, not scored"""
    basis: Basis | None = None


def kind_coverage(criteria: Sequence[CriterionScore]) -> dict[str, float | None]:
    """An RT's evidence coverage per kind from its scores: the coverage of each kind's coverage
    metric (``KindPlugin.coverage``), scored or shown; None where the rules measured none. Every
    kind with a coverage metric is a key, in ``DeviceKind`` order."""
    kind_of = {p.coverage.metric: kind.value for kind, p in plugins().items() if p.coverage is not None}
    found: dict[str, float | None] = dict.fromkeys(kind_of.values())
    for criterion in criteria:
        for indicator in (*criterion.indicators, *criterion.shown):
            kind = kind_of.get(indicator.metric)
            if kind and indicator.coverage is not None:
                found[kind] = indicator.coverage
    return found


def device_counts(devices: Sequence[Device]) -> dict[DeviceKind, int]:
    counts: dict[DeviceKind, int] = {}
    for device in devices:
        if device.active:
            counts[device.kind] = counts.get(device.kind, 0) + 1
    return counts


def _result(
    indicator: Indicator,
    status: IndicatorStatus,
    value: float | None = None,
    coverage: float | None = None,
    score: int | None = None,
) -> IndicatorResult:
    return IndicatorResult(
        metric=indicator.metric,
        status=status,
        value=value,
        coverage=coverage,
        score=score,
        baik=indicator.baik,
        sedang=indicator.sedang,
        better=indicator.better,
    )


def _measure(
    indicator: Indicator, totals: PeriodTotals, rt: RT, kinds: dict[DeviceKind, int], coverage_min: float
) -> IndicatorResult:
    metric = metric_named(indicator.metric)
    assert metric is not None  # checked when the rules were read
    measured = metric(totals, rt, kinds)
    if measured is None:
        return _result(indicator, IndicatorStatus.not_applicable)
    value, coverage = measured
    if coverage is not None and coverage < coverage_min:
        return _result(indicator, IndicatorStatus.insufficient, value=round(value, 4), coverage=round(coverage, 4))
    return _result(
        indicator,
        IndicatorStatus.scored,
        value=round(value, 4),
        coverage=None if coverage is None else round(coverage, 4),
        score=indicator.score(value),
    )


def score_criteria(totals: PeriodTotals, rt: RT, kinds: dict[DeviceKind, int], rules: Rules) -> list[CriterionScore]:
    results = []
    for name, rule in rules.criteria.items():
        indicators = [_measure(i, totals, rt, kinds, rules.coverage_min) for i in rule.indicators]
        scored = [i.score for i in indicators if i.score is not None]
        blocked = any(i.status is IndicatorStatus.insufficient for i in indicators)
        score = None if blocked or not scored else min(scored)
        shown = [
            measured
            for i in rule.shown
            if (measured := _measure(i, totals, rt, kinds, rules.coverage_min)).status
            is not IndicatorStatus.not_applicable
            or i.basis is None  # a figure with its own basis (a plug-in kind's) shows where it applies
        ]
        results.append(
            CriterionScore(
                criterion=name,
                score=score,
                indicators=indicators,
                rationale=rule.rationale,
                shown=[r.model_copy(update={"score": None}) for r in shown],
                basis=rule.basis,
            )
        )
    return results


class CategoryAward(BaseModel):
    category: Category
    award_idr: int


def category_of(rt: RT) -> CategoryAward:
    return CategoryAward(category=rt.category, award_idr=AWARD_IDR[rt.category])


def awarded_levels(rt: RT) -> dict[str, int]:
    """Criterion -> level of the RT's latest award, for the sensor-backed criteria it names."""
    award = rt.latest_award
    if award is None:
        return {}
    levels: dict[str, int] = {}
    for pillar, letters in award.scores.items():
        for letter, level in letters.items():
            levels[f"{pillar}.{letter}"] = level
    return levels


# --- lapse and Kencana ------------------------------------------------------------------------
@dataclass
class LapseFinding:
    criterion: str
    awarded: int
    recent: list[int | None] = field(default_factory=list)
    """the suggested scores of the last weeks, oldest first"""


def lapsed_criteria(
    weekly: Sequence[Sequence[CriterionScore]], awarded: dict[str, int], lapse_weeks: int
) -> list[LapseFinding]:
    """Criteria whose suggested score stayed below the awarded level in each of the last
    ``lapse_weeks`` weeks (``weekly`` is oldest first). A week without sufficient evidence
    neither proves nor breaks a lapse, so it stops the run."""
    findings: list[LapseFinding] = []
    if len(weekly) < lapse_weeks:
        return findings
    recent_weeks = weekly[-lapse_weeks:]
    for criterion, level in awarded.items():
        scores = [next((c.score for c in week if c.criterion == criterion), None) for week in recent_weeks]
        if all(s is not None and s < level for s in scores) and any(c.criterion == criterion for c in weekly[-1]):
            findings.append(LapseFinding(criterion, level, scores))
    return findings


def held_level(monthly: Sequence[Sequence[CriterionScore]], awarded: dict[str, int], months: int) -> bool:
    """True if in each of the last ``months`` months every awarded sensor-backed criterion was
    scored at or above its awarded level (with sufficient evidence)."""
    if len(monthly) < months:
        return False
    scored_criteria = {c.criterion for c in monthly[-1]}
    relevant = {k: v for k, v in awarded.items() if k in scored_criteria}
    if not relevant:
        return False
    for month in monthly[-months:]:
        by_name = {c.criterion: c.score for c in month}
        if any(by_name.get(k) is None or by_name[k] < v for k, v in relevant.items()):  # type: ignore[operator]
            return False
    return True


def week_starts(end: date, weeks: int) -> list[date]:
    """Mondays of the last ``weeks`` complete WIB weeks before ``end`` (exclusive), oldest first."""
    this_monday = end - timedelta(days=end.weekday())
    return [this_monday - timedelta(weeks=w) for w in range(weeks, 0, -1)]


def month_starts(end: date, months: int) -> list[date]:
    """First days of the last ``months`` complete months before the month of ``end``."""
    first = end.replace(day=1)
    starts = []
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
        starts.append(first)
    return starts[::-1]


def is_silent(last_seen_ms: int | None, interval_s: int, now: datetime, factor: float) -> bool:
    if last_seen_ms is None:
        return True
    return now.timestamp() * 1000 - last_seen_ms > factor * interval_s * 1000
