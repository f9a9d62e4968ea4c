"""Availability-type readings, and the state intervals that keep them once they leave the hot store.

A camera that says "still online" once a minute sends the same state 1,440 times a day. Older
than the hot window, such a run is kept as one interval ``(device, state, from, to, count)``
plus its first sequence number. An interval only ever holds readings that are exactly regular:
one device and RT, the same state, consecutive sequence numbers and timestamps one fixed step
apart. So an interval gives back exactly the readings it replaced (``readings``), and evidence
derived from intervals equals evidence derived from the raw readings, whatever the derivation
(``tests/unit/test_intervals.py`` checks both on random series). Irregular readings (a jittery
clock, a lost message) simply end a run: they cost space, never accuracy.

Which kinds are availability-type, and which of their fields make the state, is declared here
and nowhere else: adding a kind is one entry in ``AVAILABILITY_KINDS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bantar.domain.topics import DeviceKind


@dataclass(frozen=True)
class AvailabilityKind:
    kind: DeviceKind
    state: tuple[str, ...]
    """the fields whose values make the state; other fields of the kind are not kept in intervals"""


AVAILABILITY_KINDS: dict[DeviceKind, AvailabilityKind] = {
    # storage_free_pct drifts a tenth of a point every half hour: kept in the hot window only
    DeviceKind.cctv: AvailabilityKind(DeviceKind.cctv, ("online", "recording")),
    # the hourly duty status; patrols and incidents differ from their neighbours and stay single
    DeviceKind.poskamling: AvailabilityKind(
        DeviceKind.poskamling, ("event", "on_duty", "guards", "checkpoint", "category", "note")
    ),
}


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
