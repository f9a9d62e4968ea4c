"""Kinds without a bulk kernel (posts' reports, deposits, gotong royong, the kinds added as
plug-ins): the per-day path itself, one RT-day at a time over those kinds' rows only, so they
cost what they always cost."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from bantar.bulk.columns import Job, Part, RTDay, day_of
from bantar.bulk.load import Frames
from bantar.domain.evidence import RTReadings, day_parts, readings_window
from bantar.domain.topics import DeviceKind
from bantar.kinds.registry import plugins

PER_DAY = frozenset(p.kind for p in plugins().values() if p.evidence is not None and p.bulk is None)
"""the kinds derived the per-day way"""
_READ = PER_DAY | {read for kind in PER_DAY for read in plugins()[kind].reads}
"""their rows and the rows their evidence reads too"""


def _window(rows: Sequence[Any], start: int, end: int) -> list[Any]:
    return list(rows[bisect_left(rows, start, key=lambda r: r.ts_ms) : bisect_left(rows, end, key=lambda r: r.ts_ms)])


def _with_state(rows: Sequence[Any], start: int, end: int) -> list[Any]:
    before: dict[str, Any] = {}
    for r in rows[: bisect_left(rows, start, key=lambda r: r.ts_ms)]:
        before[r.device_id] = r
    return [*before.values(), *_window(rows, start, end)]


def _of_window(rows: RTReadings, start: int, end: int) -> dict[DeviceKind, list[Any]]:
    """The rows of ``_READ`` that the per-day path reads for a day (a state kind: with each
    device's last state before it)."""
    return {
        kind: (_with_state if plugins()[kind].series.state else _window)(rows.of(kind), start, end)
        for kind in _READ
        if kind in rows.rows
    }


def derive_few(frames: Frames, job: Job) -> dict[RTDay, Part]:
    """The per-day path over the RT-day's devices and rows of ``PER_DAY`` only, keeping their
    figures: one call for all of them (the call's own cost, not their readings, is what counts
    here). Each device's clock is judged from its own readings, so the kinds do not mix."""
    parts: dict[RTDay, Part] = {}
    for rt_code, n in job.rt_days:
        devices = [d for d in job.devices.get(rt_code, ()) if d.kind in PER_DAY]
        day = day_of(n)
        rows = frames.others.get(rt_code)
        readings = RTReadings({} if rows is None else _of_window(rows, *readings_window(day)))
        if not devices and not any(readings.rows.values()):
            continue  # nothing to derive: the defaults are the figures
        found = day_parts(devices, day, readings, job.rules, job.now_ms)
        parts[(rt_code, n)] = Part(found.figures, found.flags, found.sources)
    return parts
