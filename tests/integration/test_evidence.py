"""The evidence engine against the simulator's ground truth: one kelurahan (23 RTs, 95 devices)
over 35 days, with lapsing and faulty RTs, stored in a real SQLite file."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bantar.evidence_service import EvidenceQueries
from tests.support import store_directly
from tests.world import END, START, World, private_copy


def evidence_by_rt_day(world: World) -> dict[tuple[str, date], Any]:
    days = world.store.day_evidence(None, START.date(), END.date())
    return {(e.rt_code, e.day): e for e in days}


def test_daily_evidence_matches_the_ground_truth(world: World) -> None:
    evidence = evidence_by_rt_day(world)
    truth = world.sim.truth.days
    checked = 0
    for code in world.registry.rts:
        if code in world.faulty:
            continue  # their sensors lie by design; see the coverage test
        days = [d for (c, d) in truth if c == code and START.date() <= d < END.date() - timedelta(days=1)]
        t = [truth[(code, d)] for d in days]
        e = [evidence.get((code, d)) for d in days]
        assert all(x is not None for x in e), code
        # collections: within one per RT over the month (a collection at midnight may land a day late)
        assert abs(sum(x.bin_collections for x in e) - sum(x.bin_collections for x in t)) <= 1, code
        # overflow hours: within 2 h or 15 % per RT over the month (sensor noise around the threshold)
        est, real = sum(x.bin_overflow_hours for x in e), sum(x.bin_overflow_hours for x in t)
        assert abs(est - real) <= max(2.0, 0.15 * real), (code, est, real)
        for x, y in zip(e, t, strict=True):
            if y.cameras:  # heartbeats up (online and recording) and flagged (online, not recording)
                assert (x.cctv_online_heartbeats, x.cctv_heartbeats_flagged) == (y.cctv_up_valid, y.cctv_flagged)
            assert x.night_staffed == (y.night_staffed if x.posts else None), (code, x.day)
            assert x.patrols == y.patrols
            assert x.deposits == y.deposits
            assert x.households == len(y.households)
            assert x.deposit_kg == pytest.approx(y.deposit_kg, abs=1e-6)
            checked += 1
    assert checked > 500


def test_a_faulty_sensor_lowers_coverage_instead_of_faking_a_zero(world: World) -> None:
    evidence = {k: e for k, e in evidence_by_rt_day(world).items() if START.date() <= k[1] < END.date()}
    coverages = [e.bin_coverage for (c, _), e in evidence.items() if c in world.faulty and e.bins]
    healthy = [e.bin_coverage for (c, _), e in evidence.items() if c not in world.faulty and e.bins]
    assert min(coverages) < 0.9
    assert min(healthy) > 0.95


def test_lapsing_rts_raise_reassessment_alerts_and_healthy_ones_do_not(world: World) -> None:
    alerts = [a for a in world.queries.alerts() if a.kind == "reassessment"]
    alerted = {a.rt_code for a in alerts}
    assert world.lapsing
    assert set(world.lapsing) <= alerted
    assert not alerted & set(world.healthy_awarded)
    assert all(a.recent_scores and all(s is not None and s < a.awarded for s in a.recent_scores) for a in alerts)


def test_period_scores_name_their_evidence_and_category(world: World) -> None:
    code = world.healthy_awarded[0]
    scores = world.queries.scores(code, END.date() - timedelta(days=28), END.date() - timedelta(days=1))
    rt = world.registry.rts[code].rt
    assert scores.category.category == rt.category
    by_name = {c.criterion: c for c in scores.criteria}
    assert set(by_name) == {"bersih.b", "bersih.c", "bersih.g", "aman.b"}
    assert by_name["bersih.g"].score is None  # nobody posted gotong royong events
    for criterion in by_name.values():
        assert criterion.rationale.id
        assert all(i.metric for i in criterion.indicators)


def test_incremental_derivation_equals_a_recompute_from_scratch(world: World) -> None:
    incremental = world.store.day_evidence(None, START.date() - timedelta(days=1), END.date())
    random.Random(1).shuffle(replay := world.messages[:2000])
    store_directly(world.store, world.registry, replay, END)  # replayed readings: duplicates
    assert world.updater.update_all() > 0  # they touched some RT-days
    assert world.store.day_evidence(None, START.date() - timedelta(days=1), END.date()) == incremental
    world.updater.rebuild()
    assert world.store.day_evidence(None, START.date() - timedelta(days=1), END.date()) == incremental


def test_city_summary_counts_every_rt_once(world: World) -> None:
    summary = world.queries.summary("city", None, END.date() - timedelta(days=28), END.date() - timedelta(days=1))
    assert summary.rts == 23
    for counts in summary.criteria:
        assert counts.baik + counts.sedang + counts.kurang + counts.insufficient == 23
    assert summary.open_alerts.get("reassessment", 0) >= len(world.lapsing)


def test_warm_summaries_follow_the_evidence(world: World, tmp_path: Path) -> None:
    """Every area's summary of the default period is ready after each turn of the evidence loop,
    equal to computing it afresh, before and after the evidence changes. It changes a copy of the
    world's store: saved figures get a new revision, which later modules comparing the world would see."""
    store = private_copy(world.store, tmp_path)
    queries = EvidenceQueries(store, world.registry, world.rules, now=lambda: END + timedelta(minutes=1))
    period = queries.default_period()
    areas: list[tuple[Any, str | None]] = [("city", None)]
    areas += [("kecamatan", p.kecamatan_code) for p in world.registry.rts.values()][:1]
    areas += [("kelurahan", p.kelurahan_code) for p in world.registry.rts.values()][:1]

    queries.warm()
    for level, code in areas:
        served = queries.summary(level, code, *period)
        assert served is queries.summary(level, code, *period)
        assert served == queries._summary(level, code, *period)

    original = store.day_evidence(None, period[1], period[1])[0]
    changed = original.model_copy(
        update={"cctv_online_heartbeats": 0, "night_staffed": False, "bin_overflow_hours": 24}
    )
    before = queries.summary("city", None, *period)
    store.save_evidence([changed], [])
    fresh = queries._summary("city", None, *period)
    assert fresh != before
    queries.warm()  # the evidence loop's turn after the change
    assert queries.summary("city", None, *period) == fresh
    never_warmed = EvidenceQueries(store, world.registry, world.rules, now=lambda: END + timedelta(minutes=1))
    assert never_warmed.summary("city", None, *period) == fresh
    store.close()
