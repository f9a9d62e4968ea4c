"""Heartbeats kept as state intervals give back exactly the raw heartbeats, and so the same
evidence, on random series: regular runs, jittery clocks, lost messages, state flips, outages."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from bantar.archive.intervals import compact, expand
from bantar.archive.parts import ARCHIVED
from bantar.domain.availability import StateInterval
from bantar.domain.evidence import RTReadings, derive_day, readings_window
from bantar.domain.registry import RT, Device, RegistryIndex
from bantar.domain.scoring import Rules
from bantar.domain.topics import DeviceKind
from bantar.kinds.cctv import CctvRow
from bantar.kinds.poskamling import PoskamlingRow

CCTV = ARCHIVED[DeviceKind.cctv].fields
POSTS = ARCHIVED[DeviceKind.poskamling].fields
DAY = date(2026, 11, 1)

# what happens before each heartbeat: mostly nothing, sometimes a fault of the kind devices have
events = st.lists(
    st.sampled_from(["steady"] * 20 + ["jitter", "lost", "flip", "outage", "duplicate_ts"]), min_size=0, max_size=400
)


RULES = Rules.model_validate(
    {
        "overflow_pct": 90,
        "coverage_min": 0.6,
        "lapse_weeks": 3,
        "kencana_months": 12,
        "device_silent_after": 3,
        "criteria": {},
    }
).derivation()
LATER_MS = 4_102_444_800_000
"""2100-01-01: every day of these tests is over"""


def heartbeats(device_id: str, rt_code: str, plan: list[str], start_ms: int, step_ms: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    seq, ts, online = 1, start_ms, True
    for event in plan:
        if event == "jitter":
            ts += 1000
        elif event == "lost":
            seq += 1
            ts += step_ms
        elif event == "flip":
            online = not online
        elif event == "outage":
            ts += 37 * step_ms
        elif event == "duplicate_ts":
            ts -= step_ms
        rows.append(
            {
                "device_id": device_id,
                "rt_code": rt_code,
                "seq": seq,
                "ts_ms": ts,
                "online": online,
                "recording": online,
            }
        )
        seq += 1
        ts += step_ms
    return rows


def rt_with(registry: RegistryIndex, kind: DeviceKind) -> tuple[RT, list[Device]]:
    """The first RT with a device of ``kind``, and its devices."""
    for place in registry.rts.values():
        devices = registry.devices_in(place.rt.code)
        if any(d.kind is kind for d in devices):
            return place.rt, devices
    raise AssertionError(f"no RT with a {kind} device")


def as_table(rows: list[dict[str, object]], state: tuple[str, ...]) -> pa.Table:
    columns = ["device_id", "rt_code", "seq", "ts_ms", *state]
    return pa.table({c: [r[c] for r in rows] for c in columns})


@settings(max_examples=150, deadline=None)
@given(plans=st.lists(events, min_size=1, max_size=3), offset_s=st.integers(min_value=-86_400, max_value=86_400))
def test_cctv_intervals_give_back_the_heartbeats_and_their_evidence(
    registry_index: RegistryIndex, plans: list[list[str]], offset_s: int
) -> None:
    rt, devices = rt_with(registry_index, DeviceKind.cctv)
    cameras = [d for d in devices if d.kind is DeviceKind.cctv]
    start_ms = readings_window(DAY)[0] + offset_s * 1000
    rows = [
        r
        for camera, plan in zip(cameras * 3, plans, strict=False)
        for r in heartbeats(camera.id, rt.code, plan, start_ms, camera.interval_s * 1000)
    ]
    rows.sort(key=lambda r: (r["device_id"], r["seq"]))
    raw = as_table(rows, CCTV)
    intervals = compact(raw, CCTV)
    assert expand(intervals, CCTV).to_pylist() == raw.to_pylist()
    for row in intervals.to_pylist():  # the domain's own reading of an interval agrees
        interval = StateInterval(
            row["device_id"],
            row["rt_code"],
            (row["online"], row["recording"]),
            row["from_ms"],
            row["to_ms"],
            row["count"],
            row["first_seq"],
        )
        assert all(
            t == start + i * interval.step_ms
            for i, (_, t) in enumerate(interval.readings())
            for start in [interval.from_ms]
        )

    def evidence(table: pa.Table, day: date) -> object:
        cctv = sorted(
            (
                CctvRow(r["device_id"], r["ts_ms"], r["online"], r["seq"], r["ts_ms"], r["recording"])
                for r in table.to_pylist()
            ),
            key=lambda r: r.ts_ms,
        )
        return derive_day(rt, devices, day, RTReadings({DeviceKind.cctv: cctv}), RULES, LATER_MS)

    for day in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)):
        assert evidence(expand(intervals, CCTV), day) == evidence(raw, day)


@settings(max_examples=100, deadline=None)
@given(statuses=st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=3), st.booleans()), max_size=120))
def test_poskamling_status_intervals_keep_every_event(
    registry_index: RegistryIndex, statuses: list[tuple[bool, int, bool]]
) -> None:
    rt, devices = rt_with(registry_index, DeviceKind.poskamling)
    post = next(d for d in devices if d.kind is DeviceKind.poskamling)
    start_ms = readings_window(DAY)[0]
    rows = []
    for i, (on_duty, guards, patrol) in enumerate(statuses):
        duty = {
            "event": "duty",
            "on_duty": on_duty and guards > 0,
            "guards": guards if on_duty else 0,
            "checkpoint": None,
            "category": None,
            "note": None,
        }
        body = {**duty, "event": "patrol", "on_duty": None, "guards": None, "checkpoint": "pos-1"} if patrol else duty
        rows.append({"device_id": post.id, "rt_code": rt.code, "seq": i, "ts_ms": start_ms + i * 3_600_000, **body})
    raw = (
        as_table(rows, POSTS)
        if rows
        else pa.table(
            {
                c: pa.array([], t)
                for c, t in [
                    ("device_id", pa.string()),
                    ("rt_code", pa.string()),
                    ("seq", pa.int64()),
                    ("ts_ms", pa.int64()),
                    ("event", pa.string()),
                    ("on_duty", pa.bool_()),
                    ("guards", pa.int64()),
                    ("checkpoint", pa.string()),
                    ("category", pa.string()),
                    ("note", pa.string()),
                ]
            }
        )
    )
    intervals = compact(raw, POSTS)
    back = expand(intervals, POSTS)
    assert back.to_pylist() == raw.to_pylist()

    def evidence(table: pa.Table) -> object:
        posts = [
            PoskamlingRow(r["device_id"], r["ts_ms"], r["event"], r["on_duty"], r["guards"], r["seq"], r["ts_ms"])
            for r in table.to_pylist()
        ]
        return derive_day(rt, devices, DAY, RTReadings({DeviceKind.poskamling: posts}), RULES, LATER_MS)

    assert evidence(back) == evidence(raw)


def test_a_day_of_regular_heartbeats_is_one_interval() -> None:
    rows = heartbeats("cam-1", "rt-1", ["steady"] * 1440, 0, 60_000)
    assert compact(as_table(rows, CCTV), CCTV).num_rows == 1
