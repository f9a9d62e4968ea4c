"""What the ingestor has done, in numbers (logged periodically, returned at the end)."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from bantar.domain.errors import Reason

BATCH_MS_BOUNDS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000)
"""Upper bounds of the batch latency histogram's buckets (ms); one more bucket above the last."""


@dataclass
class IngestCounters:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: Counter[Reason] = field(default_factory=Counter)
    sequence_gap_messages: int | None = 0
    """messages missing according to per-device sequence numbers; None when not tracked here
    (a shared-subscription member sees only its share of each device's numbers)"""
    batches: int = 0
    store_retries: int = 0
    batch_ms_total: float = 0.0
    batch_ms_max: float = 0.0
    batch_ms_counts: list[int] = field(default_factory=lambda: [0] * (len(BATCH_MS_BOUNDS) + 1))
    """batches per latency bucket (``BATCH_MS_BOUNDS``, then the rest)"""
    stale_acks: int = 0
    """acknowledgements not sent because the connection that delivered the message is gone (the
    broker redelivers; the store recognises the duplicate)"""

    def record_batch(self, elapsed_ms: float) -> None:
        self.batches += 1
        self.batch_ms_total += elapsed_ms
        self.batch_ms_max = max(self.batch_ms_max, elapsed_ms)
        self.batch_ms_counts[bisect_left(BATCH_MS_BOUNDS, elapsed_ms)] += 1

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def summary(self) -> str:
        mean = self.batch_ms_total / self.batches if self.batches else 0.0
        reasons = ", ".join(f"{r.value}={n}" for r, n in sorted(self.rejected.items())) or "none"
        gaps = (
            f"sequence gaps {self.sequence_gap_messages} missing"
            if self.sequence_gap_messages is not None
            else "sequence gaps not tracked by a shared member (bantar stats)"
        )
        return (
            f"received {self.received}, stored {self.stored}, duplicates {self.duplicates}, "
            f"rejected {self.rejected_total} ({reasons}), {gaps}, "
            f"{self.batches} batches (mean {mean:.1f} ms, max {self.batch_ms_max:.1f} ms), "
            f"store retries {self.store_retries}, acks dropped after reconnects {self.stale_acks}"
        )
