"""Bin figures for many RT-days at once: the bin plug-in's ``evidence`` over columns.

Each day sees its own window of readings (``readings_window``: two hours before the day to six
after it), so a reading near midnight is in two windows and is judged in each, as the per-day
path judges it. Sums add in the per-day path's order (``ordered_sums``). A flat line needs
``stuck_readings`` near-equal readings in a row; only stretches whose consecutive readings are
within twice the tolerance can hold one, and only those are walked with ``quality.stuck_runs``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from bantar.bulk.columns import (
    AFTER_MS,
    BEFORE_MS,
    Job,
    Kernel,
    Part,
    RTDay,
    day_numbers,
    day_start_ms,
    encode,
    ints,
    ordered_sums,
    positions,
    rt_key,
    starts_of,
    wanted_keys,
)
from bantar.bulk.load import BulkSource, Frames, merged, of_rts, table_of
from bantar.bulk.skew import skewed_device_days
from bantar.domain.evidence import DAY_MS, HOUR_MS, Source
from bantar.domain.quality import DayFlag, FlagCode, QualityRules, stuck_runs
from bantar.domain.topics import DeviceKind

_FLAT_SLACK = 1e-9
"""Rounding room when telling stretches that cannot hold a flat line."""


BIN_COLUMNS = {
    "rt_code": pa.string(),
    "device_id": pa.string(),
    "ts_ms": pa.int64(),
    "seq": pa.int64(),
    "received_ms": pa.int64(),
    "fill_pct": pa.float64(),
    "distance_cm": pa.float64(),
}
"""The columns the kernel reads."""


FIELDS = (
    "bins",
    "bin_readings",
    "bin_readings_expected",
    "bin_readings_flagged",
    "bin_mean_fill",
    "bin_peak_fill",
    "bin_hours_observed",
    "bin_hours_expected",
    "bin_overflow_hours",
    "bin_collections",
    "bin_observed",
)


def load_bins(store: BulkSource, rt_codes: Sequence[str], start_ms: int, end_ms: int, _q: QualityRules) -> pa.Table:
    """The RTs' bin readings (``BIN_COLUMNS``), hot and archived, by RT and time."""
    hot = store.rows_between(DeviceKind.bin, list(BIN_COLUMNS), rt_codes, start_ms, end_ms)
    archived = of_rts(store.archived(DeviceKind.bin, None, start_ms, end_ms), rt_codes)
    schema = pa.schema(BIN_COLUMNS)
    return merged(table_of(hot, BIN_COLUMNS), None if archived is None else archived.select(schema.names).cast(schema))


def derive_bins(frames: Frames, job: Job) -> dict[RTDay, Part]:
    t = frames.kinds[DeviceKind.bin]
    q, rules = job.rules.quality, job.rules
    rts, rt = encode(t["rt_code"])
    names, device = encode(t["device_id"])
    ts, seq, received = ints(t["ts_ms"]), ints(t["seq"]), ints(t["received_ms"])
    fill = np.asarray(t["fill_pct"].to_numpy(), float)
    distance = np.asarray(t["distance_cm"].fill_null(np.nan).to_numpy(), float)
    number = day_numbers(ts)
    wanted = wanted_keys(rts, job)
    skewed = skewed_device_days(rt, device, number, ts, received, wanted, q.clock_skew_max_s)
    parts: dict[RTDay, Part] = {}
    for (r, d, n), (offset, readings) in skewed.items():
        flag = DayFlag(code=FlagCode.clock_skew, device_id=names[d], readings=readings, offset_s=offset)
        parts.setdefault((rts[r], n), Part()).flags.append(flag)

    # the devices the per-day path counts, per (RT, device) pair present
    width = max(1, len(names))
    unique_pairs, pair_of = np.unique(rt * width + device, return_inverse=True)
    counted = {rt_code: {d.id: d for d in job.counted(rt_code, DeviceKind.bin)} for rt_code in rts}
    registered = [counted[rts[p // width]].get(names[p % width]) for p in unique_pairs.tolist()]
    known = np.array([d is not None for d in registered], bool)[pair_of]
    interval = np.array([d.interval_s * 1000 if d else 0 for d in registered], np.int64)[pair_of]
    depth = np.array([d.depth_cm if d and d.depth_cm else np.nan for d in registered], float)[pair_of]

    # every reading in the window of each day it belongs to
    base = np.flatnonzero(known)
    local = (ts[base] - day_start_ms(number[base])).astype(np.int64)
    row = np.concatenate((base, base[local >= DAY_MS - BEFORE_MS], base[local < AFTER_MS]))
    day = np.concatenate(
        (number[base], number[base[local >= DAY_MS - BEFORE_MS]] + 1, number[base[local < AFTER_MS]] - 1)
    )
    keep = np.isin(rt_key(rt[row], day), wanted)
    row, day = row[keep], day[keep]
    order = np.lexsort((row, device[row], day, rt[row]))
    row, day = row[order], day[order]
    segment_key = (rt_key(rt[row], day) << 20) | device[row]
    seg_starts = starts_of(segment_key)
    first_of_row = row[seg_starts][positions(seg_starts, len(row))[0]]
    order = np.lexsort((row, first_of_row, day, rt[row]))  # devices in order of their first reading
    row, day = row[order], day[order]
    segment_key = segment_key[order]
    seg_starts = starts_of(segment_key)
    seg, _, _ = positions(seg_starts, len(row))
    group_starts = starts_of(rt_key(rt[row], day))
    group, _, _ = positions(group_starts, len(row))
    seg_group = group[seg_starts]
    seg_rt, seg_device, seg_day = rt[row[seg_starts]], device[row[seg_starts]], day[seg_starts]
    seg_skewed = np.array(
        [(int(a), int(b), int(c)) in skewed for a, b, c in zip(seg_rt, seg_device, seg_day, strict=True)], bool
    )

    # readings the bin cannot vouch for
    start = day_start_ms(day)
    end = start + DAY_MS
    on_day = (ts[row] >= start) & (ts[row] < end)
    dist = distance[row]
    measured = ~np.isnan(dist)
    sentinel = np.zeros(len(row), bool)
    for value in q.sentinel_distance_cm:
        sentinel |= measured & (np.abs(dist - value) < 1e-6)
    beyond = measured & ~sentinel & ~np.isnan(depth[row]) & (dist > depth[row] * (1 + q.beyond_depth_tolerance))
    stuck = _stuck(np.flatnonzero(~sentinel & ~beyond), seg, fill[row], q.stuck_readings, q.stuck_tolerance_pct)
    skewed_row = seg_skewed[seg]
    bad = sentinel | beyond | stuck | skewed_row
    n_seg = len(seg_starts)

    def per_segment(mask: np.ndarray) -> np.ndarray:
        return np.bincount(seg, weights=mask, minlength=n_seg).astype(np.int64)

    flag_counts = {
        FlagCode.sentinel: per_segment(sentinel & on_day & ~skewed_row),
        FlagCode.beyond_depth: per_segment(beyond & on_day & ~skewed_row),
        FlagCode.stuck: per_segment(stuck & on_day & ~skewed_row),
    }
    today_n, flagged_n = per_segment(on_day), per_segment(bad & on_day)

    # the counted readings: smoothed, collections, time-weighted figures
    good = np.flatnonzero(~bad)
    g_seg, g_ts, g_fill = seg[good], ts[row[good]], fill[row[good]]
    _, place, length = positions(starts_of(g_seg), len(good))
    smooth = g_fill.copy()
    middle = (place > 0) & (place < length - 1)
    mid = np.flatnonzero(middle)
    a, b, c = g_fill[mid - 1], g_fill[mid], g_fill[mid + 1]
    smooth[mid] = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    collections = _collections(good, g_seg, g_ts, smooth, place, length, on_day, seg_group, len(group_starts), job)
    g_on_day = on_day[good]
    g_interval = interval[row[good]]
    following = np.where(place < length - 1, np.roll(g_ts, -1), g_ts + g_interval)
    span_h = (np.minimum(np.minimum(following, g_ts + g_interval), end[good]) - g_ts) / HOUR_MS
    counting = np.flatnonzero(g_on_day)
    c_group = seg_group[g_seg[counting]]
    n_groups = len(group_starts)
    over = np.where(smooth[counting] >= rules.overflow_pct, span_h[counting], 0.0)
    weighted = smooth[counting] * span_h[counting]
    observed, weighted, overflow = ordered_sums(
        c_group, np.column_stack((span_h[counting], weighted, over)), n_groups
    ).T
    count = np.bincount(c_group, minlength=n_groups)
    peak = np.full(n_groups, -np.inf)
    np.maximum.at(peak, c_group, smooth[counting])

    # per segment: flags and sources; per group: the figures
    on_day_rows = np.flatnonzero(on_day)
    seq_first = np.full(n_seg, np.iinfo(np.int64).max)
    seq_last = np.full(n_seg, np.iinfo(np.int64).min)
    np.minimum.at(seq_first, seg[on_day_rows], seq[row[on_day_rows]])
    np.maximum.at(seq_last, seg[on_day_rows], seq[row[on_day_rows]])
    late_ms = q.late_after_s * 1000
    late = per_segment(on_day & (received[row] != 0) & (received[row] - ts[row] > late_ms))
    for s in range(n_seg):
        key = (rts[int(seg_rt[s])], int(seg_day[s]))
        part = parts.setdefault(key, Part())
        device_id = names[int(seg_device[s])]
        for code, counts in flag_counts.items():
            if counts[s]:
                part.flags.append(DayFlag(code=code, device_id=device_id, readings=int(counts[s])))
        if today_n[s]:
            part.sources.append(
                Source(
                    device_id=device_id,
                    kind=DeviceKind.bin,
                    seq_first=int(seq_first[s]),
                    seq_last=int(seq_last[s]),
                    readings=int(today_n[s]),
                    late=int(late[s]),
                    flagged=int(flagged_n[s]),
                )
            )
    flagged_in_group = np.bincount(seg_group, weights=flagged_n, minlength=n_groups).astype(np.int64)
    group_of = {(rts[int(rt[row[i]])], int(day[i])): g for g, i in enumerate(group_starts.tolist())}
    group_figures = GroupFigures(count, flagged_in_group, observed, weighted, peak, overflow, collections)
    for rt_code, n in job.rt_days:
        figures = _figures(job, rt_code, n, group_of.get((rt_code, n)), group_figures)
        if figures:
            parts.setdefault((rt_code, n), Part()).figures.update(figures)
    return parts


class GroupFigures(NamedTuple):
    """Per (RT, day) group of counted readings: the sums the figures come from."""

    readings: np.ndarray
    flagged: np.ndarray
    observed: np.ndarray
    weighted: np.ndarray
    peak: np.ndarray
    overflow: np.ndarray
    collections: np.ndarray


def _figures(job: Job, rt_code: str, n: int, g: int | None, sums: GroupFigures) -> dict[str, object]:
    """The bin figures of one RT-day (none when it has no counted bin); ``g`` is its group of
    readings, None when it had none."""
    devices = job.counted(rt_code, DeviceKind.bin)
    if not devices:
        return {}
    start_ms, _, until = job.until(n)
    seen = 0.0 if g is None else float(sums.observed[g])
    expected_h = 0.0
    for _ in devices:
        expected_h += (until - start_ms) / HOUR_MS
    return dict(
        bins=len(devices),
        bin_readings=0 if g is None else int(sums.readings[g]),
        bin_readings_expected=sum((until - start_ms) // (d.interval_s * 1000) for d in devices),
        bin_readings_flagged=0 if g is None else int(sums.flagged[g]),
        bin_mean_fill=round(float(sums.weighted[g]) / seen, 2) if seen and g is not None else None,
        bin_peak_fill=None if g is None or not sums.readings[g] else round(float(sums.peak[g]), 2),
        bin_hours_observed=round(seen, 3),
        bin_hours_expected=round(expected_h, 3),
        bin_overflow_hours=0.0 if g is None else round(float(sums.overflow[g]), 3),
        bin_collections=0 if g is None else int(sums.collections[g]),
        bin_observed=bool(expected_h) and seen >= job.rules.coverage_min * expected_h,
    )


def _stuck(rest: np.ndarray, seg: np.ndarray, fill: np.ndarray, run: int, tolerance: float) -> np.ndarray:
    """Rows in flat lines, judged per segment over the readings that are neither sentinel nor
    beyond depth (``rest``, in order)."""
    stuck = np.zeros(len(seg), bool)
    values, owner = fill[rest], seg[rest]
    near = np.zeros(len(rest), bool)  # reading i is within twice the tolerance of reading i - 1
    near[1:] = (owner[1:] == owner[:-1]) & (np.abs(np.diff(values)) <= 2 * tolerance + _FLAT_SLACK)
    for first, last in _stretches(near, run):
        for j in stuck_runs(values[first:last].tolist(), run, tolerance):
            stuck[rest[first + j]] = True
    return stuck


def _stretches(near: np.ndarray, run: int) -> Iterator[tuple[int, int]]:
    """[first, last) of each stretch of at least ``run`` readings, each near the one before."""
    edges = np.diff(np.concatenate(([0], near.astype(np.int8), [0])))
    opened, closed = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for a, b in zip(opened.tolist(), closed.tolist(), strict=True):
        if b - a + 1 >= run:
            yield a - 1, b


def _collections(
    good: np.ndarray,
    g_seg: np.ndarray,
    g_ts: np.ndarray,
    smooth: np.ndarray,
    place: np.ndarray,
    length: np.ndarray,
    on_day: np.ndarray,
    seg_group: np.ndarray,
    groups: int,
    job: Job,
) -> np.ndarray:
    """Per group: falls in fill that are collections, at most one per ``min_gap_h``."""
    rule = job.rules.collection
    n = len(good)

    def shifted(k: int) -> np.ndarray:
        out = np.zeros(n)
        if k > 0:
            out[k:] = smooth[:-k] if k < n else out[k:]
        else:
            out[: n + k] = smooth[-k:] if -k < n else out[: n + k]
        return out

    b1, b2, b3, a1, a2 = shifted(1), shifted(2), shifted(3), shifted(-1), shifted(-2)
    k_before = np.minimum(place, 3)
    before = np.where(k_before == 1, b1, np.where(k_before == 2, b2 + b1, (b3 + b2) + b1)) / np.maximum(k_before, 1)
    k_after = np.minimum(length - place, 3)
    after = np.where(k_after == 1, smooth, np.where(k_after == 2, smooth + a1, (smooth + a1) + a2)) / k_after
    big = (before - after >= rule.drop_pct) & (after <= rule.level_pct)
    small = (before >= rule.small_from_pct) & (after <= rule.small_level_pct)
    fell = (place > 0) & ~(after > before * rule.relative_after) & (big | small)
    counts = np.zeros(len(seg_group), np.int64)
    gap_ms = rule.min_gap_h * HOUR_MS
    falls = np.flatnonzero(fell)
    for segment, members in groupby(falls.tolist(), key=lambda i: int(g_seg[i])):
        last: float = -gap_ms - 1
        for i in members:
            if g_ts[i] - last > gap_ms:
                counts[segment] += bool(on_day[good[i]])
                last = int(g_ts[i])
    return np.bincount(seg_group, weights=counts, minlength=groups).astype(np.int64)


KERNEL = Kernel(FIELDS, load_bins, derive_bins)
