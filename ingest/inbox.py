"""The bounded hand-over between paho's network thread and the ingest loop.

A ``queue.Queue`` costs a lock and a condition round per message; at tens of thousands of
messages a second that was a measurable share of the ingestor's CPU. One producer and one
consumer share a ``deque`` instead (its append and popleft are atomic): the consumer takes
whole batches and naps briefly when there is nothing, and the producer waits only when the
inbox is full, which is the backpressure that keeps memory flat.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")

IDLE_NAP_S = 0.005
"""How long the consumer naps when the inbox is empty: latency it may add, at most."""


class Inbox(Generic[T]):
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[T] = deque()
        self._room = threading.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> None:
        """Add an item; while the inbox is full, wait (the caller's thread stops reading)."""
        while len(self._items) >= self.capacity:
            self._room.clear()
            if len(self._items) < self.capacity:
                break
            self._room.wait(0.1)  # the timeout also covers a wake-up missed between clear and wait
        self._items.append(item)

    def take(self, max_items: int, linger_s: float, stop: threading.Event) -> list[T]:
        """Up to ``max_items``: wait briefly for a first one, then gather more for at most
        ``linger_s``; return early when full or when ``stop`` is set. [] if nothing came."""
        items = self._items
        deadline = time.monotonic() + 0.2
        while not items:
            if stop.is_set() or time.monotonic() >= deadline:
                return []
            time.sleep(IDLE_NAP_S)
        batch: list[T] = []
        linger_until = time.monotonic() + linger_s
        while True:
            while items and len(batch) < max_items:
                batch.append(items.popleft())
            if len(batch) >= max_items or stop.is_set() or time.monotonic() >= linger_until:
                break
            time.sleep(IDLE_NAP_S)
        self._room.set()
        return batch
