"""What a bulk rebuild reads: the readings of many RTs over a time range, from the hot store and
the archive, merged as ``SqliteStore.rt_readings`` merges them (an archived reading wins over a
hot copy with the same device and time; by time, archived rows first among equal times).

Bins and camera heartbeats (nearly all readings) come as Arrow tables for their kernels; the
other kinds as the per-day path's rows, per RT.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bantar.archive.intervals import expand
from bantar.archive.kinds import ARCHIVED_KINDS
from bantar.archive.parts import ARCHIVED
from bantar.bulk.columns import day_numbers, encode, ints, starts_of
from bantar.domain.evidence import DAY_MS, WIB_OFFSET_MS, RTReadings
from bantar.domain.quality import QualityRules
from bantar.domain.topics import DeviceKind
from bantar.kinds.registry import evidence_reads
from bantar.stores.archive_sqlite import merge_archived

BIN_COLUMNS = {
    "rt_code": pa.string(),
    "device_id": pa.string(),
    "ts_ms": pa.int64(),
    "seq": pa.int64(),
    "received_ms": pa.int64(),
    "fill_pct": pa.float64(),
    "distance_cm": pa.float64(),
}
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


@runtime_checkable
class BulkSource(Protocol):
    """What a store offers a bulk rebuild (``SqliteStore`` through ``SqliteArchiveSide``)."""

    def rows_between(
        self,
        kind: DeviceKind,
        columns: Sequence[str],
        rt_codes: Sequence[str],
        start_ms: int,
        end_ms: int,
        group_by: str = "",
    ) -> list[tuple[Any, ...]]: ...

    def archived(
        self, kind: DeviceKind, rt_code: str | None, start_ms: int, end_ms: int, expanded: bool = True
    ) -> pa.Table | None: ...


class Frames(NamedTuple):
    bins: pa.Table
    """``BIN_COLUMNS``, by RT and time"""
    cctv: pa.Table
    """``CCTV_COLUMNS``, by RT and time: archived heartbeats, and hot ones of RTs that need
    them one by one (a clock that may be off, or a day partly archived)"""
    camera_counts: pa.Table
    """``COUNT_COLUMNS``: the other RTs' hot heartbeats, counted per device and day by the store"""
    others: dict[str, RTReadings]
    """per RT: the rows of the kinds without a bulk kernel (``PER_ROW``: posts' reports,
    deposits, gotong royong, availability, the kinds added as plug-ins); availability from the
    start of time, for the state a day began in"""


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


def load_frames(store: BulkSource, rt_codes: Sequence[str], start_ms: int, end_ms: int, q: QualityRules) -> Frames:
    bins = _merged(
        _table(store.rows_between(DeviceKind.bin, list(BIN_COLUMNS), rt_codes, start_ms, end_ms), BIN_COLUMNS),
        _archived_bins(store.archived(DeviceKind.bin, None, start_ms, end_ms), rt_codes),
    )
    cctv, counts = _cameras(store, rt_codes, start_ms, end_ms, q)
    return Frames(bins, cctv, counts, _others(store, rt_codes, start_ms, end_ms))


def _cameras(
    store: BulkSource, rt_codes: Sequence[str], start_ms: int, end_ms: int, q: QualityRules
) -> tuple[pa.Table, pa.Table]:
    """Heartbeats are nearly all the readings: they are counted per device and day where they
    lie (hot ones by the store in SQL, archived ones from their intervals), so they never cross
    into Python one by one, except where a device's receive times stray more than the allowed
    skew from its clock (its skew is judged reading by reading) or where a day is partly archived
    (a hot heartbeat may repeat an archived one)."""
    intervals = _of_rts(store.archived(DeviceKind.cctv, None, start_ms, end_ms, expanded=False), rt_codes)
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
    partly = {r[0] for r in counted} & set(_rts_in(intervals))
    one_by_one = {r[0] for r in counted if r[9]} | partly
    hot = store.rows_between(DeviceKind.cctv, _CCTV_SELECT, sorted(one_by_one), start_ms, end_ms)
    counts = _table([r[:9] for r in counted if r[0] not in one_by_one], COUNT_COLUMNS)
    if intervals is None:
        return _table(hot, CCTV_COLUMNS), counts
    in_partly = pc.is_in(intervals["rt_code"], pa.array(sorted(partly), pa.string()))
    rows = _archived_cctv(expand(intervals.filter(in_partly), ARCHIVED[DeviceKind.cctv].fields))
    whole = _interval_counts(intervals.filter(pc.invert(in_partly)))
    return _merged(_table(hot, CCTV_COLUMNS), rows), pa.concat_tables([counts, whole])


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


def _table(rows: list[tuple[Any, ...]], columns: dict[str, pa.DataType]) -> pa.Table:
    arrays = [pa.array([row[i] for row in rows], t) for i, t in enumerate(columns.values())]  # faster than zip(*rows)
    return pa.table(arrays, names=list(columns))


def _of_rts(table: pa.Table | None, rt_codes: Sequence[str]) -> pa.Table | None:
    if table is None:
        return None
    return table.filter(pc.is_in(table["rt_code"], pa.array(rt_codes, pa.string())))


def _archived_bins(table: pa.Table | None, rt_codes: Sequence[str]) -> pa.Table | None:
    table = _of_rts(table, rt_codes)
    return None if table is None else table.select(list(BIN_COLUMNS)).cast(pa.schema(BIN_COLUMNS))


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


def _merged(hot: pa.Table, archived: pa.Table | None) -> pa.Table:
    """Archived rows, then hot rows not archived already, sorted (stably) by RT and time."""
    if archived is not None and archived.num_rows and hot.num_rows:
        devices = pc.unique(
            pa.concat_arrays([archived["device_id"].combine_chunks(), hot["device_id"].combine_chunks()])
        )
        keys = [
            np.asarray(pc.index_in(t["device_id"], devices).to_numpy(zero_copy_only=False), np.int64) << 42
            | np.asarray(t["ts_ms"].to_numpy(), np.int64)
            for t in (archived, hot)
        ]
        hot = hot.filter(pa.array(~np.isin(keys[1], keys[0])))
    if archived is not None and archived.num_rows:
        hot = pa.concat_tables([archived, hot])
    if hot.num_rows == 0:
        return hot
    rt = pc.rank(hot["rt_code"].combine_chunks(), sort_keys="ascending", tiebreaker="dense").to_numpy()
    order = np.lexsort((np.asarray(hot["ts_ms"].to_numpy()), rt))
    return hot.take(pa.array(order))


PER_ROW = [p for p in evidence_reads() if p.bulk is None]
"""the kinds read as the per-day path's rows (``RTReadings``), per RT: those without a bulk kernel"""


def _others(store: BulkSource, rt_codes: Sequence[str], start_ms: int, end_ms: int) -> dict[str, RTReadings]:
    """The rows of ``PER_ROW`` per RT, as ``rt_readings`` builds them (a state kind from the
    start of time: each device's last state before a day counts in it), archived ones merged."""
    found: dict[str, dict[DeviceKind, list[Any]]] = {}
    for p in PER_ROW:
        s = p.series
        since = 0 if s.state else start_ms
        for rt_code, rows in _by_rt(
            store.rows_between(p.kind, ("rt_code", "device_id", "ts_ms", *s.read), rt_codes, since, end_ms)
        ):
            found.setdefault(rt_code, {})[p.kind] = [s.row_of(*r) for r in rows]
    archived = {
        p.kind: _by_rt_table(_of_rts(store.archived(p.kind, None, start_ms, end_ms), rt_codes))
        for p in PER_ROW
        if p.kind in ARCHIVED_KINDS
    }
    merged: dict[str, RTReadings] = {}
    for rt_code in {*found, *(rt for tables in archived.values() for rt in tables)}:
        hot = RTReadings(found.get(rt_code, {}))
        of_rt = {kind: tables[rt_code] for kind, tables in archived.items() if rt_code in tables}
        merged[rt_code] = merge_archived(hot, of_rt) if of_rt else hot
    return merged


def _by_rt(rows: list[tuple[Any, ...]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """``rows`` (RT first, grouped by RT) as (RT, its rows without the RT)."""
    return [(rt_code, [r[1:] for r in group]) for rt_code, group in groupby(rows, key=lambda r: r[0])]


def _by_rt_table(table: pa.Table | None) -> dict[str, pa.Table]:
    """``table``'s rows per RT (in their order)."""
    if table is None or table.num_rows == 0:
        return {}
    names, rt = encode(table["rt_code"])
    order = np.argsort(rt, kind="stable")
    table, rt = table.take(pa.array(order)), rt[order]
    starts = starts_of(rt)
    ends = np.append(starts[1:], len(rt))
    return {names[rt[a]]: table.slice(a, b - a) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)}


def _rts_in(table: pa.Table | None) -> list[str]:
    return [] if table is None else [str(v) for v in pc.unique(table["rt_code"]).to_pylist()]
