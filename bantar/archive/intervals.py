"""Compaction of availability-type readings into state intervals, and back, on Arrow tables.

Vectorised (NumPy over Arrow columns) because a month of the city's camera heartbeats is about
70 million rows. The rule is the one of ``bantar.domain.availability``: a run holds one device
and RT, one state, consecutive sequence numbers and a fixed time step.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

KEY = ("device_id", "rt_code")
INTERVAL_COLUMNS = ("from_ms", "to_ms", "count", "first_seq")


def _codes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Equal values get equal integers (nulls one of their own)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False))


def compact(readings: pa.Table, state: tuple[str, ...]) -> pa.Table:
    """``readings`` (device_id, rt_code, seq, ts_ms and the state columns), sorted by device and
    seq, as intervals: device_id, rt_code, the state columns, from_ms, to_ms, count, first_seq."""
    n = readings.num_rows
    seq = np.asarray(readings["seq"].to_numpy(), dtype=np.int64)
    ts = np.asarray(readings["ts_ms"].to_numpy(), dtype=np.int64)
    linked = np.zeros(n, dtype=bool)  # reading i continues the run of reading i - 1 ...
    if n > 1:
        linked[1:] = seq[1:] == seq[:-1] + 1
        for name in (*KEY, *state):
            codes = _codes(readings[name])
            linked[1:] &= codes[1:] == codes[:-1]
    steady = np.zeros(n, dtype=bool)  # ... and keeps its step (checked from the run's third reading)
    if n > 2:
        steps = np.diff(ts)
        steady[2:] = steps[1:] == steps[:-1]
    previous_linked = np.zeros(n, dtype=bool)
    previous_linked[1:] = linked[:-1]
    starts = np.flatnonzero(~linked | (previous_linked & ~steady))
    ends = np.append(starts[1:] - 1, n - 1) if n else starts
    heads = readings.select([*KEY, *state]).take(pa.array(starts))
    return (
        heads.append_column("from_ms", pa.array(ts[starts]))
        .append_column("to_ms", pa.array(ts[ends]))
        .append_column("count", pa.array(ends - starts + 1))
        .append_column("first_seq", pa.array(seq[starts]))
    )


def expand(intervals: pa.Table, state: tuple[str, ...]) -> pa.Table:
    """The readings the intervals stand for: device_id, rt_code, seq, ts_ms and the state columns."""
    count = np.asarray(intervals["count"].to_numpy(), dtype=np.int64)
    first = np.asarray(intervals["from_ms"].to_numpy(), dtype=np.int64)
    last = np.asarray(intervals["to_ms"].to_numpy(), dtype=np.int64)
    first_seq = np.asarray(intervals["first_seq"].to_numpy(), dtype=np.int64)
    step = np.where(count > 1, (last - first) // np.maximum(count - 1, 1), 0)
    owner = np.repeat(np.arange(len(count)), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    rows = intervals.select([*KEY, *state]).take(pa.array(owner))
    seq = first_seq[owner] + offset
    ts = first[owner] + offset * step[owner]
    columns = [rows[name] for name in KEY] + [pa.array(seq), pa.array(ts)] + [rows[name] for name in state]
    return pa.table(columns, names=[*KEY, "seq", "ts_ms", *state])
