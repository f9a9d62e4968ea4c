"""Moves readings older than the hot window into the archive, one kind and WIB day at a time.

The order makes a kill at any instant harmless:

1. read the day's hot rows (up to the table's highest rowid at that moment);
2. write them (availability kinds as state intervals) to a temporary file, fsync, read back;
3. rename the file to its part name (fsync the folder);
4. in one transaction: list the part in the manifest and delete exactly those hot rows
   (InfluxDB, which shares no transaction with its ledger: list the part, then delete the
   day's points; a kill between the two leaves points the next run finds archived already,
   writes no reading twice, and deletes).

Readers see a part only once it is listed (4), so a part left by a kill before (4) is an orphan
that nobody reads, deleted by the next run (its rows are still hot). After (4) the part is the
only copy. Readings that arrive late for an archived day land in the hot store, count at once
(reads merge the archive and the hot rows) and become a further part of that day on the next
run; a redelivery of an archived reading is dropped then.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bantar.archive.intervals import compact
from bantar.archive.parts import ARCHIVED, ArchivedKind, publish, write_temporary
from bantar.domain.timebase import wib_day
from bantar.domain.topics import DeviceKind
from bantar.stores.archive_sqlite import PartRecord, wib_day_start_ms
from bantar.stores.ledger import SERIES

log = logging.getLogger("bantar.archive")
STEPS = ("selected", "written", "published", "committed")
"""Where ``on_step`` is called for each part: the crash test kills the archiver at each."""


@dataclass
class ArchiveRun:
    parts: int = 0
    readings: int = 0
    rows: int = 0
    orphans_removed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class HotRows(Protocol):
    @property
    def rows(self) -> pa.Table: ...


S = TypeVar("S", bound=HotRows)


class ArchiveSide(Protocol[S]):
    """What a store offers the archiver: ``SqliteArchiveSide`` (the SQLite store itself) and
    ``InfluxArchiveSide`` (``InfluxStore.archive``)."""

    def archivable_days(self, kind: DeviceKind, before_ms: int) -> list[date]: ...

    def hot_slice(self, spec: ArchivedKind, day: date) -> S: ...

    def commit_part(self, part: PartRecord, hot: S) -> None:
        """List the part in the manifest (and, where one transaction allows it, delete ``hot``)."""

    def release_hot(self, hot: S) -> None:
        """Delete the hot rows of a listed part, if ``commit_part`` did not."""

    def archive_parts(self, kind: DeviceKind | None = None) -> list[PartRecord]: ...


def _nothing(step: str) -> None:
    """No hook."""


class Archiver:
    def __init__(
        self,
        store: ArchiveSide[Any],
        root: Path,
        hot_days: int,
        now: Callable[[], datetime],
        on_step: Callable[[str], None] = _nothing,
    ) -> None:
        self.store, self.root, self.hot_days, self.now, self.on_step = store, root, hot_days, now, on_step
        self.totals = ArchiveRun()
        """everything archived since start, and how many runs (for the metrics)"""
        self.runs = self.failures = 0

    def run_every(self, stop: threading.Event, every_s: float) -> None:
        """Archive now and then every ``every_s`` until ``stop`` is set (the API process runs
        this in a thread); a failed run is logged and retried at the next turn."""
        while not stop.is_set():
            try:
                done = self.run()
                log.info("archived %d readings in %d parts", done.readings, done.parts)
            except Exception:
                self.failures += 1
                log.exception("archive run failed; its hot rows stay, the next run retries")
            stop.wait(every_s)

    def cutoff_ms(self) -> int:
        """Readings before WIB midnight ``hot_days`` days ago leave the hot store."""
        return wib_day_start_ms(wib_day(self.now()) - timedelta(days=self.hot_days))

    def run(self) -> ArchiveRun:
        result = ArchiveRun()
        with self._exclusive():
            result.orphans_removed = self._remove_orphans()
            cutoff = self.cutoff_ms()
            for kind, spec in ARCHIVED.items():
                for day in self.store.archivable_days(kind, cutoff):
                    part = self._archive_day(spec, day)
                    if part is not None:
                        result.parts += 1
                        result.readings += part.readings
                        result.rows += part.rows
                        result.by_kind[kind.value] = result.by_kind.get(kind.value, 0) + part.readings
        self.runs += 1
        self.totals.parts += result.parts
        self.totals.readings += result.readings
        self.totals.rows += result.rows
        return result

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".archiver-lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _remove_orphans(self) -> int:
        """Files a killed run left behind: temporary files, and parts never listed."""
        listed = {p.path for p in self.store.archive_parts()}
        removed = 0
        for path in [*self.root.rglob("*.parquet"), *self.root.rglob("*.parquet.tmp")]:
            if str(path.relative_to(self.root)) not in listed:
                path.unlink()
                removed += 1
        return removed

    def _archive_day(self, spec: ArchivedKind, day: date) -> PartRecord | None:
        hot = self.store.hot_slice(spec, day)
        self.on_step("selected")
        if hot.rows.num_rows == 0:
            return None
        earlier = [p for p in self.store.archive_parts(spec.kind) if p.day == day]
        fresh = self._not_archived(spec, hot.rows, earlier)
        table = compact(fresh, spec.fields) if spec.intervals else fresh
        relative = Path(SERIES[spec.kind]) / f"{day:%Y-%m}" / f"{day.isoformat()}-{len(earlier) + 1:03d}.parquet"
        path = self.root / relative
        facts = write_temporary(table, path)
        self.on_step("written")
        publish(path)
        self.on_step("published")
        ts = fresh["ts_ms"]
        bounds = (pc.min(ts).as_py(), pc.max(ts).as_py()) if fresh.num_rows else (wib_day_start_ms(day),) * 2
        part = PartRecord(str(relative), spec.kind, day, facts.rows, fresh.num_rows, facts.sha256, facts.size, *bounds)
        self.store.commit_part(part, hot)
        self.on_step("committed")
        self.store.release_hot(hot)
        return part

    def _not_archived(self, spec: ArchivedKind, rows: pa.Table, earlier: list[PartRecord]) -> pa.Table:
        """Drop hot rows whose (device, seq) an earlier part of the day already holds."""
        if not earlier:
            return rows
        keys: set[tuple[str, int]] = set()
        for part in earlier:
            table = pq.read_table(self.root / part.path)
            if not spec.intervals:
                keys.update(zip(table["device_id"].to_pylist(), table["seq"].to_pylist(), strict=True))
            else:
                for device, first, count in zip(
                    table["device_id"].to_pylist(),
                    table["first_seq"].to_pylist(),
                    table["count"].to_pylist(),
                    strict=True,
                ):
                    keys.update((device, first + i) for i in range(count))
        mask = [(d, s) not in keys for d, s in zip(rows["device_id"].to_pylist(), rows["seq"].to_pylist(), strict=True)]
        return rows.filter(pa.array(mask, type=pa.bool_()))
