"""Scenarios: named changes to device behaviour, selectable per RT and composable.

A scenario spec is ``NAME`` (every RT), ``NAME:0.25`` (a seeded quarter of the RTs) or
``NAME:RT,RT`` (those RTs). Specs apply in order, so ``healthy lapsing:0.2 blackout:0.1`` gives a
city where a fifth of the RTs lapse and a tenth of them (possibly overlapping) suffer power cuts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

SCENARIOS = (
    "healthy",
    "lapsing",
    "faulty-sensors",
    "blackout",
    "hostile",
    "clock-skew",
    "stuck",
    "sentinel",
    "not-recording",
    "clock-offset",
    "late-upload",
    "cadence",
    "gaming",
)
FAULTS = ("stuck", "sentinel", "not-recording", "clock-offset", "late-upload", "cadence", "gaming")
"""Scenarios whose faults the ground truth says the engine must flag (or, for late uploads and
cadence changes, must not flag): see docs/ground-truth.md."""


@dataclass(frozen=True)
class Behaviour:
    """What the devices of one RT do. ``healthy`` is the default; scenarios change fields."""

    collection_every_days: float = 2.0
    collection_miss_p: float = 0.05
    fill_pct_per_day_per_60kk: float = 25.0
    night_staffed_p: float = 0.9
    patrols_per_night: int = 5
    incident_p_per_night: float = 0.01
    camera_faults_per_day: float = 0.08
    camera_fault_hours: float = 3.0
    bank_participation: float = 0.35
    """share of the RT's households that bring waste on a deposit day"""
    # faulty-sensors
    bin_stuck_p_per_day: float = 0.0
    bin_spike_p: float = 0.0
    bin_silent_p_per_day: float = 0.0
    battery_drain_pct_per_day: float = 0.2
    # blackout: power cuts over the whole kelurahan
    power_cuts_per_day: float = 0.0
    # clock-skew: device clock drift in seconds per day (spread over devices)
    clock_drift_s_per_day: float = 0.0
    hostile: bool = False
    # faults with ground truth (whole WIB days, so the truth is exact)
    stuck_day_p: float = 0.0
    """a bin repeats one value all day"""
    sentinel_p: float = 0.0
    """a bin reports raw distances, and this share of them is the 9999 mm sentinel"""
    not_recording_day_p: float = 0.0
    """a camera is online all day but not recording"""
    clock_offset_s: float = 0.0
    """one device per kind runs its clock this far behind all along"""
    outage_day_p: float = 0.0
    """a device's uplink is down for a day; it uploads the day's readings when it returns"""
    fast_when_full: bool = False
    """a bin reports every minute once it is 80 % full"""
    gaming_p: float = 0.0
    """on a deposit day, the operator adds a burst of 26 tiny deposits from new households"""


LAPSED = Behaviour(
    collection_miss_p=0.55,
    night_staffed_p=0.25,
    patrols_per_night=2,
    camera_faults_per_day=0.35,
    camera_fault_hours=20.0,
    bank_participation=0.04,
)
"""Where a lapsing RT ends up: collections missed, nights unstaffed, cameras left broken."""

LAPSE_WEEKS = 3.0
"""Time constant of the decay: ~63 % of the way to LAPSED three weeks after the onset."""


@dataclass(frozen=True)
class Plan:
    """Which scenarios apply to an RT, and from when a lapsing RT starts to decay."""

    names: tuple[str, ...]
    lapse_onset: datetime | None = None

    def behaviour(self, at: datetime) -> Behaviour:
        b = Behaviour()
        if "faulty-sensors" in self.names:
            b = replace(
                b,
                bin_stuck_p_per_day=0.08,
                bin_spike_p=0.01,
                bin_silent_p_per_day=0.05,
                battery_drain_pct_per_day=3.0,
            )
        if "blackout" in self.names:
            b = replace(b, power_cuts_per_day=0.3)
        if "clock-skew" in self.names:
            b = replace(b, clock_drift_s_per_day=90.0)
        if "hostile" in self.names:
            b = replace(b, hostile=True)
        faults: dict[str, dict[str, float | bool]] = {
            "stuck": {"stuck_day_p": 0.15},
            "sentinel": {"sentinel_p": 0.01},
            "not-recording": {"not_recording_day_p": 0.15},
            "clock-offset": {"clock_offset_s": 6 * 3600.0},
            "late-upload": {"outage_day_p": 0.1},
            "cadence": {"fast_when_full": True},
            "gaming": {"gaming_p": 0.5},
        }
        for name, changes in faults.items():
            if name in self.names:
                b = replace(b, **changes)  # type: ignore[arg-type]  # field name -> value of that field
        if "lapsing" in self.names and self.lapse_onset is not None and at > self.lapse_onset:
            weeks = (at - self.lapse_onset) / timedelta(weeks=1)
            b = _towards(b, LAPSED, 1 - math.exp(-weeks / LAPSE_WEEKS))
        return b


_DECAYING = (
    "collection_miss_p",
    "night_staffed_p",
    "camera_faults_per_day",
    "camera_fault_hours",
    "bank_participation",
)


def _towards(b: Behaviour, target: Behaviour, share: float) -> Behaviour:
    changes: dict[str, float | int] = {
        name: getattr(b, name) + (getattr(target, name) - getattr(b, name)) * share for name in _DECAYING
    }
    changes["patrols_per_night"] = round(b.patrols_per_night + (target.patrols_per_night - b.patrols_per_night) * share)
    return replace(b, **changes)  # type: ignore[arg-type]  # field name -> value of that field


def plan_rts(specs: Sequence[str], rt_codes: Sequence[str], seed: int, lapse_onset: datetime) -> dict[str, Plan]:
    """Assign scenarios to RTs from specs; raise ValueError naming a bad spec."""
    assigned: dict[str, list[str]] = {code: [] for code in rt_codes}
    for spec in specs or ["healthy"]:
        name, _, target = spec.partition(":")
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
        chosen = _select(target, list(rt_codes), random.Random(f"{seed}:{spec}"), spec)
        for code in chosen:
            if name not in assigned[code]:
                assigned[code].append(name)
    return {
        code: Plan(tuple(names) or ("healthy",), lapse_onset if "lapsing" in names else None)
        for code, names in assigned.items()
    }


def _select(target: str, rt_codes: list[str], rng: random.Random, spec: str) -> list[str]:
    if not target:
        return rt_codes
    try:
        share = float(target)
    except ValueError:
        wanted = target.split(",")
        unknown = [code for code in wanted if code not in rt_codes]
        if unknown:
            raise ValueError(f"scenario {spec!r} names RTs not in the registry: {', '.join(unknown)}") from None
        return wanted
    if not 0 < share <= 1:
        raise ValueError(f"scenario {spec!r}: the share must be in (0, 1]")
    return sorted(rng.sample(rt_codes, max(1, round(share * len(rt_codes)))))
