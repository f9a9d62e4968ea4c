"""Data quality: which readings the sensors cannot vouch for, and why. Pure functions.

A flagged reading is left out of every figure (it counts towards "bukti kurang") and its day
carries a ``DayFlag`` naming the device, so people see what to fix. Every threshold lives in
``config/rules.yaml`` (``quality``, ``shift``), each labelled as this service's assumption.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from enum import StrEnum
from statistics import median

from pydantic import BaseModel, ConfigDict, Field


class FlagCode(StrEnum):
    stuck = "stuck"
    """a flat line: the same fill, within tolerance, for a long run of readings"""
    sentinel = "sentinel"
    """the sensor's out-of-range value (e.g. 9999 mm), not a distance"""
    beyond_depth = "beyond_depth"
    """a distance longer than the bin is deep"""
    not_recording = "not_recording"
    """a camera online but not recording"""
    clock_skew = "clock_skew"
    """the device's clock is off by more than the allowed skew"""
    deposit_burst = "deposit_burst"
    """many tiny deposits within minutes: gaming, not participation"""
    short_shift = "short_shift"
    """someone went on duty, but the shift was too short or too thin to count"""


class DayFlag(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: FlagCode
    device_id: str
    readings: int
    """how many of the device's readings of the day it concerns"""
    offset_s: int | None = None
    """clock skew: device time behind (+) or ahead (-) of the receive time, in seconds"""


class QualityRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stuck_readings: int = Field(default=12, ge=3, le=10_000)
    stuck_tolerance_pct: float = Field(default=0.01, ge=0, le=5)
    sentinel_distance_cm: list[float] = Field(default=[999.9])
    beyond_depth_tolerance: float = Field(default=0.1, ge=0, le=1)
    clock_skew_max_s: int = Field(default=900, ge=60)
    late_after_s: int = Field(default=3600, ge=60)
    burst_deposits: int = Field(default=10, ge=2)
    burst_window_s: int = Field(default=600, ge=10)
    burst_max_kg: float = Field(default=0.5, gt=0)


class ShiftRules(BaseModel):
    """A staffed night needs one shift of at least ``min_hours`` with at least ``min_guards``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_hours: float = Field(default=2.0, ge=0, le=12)
    min_guards: int = Field(default=2, ge=1, le=50)

    def longest_shift_h(self, duty: Sequence[tuple[int, bool | None, int | None]]) -> float:
        """``duty``: (ts_ms, on_duty, guards) of the night's duty reports, by time. A shift runs
        from an on-duty report with enough guards to the next report that is not (off duty, or
        too few guards); without one, to its last on-duty report."""
        longest = 0
        began: int | None = None
        last = 0
        for ts, on, guards in duty:
            staffed = bool(on) and (guards or 0) >= self.min_guards
            if staffed:
                began = ts if began is None else began
                last = ts
            elif began is not None:
                longest = max(longest, ts - began)
                began = None
        if began is not None:
            longest = max(longest, last - began)
        return longest / 3_600_000


def stuck_runs(values: Sequence[float], run: int, tolerance: float) -> list[int]:
    """Indexes of readings in runs of at least ``run`` consecutive values within ``tolerance``
    of the run's first. Runs at 0 or 100 % are left alone: an empty or overflowing bin really
    reads flat at its limit."""
    found: list[int] = []
    i = 0
    while i < len(values):
        j = i + 1
        while j < len(values) and abs(values[j] - values[i]) <= tolerance:
            j += 1
        if j - i >= run and 0.0 < values[i] < 100.0:
            found.extend(range(i, j))
        i = j
    return found


def skewed_offset_s(pairs: Sequence[tuple[int, int]], max_skew_s: int) -> int | None:
    """The clock offset (receive time minus device time, seconds) of a device whose clock is off
    by more than ``max_skew_s``, judged from its live readings; None when it is within bounds or
    cannot be judged. ``pairs``: (device ms, receive ms) by device time.

    Live readings arrive spaced as they were taken; a backlog uploaded after an outage arrives
    bunched and says nothing about the clock (it is late, not skewed), so it is left out."""
    lags = [
        received - ts
        for (prev_ts, prev_rx), (ts, received) in itertools.pairwise(pairs)
        if ts > prev_ts and received - prev_rx >= (ts - prev_ts) / 2
    ]
    if len(lags) < 3:
        return None
    offset = median(lags) / 1000
    return round(offset) if abs(offset) > max_skew_s else None


def late_count(pairs: Sequence[tuple[int, int]], late_ms: int) -> int:
    """Readings received more than ``late_ms`` after their device time."""
    return sum(1 for ts, received in pairs if received and received - ts > late_ms)


def deposit_bursts(deposits: Sequence[tuple[int, float]], q: QualityRules) -> list[int]:
    """Indexes of deposits in a burst: at least ``burst_deposits`` tiny ones (``burst_max_kg``
    or less in all) within ``burst_window_s``. ``deposits``: (ts_ms, total kg) by time."""
    tiny = [i for i, (_, kg) in enumerate(deposits) if kg <= q.burst_max_kg]
    marked: set[int] = set()
    j = 0
    for k, i in enumerate(tiny):
        while deposits[tiny[j]][0] < deposits[i][0] - q.burst_window_s * 1000:
            j += 1
        if k - j + 1 >= q.burst_deposits:
            marked.update(tiny[j : k + 1])
    return sorted(marked)
