"""Per-device sequence tracking: a jump in ``seq`` means messages were lost before they reached
us (device buffer overflow, broker queue limit, broker crash). Gaps are reported, never absorbed."""

from __future__ import annotations


class SequenceTracker:
    def __init__(self, last_seen: dict[str, int] | None = None) -> None:
        self._last = dict(last_seen or {})

    def observe(self, device_id: str, seq: int) -> int:
        """Record a sequence number; return how many numbers it skipped (0 when contiguous,
        for a first sighting, or for a late or repeated one)."""
        last = self._last.get(device_id)
        if last is None or seq > last:
            self._last[device_id] = seq
        if last is None or seq <= last + 1:
            return 0
        return seq - last - 1
