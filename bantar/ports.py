"""Ports: the interfaces the domain-facing code depends on. Adapters live in ``bantar.stores``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple, Protocol

from bantar.domain.evidence import DayEvidence, RTReadings
from bantar.domain.intake import DeadLetter
from bantar.domain.readings import Reading
from bantar.domain.scoring import PeriodTotals
from bantar.domain.sequences import PLAUSIBLE_GAP
from bantar.kinds.registry import DeviceKind


class WriteOutcome(NamedTuple):
    stored: int
    """new readings kept"""
    duplicates: int
    """identical redeliveries or replays: already stored, nothing changed"""
    conflicts: int
    """same device and sequence as a stored reading but a different payload: dead-lettered"""


class SequenceGap(NamedTuple):
    device_id: str
    missing: int
    """sequence numbers skipped by steps no larger than the plausible bound: messages lost upstream"""
    resets: int = 0
    """steps beyond the bound: a device reset or a faulty counter, not lost messages"""


class StoreCounts(NamedTuple):
    readings_by_kind: dict[str, int]
    dead_letters_by_reason: dict[str, int]

    @property
    def readings(self) -> int:
        return sum(self.readings_by_kind.values())

    @property
    def dead_letters(self) -> int:
        return sum(self.dead_letters_by_reason.values())


class DirtyMark(NamedTuple):
    """An RT-day whose evidence must be derived again; ``generation`` grows with each new mark."""

    rt_code: str
    day: date
    generation: int


class ReadingStore(Protocol):
    """Durable, idempotent storage of readings and dead letters.

    ``write`` is one transaction: when it returns, everything passed is durable (so the caller
    may acknowledge the messages); when it raises ``StoreError``, nothing of it was kept.
    A reading is identified by ``(device_id, seq)``: writing it again changes nothing.
    """

    def write(self, readings: Sequence[Reading], dead_letters: Sequence[DeadLetter]) -> WriteOutcome: ...

    def last_sequences(self) -> dict[str, int]:
        """The highest sequence number stored per device."""
        ...

    def online_by_availability(self) -> set[str]:
        """Devices whose latest availability reading (LWT, status, available) says online."""
        ...

    def latest_contents(self) -> dict[tuple[str, str], int]:
        """(device, reading kind) -> digest of its latest reading with a derived sequence number
        (sources without a counter): what a retained or redelivered copy is compared with."""
        ...

    def sequence_gaps(self, max_gap: int = PLAUSIBLE_GAP) -> list[SequenceGap]:
        """Devices whose stored sequence numbers have holes (messages lost upstream)."""
        ...

    def counts(self) -> StoreCounts: ...

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...

    def last_seen(self) -> dict[str, int]:
        """Device id -> device time (epoch ms) of its latest report."""
        ...

    # evidence: derived per RT and WIB day, materialised so city-wide views never read raw readings
    def take_dirty(self, limit: int) -> list[DirtyMark]: ...

    def mark_all_dirty(self) -> int: ...

    def pending_rt_days(self) -> int:
        """RT-days marked and not yet derived."""
        ...

    def rt_readings(self, rt_code: str, start_ms: int, end_ms: int) -> RTReadings: ...

    def series_rows(self, kind: DeviceKind, rt_code: str, start_ms: int, end_ms: int) -> list[Any]:
        """An RT's readings of one kind in [start, end), as its ``Series.row_of`` builds them (like
        ``RTReadings``), by time, device and seq; from the hot store only, without the archive's (the
        field app pairs a scale's recent weighings with deposits)."""
        ...

    def save_evidence(
        self, evidence: Sequence[DayEvidence], done: Sequence[DirtyMark], now_ms: int = 0, cause: str | None = None
    ) -> None:
        """Store derived evidence (with each row's revision: see ``SqliteLedger.save_evidence``)
        and clear the marks it answers."""
        ...

    def clock_refusals(self, since_ms: int) -> list[tuple[str, int, int]]:
        """(device id, receive ms, device ms) of readings refused for a clock running ahead."""
        ...

    def evidence_version(self) -> int:
        """Grows whenever stored evidence changes: a key for caches of derived views."""
        ...

    def day_evidence(self, rt_codes: Sequence[str] | None, start: date, end: date) -> list[DayEvidence]: ...

    def period_totals(
        self, start: date, end: date, rt_codes: Sequence[str] | None = None
    ) -> dict[str, PeriodTotals]: ...

    def close(self) -> None: ...
