"""The production store: readings as InfluxDB series, the ledger in a SQLite sidecar file.

Speaks InfluxDB's v1 HTTP API (line protocol on ``/write``, InfluxQL on ``/query``), which
InfluxDB 1.x serves natively, 2.x through its DBRP mapping of buckets and 3 Core as well.
Line protocol is encoded by ``influxdb-client``'s ``Point`` (escaping of tags and strings);
HTTP is ``httpx`` with connection retries; a failed write raises ``StoreError`` and the ingest
service retries it with backoff.

Schema: one measurement per kind of reading (``SERIES``); tags ``device_id`` and ``rt_code``
(the RT follows from the device, so the series count is the device count: ~5,700 for the whole
city); everything else (fill level, event, household, note...) is a field. Household ids are never
tags: they would grow the series count with every family and are private.

Idempotency: InfluxDB overwrites a point with the same measurement, tags and timestamp, so each
reading's timestamp is its device time in ms plus ``seq mod 10^6`` ns: a redelivery overwrites
itself, two readings of one device within the same millisecond stay two points. InfluxDB cannot
tell a redelivery from a conflicting payload, so the sidecar keeps ``(device_id, seq, digest)``
of every stored reading; a batch is claimed there, written to InfluxDB, and only then committed.
A crash between the two leaves no key, so the redelivered batch is written again (overwriting).
The sidecar holds device state, dirty marks and the derived evidence, as in the embedded store:
the ingestors and the API must share it (one host or one shared volume).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from influxdb_client.client.write.point import Point

from bantar.domain.errors import StoreError
from bantar.domain.evidence import RTReadings
from bantar.domain.intake import DeadLetter
from bantar.domain.readings import Reading
from bantar.domain.sequences import PLAUSIBLE_GAP
from bantar.domain.timebase import NS_PER_MS, from_epoch_ms, to_epoch_ms, wib_day
from bantar.domain.topics import DeviceKind
from bantar.kinds.contract import Series
from bantar.kinds.registry import evidence_reads, plugins
from bantar.ports import SequenceGap, StoreCounts, WriteOutcome
from bantar.stores.archive_influx import WIB_DAYS, InfluxArchiveSide
from bantar.stores.archive_sqlite import ARCHIVE_SCHEMA
from bantar.stores.ledger import SERIES, DeviceAndDayNotes, LedgerPorts, SqliteLedger, Synchronous, conflict_letter

_KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS reading_keys (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, digest INTEGER NOT NULL,
    UNIQUE (device_id, seq));
"""
_CLAIM = "INSERT INTO reading_keys (device_id, seq, kind, digest) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
_PLUGINS = plugins()
_READ = evidence_reads()


def point_time_ns(reading: Reading) -> int:
    """Unique per (device, seq) within a millisecond, identical for a redelivery."""
    return to_epoch_ms(reading.ts) * NS_PER_MS + reading.seq % NS_PER_MS


def line(reading: Reading) -> str:
    """The reading as one line of line protocol.

    Most readings (bin levels, CCTV heartbeats: nearly all the traffic) hold numbers and booleans
    only, and device ids and RT codes come from the registry's safe alphabet
    (``[0-9A-Za-z.-]``), so nothing needs escaping: they are formatted directly, as ``Point``
    would (fields sorted, whole floats without ``.0``), several times faster. Anything with text
    goes through ``Point``; ``tests/unit/test_line_protocol.py`` checks both give the same line."""
    fields = _PLUGINS[reading.kind].series.fields(reading)
    if any(isinstance(v, str) for v in fields.values()):
        return point_line(reading, fields)
    fields["seq"] = reading.seq
    fields["received_ms"] = to_epoch_ms(reading.received_at)
    values = ",".join(f"{name}={_value(v)}" for name, v in sorted(fields.items()) if v is not None)
    return (
        f"{SERIES[reading.kind]},device_id={reading.device_id},rt_code={reading.rt_code} "
        f"{values} {point_time_ns(reading)}"
    )


def point_line(reading: Reading, fields: dict[str, Any] | None = None) -> str:
    """Any reading as one line of line protocol, encoded and escaped by ``influxdb-client``."""
    point = Point(SERIES[reading.kind]).tag("device_id", reading.device_id).tag("rt_code", reading.rt_code)
    for name, value in (fields or _PLUGINS[reading.kind].series.fields(reading)).items():
        if value is not None:
            point.field(name, value)
    point.field("seq", reading.seq).field("received_ms", to_epoch_ms(reading.received_at))
    return point.time(point_time_ns(reading)).to_line_protocol()


def _value(value: float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    return _number(value)


def _number(value: float) -> str:
    """A float field as ``Point`` writes it (no trailing ``.0``)."""
    text = str(float(value))
    return text[:-2] if text.endswith(".0") else text


def quote_string(value: str) -> str:
    """An InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_identifier(value: str) -> str:
    """An InfluxQL identifier."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class InfluxClient:
    """The v1 HTTP API, as far as the store needs it."""

    def __init__(
        self,
        url: str,
        database: str,
        *,
        retention_policy: str | None = None,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self.url = url
        self.database = database
        self._params = {"db": database, **({"rp": retention_policy} if retention_policy else {})}
        self._http = httpx.Client(
            base_url=url, headers=headers, auth=auth, timeout=timeout_s, transport=httpx.HTTPTransport(retries=3)
        )

    def _post(self, path: str, **request: Any) -> httpx.Response:
        try:
            return self._http.post(path, **request)
        except httpx.HTTPError as exc:
            raise StoreError(f"InfluxDB at {self.url} unreachable: {exc}") from exc

    def write(self, lines: Sequence[str]) -> None:
        response = self._post("/write", params={**self._params, "precision": "ns"}, content="\n".join(lines).encode())
        if response.status_code != 204:
            raise StoreError(f"InfluxDB write failed: HTTP {response.status_code}: {response.text[:300]}")

    def query(self, statements: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Per statement, its rows as dicts (time in ns, tags of grouped series included)."""
        response = self._post(
            "/query",
            params={**self._params, "epoch": "ns", "chunked": "true", "chunk_size": "10000"},
            data={"q": ";\n".join(statements)},
        )
        if response.status_code != 200:
            raise StoreError(f"InfluxDB query failed: HTTP {response.status_code}: {response.text[:300]}")
        rows: list[list[dict[str, Any]]] = [[] for _ in statements]
        for chunk in _json_documents(response.text):
            if "error" in chunk:
                raise StoreError(f"InfluxDB query failed: {chunk['error']}")
            for result in chunk.get("results", []):
                if "error" in result:
                    raise StoreError(f"InfluxDB query failed: {result['error']}")
                for series in result.get("series", []):
                    tags = series.get("tags", {})
                    columns = series["columns"]
                    target = rows[result.get("statement_id", 0)]
                    target.extend({**tags, **dict(zip(columns, values, strict=True))} for values in series["values"])
        return rows

    def create_database(self) -> None:
        """InfluxDB 1.x only (2.x and 3 create buckets / databases their own way); idempotent."""
        response = self._post("/query", data={"q": f"CREATE DATABASE {quote_identifier(self.database)}"})
        if response.status_code != 200 or "error" in response.text:
            raise StoreError(f"cannot create InfluxDB database {self.database!r}: {response.text[:300]}")

    def close(self) -> None:
        self._http.close()


def _json_documents(text: str) -> Iterator[dict[str, Any]]:
    """A chunked InfluxQL response: JSON documents one after another."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        document, position = decoder.raw_decode(text, position)
        yield document


class InfluxStore(LedgerPorts):
    """``ReadingStore`` with the readings in InfluxDB and the ledger in a SQLite sidecar, which
    also keeps the key of every stored reading (``reading_keys``)."""

    def __init__(
        self,
        client: InfluxClient,
        ledger_path: Path,
        synchronous: Synchronous = "FULL",
        busy_timeout_ms: int = 10_000,
        archive_root: Path | None = None,
    ) -> None:
        self.ledger = SqliteLedger(ledger_path, synchronous, busy_timeout_ms, _KEYS_SCHEMA + ARCHIVE_SCHEMA)
        self.client = client
        self.archive = InfluxArchiveSide(client, self.ledger, archive_root)

    def write(self, readings: Sequence[Reading], dead_letters: Sequence[DeadLetter]) -> WriteOutcome:
        lines = {id(r): line(r) for r in readings}  # by object: a batch may hold a conflicting twin
        notes = DeviceAndDayNotes.of(readings)
        # claimed in the ledger, written to InfluxDB, then committed: a crash between leaves no key
        with self.ledger.transaction("SQLite ledger write failed") as db:
            fresh, duplicates, clashes = _claim(db, readings)
            if fresh:
                self.client.write([lines[id(r)] for r in fresh])
            self.ledger.note_batch(notes, [*dead_letters, *clashes])
        return WriteOutcome(len(fresh), duplicates, len(clashes))

    def sequence_gaps(self, max_gap: int = PLAUSIBLE_GAP) -> list[SequenceGap]:
        return self.ledger.sequence_gaps_in(["reading_keys"], max_gap)

    def counts(self) -> StoreCounts:
        with self.ledger.reading() as db:
            stored = dict(db.execute("SELECT kind, COUNT(*) FROM reading_keys GROUP BY kind").fetchall())
        return StoreCounts({kind.value: stored.get(kind.value, 0) for kind in SERIES}, self.ledger.dead_letter_counts())

    def mark_all_dirty(self) -> int:
        """Mark every RT-day that has readings in InfluxDB, for a recompute from scratch."""
        kinds = list(SERIES)
        firsts = self.client.query(
            [f"SELECT FIRST({_PLUGINS[k].series.present_field}) FROM {SERIES[k]}" for k in kinds]
        )
        lasts = self.client.query([f"SELECT LAST({_PLUGINS[k].series.present_field}) FROM {SERIES[k]}" for k in kinds])
        statements = []
        for kind, first, last in zip(kinds, firsts, lasts, strict=True):
            if first and last:
                statements.append(
                    f"SELECT COUNT({_PLUGINS[kind].series.present_field}) FROM {SERIES[kind]} "
                    f"WHERE time >= {first[0]['time']} AND time <= {last[0]['time']} "
                    f"GROUP BY {WIB_DAYS}, rt_code fill(none)"
                )
        rt_days = {
            (row["rt_code"], wib_day(from_epoch_ms(row["time"] // NS_PER_MS)).isoformat())
            for rows in (self.client.query(statements) if statements else [])
            for row in rows
        }
        return self.ledger.mark_dirty(sorted({*rt_days, *self.archive.archived_rt_days()}))

    def rt_readings(self, rt_code: str, start_ms: int, end_ms: int) -> RTReadings:
        where = _between(rt_code, start_ms, end_ms)
        before = f"WHERE rt_code = {quote_string(rt_code)} AND time < {start_ms * NS_PER_MS}"
        statements = []
        for p in _READ:
            s = p.series
            if s.state:  # each device's last state before the window
                (state,) = s.read
                statements.append(f"SELECT LAST({state}) AS {state} FROM {s.name} {before} GROUP BY device_id")
            statements.append(f"SELECT device_id, {', '.join(s.read)} FROM {s.name} {where}")
        results = iter(self.client.query(statements))
        found: dict[DeviceKind, list[Any]] = {}
        for p in _READ:
            rows = [*next(results)] if p.series.state else []
            rows += next(results)
            found[p.kind] = [_row_of(p.series, r) for r in rows]
        return self.archive.with_archived(RTReadings(found), rt_code, start_ms, end_ms)

    def series_rows(self, kind: DeviceKind, rt_code: str, start_ms: int, end_ms: int) -> list[Any]:
        s = _PLUGINS[kind].series
        (rows,) = self.client.query(
            [f"SELECT device_id, {', '.join(s.read)} FROM {s.name} {_between(rt_code, start_ms, end_ms)}"]
        )
        found = [_row_of(s, r) for r in rows]
        return sorted(found, key=lambda row: (row.ts_ms, row.device_id, row.seq))

    def close(self) -> None:
        self.client.close()
        self.ledger.close()


def _between(rt_code: str, start_ms: int, end_ms: int) -> str:
    """InfluxQL's WHERE for an RT's points in [start_ms, end_ms)."""
    return f"WHERE rt_code = {quote_string(rt_code)} AND time >= {start_ms * NS_PER_MS} AND time < {end_ms * NS_PER_MS}"


def _row_of(series: Series, point: dict[str, Any]) -> Any:
    """A point of ``series`` as its evidence row (``Series.row_of`` over its ``read`` fields)."""
    return series.row_of(point["device_id"], point["time"] // NS_PER_MS, *(point[c] for c in series.read))


def _claim(db: sqlite3.Connection, readings: Sequence[Reading]) -> tuple[list[Reading], int, list[DeadLetter]]:
    """Inside the ledger's transaction: record the keys of new readings; split the batch into new
    ones, duplicates and conflicts."""
    rows = [(r.device_id, r.seq, r.kind.value, r.digest) for r in readings]
    db.execute("SAVEPOINT claim")
    before = db.total_changes
    db.executemany(_CLAIM, rows)
    if db.total_changes - before == len(rows):
        db.execute("RELEASE claim")
        return list(readings), 0, []
    db.execute("ROLLBACK TO claim")
    db.execute("RELEASE claim")
    fresh, clashes, duplicates = [], [], 0
    for reading, row in zip(readings, rows, strict=True):
        stored = db.execute("SELECT digest FROM reading_keys WHERE device_id = ? AND seq = ?", row[:2]).fetchone()
        if stored is None:
            db.execute(_CLAIM, row)
            fresh.append(reading)
        elif stored[0] == reading.digest:
            duplicates += 1
        else:
            clashes.append(conflict_letter(reading, stored[0]))
    return fresh, duplicates, clashes
