"""Per-device sequence tracking: a jump in ``seq`` means messages were lost before they reached
us (device buffer overflow, broker queue limit, broker crash). Gaps are reported, never absorbed."""

from __future__ import annotations

PLAUSIBLE_GAP = 100_000
"""the most numbers a device can plausibly skip (a bin reporting every 5 minutes: a year of its
messages); a larger jump is a counter reset or a fault, reported apart from lost messages"""


class SequenceTracker:
    def __init__(self, last_seen: dict[str, int] | None = None, max_gap: int = PLAUSIBLE_GAP) -> None:
        self._last = dict(last_seen or {})
        self._max_gap = max_gap
        self.resets: dict[str, int] = {}
        """devices whose number jumped beyond the plausible bound, and how often"""

    def observe(self, device_id: str, seq: int) -> int:
        """Record a sequence number; return how many numbers it skipped (0 when contiguous,
        for a first sighting, for a late or repeated one, or for a jump beyond the bound, which is
        counted in ``resets`` instead)."""
        last = self._last.get(device_id)
        if last is None or seq > last:
            self._last[device_id] = seq
        if last is None or seq <= last + 1:
            return 0
        if seq - last - 1 > self._max_gap:
            self.resets[device_id] = self.resets.get(device_id, 0) + 1
            return 0
        return seq - last - 1
