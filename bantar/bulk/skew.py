"""Clock skew per device and day over columns: ``quality.skewed_offset_s`` for every device-day
at once (the lags of live pairs, vectorised; the median and the verdict per device-day)."""

from __future__ import annotations

import numpy as np

from bantar.bulk.columns import positions, rt_key, starts_of

Skewed = dict[tuple[int, int, int], tuple[int, int]]
"""(RT index, device index, day number) -> (offset in seconds, readings judged)"""


def skewed_device_days(
    rt: np.ndarray,
    device: np.ndarray,
    number: np.ndarray,
    ts: np.ndarray,
    received: np.ndarray,
    wanted: np.ndarray,
    max_skew_s: int,
) -> Skewed:
    """Rows in the per-day path's order (by RT and time); ``number``: each row's day."""
    take = np.flatnonzero((received != 0) & np.isin(rt_key(rt, number), wanted))
    if len(take) == 0:
        return {}
    order = take[np.lexsort((take, number[take], device[take], rt[take]))]
    group_key = (rt_key(rt[order], number[order]) << 20) | device[order]
    starts = starts_of(group_key)
    t, rx = ts[order], received[order]
    same = np.concatenate(([False], group_key[1:] == group_key[:-1]))
    live = np.zeros(len(order), bool)
    live[1:] = same[1:] & (t[1:] > t[:-1]) & ((rx[1:] - rx[:-1]) >= (t[1:] - t[:-1]) / 2)
    group = positions(starts, len(order))[0]
    lag_rows = np.flatnonzero(live)
    lags, lag_group = (rx - t)[lag_rows], group[lag_rows]
    by_value = np.lexsort((lags, lag_group))
    lags, lag_group = lags[by_value], lag_group[by_value]
    counts = np.bincount(lag_group, minlength=len(starts))
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    found: Skewed = {}
    readings = np.diff(np.append(starts, len(order)))
    for g in np.flatnonzero(counts >= 3).tolist():
        n, at = int(counts[g]), int(first[g])
        middle = at + n // 2
        median = int(lags[middle]) if n % 2 else (int(lags[middle - 1]) + int(lags[middle])) / 2
        offset = median / 1000
        if abs(offset) > max_skew_s:
            row = order[starts[g]]
            found[(int(rt[row]), int(device[row]), int(number[row]))] = (round(offset), int(readings[g]))
    return found
