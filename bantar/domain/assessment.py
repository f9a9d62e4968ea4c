"""Assessments by the city team: each member scores each criterion 2/1/0 with a comment, the
team recap (mean rounded, or majority) gives the result, and signing freezes the record with a
hash of the evidence it was based on. Pure: models and rules, no storage."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from bantar.domain.registry import Category

PILLARS = ("bersih", "aman", "pintar")
LETTERS = "abcdefg"
ALL_CRITERIA = tuple(f"{p}.{letter}" for p in PILLARS for letter in LETTERS)
PASS_SHARE = 0.7
"""By default the recap meets the bar with at least 70 % of the 42 points and no criterion at 0:
this service's assumption, configurable in ``config/rules.yaml`` (the programme's documents
describe a team recap and a meeting decision, no formula)."""


class Agency(StrEnum):
    dlh = "DLH"
    dpmppa = "DPMPPA"
    babinsa = "Babinsa"
    bhabinkamtibmas = "Bhabinkamtibmas"
    puskesmas = "Puskesmas"
    forum = "Forum RT/Kelurahan"


class RecapRule(StrEnum):
    mean = "mean"
    """the mean of the members' scores, rounded half up"""
    majority = "majority"
    """the score most members gave; a tie goes to the lower score"""


class MemberScore(BaseModel):
    member_id: str
    member_name: str
    agency: Agency
    criterion: Literal[ALL_CRITERIA]  # type: ignore[valid-type]  # the criteria's names, a tuple known at import
    score: Literal[0, 1, 2]
    comment: str = Field(default="", max_length=500)


class CriterionRecap(BaseModel):
    criterion: str
    suggested: int | None
    """what the sensors suggested (sensor-backed criteria only)"""
    scores: list[int]
    result: int | None


class Recap(BaseModel):
    criteria: list[CriterionRecap]
    pillar_totals: dict[str, int]
    total: int
    max_total: int = 2 * len(ALL_CRITERIA)
    complete: bool
    """every criterion has at least one member's score"""
    meets_bar: bool | None


class Status(StrEnum):
    open = "open"
    signed = "signed"


class Assessment(BaseModel):
    id: str
    version: int
    previous_id: str | None
    rt_code: str
    start: date
    end: date
    recap_rule: RecapRule
    status: Status
    created_by: str
    created_at: datetime
    category: Category
    award_idr: int
    suggested: dict[str, int | None]
    evidence: dict[str, Any]
    """the period's suggested scores with their indicators, as shown to the team"""
    member_scores: list[MemberScore]
    signed_at: datetime | None = None
    signed_by: str | None = None
    evidence_hash: str | None = None
    pass_share: float = PASS_SHARE
    """the bar this assessment was opened with (``config/rules.yaml``: assessment.pass_share)"""
    no_zero: bool = True

    def recap(self) -> Recap:
        return recap(self.member_scores, self.suggested, self.recap_rule, self.pass_share, self.no_zero)


def recap(
    scores: Sequence[MemberScore],
    suggested: dict[str, int | None],
    rule: RecapRule,
    pass_share: float = PASS_SHARE,
    no_zero: bool = True,
) -> Recap:
    given: dict[str, list[int]] = defaultdict(list)
    for s in scores:
        given[s.criterion].append(s.score)
    rows = []
    for criterion in ALL_CRITERIA:
        values = sorted(given.get(criterion, []))
        rows.append(
            CriterionRecap(
                criterion=criterion,
                suggested=suggested.get(criterion),
                scores=values,
                result=_combine(values, rule) if values else None,
            )
        )
    totals = {p: sum(r.result or 0 for r in rows if r.criterion.startswith(p + ".")) for p in PILLARS}
    complete = all(r.result is not None for r in rows)
    total = sum(totals.values())
    meets = None
    if complete:
        meets = total >= math.ceil(pass_share * 2 * len(ALL_CRITERIA)) and (not no_zero or all(r.result for r in rows))
    return Recap(criteria=rows, pillar_totals=totals, total=total, complete=complete, meets_bar=meets)


def _combine(values: list[int], rule: RecapRule) -> int:
    if rule is RecapRule.mean:
        return math.floor(sum(values) / len(values) + 0.5)
    counts = Counter(values)
    best = max(counts.values())
    return min(v for v, n in counts.items() if n == best)


def evidence_hash(evidence: dict[str, Any]) -> str:
    """A stable hash of the evidence a signed assessment rests on."""
    canonical = json.dumps(evidence, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
