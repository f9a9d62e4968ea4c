"""The SQLite side of the archive: the manifest of archived parts, the hot rows to archive, the
commit that hands rows over to a part, and reading archived rows back.

The manifest lives in the store's own file, so listing a part and deleting the hot rows it
holds are one transaction: before it, the part is an orphan nobody reads (the next run deletes
it); after it, the part is the only copy. Readers see the archive only through the manifest.
The manifest and its readers (``ArchiveManifest``) serve the InfluxDB store too, in its ledger
(``archive_influx``); both reach the file through the store's ledger (``SqliteLedger``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from bantar.archive.kinds import ARCHIVED_KINDS
from bantar.domain.errors import StoreError
from bantar.domain.evidence import RTReadings
from bantar.domain.timebase import (  # the archiver imports it from here
    DAY_MS,
    WIB_OFFSET_MS,
    wib_day_of_ms,
    wib_day_start_ms,
)
from bantar.domain.topics import DeviceKind
from bantar.kinds.contract import Series
from bantar.kinds.registry import plugin
from bantar.stores.ledger import SERIES, SqliteLedger

if TYPE_CHECKING:  # pyarrow loads only when the archive is used: the ingestor starts without it
    import pyarrow as pa

    from bantar.archive.parts import ArchivedKind

ARCHIVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS archive_parts (
    path TEXT PRIMARY KEY, kind TEXT NOT NULL, day TEXT NOT NULL, rows INTEGER NOT NULL,
    readings INTEGER NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
    first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS archive_parts_kind_time ON archive_parts (kind, first_ms);
"""


class PartRecord(NamedTuple):
    path: str
    """relative to the archive's root"""
    kind: DeviceKind
    day: date
    rows: int
    """Parquet rows (intervals, for interval kinds)"""
    readings: int
    sha256: str
    size: int
    first_ms: int
    last_ms: int


class HotSlice(NamedTuple):
    """The hot rows of one kind and WIB day, as they were when read: rows inserted later (a
    higher rowid) are not part of it and are not deleted with it."""

    kind: DeviceKind
    day: date
    rows: pa.Table
    high_rowid: int


INSERT_PART = "INSERT INTO archive_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


def part_values(part: PartRecord) -> tuple[Any, ...]:
    return (part.path, part.kind.value, part.day.isoformat(), *part[3:])


class ArchiveManifest:
    """The manifest of archived parts in a ledger's file (``ARCHIVE_SCHEMA``), and reading archived
    readings back through it: mixed into the SQLite store, held by the InfluxDB store's archive
    side; both set ``ledger`` (the store's) and ``archive_root``."""

    ledger: SqliteLedger
    archive_root: Path | None = None

    def archive_parts(self, kind: DeviceKind | None = None) -> list[PartRecord]:
        sql = "SELECT * FROM archive_parts" + ("" if kind is None else " WHERE kind = ?") + " ORDER BY first_ms, path"
        with self.ledger.reading() as db:
            rows = db.execute(sql, () if kind is None else (kind.value,)).fetchall()
        return [PartRecord(p, DeviceKind(k), date.fromisoformat(d), *rest) for p, k, d, *rest in rows]

    def archived(
        self, kind: DeviceKind, rt_code: str | None, start_ms: int, end_ms: int, expanded: bool = True
    ) -> pa.Table | None:
        """Archived readings of ``kind`` (of one RT, or all) in [start_ms, end_ms), intervals
        expanded (or, ``expanded=False``, the intervals of the parts' days as stored); None when
        no part covers the window."""
        if kind not in ARCHIVED_KINDS or self.archive_root is None:
            return None
        with self.ledger.reading() as db:
            paths = [
                row[0]
                for row in db.execute(
                    "SELECT path FROM archive_parts WHERE kind = ? AND first_ms < ? AND last_ms >= ? ORDER BY path",
                    (kind.value, end_ms, start_ms),
                )
            ]
        if not paths:
            return None
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from bantar.archive.intervals import expand
        from bantar.archive.parts import ARCHIVED

        spec = ARCHIVED[kind]
        where = None if rt_code is None else pc.field("rt_code") == rt_code
        root = self.archive_root
        tables = [pq.read_table(root / p, filters=where) if where is not None else _whole_part(root / p) for p in paths]
        table = pa.concat_tables(tables)
        if spec.intervals and not expanded:
            return table
        if spec.intervals:
            table = expand(table, spec.fields)
        ts = table["ts_ms"]
        return table.filter(pc.and_(pc.greater_equal(ts, start_ms), pc.less(ts, end_ms)))

    def with_archived(self, hot: RTReadings, rt_code: str, start_ms: int, end_ms: int) -> RTReadings:
        """An RT's hot readings in [start_ms, end_ms) merged with its archived ones."""
        return merge_archived(hot, {kind: self.archived(kind, rt_code, start_ms, end_ms) for kind in ARCHIVED_KINDS})

    def archived_rt_days(self) -> set[tuple[str, str]]:
        """Every (RT, WIB day) with archived readings: for a rebuild from scratch."""
        found: set[tuple[str, str]] = set()
        for part in self.archive_parts():
            for rt_code in self._part_rts(part):
                day = wib_day_of_ms(part.first_ms)
                while day <= wib_day_of_ms(part.last_ms):
                    found.add((rt_code, day.isoformat()))
                    day += timedelta(days=1)
        return found

    def _part_rts(self, part: PartRecord) -> list[str]:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        assert self.archive_root is not None
        column = pq.read_table(self.archive_root / part.path, columns=["rt_code"])["rt_code"]
        return [str(v) for v in pc.unique(column).to_pylist()]

    def archived_counts(self) -> dict[str, int]:
        with self.ledger.reading() as db:
            return dict(db.execute("SELECT kind, SUM(readings) FROM archive_parts GROUP BY kind").fetchall())


class SqliteArchiveSide(ArchiveManifest):
    """Mixed into the SQLite store: its hot tables and its manifest, in its ledger's file."""

    # --- the archiver's side ---------------------------------------------------------------
    def archivable_days(self, kind: DeviceKind, before_ms: int) -> list[date]:
        """WIB days with hot rows of ``kind`` older than ``before_ms``."""
        day = f"(ts_ms + {WIB_OFFSET_MS}) / {DAY_MS}"
        sql = f"SELECT DISTINCT {day} FROM {SERIES[kind]} WHERE ts_ms < ?"
        with self.ledger.reading() as db:
            days = [row[0] for row in db.execute(sql, (before_ms,))]
        return sorted(wib_day_of_ms(d * DAY_MS) for d in days)

    def hot_slice(self, spec: ArchivedKind, day: date) -> HotSlice:
        import pyarrow as pa

        from bantar.archive.parts import KEY, hot_schema

        start = wib_day_start_ms(day)
        columns = [*KEY, *spec.fields]
        table = SERIES[spec.kind]
        with self.ledger.reading() as db:
            high = db.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0]
            rows = db.execute(
                f"SELECT {', '.join(columns)} FROM {table} WHERE ts_ms >= ? AND ts_ms < ? AND rowid <= ? "
                "ORDER BY device_id, seq",
                (start, start + DAY_MS, high),
            ).fetchall()
        schema = hot_schema(spec)
        values: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in columns]
        arrays = [
            pa.array([None if v is None else bool(v) for v in column] if t == pa.bool_() else column, t)
            for column, t in zip(values, schema.types, strict=True)
        ]
        return HotSlice(spec.kind, day, pa.Table.from_arrays(arrays, schema=schema), high)

    def commit_part(self, part: PartRecord, hot: HotSlice) -> None:
        """List the part and delete the hot rows it holds, in one transaction."""
        start = wib_day_start_ms(hot.day)
        with self.ledger.transaction("archive commit failed") as db:
            db.execute(INSERT_PART, part_values(part))
            deleted = db.execute(
                f"DELETE FROM {SERIES[hot.kind]} WHERE ts_ms >= ? AND ts_ms < ? AND rowid <= ?",
                (start, start + DAY_MS, hot.high_rowid),
            ).rowcount
            if deleted != hot.rows.num_rows:
                raise StoreError(f"{part.path}: {deleted} hot rows to delete, {hot.rows.num_rows} archived")

    def release_hot(self, hot: HotSlice) -> None:
        """Nothing left to do: ``commit_part`` deleted the hot rows in the manifest's transaction."""

    # --- readers ---------------------------------------------------------------------------
    def rows_between(
        self,
        kind: DeviceKind,
        columns: Sequence[str],
        rt_codes: Sequence[str],
        start_ms: int,
        end_ms: int,
        group_by: str = "",
    ) -> list[tuple[Any, ...]]:
        """Hot rows of ``kind`` (``columns``) of the RTs ``rt_codes`` in [start_ms, end_ms), one
        index range per RT, by time as ``rt_readings`` reads them (or aggregated, ``group_by``):
        what a bulk rebuild reads."""
        where = "WHERE rt_code = ? AND ts_ms >= ? AND ts_ms < ? " + (
            f"GROUP BY {group_by}" if group_by else "ORDER BY ts_ms"
        )
        sql = f"SELECT {', '.join(columns)} FROM {SERIES[kind]} {where}"
        rows: list[tuple[Any, ...]] = []
        with self.ledger.reading() as db:
            for rt_code in rt_codes:
                rows += db.execute(sql, (rt_code, start_ms, end_ms)).fetchall()
        return rows


def _whole_part(path: Path) -> pa.Table:
    """A whole part, read once for the consecutive blocks of a bulk rebuild that share it: each
    block of a day reads that day's parts and its neighbours' (its readings window reaches into
    both), so a city rebuilt in blocks of a few hundred RTs read each part about 15 times."""
    stat = path.stat()
    return _read_part(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=12)  # three days of the three archived kinds, and room to spare
def _read_part(path: str, _mtime_ns: int, _size: int) -> pa.Table:
    """Keyed by the file's time and size too: a part is immutable, but a path written again
    (an archive run repeated after a crash) must not be served from an old read."""
    import pyarrow.parquet as pq

    return pq.read_table(path)


def merge_archived(hot: RTReadings, archived: dict[DeviceKind, pa.Table | None]) -> RTReadings:
    """Hot readings plus archived ones, by time. A hot row with the device and time of an
    archived one is a redelivery that arrived after its day was archived: it is left out (and
    deleted by the next archive run)."""
    merged = dict(hot.rows)
    for kind, table in archived.items():
        if table is not None:
            merged[kind] = _merged(hot.of(kind), _archived_rows(plugin(kind).series, table))
    return RTReadings(merged)


def _archived_rows(series: Series, table: pa.Table) -> list[Any]:
    """A part's rows as the kind's ``Series.row_of`` builds them from its ``read`` columns.
    Archived availability kinds keep no receive time: their readings count as received on time."""
    ts = table["ts_ms"].to_pylist()
    kept = set(table.column_names)
    columns = [ts if c == "received_ms" and c not in kept else table[c].to_pylist() for c in series.read]
    return [
        series.row_of(d, t, *values) for d, t, *values in zip(table["device_id"].to_pylist(), ts, *columns, strict=True)
    ]


def _merged(hot: Sequence[Any], archived: list[Any]) -> Sequence[Any]:
    if not archived:
        return hot
    seen = {(r.device_id, r.ts_ms) for r in archived}
    merged = archived + [r for r in hot if (r.device_id, r.ts_ms) not in seen]
    merged.sort(key=lambda r: r.ts_ms)
    return merged
