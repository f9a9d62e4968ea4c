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
from functools import partial
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
    """A picklable way to open the same store again in another process (``Reopenable.reopen``)."""

    def __call__(self) -> BulkSource: ...


@runtime_checkable
class Reopenable(Protocol):
    def reopen(self) -> Opener: ...


class Block(NamedTuple):
    rt_days: Sequence[RTDay]
    now_ms: int


class Derivation(NamedTuple):
    """What every block is derived with (sent once to each worker)."""

    rts: Mapping[str, RT]
    devices: Mapping[str, Sequence[Device]]
    rules: DerivationRules


Derive = Callable[[BulkSource, Derivation, Block], list[DayEvidence]]
"""a block's evidence (a module-level function: the workers get it by name)"""

_worker: list[tuple[BulkSource, Derivation]] = []
"""the worker process's own store and the derivation (set once by ``_start``)"""


def _start(opener: Opener, derivation: Derivation) -> None:
    _worker.append((opener(), derivation))


def _derive(derive: Derive, block: Block) -> list[DayEvidence]:
    store, derivation = _worker[0]
    return derive(store, derivation, block)


def derived_blocks(
    derive: Derive, store: BulkSource, derivation: Derivation, blocks: Sequence[Block], workers: int
) -> Iterator[list[DayEvidence]]:
    """Each block's evidence, in block order: by ``workers`` processes when the store can be
    opened again and there are enough blocks, else here."""
    workers = min(workers, len(blocks) // MIN_BLOCKS_PER_WORKER)
    if workers < 2 or not isinstance(store, Reopenable):
        yield from (derive(store, derivation, block) for block in blocks)
        return
    log.info("deriving %d blocks on %d worker processes", len(blocks), workers)
    context = get_context("forkserver")
    context.set_forkserver_preload([__name__, derive.__module__])
    initargs = (store.reopen(), derivation)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=initargs) as pool:
        # consecutive blocks to each worker: neighbouring days share archive parts (read once per process)
        yield from pool.map(partial(_derive, derive), blocks, chunksize=-(-len(blocks) // workers))
