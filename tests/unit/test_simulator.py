"""Simulator: determinism, scenario signatures, ground truth. Pure generation, no broker."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from statistics import mean

import pytest

from bantar.domain.registry import Registry
from bantar.domain.timebase import WIB
from bantar.domain.topics import DeviceKind
from bantar.kinds.registry import plugins
from simulators.engine import Simulation, model_of
from simulators.truth import read_truth
from tests.support import REPO

END = datetime(2026, 11, 1, tzinfo=WIB)


def trimmed(registry: Registry, rts: int, kinds: set[DeviceKind]) -> Registry:
    """The first ``rts`` RTs of a registry with only devices of ``kinds``."""
    kel = registry.kecamatan[0].kelurahan[0]
    kept = kel.rts[:rts]
    codes = {rt.code for rt in kept}
    kecamatan = registry.kecamatan[0].model_copy(update={"kelurahan": [kel.model_copy(update={"rts": kept})]})
    devices = [d for d in registry.devices if d.rt in codes and d.kind in kinds]
    return Registry(kecamatan=[kecamatan], devices=devices)


def run(registry: Registry, days: float, **options: object) -> tuple[Simulation, list]:  # type: ignore[type-arg]
    sim = Simulation(registry, start=END - timedelta(days=days), end=END, **options)  # type: ignore[arg-type]
    return sim, list(sim.messages())


def test_same_seed_same_bytes_even_across_processes(tmp_path: Path) -> None:
    outputs = []
    for seed, hash_seed in [(5, "1"), (5, "2"), (6, "1")]:
        out = tmp_path / f"{seed}-{hash_seed}.jsonl"
        env = {
            **os.environ,
            "PYTHONHASHSEED": hash_seed,
            "BANTAR_REGISTRY": str(REPO / "config/registry.yaml"),
        }
        subprocess.run(
            [
                sys.executable,
                "-m",
                "shell",
                "simulate",
                "--days",
                "0.5",
                "--end",
                END.isoformat(),
                "--seed",
                str(seed),
                "--scenario",
                "healthy",
                "--scenario",
                "hostile:0.2",
                "--scenario",
                "faulty-sensors:0.3",
                "--out",
                str(out),
            ],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]
    assert len(outputs[0].splitlines()) > 10_000


def test_each_simulated_kind_is_found_through_its_plugin() -> None:
    simulated = {kind: p.simulator for kind, p in plugins().items() if p.simulator is not None}
    assert {DeviceKind.bin, DeviceKind.cctv, DeviceKind.poskamling, DeviceKind.bank_sampah} <= set(simulated)
    for kind, path in simulated.items():
        model = model_of(kind)
        assert f"{model.__module__}:{model.__name__}" == path
    with pytest.raises(ValueError, match="no simulator model"):
        model_of(DeviceKind.gotong_royong)  # posted by the RT head, not sent by a device


def test_messages_are_in_time_order_with_contiguous_sequences(small_registry: Registry) -> None:
    _, messages = run(trimmed(small_registry, 4, set(DeviceKind)), 1, seed=2)
    assert [m.at for m in messages] == sorted(m.at for m in messages)
    seqs: dict[str, list[int]] = defaultdict(list)
    for m in messages:
        seqs[m.device_id].append(json.loads(m.payload)["seq"])
    assert all(s == list(range(1, len(s) + 1)) for s in seqs.values())


def test_lapsing_rts_decay_after_the_onset_and_healthy_ones_do_not(small_registry: Registry) -> None:
    registry = trimmed(small_registry, 23, {DeviceKind.bin, DeviceKind.poskamling, DeviceKind.bank_sampah})
    with_post = {d.rt for d in registry.devices if d.kind is DeviceKind.poskamling}
    rts = [rt.code for rt in registry.kecamatan[0].kelurahan[0].rts if rt.code in with_post]
    lapsing, healthy = rts[: len(rts) // 2], rts[len(rts) // 2 :]
    onset = END - timedelta(days=42)
    sim, _ = run(registry, 56, seed=3, scenarios=["healthy", f"lapsing:{','.join(lapsing)}"], lapse_onset=onset)

    def staffed_share(codes: list[str], after: bool) -> float:
        nights = [
            r.night_staffed
            for (code, day), r in sim.truth.days.items()
            if code in codes and (day >= (onset + timedelta(days=21)).date()) == after and day < END.date()
        ]
        return mean(nights)

    assert staffed_share(lapsing, after=False) > 0.75
    assert staffed_share(lapsing, after=True) < 0.55
    assert staffed_share(healthy, after=True) > 0.75

    def per_day(codes: list[str], field: str, after: bool) -> float:
        """Daily mean of a truth field: before the onset, or from three weeks after it."""
        cut = (onset + timedelta(days=21)).date() if after else onset.date()
        values = [
            getattr(r, field)
            for (c, d), r in sim.truth.days.items()
            if c in codes and ((d >= cut) if after else (d < cut)) and d < END.date()
        ]
        return sum(values) / len(values)

    assert per_day(lapsing, "bin_overflow_hours", after=True) > 3 * per_day(lapsing, "bin_overflow_hours", after=False)
    assert per_day(lapsing, "deposits", after=True) < 0.5 * per_day(lapsing, "deposits", after=False)
    assert per_day(healthy, "deposits", after=True) > 0.6 * per_day(healthy, "deposits", after=False)


def test_faulty_sensors_report_something_other_than_the_truth(small_registry: Registry) -> None:
    registry = trimmed(small_registry, 10, {DeviceKind.bin})
    _, faulty = run(registry, 10, seed=4, scenarios=["faulty-sensors"])
    _, healthy = run(registry, 10, seed=4, scenarios=["healthy"])
    assert len(faulty) < 0.98 * len(healthy)  # silent spells and flat batteries

    def longest_flat_run(messages: list) -> int:  # type: ignore[type-arg]
        by_device: dict[str, list[float]] = defaultdict(list)
        for m in messages:
            by_device[m.device_id].append(json.loads(m.payload)["fill_pct"])
        best = 0
        for values in by_device.values():
            run_length = 1
            for a, b in itertools.pairwise(values):
                run_length = run_length + 1 if a == b and 0 < a < 100 else 1
                best = max(best, run_length)
        return best

    assert longest_flat_run(faulty) >= 24  # stuck for two hours or more
    assert longest_flat_run(healthy) < 6


def test_blackout_silences_a_whole_kelurahan_at_once(small_registry: Registry) -> None:
    registry = trimmed(small_registry, 8, {DeviceKind.cctv})
    first_rt = registry.kecamatan[0].kelurahan[0].rts[0].code
    sim, messages = run(registry, 5, seed=6, scenarios=["healthy", f"blackout:{first_rt}"])
    assert all("blackout" in plan.names for plan in sim.plans.values())  # spread to the kelurahan
    times = [m.at for m in messages]
    longest_silence = max(b - a for a, b in itertools.pairwise(times))
    assert longest_silence > 1800  # every camera of the kelurahan quiet at once
    uptimes = [r.camera_uptime for r in sim.truth.days.values() if r.cameras]
    assert min(uptimes) < 0.97


def test_clock_skew_drifts_device_time_away_from_true_time(small_registry: Registry) -> None:
    registry = trimmed(small_registry, 6, {DeviceKind.bin})
    _, messages = run(registry, 20, seed=7, scenarios=["clock-skew"])
    late = [m for m in messages if m.at > (END - timedelta(days=1)).timestamp()]
    skews = [datetime.fromisoformat(json.loads(m.payload)["ts"]).timestamp() - m.at for m in late]
    assert max(abs(s) for s in skews) > 600  # minutes off after three weeks
    _, straight = run(registry, 20, seed=7, scenarios=["healthy"])
    assert all(abs(datetime.fromisoformat(json.loads(m.payload)["ts"]).timestamp() - m.at) < 1 for m in straight)


def test_hostile_messages_are_marked_and_counted_in_the_truth(small_registry: Registry) -> None:
    registry = trimmed(small_registry, 5, {DeviceKind.bin, DeviceKind.poskamling})
    sim, messages = run(registry, 3, seed=8, scenarios=["healthy", "hostile:0.4"])
    hostile = [m for m in messages if m.device_id is None]
    assert len(hostile) == sum(r.hostile_messages for r in sim.truth.days.values()) > 0


def test_ground_truth_file_round_trips(small_registry: Registry, tmp_path: Path) -> None:
    sim, _ = run(trimmed(small_registry, 3, set(DeviceKind)), 2, seed=9, scenarios=["healthy"])
    path = tmp_path / "truth.jsonl"
    sim.truth.write(path)
    meta, days = read_truth(path)
    assert meta["seed"] == 9
    assert meta["overflow_pct"] == 90.0
    assert len(days) == 3 * 2
    record = next(iter(days.values()))
    for field in (
        "bins",
        "bin_collections",
        "bin_overflow_hours",
        "cameras",
        "camera_uptime",
        "night_staffed",
        "patrols",
        "incidents",
        "deposits",
        "deposit_kg",
        "households",
        "hostile_messages",
    ):
        assert field in record


def test_bad_scenarios_are_refused_with_a_reason(small_registry: Registry) -> None:
    with pytest.raises(ValueError, match="unknown scenario 'typhoon'"):
        run(small_registry, 1, scenarios=["typhoon"])
    with pytest.raises(ValueError, match="not in the registry: nowhere"):
        run(small_registry, 1, scenarios=["lapsing:nowhere"])
