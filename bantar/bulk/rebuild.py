"""Derive many RT-days at once: each kind's kernel (named by its plug-in) over the readings of a
block of days, then the parts put together as ``derive_day`` puts them together.

``rebuild_marked`` answers every dirty mark of a store block by block (a day of a few hundred
RTs, read and derived at once), saving each block's evidence with its marks as the evidence loop
does: a kill in between leaves the remaining marks for the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from itertools import groupby

from bantar.bulk.columns import AFTER_MS, BEFORE_MS, Job, Kernel, Part, RTDay, day_number, day_of, day_start_ms
from bantar.bulk.load import BulkSource, Frames, load_frames
from bantar.bulk.others import derive_few
from bantar.bulk.workers import Block, Derivation, derived_blocks
from bantar.domain.evidence import DAY_MS, DayEvidence, DayParts, DerivationRules, assembled
from bantar.domain.registry import RT, Device
from bantar.kinds.registry import DeviceKind, load, plugins
from bantar.ports import DirtyMark, ReadingStore


@cache
def kernels() -> dict[DeviceKind, Kernel]:
    """The bulk kernel of each kind that names one (``KindPlugin.bulk``)."""
    return {p.kind: load(p.bulk) for p in plugins().values() if p.bulk is not None}


def derive_days(frames: Frames, job: Job) -> list[DayEvidence]:
    """The evidence of every RT-day of ``job`` from ``frames`` (which must hold each day's
    readings window): equal to ``derive_day`` for each; the kinds without a kernel are derived
    the per-day way (``derive_few``)."""
    parts = [derive(frames, job) for derive in (*(k.derive for k in kernels().values()), derive_few)]
    days = []
    for rt_code, n in sorted(job.rt_days):
        whole = Part()
        for found in parts:
            part = found.get((rt_code, n))
            if part is not None:
                whole.figures.update(part.figures)
                whole.flags += part.flags
                whole.sources += part.sources
        days.append(assembled(rt_code, day_of(n), DayParts(whole.figures, whole.flags, whole.sources), job.now_ms))
    return days


def derive_block(
    store: BulkSource,
    rts: Mapping[str, RT],
    devices: Mapping[str, Sequence[Device]],
    rt_days: Iterable[RTDay],
    rules: DerivationRules,
    now_ms: int,
) -> list[DayEvidence]:
    """Read what the RT-days need (hot and archived) and derive them."""
    wanted = frozenset(rt_days)
    if not wanted:
        return []
    numbers = [n for _, n in wanted]
    start = int(day_start_ms(min(numbers))) - BEFORE_MS
    end = int(day_start_ms(max(numbers))) + DAY_MS + AFTER_MS
    frames = load_frames(store, kernels(), sorted({rt for rt, _ in wanted}), start, end, rules.quality)
    return derive_days(frames, Job(rts, devices, wanted, rules, now_ms))


def _derive_block(store: BulkSource, d: Derivation, block: Block) -> list[DayEvidence]:
    return derive_block(store, d.rts, d.devices, block.rt_days, d.rules, block.now_ms)


def rebuild_marked(
    store: ReadingStore,
    rts: Mapping[str, RT],
    devices: Mapping[str, Sequence[Device]],
    rules: DerivationRules,
    now_ms: Callable[[], int],
    rts_per_block: int = 400,
    workers: int = 1,
) -> int:
    """Derive every RT-day marked dirty in ``store`` (which must also be a ``BulkSource``), a
    day and up to ``rts_per_block`` RTs at a time (about a million readings of the city), on up
    to ``workers`` processes (``bantar.bulk.workers``); the number of marks answered."""
    assert isinstance(store, BulkSource)
    marks = store.take_dirty(1 << 62)
    by_block: list[list[DirtyMark]] = []
    for _, of_day in groupby(sorted(marks, key=lambda m: (m.day, m.rt_code)), key=lambda m: m.day):
        day_marks = list(of_day)
        by_block += [day_marks[i : i + rts_per_block] for i in range(0, len(day_marks), rts_per_block)]
    now = now_ms()
    blocks = [Block([(m.rt_code, day_number(m.day)) for m in b if m.rt_code in rts], now) for b in by_block]
    derived = derived_blocks(_derive_block, store, Derivation(rts, devices, rules), blocks, workers)
    for block, evidence in zip(by_block, derived, strict=True):
        store.save_evidence(evidence, block, now, "rule_change")
    return len(marks)
