"""The InfluxDB store's side of the archive, and the retention policy that backs it.

The parts of the archive are the embedded store's (same Parquet files, same schema, intervals
for availability kinds); their manifest lives in the store's SQLite ledger (``ARCHIVE_SCHEMA``),
next to the keys of every stored reading. InfluxDB shares no transaction with the ledger, so a
part is handed over in two steps:

1. ``commit_part`` lists the part in the manifest (readers see it from then on, and drop a hot
   point with the device and time of an archived reading as a redelivery);
2. ``release_hot`` deletes the day's points (``DELETE FROM <measurement> WHERE time >= … AND
   time < …``), holding the ledger's writer lock so that no ingestor writes meanwhile, and only
   if the day still holds exactly the points the part was made from. A point that arrived since
   keeps the day's points in place; the next run archives it as a further part and deletes.

A kill between 1 and 2 leaves the points hot: the next run finds every one of them archived
already, lists an empty part for the day and deletes them. A kill before 1 leaves the points
hot and an orphan file the next run removes. Readings are never written to a part twice: a
part holds only readings no earlier part of its day holds (``Archiver._not_archived``).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from bantar.domain.timebase import DAY_MS, HOUR_MS, NS_PER_MS, WIB_OFFSET_MS, wib_day_of_ms, wib_day_start_ms
from bantar.domain.topics import DeviceKind
from bantar.stores.archive_sqlite import INSERT_PART, ArchiveManifest, PartRecord, part_values
from bantar.stores.ledger import SERIES, SqliteLedger

if TYPE_CHECKING:
    import pyarrow as pa

    from bantar.archive.parts import ArchivedKind
    from bantar.stores.influxdb import InfluxClient

log = logging.getLogger("bantar.archive")
WIB_DAYS = f"time(1d, {(DAY_MS - WIB_OFFSET_MS) // HOUR_MS}h)"
"""InfluxQL's ``GROUP BY`` interval of WIB days: a day from the epoch's midnight UTC, offset to
WIB midnight (17:00 UTC)."""


class DayPoints(NamedTuple):
    """The points of one kind and WIB day as they were when read, as archive rows."""

    kind: DeviceKind
    day: date
    rows: pa.Table


def day_range_ns(day: date) -> tuple[int, int]:
    """[start, end) of a WIB day in InfluxDB's nanoseconds."""
    start = wib_day_start_ms(day) * NS_PER_MS
    return start, start + DAY_MS * NS_PER_MS


def delete_statement(kind: DeviceKind, day: date) -> str:
    start, end = day_range_ns(day)
    return f"DELETE FROM {SERIES[kind]} WHERE time >= {start} AND time < {end}"


class InfluxArchiveSide(ArchiveManifest):
    """What ``Archiver`` needs of the InfluxDB store, and the archive readers its evidence reads
    merge with the hot points (``with_archived``), on the ledger's SQLite connection."""

    def __init__(self, client: InfluxClient, ledger: SqliteLedger, archive_root: Path | None) -> None:
        self.client, self.ledger, self.archive_root = client, ledger, archive_root

    def archivable_days(self, kind: DeviceKind, before_ms: int) -> list[date]:
        """WIB days with points of ``kind`` older than ``before_ms``."""
        table = SERIES[kind]
        (first,) = self.client.query([f"SELECT FIRST(seq) FROM {table} WHERE time < {before_ms * NS_PER_MS}"])
        if not first:
            return []
        (days,) = self.client.query(
            [
                f"SELECT COUNT(seq) FROM {table} WHERE time >= {first[0]['time']} AND time < {before_ms * NS_PER_MS} "
                f"GROUP BY {WIB_DAYS} fill(none)"
            ]
        )
        return sorted(wib_day_of_ms(row["time"] // NS_PER_MS) for row in days)

    def hot_slice(self, spec: ArchivedKind, day: date) -> DayPoints:
        """The day's points of ``spec.kind`` (read in chunks of 10,000), sorted by device and seq."""
        import pyarrow as pa

        from bantar.archive.parts import hot_schema

        start, end = day_range_ns(day)
        fields = ["seq", *spec.fields]
        (points,) = self.client.query(
            [
                f"SELECT {', '.join(fields)} FROM {SERIES[spec.kind]} "
                f"WHERE time >= {start} AND time < {end} GROUP BY device_id, rt_code"
            ]
        )
        schema = hot_schema(spec)
        columns: dict[str, list[Any]] = {name: [] for name in schema.names}
        for point in points:
            columns["device_id"].append(point["device_id"])
            columns["rt_code"].append(point["rt_code"])
            columns["ts_ms"].append(point["time"] // NS_PER_MS)
            for name in fields:
                columns[name].append(point.get(name))
        table = pa.Table.from_pydict(columns, schema=schema)
        return DayPoints(spec.kind, day, table.sort_by([("device_id", "ascending"), ("seq", "ascending")]))

    def commit_part(self, part: PartRecord, hot: DayPoints) -> None:
        """List the part in the manifest; its points stay until ``release_hot``."""
        with self.ledger.transaction("archive commit failed") as db:
            db.execute(INSERT_PART, part_values(part))

    def release_hot(self, hot: DayPoints) -> None:
        """Delete the day's points, unless points arrived since they were read (the next run
        archives those and deletes). Ingestors write under the same lock, so none lands between
        the count and the delete."""
        start, end = day_range_ns(hot.day)
        table = SERIES[hot.kind]
        with self.ledger.writing():
            (counted,) = self.client.query([f"SELECT COUNT(seq) FROM {table} WHERE time >= {start} AND time < {end}"])
            held, archived = (counted[0]["count"] if counted else 0), hot.rows.num_rows
            if held != archived:
                log.info("%s %s: %d points now, %d archived; deleted next run", table, hot.day, held, archived)
                return
            self.client.query([delete_statement(hot.kind, hot.day)])


def ensure_retention_policy(client: InfluxClient, name: str, days: int) -> None:
    """Create the retention policy ``name`` with a duration of ``days`` days, or set an existing
    one to it (InfluxDB 1.x). ``Settings`` refuses a duration shorter than the archive needs."""
    from bantar.stores.influxdb import quote_identifier

    database = quote_identifier(client.database)
    (policies,) = client.query([f"SHOW RETENTION POLICIES ON {database}"])
    exists = any(row["name"] == name for row in policies)
    verb, tail = ("ALTER", "") if exists else ("CREATE", " REPLICATION 1")
    client.query([f"{verb} RETENTION POLICY {quote_identifier(name)} ON {database} DURATION {days}d{tail}"])
