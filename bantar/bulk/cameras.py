"""Camera figures for many RT-days at once: the CCTV plug-in's ``evidence`` over heartbeats
counted per device and day (by the store, or here from rows), with the heartbeats that
availability reports stand for (``online_ticks``); skew judged from the rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bantar.archive.intervals import expand
from bantar.archive.parts import ARCHIVED
from bantar.bulk.columns import Job, Kernel, Part, RTDay, day_numbers, encode, ints, rt_key, starts_of, wanted_keys
from bantar.bulk.load import BulkSource, Frames, merged, of_rts, rts_in, table_of
from bantar.bulk.skew import skewed_device_days
from bantar.domain.availability import online_ticks
from bantar.domain.evidence import Source
from bantar.domain.quality import DayFlag, FlagCode, QualityRules
from bantar.domain.timebase import DAY_MS, WIB_OFFSET_MS
from bantar.domain.topics import DeviceKind

_SUMMED = ("heartbeats", "up", "not_recording", "late")
FIELDS = (
    "cameras",
    "cameras_reporting",
    "cctv_heartbeats",
    "cctv_heartbeats_expected",
    "cctv_heartbeats_flagged",
    "cctv_online_heartbeats",
)


CCTV_COLUMNS = {
    "rt_code": pa.string(),
    "device_id": pa.string(),
    "ts_ms": pa.int64(),
    "seq": pa.int64(),
    "received_ms": pa.int64(),
    "online": pa.int8(),
    "recording": pa.int8(),
}
"""``recording`` 1 where a camera does not report it (as in ``rt_readings``: not a fault)."""
_CCTV_SELECT = ("rt_code", "device_id", "ts_ms", "seq", "received_ms", "online", "COALESCE(recording, 1)")
COUNT_COLUMNS = {
    "rt_code": pa.string(),
    "device_id": pa.string(),
    "day": pa.int64(),
    "heartbeats": pa.int64(),
    "up": pa.int64(),
    "not_recording": pa.int64(),
    "seq_first": pa.int64(),
    "seq_last": pa.int64(),
    "late": pa.int64(),
}
"""Heartbeats per device and WIB day: all, online and recording, online and not recording,
their sequence range, and how many arrived late."""


class Heartbeats(NamedTuple):
    rows: pa.Table
    """``CCTV_COLUMNS``, by RT and time: archived heartbeats, and hot ones of RTs that need
    them one by one (a clock that may be off, or a day partly archived)"""
    counts: pa.Table
    """``COUNT_COLUMNS``: the other RTs' hot heartbeats, counted per device and day by the store"""


def load_cameras(store: BulkSource, rt_codes: Sequence[str], start_ms: int, end_ms: int, q: QualityRules) -> Heartbeats:
    """Heartbeats are nearly all the readings: they are counted per device and day where they
    lie (hot ones by the store in SQL, archived ones from their intervals), so they never cross
    into Python one by one, except where a device's receive times stray more than the allowed
    skew from its clock (its skew is judged reading by reading) or where a day is partly archived
    (a hot heartbeat may repeat an archived one)."""
    intervals = of_rts(store.archived(DeviceKind.cctv, None, start_ms, end_ms, expanded=False), rt_codes)
    recording = "COALESCE(recording, 1) != 0"
    received = "received_ms != 0 AND received_ms - ts_ms"
    columns = (
        "rt_code",
        "device_id",
        f"(ts_ms + {WIB_OFFSET_MS}) / {DAY_MS}",
        "COUNT(*)",
        f"SUM(online != 0 AND {recording})",
        f"SUM(online != 0 AND NOT ({recording}))",
        "MIN(seq)",
        "MAX(seq)",
        f"SUM({received} > {q.late_after_s * 1000})",
        f"SUM(received_ms != 0 AND ABS(received_ms - ts_ms) > {q.clock_skew_max_s * 1000})",
    )
    counted = store.rows_between(DeviceKind.cctv, columns, rt_codes, start_ms, end_ms, group_by="2, 3")
    partly = {r[0] for r in counted} & set(rts_in(intervals))
    one_by_one = {r[0] for r in counted if r[9]} | partly
    hot = store.rows_between(DeviceKind.cctv, _CCTV_SELECT, sorted(one_by_one), start_ms, end_ms)
    counts = table_of([r[:9] for r in counted if r[0] not in one_by_one], COUNT_COLUMNS)
    if intervals is None:
        return Heartbeats(table_of(hot, CCTV_COLUMNS), counts)
    in_partly = pc.is_in(intervals["rt_code"], pa.array(sorted(partly), pa.string()))
    rows = _archived_cctv(expand(intervals.filter(in_partly), ARCHIVED[DeviceKind.cctv].fields))
    whole = _interval_counts(intervals.filter(pc.invert(in_partly)))
    return Heartbeats(merged(table_of(hot, CCTV_COLUMNS), rows), pa.concat_tables([counts, whole]))


def _interval_counts(intervals: pa.Table) -> pa.Table:
    """Archived heartbeats counted per interval (each lies within one WIB day: a part holds one
    day): all of them count as received on time."""
    count = ints(intervals["count"])
    online = np.asarray(intervals["online"].to_numpy(zero_copy_only=False), bool)
    recording = np.asarray(pc.fill_null(intervals["recording"], True).to_numpy(zero_copy_only=False), bool)
    first = ints(intervals["first_seq"])
    columns = {
        "rt_code": intervals["rt_code"],
        "device_id": intervals["device_id"],
        "day": pa.array(day_numbers(ints(intervals["from_ms"]))),
        "heartbeats": pa.array(count),
        "up": pa.array(np.where(online & recording, count, 0)),
        "not_recording": pa.array(np.where(online & ~recording, count, 0)),
        "seq_first": pa.array(first),
        "seq_last": pa.array(first + count - 1),
        "late": pa.array(np.zeros(len(count), np.int64)),
    }
    return pa.table(columns).cast(pa.schema(COUNT_COLUMNS))


def _archived_cctv(table: pa.Table) -> pa.Table:
    """Archived heartbeats keep no receive time: they count as received on time."""
    columns = {
        "rt_code": table["rt_code"],
        "device_id": table["device_id"],
        "ts_ms": table["ts_ms"],
        "seq": table["seq"],
        "received_ms": table["ts_ms"],
        "online": table["online"],
        "recording": pc.fill_null(table["recording"], True),
    }
    return pa.table(columns).cast(pa.schema(CCTV_COLUMNS))


def derive_cameras(frames: Frames, job: Job) -> dict[RTDay, Part]:
    q = job.rules.quality
    heartbeats: Heartbeats = frames.kinds[DeviceKind.cctv]
    t = heartbeats.rows
    rts, rt = encode(t["rt_code"])
    names, device = encode(t["device_id"])
    ts, received = ints(t["ts_ms"]), ints(t["received_ms"])
    skewed = skewed_device_days(rt, device, day_numbers(ts), ts, received, wanted_keys(rts, job), q.clock_skew_max_s)
    parts: dict[RTDay, Part] = {}
    for (r, d, n), (offset, readings) in skewed.items():
        flag = DayFlag(code=FlagCode.clock_skew, device_id=names[d], readings=readings, offset_s=offset)
        parts.setdefault((rts[r], n), Part()).flags.append(flag)
    skewed_ids = {(rts[r], names[d], n) for r, d, n in skewed}

    rows = pa.concat_tables([t, _ticks(frames, job)])
    counts = _combined(pa.concat_tables([heartbeats.counts, count_heartbeats(rows, q.late_after_s * 1000)]))
    counted = {rt_code: {d.id for d in job.counted(rt_code, DeviceKind.cctv)} for rt_code, _ in job.rt_days}
    figures: dict[RTDay, dict[str, int]] = {}
    for rt_code, device_id, n, total, up, not_recording, seq_first, seq_last, late in zip(
        *(counts[c].to_pylist() for c in COUNT_COLUMNS), strict=True
    ):
        if (rt_code, n) not in job.rt_days or device_id not in counted.get(rt_code, ()):
            continue
        part = parts.setdefault((rt_code, n), Part())
        sums = figures.setdefault((rt_code, n), {"reporting": 0, "heartbeats": 0, "flagged": 0, "up": 0})
        if (rt_code, device_id, n) in skewed_ids:
            bad = total
        else:
            bad = not_recording
            sums["up"] += up
            if bad:
                part.flags.append(DayFlag(code=FlagCode.not_recording, device_id=device_id, readings=bad))
        sums["flagged"] += bad
        sums["reporting"] += bad < total
        sums["heartbeats"] += total
        source = Source(
            device_id=device_id,
            kind=DeviceKind.cctv,
            seq_first=seq_first,
            seq_last=seq_last,
            readings=total,
            late=late,
            flagged=bad,
        )
        part.sources.append(source)
    for rt_code, n in job.rt_days:
        devices = job.counted(rt_code, DeviceKind.cctv)
        if not devices:
            continue
        start, _, until = job.until(n)
        sums = figures.get((rt_code, n), {})
        parts.setdefault((rt_code, n), Part()).figures.update(
            cameras=len(devices),
            cameras_reporting=sums.get("reporting", 0),
            cctv_heartbeats=sums.get("heartbeats", 0),
            cctv_heartbeats_expected=sum((until - start) // (d.interval_s * 1000) for d in devices),
            cctv_heartbeats_flagged=sums.get("flagged", 0),
            cctv_online_heartbeats=sums.get("up", 0),
        )
    return parts


def count_heartbeats(rows: pa.Table, late_ms: int) -> pa.Table:
    """``CCTV_COLUMNS`` rows counted per device and WIB day (``COUNT_COLUMNS``), as the store
    counts them."""
    ts, seq, received = ints(rows["ts_ms"]), ints(rows["seq"]), ints(rows["received_ms"])
    online, recording = ints(rows["online"]) != 0, ints(rows["recording"]) != 0
    values = {
        "day": day_numbers(ts),
        "heartbeats": np.ones(len(ts), np.int64),
        "up": (online & recording).astype(np.int64),
        "not_recording": (online & ~recording).astype(np.int64),
        "seq_first": seq,
        "seq_last": seq,
        "late": ((received != 0) & (received - ts > late_ms)).astype(np.int64),
    }
    return _combined(pa.table({"rt_code": rows["rt_code"], "device_id": rows["device_id"], **values}))


def _combined(counts: pa.Table) -> pa.Table:
    """One row per RT, device and day: counts added, sequence ranges joined."""
    if counts.num_rows == 0:
        return counts.cast(pa.schema(COUNT_COLUMNS))
    _, rt = encode(counts["rt_code"])
    _, device = encode(counts["device_id"])
    day = ints(counts["day"])
    key = (rt_key(rt, day) << 20) | device
    order = np.argsort(key, kind="stable")
    starts = starts_of(key[order])
    out = {name: counts[name].take(pa.array(order[starts])) for name in ("rt_code", "device_id", "day")}
    for name in _SUMMED:
        out[name] = pa.array(np.add.reduceat(ints(counts[name])[order], starts))
    out["seq_first"] = pa.array(np.minimum.reduceat(ints(counts["seq_first"])[order], starts))
    out["seq_last"] = pa.array(np.maximum.reduceat(ints(counts["seq_last"])[order], starts))
    return pa.table({name: out[name] for name in COUNT_COLUMNS}).cast(pa.schema(COUNT_COLUMNS))


def _ticks(frames: Frames, job: Job) -> pa.Table:
    """A heartbeat per interval that a camera reporting availability was online (no sequence
    number, no receive time: as the per-day path adds them)."""
    rt_codes: list[str] = []
    device_ids: list[str] = []
    times: list[int] = []
    for rt_code, n in sorted(job.rt_days):
        rows = frames.others.get(rt_code)
        availability = () if rows is None else rows.of(DeviceKind.availability)
        if not availability:
            continue
        start, end, _ = job.until(n)
        for device_id, t in online_ticks(job.counted(rt_code, DeviceKind.cctv), availability, start, end):
            rt_codes.append(rt_code)
            device_ids.append(device_id)
            times.append(t)
    zeros = [0] * len(times)
    ones = [1] * len(times)
    values = [rt_codes, device_ids, times, zeros, zeros, ones, ones]
    return pa.table(
        [pa.array(v, t) for v, t in zip(values, CCTV_COLUMNS.values(), strict=True)], names=list(CCTV_COLUMNS)
    )


KERNEL = Kernel(FIELDS, load_cameras, derive_cameras)
