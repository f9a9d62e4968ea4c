"""CCTV cameras and recorders: a heartbeat (online, recording, free storage). Daily figures: the
named ``DayEvidence`` fields ``cameras`` and ``cctv_*``, from heartbeats and from the
availability of cameras that report only when they come and go; its bulk kernel
(``bantar.bulk.cameras``), metric, chart and simulator model (``simulators.devices``) are named
here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from bantar.domain.availability import AvailabilityRow, online_ticks
from bantar.domain.quality import DayFlag, FlagCode
from bantar.domain.readings import CctvPayload, Reading
from bantar.domain.registry import RT, Device
from bantar.domain.scoring import Measured, PeriodTotals, ratio
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


class CctvRow(NamedTuple):
    device_id: str
    ts_ms: int
    online: bool
    seq: int = 0
    received_ms: int = 0
    recording: bool = True


def _row(r: Reading) -> tuple[Any, ...]:
    body = r.payload
    assert isinstance(body, CctvPayload)
    return (*common(r), body.online, body.recording, body.storage_free_pct, r.digest)


def _fields(r: Reading) -> dict[str, Any]:
    body = r.payload
    assert isinstance(body, CctvPayload)
    free_pct = None if body.storage_free_pct is None else float(body.storage_free_pct)
    return {"online": body.online, "recording": body.recording, "storage_free_pct": free_pct}


def _row_of(device_id: str, ts_ms: int, online: Any, seq: int, received_ms: int, recording: Any) -> CctvRow:
    return CctvRow(device_id, ts_ms, bool(online), seq, received_ms, recording is None or bool(recording))
    # an unreported 'recording' is not a fault


def day_figures(day: KindDay) -> KindEvidence:
    availability = day.others.get(DeviceKind.availability, ())
    return _cameras(day.devices, day.rows, day.window, availability)


def _cameras(
    devices: Sequence[Device],
    rows: Sequence[CctvRow],
    w: DayWindow,
    availability: Sequence[AvailabilityRow],
) -> KindEvidence:
    """A heartbeat counts as up when the camera is online and recording; one that is online but
    not recording is flagged (the camera is on, but nothing is kept)."""
    if not devices:
        return KindEvidence({})
    flags: list[DayFlag] = []
    sources: list[Source] = []
    known = {d.id for d in devices}
    today: dict[str, list[CctvRow]] = defaultdict(list)
    for r in rows:
        if w.start <= r.ts_ms < w.end and r.device_id in known:
            today[r.device_id].append(r)
    # cameras that report availability (LWT, Frigate, ESPHome status): a heartbeat per interval online
    for device_id, t in online_ticks(devices, availability, w.start, w.end):
        today[device_id].append(CctvRow(device_id, t, True))
    flagged = up = 0
    reporting = 0
    for device_id, series in today.items():
        if device_id in w.skewed:
            bad = len(series)
        else:
            bad = sum(1 for r in series if r.online and not r.recording)
            up += sum(1 for r in series if r.online and r.recording)
            if bad:
                flags.append(DayFlag(code=FlagCode.not_recording, device_id=device_id, readings=bad))
        flagged += bad
        reporting += bad < len(series)
        sources.append(source_of(DeviceKind.cctv, device_id, series, w.late_ms, bad))
    figures = {
        "cameras": len(devices),
        "cameras_reporting": reporting,
        "cctv_heartbeats": sum(len(s) for s in today.values()),
        "cctv_heartbeats_expected": sum((w.until - w.start) // (d.interval_s * 1000) for d in devices),
        "cctv_heartbeats_flagged": flagged,
        "cctv_online_heartbeats": up,
    }
    return KindEvidence(figures, sources, flags)


def expected(devices: Sequence[Device], seconds: int, days: int) -> Figures:
    return {
        "cctv_heartbeats_expected": sum(seconds // d.interval_s for d in devices),
        "camera_days": len(devices) * days,
    }


def uptime(t: PeriodTotals, _rt: RT, kinds: dict[DeviceKind, int]) -> Measured:
    """Online and recording, over the heartbeats expected minus the flagged ones."""
    if not kinds.get(DeviceKind.cctv):
        return None
    counted = t.cctv_heartbeats_expected - t.cctv_heartbeats_flagged
    share = t.cctv_online_heartbeats / counted if counted > 0 else 0.0
    return min(1.0, share), ratio(t.camera_days_reporting, t.camera_days)


PLUGIN = KindPlugin(
    kind=DeviceKind.cctv,
    names=KindNames("CCTV", "CCTV"),
    parse=CctvPayload.model_validate_json,
    series=Series(
        name="cctv_heartbeats",
        columns="online INTEGER NOT NULL, recording INTEGER, storage_free_pct REAL",
        values=("online", "recording", "storage_free_pct"),
        row=_row,
        fields=_fields,
        present_field="online",
        read=("online", "seq", "received_ms", "recording"),
        row_of=_row_of,
    ),
    named=True,
    evidence=day_figures,
    reads=(DeviceKind.availability,),
    expected=expected,
    bulk="bantar.bulk.cameras:KERNEL",
    simulator="simulators.devices:cameras",
    metrics={"cctv_uptime": uptime},
    chart=Chart(
        title_id="CCTV menyala (%)",
        title_en="CCTV up (%)",
        type="line",
        series=(
            Plot(
                "cctv_online_heartbeats",
                "CCTV menyala (%)",
                "CCTV up (%)",
                per="cctv_heartbeats_expected",
                color="#3182ce",
            ),
        ),
        named=True,
        canvas="c-cctv",
        y_min=0,
        y_max=100,
    ),
    example={"ts": "2026-11-29T08:00:00+07:00", "seq": 1, "online": True, "recording": True, "storage_free_pct": 61},
    coverage=KindCoverage("cctv_uptime", "detak CCTV"),
    # storage_free_pct drifts a tenth of a point every half hour: kept in the hot window only
    archive=Archived(("online", "recording"), intervals=True),
)
