"""Per-device sequence tracking: a jump in ``seq`` means messages were lost before they reached
us (device buffer overflow, broker queue limit, broker crash). Gaps are reported, never absorbed.

Devices without a counter of ours (``ingest.sources.sequencing``) get numbers in two shapes:
LoRaWAN nodes ``epoch * SESSION_SPAN + fCnt`` (a new epoch is a new session: no gap across it),
counter-less firmware numbers at or above ``NO_COUNTER_BASE`` (derived from time: never a gap)."""

from __future__ import annotations

SESSION_SPAN = 2**32
"""sequence numbers per session: a LoRaWAN frame counter's range"""
NO_COUNTER_BASE = 2**52
"""numbers from here up are derived from time and content, not counted: no gaps among them"""


class SequenceTracker:
    def __init__(self, last_seen: dict[str, int] | None = None) -> None:
        self._last = dict(last_seen or {})

    def observe(self, device_id: str, seq: int) -> int:
        """Record a sequence number; return how many numbers it skipped (0 when contiguous,
        for a first sighting, for a late or repeated one, across a session boundary, or for a
        number that is not counted)."""
        if seq >= NO_COUNTER_BASE:
            return 0
        last = self._last.get(device_id)
        if last is None or seq > last:
            self._last[device_id] = seq
        if last is None or seq <= last + 1 or seq // SESSION_SPAN != last // SESSION_SPAN:
            return 0
        return seq - last - 1
