"""Blocks of a bulk rebuild derived on every core: worker processes, each with its own connection
to the store, derive blocks while the caller saves the ones already derived, in block order.

A block's figures do not depend on which process derives it or on the other blocks, so a rebuild
gives the same evidence with any number of workers (``tests/integration/test_bulk_rebuild.py``).
The workers are forked from a fresh server process (``forkserver``), not from the caller: the
caller may hold threads, locks and open SQLite connections that a fork would copy half-way (SQLite
forbids using its state across a fork). Starting the server costs about a second of imports, so
a rebuild of a few blocks stays in one process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import NamedTuple, Protocol, runtime_checkable

from bantar.bulk.columns import RTDay
from bantar.bulk.load import BulkSource
from bantar.domain.evidence import DayEvidence, DerivationRules
from bantar.domain.registry import RT, Device

log = logging.getLogger("bantar.bulk")
MIN_BLOCKS_PER_WORKER = 2
"""fewer blocks than this per worker: derived in the calling process (spawning would cost more)"""


class Opener(Protocol):
    """A picklable way to open the same store again in another process (``BulkSource.reopen``)."""

    def __call__(self) -> BulkSource: ...


@runtime_checkable
class Reopenable(Protocol):
    def reopen(self) -> Opener: ...


class Block(NamedTuple):
    rt_days: Sequence[RTDay]
    now_ms: int


class _Setting(NamedTuple):
    store: BulkSource
    rts: Mapping[str, RT]
    devices: Mapping[str, Sequence[Device]]
    rules: DerivationRules


_worker: list[_Setting] = []
"""the worker process's store and job (set once by ``_start``)"""


def _start(
    opener: Opener, rts: Mapping[str, RT], devices: Mapping[str, Sequence[Device]], rules: DerivationRules
) -> None:
    _worker.append(_Setting(opener(), rts, devices, rules))


def _derive(block: Block) -> list[DayEvidence]:
    from bantar.bulk.rebuild import derive_block

    s = _worker[0]
    return derive_block(s.store, s.rts, s.devices, block.rt_days, s.rules, block.now_ms)


def derived_blocks(
    derive: Callable[[Block], list[DayEvidence]],
    blocks: Sequence[Block],
    workers: int,
    opener: Opener | None,
    job: tuple[Mapping[str, RT], Mapping[str, Sequence[Device]], DerivationRules],
) -> Iterator[list[DayEvidence]]:
    """Each block's evidence, in block order: by ``workers`` processes when the store can be
    opened again and there are enough blocks, else by ``derive`` here."""
    workers = min(workers, len(blocks) // MIN_BLOCKS_PER_WORKER)
    if opener is None or workers < 2:
        yield from map(derive, blocks)
        return
    log.info("deriving %d blocks on %d worker processes", len(blocks), workers)
    context = get_context("forkserver")
    context.set_forkserver_preload([__name__, "bantar.bulk.rebuild"])
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(opener, *job)) as pool:
        # consecutive blocks to each worker: neighbouring days share archive parts (read once per process)
        yield from pool.map(_derive, blocks, chunksize=-(-len(blocks) // workers))
