"""Bulk derivation equals the per-day path, figure for figure, flag for flag, source for source,
on random readings of an RT over a few days with the faults devices have: flat lines, sentinel
and beyond-depth distances, skewed clocks, late uploads, cameras online but not recording,
cameras that report only availability, short shifts, deposit bursts, unregistered, inactive and
web-only devices, and a day still in progress."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bantar.bulk.bins import BIN_COLUMNS
from bantar.bulk.cameras import CCTV_COLUMNS, Heartbeats, count_heartbeats
from bantar.bulk.columns import Job, day_number
from bantar.bulk.load import Frames
from bantar.bulk.rebuild import derive_days
from bantar.domain.availability import AvailabilityRow
from bantar.domain.evidence import DayEvidence, RTReadings, derive_day, readings_window
from bantar.domain.registry import RT, Device
from bantar.domain.timebase import DAY_MS, wib_day_bounds_utc
from bantar.domain.topics import DeviceKind
from bantar.kinds.bank_sampah import DepositRow
from bantar.kinds.bin import BinRow
from bantar.kinds.cctv import CctvRow
from bantar.kinds.contract import DayWindow, KindDay, KindRow
from bantar.kinds.gotong_royong import GotongRoyongRow
from bantar.kinds.poskamling import PoskamlingRow
from bantar.kinds.registry import load, plugins
from tests.unit.test_intervals import RULES

FIRST = date(2026, 11, 2)
DAYS = 3
START_MS = int(wib_day_bounds_utc(FIRST)[0].timestamp() * 1000) - 3 * 3_600_000
SPAN_MS = (DAYS * 24 + 6) * 3_600_000
RT_CODE = "1571010001001"
HOUR = 3_600_000

clock = st.sampled_from(["ok"] * 6 + ["skewed", "late_upload", "ahead"])


@st.composite
def bin_series(draw: st.DrawFn, device_id: str, depth: float | None) -> list[BinRow]:
    mode = draw(clock)
    step = draw(st.sampled_from([300_000, 900_000, 1_800_000]))
    ts = START_MS + draw(st.integers(0, 6 * HOUR))
    rows: list[BinRow] = []
    seq = draw(st.integers(0, 1000))
    pieces = draw(
        st.lists(
            st.tuples(
                st.one_of(
                    st.floats(0, 100, allow_nan=False),
                    st.sampled_from([0.0, 0.4, 2.0, 9.0, 25.0, 50.0, 80.0, 95.0, 100.0]),
                ),
                st.integers(1, 16),
                st.sampled_from(["fill"] * 6 + ["sentinel", "beyond", "distance", "gap", "burst"]),
            ),
            max_size=40,
        )
    )
    for value, repeat, fault in pieces:
        for k in range(repeat):
            if fault == "gap" and k == 0:
                ts += draw(st.integers(1, 20)) * step
            distance = None
            if fault == "sentinel":
                distance = 999.9
            elif fault == "beyond" and depth is not None:
                distance = depth * 1.5
            elif fault == "distance":
                distance = 10.0 + value / 10
            received = _received(mode, ts, seq, draw)
            rows.append(
                BinRow(
                    device_id, ts, value + (k * 0.001 if fault == "fill" and k % 2 else 0.0), seq, received, distance
                )
            )
            seq += 1
            ts += step // 10 if fault == "burst" else step
            if ts > START_MS + SPAN_MS:
                return rows
    return rows


def _received(mode: str, ts: int, seq: int, draw: st.DrawFn) -> int:
    if mode == "skewed":
        return ts + 1_500_000 + (seq % 3) * 1000
    if mode == "ahead":
        return ts - 2_000_000
    if mode == "late_upload":
        return ts + 2 * HOUR if seq % 7 < 3 else ts + 2000
    return ts + draw(st.sampled_from([0, 1500, 2000]))


@st.composite
def camera_series(draw: st.DrawFn, device_id: str) -> list[CctvRow]:
    mode = draw(clock)
    step = draw(st.sampled_from([60_000, 600_000, 1_800_000]))
    ts = START_MS + draw(st.integers(0, 3 * HOUR))
    seq = draw(st.integers(0, 100))
    rows: list[CctvRow] = []
    for state, repeat in draw(
        st.lists(
            st.tuples(st.sampled_from(["up", "up", "up", "not_recording", "offline", "gap"]), st.integers(1, 60)),
            max_size=12,
        )
    ):
        if state == "gap":
            ts += repeat * step
            continue
        for _ in range(repeat):
            received = _received(mode, ts, seq, draw)
            rows.append(CctvRow(device_id, ts, state != "offline", seq, received, state == "up"))
            seq += 1
            ts += step
    return rows


@st.composite
def a_bin(draw: st.DrawFn, device_id: str) -> tuple[Device | None, list[BinRow]]:
    """A bin's readings, and its registration: active, switched off, posting over HTTP, or none."""
    depth = draw(st.sampled_from([None, 120.0]))
    registered = draw(st.sampled_from(["active"] * 4 + ["inactive", "unregistered", "http"]))
    device = Device(
        id=device_id,
        kind=DeviceKind.bin,
        rt=RT_CODE,
        interval_s=draw(st.sampled_from([300, 900])),
        depth_cm=depth,
        active=registered != "inactive",
        channel="http" if registered == "http" else "mqtt",
    )
    return (None if registered == "unregistered" else device), draw(bin_series(device_id, depth))


@st.composite
def post_nights(draw: st.DrawFn) -> list[PoskamlingRow]:
    """A security post's hourly duty status each night, sometimes a patrol or an incident."""
    posts: list[PoskamlingRow] = []
    for n in range(DAYS):
        night = int(wib_day_bounds_utc(FIRST + timedelta(days=n))[0].timestamp() * 1000) + 21 * HOUR
        hours = draw(st.integers(0, 8))
        for h in range(hours):
            on = draw(st.booleans()) or h < hours - 1
            posts.append(
                PoskamlingRow(
                    "post-1",
                    night + h * HOUR,
                    "duty",
                    on,
                    draw(st.integers(1, 4)) if on else 0,
                    n * 100 + h,
                    night + h * HOUR + 1000,
                )
            )
        if draw(st.booleans()):
            posts.append(
                PoskamlingRow(
                    "post-1",
                    night + 90 * 60_000,
                    draw(st.sampled_from(["patrol", "incident"])),
                    None,
                    None,
                    n * 100 + 50,
                    night + 90 * 60_000,
                )
            )
    return posts


@st.composite
def worlds(draw: st.DrawFn) -> tuple[RT, list[Device], RTReadings, int]:
    devices: list[Device] = []
    bins: list[BinRow] = []
    cctv: list[CctvRow] = []
    for i in range(draw(st.integers(0, 3))):
        device, series = draw(a_bin(f"bin-{i}"))
        devices += [device] if device else []
        bins += series
    for i in range(draw(st.integers(0, 3))):
        device_id = f"cam-{i}"
        if draw(st.booleans()) or i == 0:
            devices.append(
                Device(id=device_id, kind=DeviceKind.cctv, rt=RT_CODE, interval_s=draw(st.sampled_from([60, 600])))
            )
        cctv += draw(camera_series(device_id))
    availability: list[AvailabilityRow] = []
    if draw(st.booleans()):
        devices.append(Device(id="cam-lwt", kind=DeviceKind.cctv, rt=RT_CODE, interval_s=300))
        at = START_MS - draw(st.integers(0, 10)) * HOUR
        for online in draw(st.lists(st.booleans(), max_size=6)):
            availability.append(AvailabilityRow("cam-lwt", at, online))
            at += draw(st.integers(1, 30)) * HOUR
    posts: list[PoskamlingRow] = []
    if draw(st.booleans()):
        devices.append(Device(id="post-1", kind=DeviceKind.poskamling, rt=RT_CODE, interval_s=3600))
        posts = draw(post_nights())
    deposits: list[DepositRow] = []
    spacing = draw(st.sampled_from([30_000, 3 * HOUR]))
    for k in range(draw(st.integers(0, 14))):
        at = START_MS + 12 * HOUR + k * spacing
        kg = draw(st.sampled_from([0.1, 0.1, 0.1, 2.0]))
        deposits.append(DepositRow("bank-1", at, f"hh-{k % 4}", {"plastic": kg}, int(kg * 3000), k, at + 1000))
    gotong = [GotongRoyongRow(START_MS + 30 * HOUR, draw(st.integers(1, 40)))] if draw(st.booleans()) else []
    levels: list[KindRow] = []
    if draw(st.booleans()):  # a flood sensor: a kind added as a plug-in
        calibration = {"warning_cm": 120.0, "danger_cm": 180.0}
        devices.append(
            Device(id="flood-1", kind=DeviceKind.water_level, rt=RT_CODE, interval_s=900, calibration=calibration)
        )
        at = START_MS - HOUR
        for k, level in enumerate(draw(st.lists(st.sampled_from([40.0, 130.0, 200.0]), max_size=40))):
            at += draw(st.sampled_from([600_000, 900_000, 5 * HOUR]))
            levels.append(KindRow("flood-1", at, k + 1, at + 1000, (level,)))
    bins.sort(key=lambda r: r.ts_ms)
    cctv.sort(key=lambda r: r.ts_ms)
    posts.sort(key=lambda r: r.ts_ms)
    deposits.sort(key=lambda r: r.ts_ms)
    availability.sort(key=lambda r: r.ts_ms)
    now = draw(st.sampled_from([START_MS + SPAN_MS + 30 * HOUR, START_MS + 2 * 24 * HOUR + 16 * HOUR]))
    rt = RT(code=RT_CODE, number=1, kk_count=60)
    everything = RTReadings(
        {
            DeviceKind.bin: bins,
            DeviceKind.cctv: cctv,
            DeviceKind.poskamling: posts,
            DeviceKind.bank_sampah: deposits,
            DeviceKind.gotong_royong: gotong,
            DeviceKind.availability: availability,
            DeviceKind.water_level: levels,
        }
    )
    return rt, devices, everything, now


def per_day(rt: RT, devices: list[Device], day: date, everything: RTReadings, now: int) -> DayEvidence:
    """What ``SqliteStore.rt_readings`` hands ``derive_day``: the window's rows, and for
    availability each device's last change before the window too."""
    start, end = readings_window(day)

    def window(rows: list) -> list:  # type: ignore[type-arg]
        return [r for r in rows if start <= r.ts_ms < end]

    last_before: dict[str, AvailabilityRow] = {}
    for r in everything.of(DeviceKind.availability):
        if r.ts_ms < start:
            last_before[r.device_id] = r
    rows = {kind: window(list(found)) for kind, found in everything.rows.items()}
    rows[DeviceKind.availability] = [*last_before.values(), *rows[DeviceKind.availability]]
    return derive_day(rt, devices, day, RTReadings(rows), RULES, now)


def frames_of(everything: RTReadings, counted_by_store: bool) -> Frames:
    bins, cctv = everything.of(DeviceKind.bin), everything.of(DeviceKind.cctv)
    bin_table = pa.table(
        [
            pa.array(v, t)
            for v, t in zip(
                [
                    [RT_CODE] * len(bins),
                    *zip(
                        *[(r.device_id, r.ts_ms, r.seq, r.received_ms, r.fill_pct, r.distance_cm) for r in bins],
                        strict=True,
                    ),
                ]
                if bins
                else [[] for _ in BIN_COLUMNS],
                BIN_COLUMNS.values(),
                strict=True,
            )
        ],
        names=list(BIN_COLUMNS),
    )
    cctv_table = pa.table(
        [
            pa.array(v, t)
            for v, t in zip(
                [
                    [RT_CODE] * len(cctv),
                    *zip(
                        *[(r.device_id, r.ts_ms, r.seq, r.received_ms, int(r.online), int(r.recording)) for r in cctv],
                        strict=True,
                    ),
                ]
                if cctv
                else [[] for _ in CCTV_COLUMNS],
                CCTV_COLUMNS.values(),
                strict=True,
            )
        ],
        names=list(CCTV_COLUMNS),
    )
    others = RTReadings({k: rows for k, rows in everything.rows.items() if k not in {DeviceKind.bin, DeviceKind.cctv}})
    q = RULES.quality
    suspect = any(r.received_ms and abs(r.received_ms - r.ts_ms) > q.clock_skew_max_s * 1000 for r in cctv)
    if counted_by_store and not suspect:  # as the store counts an RT's heartbeats when no clock may be off
        counted = count_heartbeats(cctv_table, q.late_after_s * 1000)
        heartbeats = Heartbeats(cctv_table.slice(0, 0), counted)
    else:
        heartbeats = Heartbeats(cctv_table, count_heartbeats(cctv_table.slice(0, 0), 0))
    return Frames({DeviceKind.bin: bin_table, DeviceKind.cctv: heartbeats}, {RT_CODE: others})


def dumped(e: DayEvidence) -> dict[str, object]:
    return {**e.model_dump(), "household_ids": e.household_ids}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(worlds(), st.booleans())
def test_bulk_derivation_equals_the_per_day_path(
    world: tuple[RT, list[Device], RTReadings, int], counted_by_store: bool
) -> None:
    rt, devices, everything, now = world
    days = [FIRST + timedelta(days=i) for i in range(DAYS)]
    job = Job({RT_CODE: rt}, {RT_CODE: devices}, frozenset((RT_CODE, day_number(d)) for d in days), RULES, now)
    bulk = derive_days(frames_of(everything, counted_by_store), job)
    assert [dumped(e) for e in bulk] == [dumped(per_day(rt, devices, d, everything, now)) for d in days]


def test_each_kernel_gives_its_kinds_figures_and_every_figure_is_some_kinds() -> None:
    """A bulk kernel gives exactly the figures its kind's per-day ``evidence`` gives; the kinds
    whose figures are named ``DayEvidence`` fields give each of them, once."""
    window = DayWindow(0, DAY_MS, DAY_MS, frozenset(), 0, DAY_MS)
    given: list[str] = ["kinds"]
    for p in plugins().values():
        if not p.named:
            continue
        assert p.evidence is not None
        device = Device(id="device-1", kind=p.kind, rt=RT_CODE, interval_s=600)
        figures = set(p.evidence(KindDay([device], [], window, None, RULES, {})).figures)
        given += figures
        if p.bulk is not None:
            assert set(load(p.bulk).fields) == figures
    bookkeeping = {
        "rt_code",
        "day",
        "in_progress",
        "late_readings",
        "flags",
        "sources",
        "revision",
        "changed_at_ms",
        "change_reason",
    }
    assert sorted(given) == sorted(set(DayEvidence.model_fields) - bookkeeping)
    assert {p.kind for p in plugins().values() if p.bulk} == {DeviceKind.bin, DeviceKind.cctv}
