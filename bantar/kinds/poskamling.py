"""Poskamling (night watch posts): duty status, patrol checkpoints and incidents. Daily
figures: the named ``DayEvidence`` fields ``posts``, ``post_reports*``, ``night_*``,
``patrols`` and ``incidents*`` (the night of day D: 20:00 D to 06:00 D+1); its metrics, chart
and simulator model (``simulators.devices``) are named here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import TypeAdapter

from bantar.domain.evidence import NIGHT_END_H, NIGHT_START_H, DerivationRules
from bantar.domain.quality import DayFlag, FlagCode
from bantar.domain.readings import DutyEvent, IncidentEvent, PatrolEvent, PoskamlingPayload, Reading
from bantar.domain.registry import RT, Device
from bantar.domain.scoring import Measured, PeriodTotals, ratio
from bantar.domain.timebase import HOUR_MS
from bantar.kinds.contract import (
    Archived,
    Chart,
    DayWindow,
    Figures,
    KindCoverage,
    KindDay,
    KindEvidence,
    KindNames,
    KindPlugin,
    Plot,
    Series,
    Source,
    source_of,
)
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common

_Event = DutyEvent | PatrolEvent | IncidentEvent
_EVENTS: TypeAdapter[_Event] = TypeAdapter(PoskamlingPayload)  # type: ignore[arg-type, unused-ignore]  # an Annotated union: older mypy reads it as no type, newer (TypeForm) accepts it


class PoskamlingRow(NamedTuple):
    device_id: str
    ts_ms: int
    event: str
    on_duty: bool | None
    guards: int | None
    seq: int = 0
    received_ms: int = 0


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    on_duty = guards = checkpoint = category = note = None
    if isinstance(body, DutyEvent):
        on_duty, guards = body.on_duty, body.guards
    elif isinstance(body, PatrolEvent):
        checkpoint = body.checkpoint
    else:
        assert isinstance(body, IncidentEvent)
        category, note = body.category.value, body.note
    return (*common(r), body.event, on_duty, guards, checkpoint, category, note, r.digest)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    if isinstance(body, DutyEvent):
        return {"event": body.event, "on_duty": body.on_duty, "guards": body.guards}
    if isinstance(body, PatrolEvent):
        return {"event": body.event, "checkpoint": body.checkpoint}
    assert isinstance(body, IncidentEvent)
    return {"event": body.event, "category": body.category.value, "note": body.note}


def _row_of(
    device_id: str, ts_ms: int, event: str, on_duty: Any, guards: Any, seq: int, received_ms: int
) -> PoskamlingRow:
    return PoskamlingRow(device_id, ts_ms, event, None if on_duty is None else bool(on_duty), guards, seq, received_ms)


def day_figures(day: KindDay) -> KindEvidence:
    return _posts(day.devices, day.rows, day.window, day.derivation)


def _posts(
    devices: Sequence[Device],
    rows: Sequence[PoskamlingRow],
    w: DayWindow,
    rules: DerivationRules,
) -> KindEvidence:
    """``devices``: the RT's MQTT posts (web reports count as reports but expect nothing)."""
    if not devices and not rows:
        return KindEvidence({})
    flags: list[DayFlag] = []
    sources: list[Source] = []
    night_start, night_end = w.start + NIGHT_START_H * HOUR_MS, w.start + NIGHT_END_H * HOUR_MS
    counted = [r for r in rows if r.device_id not in w.skewed]
    night = [r for r in counted if night_start <= r.ts_ms < night_end]
    today = [r for r in rows if w.start <= r.ts_ms < w.end]
    per_device: dict[str, list[PoskamlingRow]] = defaultdict(list)
    for r in today:
        per_device[r.device_id].append(r)
    for device_id, series in per_device.items():
        sources.append(
            source_of(DeviceKind.poskamling, device_id, series, w.late_ms, len(series) if device_id in w.skewed else 0)
        )
    flagged = sum(len(s) for d, s in per_device.items() if d in w.skewed)
    shift_h = rules.shift.longest_shift_h([(r.ts_ms, r.on_duty, r.guards) for r in night if r.event == "duty"])
    staffed = shift_h >= rules.shift.min_hours
    over = w.now >= night_end  # a night still under way may yet be staffed
    short = over and any(r.event == "duty" and r.on_duty for r in night) and not staffed
    if short:
        flags.append(DayFlag(code=FlagCode.short_shift, device_id=night[0].device_id, readings=0))
    night_reports = sum(1 for r in night if r.event == "duty")
    night_expected = sum((NIGHT_END_H - NIGHT_START_H) * 3600 // d.interval_s for d in devices)
    figures = {
        "posts": len(devices),
        "post_reports": sum(1 for r in today if r.event == "duty") - _flagged_duty(per_device, w.skewed),
        "post_reports_expected": sum((w.until - w.start) // (d.interval_s * 1000) for d in devices),
        "post_reports_flagged": flagged,
        "night_staffed": staffed,
        "night_observed": staffed or (night_expected > 0 and night_reports >= rules.coverage_min * night_expected),
        "night_shift_hours": round(shift_h, 3),
        "patrols": sum(1 for r in night if r.event == "patrol") if staffed else 0,
        "incidents": sum(1 for r in night if r.event == "incident"),
        "incidents_daytime": sum(
            1 for r in counted if r.event == "incident" and w.start + 6 * HOUR_MS <= r.ts_ms < night_start
        ),
    }
    return KindEvidence(figures, sources, flags)


def _flagged_duty(per_device: dict[str, list[PoskamlingRow]], skewed: frozenset[str]) -> int:
    return sum(1 for d, s in per_device.items() if d in skewed for r in s if r.event == "duty")


def expected(devices: Sequence[Device], seconds: int, _days: int) -> Figures:
    return {"post_reports_expected": sum(seconds // d.interval_s for d in devices)}


def staffed_share(t: PeriodTotals, _rt: RT, kinds: dict[DeviceKind, int]) -> Measured:
    """Over the nights that can be judged: a dead post's night is unknown, not unstaffed."""
    if not kinds.get(DeviceKind.poskamling) and not t.post_reports:
        return None
    return t.staffed_nights / t.nights_observed if t.nights_observed else 0.0, ratio(t.nights_observed, t.nights) or 0.0


def patrols(t: PeriodTotals, _rt: RT, kinds: dict[DeviceKind, int]) -> Measured:
    if not kinds.get(DeviceKind.poskamling) and not t.post_reports:
        return None
    value = t.patrols / t.staffed_nights if t.staffed_nights else 0.0
    return value, ratio(t.nights_observed, t.nights) or 0.0


def incidents(t: PeriodTotals, _rt: RT, kinds: dict[DeviceKind, int]) -> Measured:
    """Incidents reported, night and day, per 30 days."""
    if not kinds.get(DeviceKind.poskamling) and not t.post_reports and not t.incidents:
        return None
    return (t.incidents + t.incidents_daytime) / max(t.days / 30.0, 1.0), None


PLUGIN = KindPlugin(
    kind=DeviceKind.poskamling,
    names=KindNames("poskamling", "poskamling"),
    parse=_EVENTS.validate_json,
    series=Series(
        name="poskamling_events",
        columns="event TEXT NOT NULL, on_duty INTEGER, guards INTEGER, checkpoint TEXT, category TEXT, note TEXT",
        values=("event", "on_duty", "guards", "checkpoint", "category", "note"),
        row=_row,
        fields=_fields,
        present_field="event",
        read=("event", "on_duty", "guards", "seq", "received_ms"),
        row_of=_row_of,
    ),
    named=True,
    evidence=day_figures,
    expected=expected,
    simulator="simulators.devices:poskamling",
    metrics={
        "staffed_night_share": staffed_share,
        "patrols_per_staffed_night": patrols,
        "incidents_per_month": incidents,
    },
    chart=Chart(
        title_id="Malam dijaga dan patroli",
        title_en="Nights staffed and patrols",
        type="bar",
        series=(
            Plot("night_staffed", "malam dijaga", "nights staffed", color="#805ad5"),
            Plot("patrols", "patroli", "patrols", color="#d69e2e"),
        ),
        named=True,
        canvas="c-posts",
    ),
    example={"ts": "2026-11-29T22:00:00+07:00", "seq": 1, "event": "duty", "on_duty": True, "guards": 3},
    coverage=KindCoverage("staffed_night_share", "laporan pos ronda"),
    # the hourly duty status; patrols and incidents differ from their neighbours and stay single
    archive=Archived(("event", "on_duty", "guards", "checkpoint", "category", "note"), intervals=True),
)
