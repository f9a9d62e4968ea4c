"""Load for benchmarks and tests: bursts of valid readings, bounded by count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bantar.domain.registry import Registry
from bantar.domain.topics import DeviceKind, Topic


def bin_burst(
    registry: Registry, count: int, start_seq: int = 1, start: datetime | None = None
) -> Iterator[tuple[str, bytes]]:
    """``count`` valid bin readings, round-robin over the registry's bins, each device's
    sequence numbers contiguous from ``start_seq``, one simulated second apart per round."""
    bins = [d for d in registry.devices if d.kind is DeviceKind.bin]
    base = start or datetime.now(UTC) - timedelta(hours=1)
    topics = [str(Topic(d.id, DeviceKind.bin)) for d in bins]
    for i in range(count):
        round_no, slot = divmod(i, len(bins))
        body = {
            "ts": (base + timedelta(seconds=round_no)).isoformat(),
            "seq": start_seq + round_no,
            "fill_pct": (i * 7) % 100,
            "battery_pct": 80.5,
        }
        yield topics[slot], json.dumps(body, separators=(",", ":")).encode()
