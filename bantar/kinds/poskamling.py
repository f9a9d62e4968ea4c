"""Poskamling (night watch posts): duty status, patrol checkpoints and incidents. Daily
figures: ``bantar.domain.evidence`` (``posts``, ``night_*``, ``patrols``, ``incidents``); its
metrics, chart and simulator model (``simulators.devices``) are named here."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from bantar.domain.evidence import PoskamlingRow
from bantar.domain.readings import DutyEvent, IncidentEvent, PatrolEvent, PoskamlingPayload, Reading
from bantar.domain.registry import RT
from bantar.domain.scoring import Measured, PeriodTotals, ratio
from bantar.kinds.contract import Chart, KindCoverage, KindNames, KindPlugin, Plot, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common

_Event = DutyEvent | PatrolEvent | IncidentEvent
_EVENTS: TypeAdapter[_Event] = TypeAdapter(PoskamlingPayload)  # type: ignore[arg-type, unused-ignore]  # an Annotated union: older mypy reads it as no type, newer (TypeForm) accepts it


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
    slot="poskamling",
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
    archived=True,
)
