"""Availability-type readings, and the state intervals that keep them once they leave the hot store.

A camera that says "still online" once a minute sends the same state 1,440 times a day. Older
than the hot window, such a run is kept as one interval ``(device, state, from, to, count)``
plus its first sequence number. An interval only ever holds readings that are exactly regular:
one device and RT, the same state, consecutive sequence numbers and timestamps one fixed step
apart. So an interval gives back exactly the readings it replaced (``readings``), and evidence
derived from intervals equals evidence derived from the raw readings, whatever the derivation
(``tests/unit/test_intervals.py`` checks both on random series). Irregular readings (a jittery
clock, a lost message) simply end a run: they cost space, never accuracy.

Which kinds are availability-type, and which of their fields make the state, each kind's plug-in
declares (``KindPlugin.archive``: ``Archived(state columns, intervals=True)``).

Availability as evidence: a camera that reports only when it comes and goes (an LWT, Frigate's
``available``, ESPHome's ``status``) is online from an ``online`` until the next ``offline`` or
``stopped``. For CCTV uptime such a camera counts one heartbeat per expected interval it was
online, so uptime means the same for cameras with heartbeats and cameras with availability.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol


@dataclass(frozen=True)
class StateInterval:
    device_id: str
    rt_code: str
    state: tuple[Any, ...]
    from_ms: int
    to_ms: int
    count: int
    first_seq: int

    @property
    def step_ms(self) -> int:
        return (self.to_ms - self.from_ms) // (self.count - 1) if self.count > 1 else 0

    def readings(self) -> Iterator[tuple[int, int]]:
        """``(seq, ts_ms)`` of each reading the interval stands for, in order."""
        step = self.step_ms
        for i in range(self.count):
            yield self.first_seq + i, self.from_ms + i * step


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
