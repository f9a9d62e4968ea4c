"""Per-device sequence tracking: a jump in ``seq`` means messages were lost before they reached
us (device buffer overflow, broker queue limit, broker crash). Gaps are reported, never absorbed.

Devices without a counter of ours (``ingest.sources.sequencing``) get numbers in two shapes:
LoRaWAN nodes ``epoch * SESSION_SPAN + fCnt`` (a new epoch is a new session: no gap across it),
counter-less firmware numbers at or above ``NO_COUNTER_BASE`` (derived from time: never a gap)."""

from __future__ import annotations

PLAUSIBLE_GAP = 100_000
"""the most numbers a device can plausibly skip (a bin reporting every 5 minutes: a year of its
messages); a larger jump is a counter reset or a fault, reported apart from lost messages"""
SESSION_SPAN = 2**32
"""sequence numbers per session: a LoRaWAN frame counter's range"""
NO_COUNTER_BASE = 2**52
"""numbers from here up are derived from time and content, not counted: no gaps among them"""


class SequenceTracker:
    def __init__(self, last_seen: dict[str, int] | None = None, max_gap: int = PLAUSIBLE_GAP) -> None:
        self._last = dict(last_seen or {})
        self._max_gap = max_gap
        self.resets: dict[str, int] = {}
        """devices whose number jumped beyond the plausible bound, and how often"""

    def observe(self, device_id: str, seq: int) -> int:
        """Record a sequence number; return how many numbers it skipped (0 when contiguous,
        for a first sighting, for a late or repeated one, across a session boundary, for a number
        that is not counted, or for a jump beyond the bound, which is counted in ``resets`` instead)."""
        last = self._last.get(device_id)
        if last is None or seq > last:
            self._last[device_id] = seq
        if last is None or seq <= last + 1 or last >= NO_COUNTER_BASE or _new_session(last, seq):
            return 0
        if seq - last - 1 > self._max_gap:
            self.resets[device_id] = self.resets.get(device_id, 0) + 1
            return 0
        return seq - last - 1


def _new_session(last: int, seq: int) -> bool:
    """A LoRaWAN node's next session (its epoch bumped by one): a boundary, not a gap."""
    return seq < NO_COUNTER_BASE and seq // SESSION_SPAN == last // SESSION_SPAN + 1
