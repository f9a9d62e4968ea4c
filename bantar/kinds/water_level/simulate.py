"""The simulator's flood sensor: a seasonal base level plus rain floods, more of them and higher
in the rainy season (November to March in Jambi). Loaded by the simulator only
(``KindPlugin.simulator``); it speaks to the simulator through ``Context`` by duck typing, so
the core imports nothing of the simulator.

Ground truth per RT and WIB day (``kinds.water_level``): the highest level sent and the hours
each reading stood for at or above its device's registered danger level (none without one)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

from bantar.domain.registry import RT, Device
from bantar.domain.timebase import wib_day

RAINY_MONTHS = frozenset({11, 12, 1, 2, 3})
FLOODS_PER_DAY = {True: 0.35, False: 0.06}
"""chance of a flood starting on a day, rainy season or not"""
RISE_S, FALL_S = 2 * 3600, 8 * 3600
"""a flood rises over two hours and falls back with an eight-hour time constant"""
DEFAULT_WARNING_CM, DEFAULT_DANGER_CM = 150.0, 200.0


class _Context(Protocol):
    device: Device
    rt: RT
    rng: random.Random
    start: float
    end: float
    truth: Any

    def send(self, at: float, body: dict[str, Any]) -> Any: ...


def _rainy(at: float) -> bool:
    return datetime.fromtimestamp(at, UTC).month in RAINY_MONTHS


def _floods(ctx: _Context, danger: float) -> list[tuple[float, float]]:
    """(peak time, height above the base in cm) of each flood of the period."""
    floods = []
    day_s = 86_400.0
    t = ctx.start - day_s  # a flood of the day before may still be falling
    while t < ctx.end:
        if ctx.rng.random() < FLOODS_PER_DAY[_rainy(t)]:
            high = 1.4 if _rainy(t) else 0.8
            floods.append((t + ctx.rng.uniform(0, day_s), danger * ctx.rng.uniform(0.3, high)))
        t += day_s
    return floods


def _level(at: float, base: float, floods: list[tuple[float, float]]) -> float:
    level = base
    for peak, height in floods:
        if peak - RISE_S <= at <= peak:
            level += height * (at - (peak - RISE_S)) / RISE_S
        elif at > peak:
            level += height * math.exp(-(at - peak) / FALL_S)
    return level


def water_levels(ctx: _Context) -> Iterator[Any]:
    warning = ctx.device.calibration.get("warning_cm", DEFAULT_WARNING_CM)
    registered = ctx.device.calibration.get("danger_cm")
    danger = DEFAULT_DANGER_CM if registered is None else registered
    floods = _floods(ctx, danger)
    interval = ctx.device.interval_s
    at = ctx.start + ctx.rng.uniform(0, interval)
    battery = ctx.rng.uniform(70, 100)
    while at < ctx.end:
        base = warning * (0.45 if _rainy(at) else 0.25)
        level = round(_level(at, base, floods) + ctx.rng.gauss(0, 1.5), 1)
        battery = max(5.0, battery - 0.001)
        truth = ctx.truth.at(ctx.rt.code, wib_day(datetime.fromtimestamp(at, UTC))).kinds.setdefault(
            "water_level", {"max_level_cm": level, "hours_above_danger": 0.0}
        )
        truth["max_level_cm"] = max(truth["max_level_cm"], level)
        if registered is not None and level >= registered:
            truth["hours_above_danger"] += interval / 3600
        yield ctx.send(at, {"level_cm": level, "battery_pct": round(battery, 1)})
        at += interval
