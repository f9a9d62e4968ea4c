"""Kinds with few readings (posts' reports, deposits, gotong royong, the kinds added as plug-ins):
the per-day path itself, one RT-day at a time over those kinds' rows only, so they cost what
they always cost."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bantar.bulk.columns import Job, Part, RTDay, day_of
from bantar.bulk.load import Frames
from bantar.domain.evidence import RTReadings, derive_day, readings_window
from bantar.domain.topics import DeviceKind
from bantar.kinds.contract import KindRow
from bantar.kinds.registry import plugins

POST_FIELDS = (
    "posts",
    "post_reports",
    "post_reports_expected",
    "post_reports_flagged",
    "night_staffed",
    "night_observed",
    "night_shift_hours",
    "patrols",
    "incidents",
    "incidents_daytime",
)
DEPOSIT_FIELDS = ("deposits", "deposits_flagged", "deposit_kg", "households", "deposit_value_idr", "household_ids")
GOTONG_ROYONG_FIELDS = ("gotong_royong_events", "gotong_royong_attendance")
PLUGIN_FIELDS = ("kinds",)

R = TypeVar("R")
NOTHING = RTReadings([], [], [], [], [])


def _window(rows: Sequence[R], start: int, end: int, ts: Callable[[R], int]) -> list[R]:
    return list(rows[bisect_left(rows, start, key=ts) : bisect_left(rows, end, key=ts)])


def _few(rows: RTReadings, start: int, end: int) -> RTReadings:
    """The rows of the kinds with few readings that the per-day path reads for a day."""
    return RTReadings(
        [],
        [],
        _window(rows.poskamling, start, end, lambda r: r.ts_ms),
        _window(rows.deposits, start, end, lambda r: r.ts_ms),
        _window(rows.gotong_royong, start, end, lambda r: r.ts_ms),
        kinds=_plugin_kinds(rows, start, end),
    )


def _plugin_kinds(rows: RTReadings, start: int, end: int) -> dict[DeviceKind, list[KindRow]]:
    """The plug-in kinds' rows of the window (a state kind: with each device's last state before it)."""
    return {
        kind: _with_state(found, start, end)
        if plugins()[kind].series.state
        else _window(found, start, end, lambda r: r.ts_ms)
        for kind, found in rows.kinds.items()
    }


def _with_state(rows: Sequence[KindRow], start: int, end: int) -> list[KindRow]:
    before: dict[str, KindRow] = {}
    for r in rows[: bisect_left(rows, start, key=lambda r: r.ts_ms)]:
        before[r.device_id] = r
    return [*before.values(), *_window(rows, start, end, lambda r: r.ts_ms)]


PLUGGED = frozenset(p.kind for p in plugins().values() if p.slot is None and p.evidence is not None)
"""kinds added as plug-ins: their evidence comes from their own package (``bantar.kinds``)"""
FEW_KINDS = frozenset({DeviceKind.poskamling, DeviceKind.bank_sampah, DeviceKind.gotong_royong}) | PLUGGED
FEW_FIELDS = (*POST_FIELDS, *DEPOSIT_FIELDS, *GOTONG_ROYONG_FIELDS, *PLUGIN_FIELDS)
"""the figures of ``FEW_KINDS``"""


def derive_few(frames: Frames, job: Job) -> dict[RTDay, Part]:
    """``derive_day`` over the RT-day's devices and rows of ``FEW_KINDS`` only, keeping their
    figures: one call for all of them (the call's own cost, not their readings, is what counts
    here). Each device's clock is judged from its own readings, so the kinds do not mix."""
    parts: dict[RTDay, Part] = {}
    for rt_code, n in job.rt_days:
        rows = frames.others.get(rt_code, NOTHING)
        devices = [d for d in job.devices.get(rt_code, ()) if d.kind in FEW_KINDS]
        day = day_of(n)
        readings = _few(rows, *readings_window(day))
        if not devices and readings == NOTHING:
            continue  # nothing to derive: the defaults are the figures
        e = derive_day(job.rts[rt_code], devices, day, readings, job.rules, job.now_ms)
        figures: dict[str, Any] = {name: getattr(e, name) for name in FEW_FIELDS}
        parts[(rt_code, n)] = Part(figures, list(e.flags), list(e.sources))
    return parts
