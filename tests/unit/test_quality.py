"""Quality flags, time weighting, days in progress and dead days: the pure rules, one case each."""

from __future__ import annotations

from datetime import date, timedelta

from bantar.domain.evidence import CollectionRules, RTReadings, derive_day
from bantar.domain.quality import QualityRules, ShiftRules, deposit_bursts, skewed_offset_s, stuck_runs
from bantar.domain.registry import RegistryIndex
from bantar.domain.scoring import Rules, longest_run_without
from bantar.domain.timebase import to_epoch_ms, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind
from bantar.kinds.bank_sampah import DepositRow
from bantar.kinds.bin import BinRow
from bantar.kinds.cctv import CctvRow
from bantar.kinds.poskamling import PoskamlingRow

RULES = Rules.model_validate(
    {
        "overflow_pct": 90,
        "coverage_min": 0.6,
        "lapse_weeks": 3,
        "kencana_months": 12,
        "device_silent_after": 3,
        "criteria": {},
    }
).derivation()
DAY = date(2026, 11, 10)
START = to_epoch_ms(wib_day_bounds_utc(DAY)[0])
END = START + 86_400_000
MIN = 60_000


def _rt(registry_index: RegistryIndex, kind: DeviceKind) -> tuple[str, list]:  # type: ignore[type-arg]
    for code in registry_index.rts:
        devices = [d for d in registry_index.devices_in(code) if d.kind is kind]
        if devices:
            return code, devices
    raise AssertionError(kind)


def test_a_flat_line_is_stuck_but_a_bin_at_its_limit_is_not() -> None:
    assert stuck_runs([45.0] * 12 + [46.2], 12, 0.01) == list(range(12))
    assert stuck_runs([100.0] * 30 + [0.0] * 30, 12, 0.01) == []
    assert stuck_runs([45.0] * 11 + [46.0], 12, 0.01) == []


def test_a_clock_behind_is_skew_but_a_backlog_after_an_outage_is_only_late() -> None:
    live_behind = [(t * 300_000, t * 300_000 + 6 * 3_600_000) for t in range(10)]
    assert skewed_offset_s(live_behind, 900) == 6 * 3600
    backlog = [(t * 300_000, 10 * 86_400_000) for t in range(10)]  # all arrive at once, days later
    assert skewed_offset_s(backlog, 900) is None
    on_time = [(t * 300_000, t * 300_000 + 2000) for t in range(10)]
    assert skewed_offset_s(on_time, 900) is None


def test_many_tiny_deposits_within_minutes_are_a_burst() -> None:
    q = QualityRules()
    burst = [(i * 10_000, 0.1) for i in range(26)]
    real = [(3_600_000 + i * 60_000, 1.5) for i in range(20)]
    assert deposit_bursts(burst + real, q) == list(range(26))
    assert deposit_bursts([(i * 120_000, 0.1) for i in range(20)], q) == []  # one every 2 min: no


def test_a_five_minute_shift_is_not_a_staffed_night() -> None:
    shift = ShiftRules(min_hours=2, min_guards=2)
    assert shift.longest_shift_h([(0, True, 3), (5 * MIN, False, 0)]) < 2
    assert shift.longest_shift_h([(0, True, 3), (6 * 60 * MIN, False, 0)]) == 6
    assert shift.longest_shift_h([(0, True, 1), (6 * 60 * MIN, False, 0)]) == 0  # one guard


def test_a_small_bin_emptied_is_a_collection_and_noise_is_not() -> None:
    c = CollectionRules()
    assert c.is_collection(9.0, 0.5)
    assert c.is_collection(60.0, 2.0)
    assert not c.is_collection(7.0, 2.0)
    assert not c.is_collection(30.0, 25.0)


def test_mean_fill_weighs_time_not_samples(registry_index: RegistryIndex) -> None:
    """A bin at 40 % for 12 h, then at 90 % for 12 h reporting ten times as often: 65 %, not 85."""
    code, bins = _rt(registry_index, DeviceKind.bin)
    rt = registry_index.rts[code].rt
    interval = bins[0].interval_s * 1000
    rows = [
        BinRow(bins[0].id, START + i * interval, 40.0 + (i % 2) * 0.3, i) for i in range(12 * 3_600_000 // interval)
    ]
    fast = interval // 10
    rows += [
        BinRow(bins[0].id, START + 12 * 3_600_000 + i * fast, 90.0 + (i % 2) * 0.3, 1000 + i)
        for i in range(12 * 3_600_000 // fast)
    ]
    e = derive_day(rt, bins[:1], DAY, RTReadings({DeviceKind.bin: rows}), RULES, now_ms=END)
    assert e.bin_mean_fill is not None
    assert abs(e.bin_mean_fill - 65.15) < 0.2
    assert abs(e.bin_overflow_hours - 12) < 0.1


def test_impossible_distances_are_flagged_not_stored_as_empty(registry_index: RegistryIndex) -> None:
    code, bins = _rt(registry_index, DeviceKind.bin)
    bin1 = bins[0]
    assert bin1.depth_cm
    rows = [BinRow(bin1.id, START + i * 300_000, 0.0, i, 0, bin1.depth_cm * 1.5) for i in range(3)]
    rows += [BinRow(bin1.id, START + (3 + i) * 300_000, 0.0, 3 + i, 0, 999.9) for i in range(2)]
    e = derive_day(registry_index.rts[code].rt, bins[:1], DAY, RTReadings({DeviceKind.bin: rows}), RULES, END)
    assert {f.code for f in e.flags} == {"beyond_depth", "sentinel"}
    assert e.bin_readings == 0
    assert e.bin_mean_fill is None


def test_a_camera_on_but_not_recording_is_not_uptime(registry_index: RegistryIndex) -> None:
    code, cams = _rt(registry_index, DeviceKind.cctv)
    step = cams[0].interval_s * 1000
    rows = [CctvRow(cams[0].id, START + i * step, True, i, 0, False) for i in range(86_400_000 // step)]
    e = derive_day(registry_index.rts[code].rt, cams[:1], DAY, RTReadings({DeviceKind.cctv: rows}), RULES, END)
    assert e.cctv_online_heartbeats == 0
    assert e.cctv_uptime is None  # every expected heartbeat flagged: bukti kurang, not 0
    assert [f.code for f in e.flags] == ["not_recording"]


def test_a_day_in_progress_expects_only_what_has_passed(registry_index: RegistryIndex) -> None:
    code, cams = _rt(registry_index, DeviceKind.cctv)
    step = cams[0].interval_s * 1000
    two_hours = START + 2 * 3_600_000
    rows = [CctvRow(cams[0].id, START + i * step, True, i) for i in range(2 * 3_600_000 // step)]
    e = derive_day(registry_index.rts[code].rt, cams[:1], DAY, RTReadings({DeviceKind.cctv: rows}), RULES, two_hours)
    assert e.in_progress
    assert e.cctv_uptime == 1.0


def test_daytime_incidents_are_evidence_too(registry_index: RegistryIndex) -> None:
    code, posts = _rt(registry_index, DeviceKind.poskamling)
    rows = [
        PoskamlingRow(posts[0].id, START + 10 * 3_600_000, "incident", None, None, 1),
        PoskamlingRow(posts[0].id, START + 23 * 3_600_000, "incident", None, None, 2),
    ]
    e = derive_day(
        registry_index.rts[code].rt, posts, DAY, RTReadings({DeviceKind.poskamling: rows}), RULES, END + 86_400_000
    )
    assert (e.incidents, e.incidents_daytime) == (1, 1)


def test_burst_deposits_do_not_count(registry_index: RegistryIndex) -> None:
    code = next(iter(registry_index.rts))
    rows = [
        DepositRow("op", START + 9 * 3_600_000 + i * 10_000, f"hh-new-{i}", {"plastic": 0.1}, 300, i) for i in range(26)
    ]
    rows.append(DepositRow("op", START + 10 * 3_600_000, "hh-real", {"paper": 2.0}, 3000, 30))
    e = derive_day(registry_index.rts[code].rt, [], DAY, RTReadings({DeviceKind.bank_sampah: rows}), RULES, END)
    assert (e.deposits, e.households, e.deposits_flagged) == (1, 1, 26)


def test_dead_days_break_a_run_without_collection_and_never_lengthen_it() -> None:
    start = date(2026, 11, 1)
    collected = [start, start + timedelta(days=6)]
    dead = [start + timedelta(days=d) for d in (1, 2, 3, 4)]
    assert longest_run_without(collected, start, start + timedelta(days=6)) == 5
    assert longest_run_without(collected, start, start + timedelta(days=6), dead) == 1
