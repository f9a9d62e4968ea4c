"""Availability as evidence: a camera that reports only when it comes and goes (an LWT, Frigate's
``available``, ESPHome's ``status``) is online from an ``online`` until the next ``offline`` or
``stopped``. For CCTV uptime such a camera counts one heartbeat per expected interval it was
online, so uptime means the same for cameras with heartbeats and cameras with availability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol


class AvailabilityRow(NamedTuple):
    device_id: str
    ts_ms: int
    online: bool


class _Expecting(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def interval_s(self) -> int: ...


def online_ticks(
    devices: Iterable[_Expecting], rows: Sequence[AvailabilityRow], start: int, end: int
) -> list[tuple[str, int]]:
    """(device, time) of one heartbeat per interval each device was online within [start, end).
    ``rows`` sorted by time may begin before ``start`` (the state the day started in)."""
    interval = {d.id: d.interval_s * 1000 for d in devices}
    by_device: dict[str, list[AvailabilityRow]] = {}
    for row in rows:
        if row.device_id in interval:
            by_device.setdefault(row.device_id, []).append(row)
    ticks: list[tuple[str, int]] = []
    for device_id, changes in by_device.items():
        step = interval[device_id]
        for row, following in zip(changes, [*changes[1:], None], strict=True):
            if not row.online:
                continue
            since = max(row.ts_ms, start)
            until = min(following.ts_ms if following else end, end)
            ticks.extend((device_id, t) for t in range(since, until - step + 1, step))
    return ticks
