"""Gotong royong (communal work) events, posted by the RT head: what was done and how many took
part. Daily figures: the named ``DayEvidence`` fields ``gotong_royong_*``; its metric is here
(no device sends these, so no simulator model, and no chart; their times are the events',
never judged as a device's clock)."""

from __future__ import annotations

from typing import Any, NamedTuple

from bantar.domain.readings import GotongRoyongPayload, Reading
from bantar.domain.registry import RT
from bantar.domain.scoring import Measured, PeriodTotals
from bantar.kinds.contract import KindDay, KindEvidence, KindNames, KindPlugin, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common


class GotongRoyongRow(NamedTuple):
    ts_ms: int
    attendance: int


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, GotongRoyongPayload)
    return (*common(r), body.activity, body.attendance, r.digest)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    assert isinstance(body, GotongRoyongPayload)
    return {"activity": body.activity, "attendance": body.attendance}


def _row_of(_device_id: str, ts_ms: int, attendance: int) -> GotongRoyongRow:
    return GotongRoyongRow(ts_ms, attendance)


def day_figures(day: KindDay) -> KindEvidence:
    w = day.window
    rows: list[GotongRoyongRow] = [g for g in day.rows if w.start <= g.ts_ms < w.end]
    return KindEvidence(
        {"gotong_royong_events": len(rows), "gotong_royong_attendance": sum(g.attendance for g in rows)}
    )


def per_month(t: PeriodTotals, _rt: RT, _kinds: dict[DeviceKind, int]) -> Measured:
    if not t.gotong_royong_events:
        return None  # no reports at all: nothing to go on (the RT head posts these)
    return t.gotong_royong_events / max(t.days / 30.0, 1.0), None


PLUGIN = KindPlugin(
    kind=DeviceKind.gotong_royong,
    names=KindNames("gotong royong (web)", "communal work (web)"),
    parse=GotongRoyongPayload.model_validate_json,
    series=Series(
        name="gotong_royong_events",
        columns="activity TEXT NOT NULL, attendance INTEGER NOT NULL",
        values=("activity", "attendance"),
        row=_row,
        fields=_fields,
        present_field="attendance",
        read=("attendance",),
        row_of=_row_of,
    ),
    named=True,
    evidence=day_figures,
    clock=False,
    metrics={"gotong_royong_per_month": per_month},
    example={"ts": "2026-11-29T07:00:00+07:00", "seq": 1, "activity": "kerja bakti parit", "attendance": 24},
)
