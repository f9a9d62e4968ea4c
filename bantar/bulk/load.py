"""What a bulk rebuild reads: the readings of many RTs over a time range, from the hot store and
the archive, merged as ``SqliteStore.rt_readings`` merges them (an archived reading wins over a
hot copy with the same device and time; by time, archived rows first among equal times).

The kinds with a bulk kernel (bins and camera heartbeats: nearly all readings) come as each
kernel's ``load`` reads them; the other kinds as the per-day path's rows, per RT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bantar.archive.kinds import ARCHIVED_KINDS
from bantar.bulk.columns import Kernel, encode, starts_of
from bantar.domain.evidence import RTReadings
from bantar.domain.quality import QualityRules
from bantar.domain.topics import DeviceKind
from bantar.kinds.registry import evidence_reads
from bantar.stores.archive_sqlite import merge_archived


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
    kinds: Mapping[DeviceKind, Any]
    """what each bulk kernel's ``load`` read, by kind (the kernel's own columns)"""
    others: dict[str, RTReadings]
    """per RT: the rows of the kinds without a bulk kernel (``PER_ROW``: posts' reports,
    deposits, gotong royong, availability, the kinds added as plug-ins); availability from the
    start of time, for the state a day began in"""


def load_frames(
    store: BulkSource,
    kernels: Mapping[DeviceKind, Kernel],
    rt_codes: Sequence[str],
    start_ms: int,
    end_ms: int,
    q: QualityRules,
) -> Frames:
    kinds = {kind: k.load(store, rt_codes, start_ms, end_ms, q) for kind, k in kernels.items()}
    return Frames(kinds, _others(store, rt_codes, start_ms, end_ms))


def table_of(rows: list[tuple[Any, ...]], columns: dict[str, pa.DataType]) -> pa.Table:
    arrays = [pa.array([row[i] for row in rows], t) for i, t in enumerate(columns.values())]  # faster than zip(*rows)
    return pa.table(arrays, names=list(columns))


def of_rts(table: pa.Table | None, rt_codes: Sequence[str]) -> pa.Table | None:
    if table is None:
        return None
    return table.filter(pc.is_in(table["rt_code"], pa.array(rt_codes, pa.string())))


def merged(hot: pa.Table, archived: pa.Table | None) -> pa.Table:
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
        p.kind: _by_rt_table(of_rts(store.archived(p.kind, None, start_ms, end_ms), rt_codes))
        for p in PER_ROW
        if p.kind in ARCHIVED_KINDS
    }
    readings: dict[str, RTReadings] = {}
    for rt_code in {*found, *(rt for tables in archived.values() for rt in tables)}:
        hot = RTReadings(found.get(rt_code, {}))
        of_rt = {kind: tables[rt_code] for kind, tables in archived.items() if rt_code in tables}
        readings[rt_code] = merge_archived(hot, of_rt) if of_rt else hot
    return readings


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


def rts_in(table: pa.Table | None) -> list[str]:
    return [] if table is None else [str(v) for v in pc.unique(table["rt_code"]).to_pylist()]
