"""Camera figures for many RT-days at once: ``evidence._cameras`` over columns (counts per
device and day), with the heartbeats that availability reports stand for (``online_ticks``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bantar.bulk.columns import Job, Part, RTDay, day_numbers, encode, ints, positions, rt_key, starts_of, wanted_keys
from bantar.bulk.load import CCTV_COLUMNS, Frames
from bantar.bulk.skew import skewed_device_days
from bantar.domain.availability import online_ticks
from bantar.domain.evidence import Source
from bantar.domain.quality import DayFlag, FlagCode
from bantar.domain.topics import DeviceKind


def derive_cameras(frames: Frames, job: Job) -> dict[RTDay, Part]:
    t = frames.cctv
    q = job.rules.quality
    rts, rt = encode(t["rt_code"])
    names, device = encode(t["device_id"])
    ts, received = ints(t["ts_ms"]), ints(t["received_ms"])
    number = day_numbers(ts)
    skewed = skewed_device_days(rt, device, number, ts, received, wanted_keys(rts, job), q.clock_skew_max_s)
    parts: dict[RTDay, Part] = {}
    for (r, d, n), (offset, readings) in skewed.items():
        flag = DayFlag(code=FlagCode.clock_skew, device_id=names[d], readings=readings, offset_s=offset)
        parts.setdefault((rts[r], n), Part()).flags.append(flag)
    skewed_ids = {(rts[r], names[d], n) for r, d, n in skewed}

    counted = {
        rt_code: {d.id for d in job.counted(rt_code, DeviceKind.cctv)} for rt_code in {r for r, _ in job.rt_days}
    }
    t = pa.concat_tables([t, _ticks(frames, job)])
    rts, rt = encode(t["rt_code"])
    names, device = encode(t["device_id"])
    ts, seq, received = ints(t["ts_ms"]), ints(t["seq"]), ints(t["received_ms"])
    online, recording = ints(t["online"]) != 0, ints(t["recording"]) != 0
    number = day_numbers(ts)
    width = max(1, len(names))
    unique_pairs, pair_of = np.unique(rt * width + device, return_inverse=True)
    known = np.array([names[p % width] in counted.get(rts[p // width], ()) for p in unique_pairs.tolist()], bool)
    take = np.flatnonzero(known[pair_of] & np.isin(rt_key(rt, number), wanted_keys(rts, job)))
    key = (rt_key(rt[take], number[take]) << 20) | device[take]
    order = take[np.argsort(key, kind="stable")]
    key = np.sort(key, kind="stable")
    starts = starts_of(key)
    seg = positions(starts, len(order))[0]
    n_seg = len(starts)

    def per_segment(mask: np.ndarray) -> np.ndarray:
        return np.bincount(seg, weights=mask[order], minlength=n_seg).astype(np.int64)

    total = np.diff(np.append(starts, len(order)))
    up = per_segment(online & recording)
    not_recording = per_segment(online & ~recording)
    late = per_segment((received != 0) & (received - ts > q.late_after_s * 1000))
    seq_first = np.minimum.reduceat(seq[order], starts) if n_seg else starts
    seq_last = np.maximum.reduceat(seq[order], starts) if n_seg else starts
    figures: dict[RTDay, dict[str, int]] = {}
    for s in range(n_seg):
        row = order[starts[s]]
        rt_code, device_id, n = rts[int(rt[row])], names[int(device[row])], int(number[row])
        part = parts.setdefault((rt_code, n), Part())
        sums = figures.setdefault((rt_code, n), {"reporting": 0, "heartbeats": 0, "flagged": 0, "up": 0})
        if (rt_code, device_id, n) in skewed_ids:
            bad = int(total[s])
        else:
            bad = int(not_recording[s])
            sums["up"] += int(up[s])
            if bad:
                part.flags.append(DayFlag(code=FlagCode.not_recording, device_id=device_id, readings=bad))
        sums["flagged"] += bad
        sums["reporting"] += bad < total[s]
        sums["heartbeats"] += int(total[s])
        part.sources.append(
            Source(
                device_id=device_id,
                kind=DeviceKind.cctv,
                seq_first=int(seq_first[s]),
                seq_last=int(seq_last[s]),
                readings=int(total[s]),
                late=int(late[s]),
                flagged=bad,
            )
        )
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


def _ticks(frames: Frames, job: Job) -> pa.Table:
    """A heartbeat per interval that a camera reporting availability was online (no sequence
    number, no receive time: as the per-day path adds them)."""
    rt_codes: list[str] = []
    device_ids: list[str] = []
    times: list[int] = []
    for rt_code, n in sorted(job.rt_days):
        rows = frames.others.get(rt_code)
        if rows is None or not rows.availability:
            continue
        start, end, _ = job.until(n)
        for device_id, t in online_ticks(job.counted(rt_code, DeviceKind.cctv), rows.availability, start, end):
            rt_codes.append(rt_code)
            device_ids.append(device_id)
            times.append(t)
    zeros = [0] * len(times)
    ones = [1] * len(times)
    values = [rt_codes, device_ids, times, zeros, zeros, ones, ones]
    return pa.table(
        [pa.array(v, t) for v, t in zip(values, CCTV_COLUMNS.values(), strict=True)], names=list(CCTV_COLUMNS)
    )
