"""Column helpers shared by the kernels: what a job asks for, codes for strings, segments, and
sums that add in the per-day path's order (so floats come out bit for bit the same)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bantar.domain.evidence import DerivationRules, Source, readings_window
from bantar.domain.quality import DayFlag, QualityRules
from bantar.domain.registry import RT, Device
from bantar.domain.timebase import DAY_MS, EPOCH_ORDINAL, WIB_OFFSET_MS
from bantar.domain.topics import DeviceKind

RTDay = tuple[str, int]
"""(RT code, WIB day number: days since 1970-01-01 in WIB)"""


def day_number(day: date) -> int:
    return day.toordinal() - EPOCH_ORDINAL


def day_of(number: int) -> date:
    return date.fromordinal(EPOCH_ORDINAL + number)


def day_start_ms(number: int | np.ndarray) -> Any:
    return number * DAY_MS - WIB_OFFSET_MS


_DAY = date(2000, 1, 1)
BEFORE_MS = int(day_start_ms(day_number(_DAY))) - readings_window(_DAY)[0]
AFTER_MS = readings_window(_DAY)[1] - int(day_start_ms(day_number(_DAY))) - DAY_MS
"""How far a day's window (``readings_window``) reaches before and after the day."""


def day_numbers(ts_ms: np.ndarray) -> np.ndarray:
    return (ts_ms + WIB_OFFSET_MS) // DAY_MS


@dataclass(frozen=True)
class Job:
    rts: Mapping[str, RT]
    devices: Mapping[str, Sequence[Device]]
    """per RT, every channel (as the updater keeps them)"""
    rt_days: frozenset[RTDay]
    rules: DerivationRules
    now_ms: int

    def counted(self, rt_code: str, kind: DeviceKind) -> list[Device]:
        """The RT's devices of ``kind`` that the per-day path expects readings from."""
        return [d for d in self.devices.get(rt_code, ()) if d.active and d.channel == "mqtt" and d.kind is kind]

    def until(self, number: int) -> tuple[int, int, int]:
        """(start, end, until) of a day: ``until`` is the end of what has passed of it."""
        start = int(day_start_ms(number))
        end = start + DAY_MS
        return start, end, min(end, max(start, self.now_ms))


@dataclass
class Part:
    """One kind's share of an RT-day's evidence."""

    figures: dict[str, Any] = field(default_factory=dict)
    flags: list[DayFlag] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


class Kernel(NamedTuple):
    """A kind's bulk derivation (named by its plug-in's ``bulk``)."""

    fields: tuple[str, ...]
    """the figures of ``DayEvidence`` it gives (its kind's per-day ``evidence`` gives the same)"""
    load: Callable[[Any, Sequence[str], int, int, QualityRules], Any]
    """(``bantar.bulk.load.BulkSource``, RTs, start and end in epoch ms, quality rules) -> what
    ``derive`` reads (``Frames.kinds[kind]``): the kind's hot and archived readings of the RTs"""
    derive: Callable[[Any, Job], dict[RTDay, Part]]
    """(``bantar.bulk.load.Frames``, job) -> each RT-day's part"""


def encode(column: pa.ChunkedArray | pa.Array) -> tuple[list[str], np.ndarray]:
    """Distinct strings and each row's index into them."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = pc.dictionary_encode(array)
    return [str(v) for v in encoded.dictionary.to_pylist()], np.asarray(encoded.indices.to_numpy(), np.int64)


def ints(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.to_numpy(), np.int64)


def wanted_keys(names: list[str], job: Job) -> np.ndarray:
    """``rt_key`` of every RT-day of the job whose RT is among ``names``."""
    index = {name: i for i, name in enumerate(names)}
    return np.array([rt_key(index[rt], number) for rt, number in job.rt_days if rt in index], np.int64)


def rt_key(rt: Any, number: Any) -> Any:
    return (rt << 24) | number


def starts_of(key: np.ndarray) -> np.ndarray:
    """Indexes where a run of equal ``key`` values begins (``key`` grouped)."""
    if len(key) == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))


def positions(starts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``n`` grouped rows with group ``starts``: each row's group, place in it, group length."""
    group = np.zeros(n, np.int64)
    if n:
        group[starts[1:]] = 1
        group = np.cumsum(group)
    lengths = np.diff(np.append(starts, n))
    return group, np.arange(n) - starts[group], lengths[group]


def ordered_sums(group: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Per group and column of ``values`` (rows x columns), ``0.0 + v1 + v2 + ...`` in row order
    (``group`` ascending): the same float a Python loop adding one value at a time gives, which
    a pairwise sum would not."""
    totals = np.zeros((groups, values.shape[1]))
    if len(group) == 0:
        return totals
    starts = starts_of(group)
    lengths = np.diff(np.append(starts, len(group)))
    by_length = np.argsort(-lengths, kind="stable")
    starts, lengths, owners = starts[by_length], lengths[by_length], group[starts[by_length]]
    for k in range(int(lengths[0])):
        active = int(np.searchsorted(-lengths, -k, side="left"))  # groups longer than k, first
        totals[owners[:active]] += values[starts[:active] + k]
    return totals
