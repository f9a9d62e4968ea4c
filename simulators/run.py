"""Driving a simulation into its sinks: accelerated (as fast as possible) or paced against the
wall clock, with progress and a final rate; and the load mode for benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from simulators.devices import Message


class Sink(Protocol):
    sent: int

    def send(self, message: Message) -> None: ...

    def close(self) -> bool: ...


@dataclass
class RunReport:
    messages: int
    hostile: int
    seconds: float
    acknowledged: bool

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def drive(
    messages: Iterable[Message],
    sinks: Sequence[Sink],
    *,
    sim_start: float,
    speed: float = 0.0,
    progress: Callable[[float], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    max_seconds: float | None = None,
) -> RunReport:
    """Send every message to every sink. ``speed`` > 0 paces simulated time at that many
    simulated seconds per wall second; 0 sends as fast as the sinks take them."""
    started = time.monotonic()
    count = hostile = 0
    reported = sim_start
    for message in messages:
        if speed > 0 and not _wait_until_due(message.at, sim_start, speed, started, stop, max_seconds):
            break
        for sink in sinks:
            sink.send(message)
        count += 1
        hostile += message.device_id is None
        if progress and count % 2000 == 0:
            progress(message.at - reported)
            reported = message.at
        if count % 1000 == 0 and (stop() or (max_seconds and time.monotonic() - started > max_seconds)):
            break
    acknowledged = all([sink.close() for sink in sinks])
    return RunReport(count, hostile, time.monotonic() - started, acknowledged)


def _wait_until_due(
    at: float, sim_start: float, speed: float, started: float, stop: Callable[[], bool], max_seconds: float | None
) -> bool:
    """Paced mode: sleep until a message is due, in short slices so a stop (or the time limit) is
    seen at once even when messages are minutes apart; False if the run should end instead."""
    while True:
        elapsed = time.monotonic() - started
        if stop() or (max_seconds and elapsed > max_seconds):
            return False
        lag = (at - sim_start) / speed - elapsed
        if lag <= 0:
            return True
        time.sleep(min(lag, 0.2))
