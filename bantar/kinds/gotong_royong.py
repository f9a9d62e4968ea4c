"""Gotong royong (communal work) events, posted by the RT head: what was done and how many took
part. Daily figures: ``bantar.domain.evidence`` (``gotong_royong_*``); its metric is here (no
device sends these, so no simulator model, and no chart)."""

from __future__ import annotations

from typing import Any

from bantar.domain.evidence import GotongRoyongRow
from bantar.domain.readings import GotongRoyongPayload, Reading
from bantar.domain.registry import RT
from bantar.domain.scoring import Measured, PeriodTotals
from bantar.kinds.contract import KindNames, KindPlugin, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common


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
    slot="gotong_royong",
    metrics={"gotong_royong_per_month": per_month},
    example={"ts": "2026-11-29T07:00:00+07:00", "seq": 1, "activity": "kerja bakti parit", "attendance": 24},
)
