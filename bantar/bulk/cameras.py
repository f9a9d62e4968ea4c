"""Camera figures for many RT-days at once: the CCTV plug-in's ``evidence`` over heartbeats
counted per device and day (by the store, or here from rows), with the heartbeats that
availability reports stand for (``online_ticks``); skew judged from the rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bantar.bulk.columns import Job, Kernel, Part, RTDay, day_numbers, encode, ints, rt_key, starts_of, wanted_keys
from bantar.bulk.load import CCTV_COLUMNS, COUNT_COLUMNS, Frames
from bantar.bulk.skew import skewed_device_days
from bantar.domain.availability import online_ticks
from bantar.domain.evidence import Source
from bantar.domain.quality import DayFlag, FlagCode
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


def derive_cameras(frames: Frames, job: Job) -> dict[RTDay, Part]:
    q = job.rules.quality
    t = frames.cctv
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
    counts = _combined(pa.concat_tables([frames.camera_counts, count_heartbeats(rows, q.late_after_s * 1000)]))
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


KERNEL = Kernel(FIELDS, derive_cameras)
