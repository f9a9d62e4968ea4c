"""Parquet parts of the archive: what each archived kind keeps, and how a part is written so that
it is whole, verified and durable before anyone may rely on it.

A part is written to a temporary name, fsynced, read back (row count and SHA-256 of its bytes),
then renamed into place and its folder fsynced. Sorted by device and time, zstd-compressed;
timestamps and sequence numbers delta-encoded (a device's readings are a steady step apart),
floats byte-stream-split (a fill level changes little from one reading to the next).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from bantar.archive.kinds import ARCHIVED_KINDS
from bantar.domain.errors import StoreError
from bantar.domain.topics import DeviceKind
from bantar.kinds.registry import plugins

KEY = ("device_id", "rt_code", "seq", "ts_ms")
TYPES: dict[str, pa.DataType] = {
    "device_id": pa.string(),
    "rt_code": pa.string(),
    "seq": pa.int64(),
    "ts_ms": pa.int64(),
    "received_ms": pa.int64(),
    "fill_pct": pa.float64(),
    "battery_pct": pa.float64(),
    "distance_cm": pa.float64(),
    "online": pa.bool_(),
    "recording": pa.bool_(),
    "event": pa.string(),
    "on_duty": pa.bool_(),
    "guards": pa.int64(),
    "checkpoint": pa.string(),
    "category": pa.string(),
    "note": pa.string(),
}
"""The Arrow type of every column an archived kind keeps (SQLite's integers 0/1 become booleans)."""
_DELTA = ("seq", "ts_ms", "received_ms", "from_ms", "to_ms", "count", "first_seq")
_SPLIT = ("fill_pct", "battery_pct", "distance_cm")
ROW_GROUP = 1_000_000


@dataclass(frozen=True)
class ArchivedKind:
    kind: DeviceKind
    fields: tuple[str, ...]
    """the hot table's columns kept besides ``KEY`` (for interval kinds: the state)"""
    intervals: bool
    """kept as intervals of the state ``fields``"""


ARCHIVED: dict[DeviceKind, ArchivedKind] = {
    kind: ArchivedKind(kind, spec.columns, spec.intervals)
    for kind in ARCHIVED_KINDS
    if (spec := plugins()[kind].archive) is not None
}
"""What each archived kind keeps (``KindPlugin.archive``): availability kinds as intervals of
their state (camera heartbeats, poskamling status), the others as rows (bins)."""


def hot_schema(spec: ArchivedKind) -> pa.Schema:
    return pa.schema([(name, TYPES[name]) for name in (*KEY, *spec.fields)])


class PartFacts(NamedTuple):
    rows: int
    sha256: str
    size: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def write_temporary(table: pa.Table, path: Path) -> PartFacts:
    """Write ``table`` next to ``path`` under a temporary name, durably, and verify it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(path)
    delta = [c for c in table.column_names if c in _DELTA]
    split = [c for c in table.column_names if c in _SPLIT]
    pq.write_table(
        table,
        temporary,
        compression="zstd",
        compression_level=9,
        use_dictionary=[c for c in table.column_names if c not in (*delta, *split)],
        column_encoding={**dict.fromkeys(delta, "DELTA_BINARY_PACKED"), **dict.fromkeys(split, "BYTE_STREAM_SPLIT")},
        row_group_size=ROW_GROUP,
        write_statistics=True,
    )
    with temporary.open("rb") as f:
        os.fsync(f.fileno())
    return verify_part(temporary, table.num_rows, None)


def publish(path: Path) -> None:
    """Give a verified temporary part its name, durably."""
    os.replace(temporary_name(path), path)
    _fsync_dir(path.parent)


def verify_part(path: Path, rows: int, sha256: str | None) -> PartFacts:
    """Read the part back whole; raise ``ArchiveError`` unless it holds ``rows`` rows (and, when
    given, has the checksum ``sha256``)."""
    read = pq.read_table(path).num_rows
    if read != rows:
        raise ArchiveError(f"{path}: {read} rows read back, {rows} written")
    checksum = file_sha256(path)
    if sha256 is not None and checksum != sha256:
        raise ArchiveError(f"{path}: checksum {checksum} differs from the manifest's {sha256}")
    return PartFacts(rows, checksum, path.stat().st_size)


class ArchiveError(StoreError):
    """An archive part is not what the manifest says it is."""
