"""CCTV cameras and recorders: a heartbeat (online, recording, free storage). Daily figures:
``bantar.domain.evidence`` (``cameras``, ``cctv_*``); its metric, chart and simulator model
(``simulators.devices``) are named here."""

from __future__ import annotations

from typing import Any

from bantar.domain.evidence import CctvRow
from bantar.domain.readings import CctvPayload, Reading
from bantar.domain.registry import RT
from bantar.domain.scoring import Measured, PeriodTotals, ratio
from bantar.kinds.contract import Chart, KindCoverage, KindNames, KindPlugin, Plot, Series
from bantar.kinds.registry import DeviceKind
from bantar.kinds.rows import common


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
    slot="cctv",
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
    archived=True,
)
