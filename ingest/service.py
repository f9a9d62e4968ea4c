"""The ingest loop, independent of the transport.

A transport (``ingest.mqtt.MqttSource``) puts ``Inbound`` messages into a bounded inbox; this
loop takes them in batches, validates each through ``bantar.domain.intake.accept``, writes the
readings and dead letters of the batch in one store transaction, and only then hands the batch's
acknowledgement tokens back to the transport. A crash anywhere before the commit leaves the
messages unacknowledged, so the broker delivers them again; the store's ``(device_id, seq)`` key
makes that redelivery a no-op.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from bantar.domain.errors import Reason, Rejected, StoreError
from bantar.domain.intake import DeadLetter, IntakeLimits, accept
from bantar.domain.readings import Reading
from bantar.domain.registry import RegistryIndex
from bantar.domain.sequences import PLAUSIBLE_GAP, SequenceTracker
from bantar.ports import ReadingStore
from ingest.counters import IngestCounters
from ingest.inbox import Inbox

log = logging.getLogger("bantar.ingest")


class Inbound(NamedTuple):
    topic: str
    payload: bytes
    received_at: float
    """Unix time the transport received the message"""
    token: object
    """what the transport needs to acknowledge it"""
    replayed: bool = False
    """sent again by the broker: retained (on subscribing) or redelivered (DUP); sources only"""


Translate = Callable[[Inbound, datetime], list[Reading]]
"""a source's mapping of one message to readings ([] for a recognised replay), or ``Rejected``"""


class Transport(Protocol):
    """Where messages come from: it acknowledges stored ones and can stop taking new ones."""

    def acknowledge(self, tokens: Sequence[object]) -> None: ...

    def pause(self) -> None: ...


class IngestService:
    def __init__(
        self,
        store: ReadingStore,
        registry: RegistryIndex,
        limits: IntakeLimits,
        inbox: Inbox[Inbound],
        *,
        batch_max: int,
        linger_s: float,
        retry_max_s: float = 30.0,
        stats_every_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        counters: IngestCounters | None = None,
        heartbeat: Callable[[], None] | None = None,
        track_sequences: bool = True,
        max_seq_gap: int = PLAUSIBLE_GAP,
        translate: Translate | None = None,
        name: str = "bantar/v1",
    ) -> None:
        self.store = store
        self.registry = registry
        self.limits = limits
        self.inbox = inbox
        self.batch_max = batch_max
        self.linger_s = linger_s
        self.retry_max_s = retry_max_s
        self.stats_every_s = stats_every_s
        self.counters = counters or IngestCounters()
        self._sequences = SequenceTracker(store.last_sequences(), max_seq_gap) if track_sequences else None
        if not track_sequences:
            self.counters.sequence_gap_messages = None
        self._clock = clock
        self._heartbeat = heartbeat
        self._translate = translate
        self.name = name
        """the connection, in the log lines"""

    def run(self, transport: Transport, stop: threading.Event) -> IngestCounters:
        """Process until ``stop`` is set; then take no more, store and acknowledge what was
        already received, and return the counters."""
        next_stats = self._clock() + self.stats_every_s
        paused = False
        while True:
            if stop.is_set() and not paused:
                transport.pause()
                paused = True
            batch = self.inbox.take(self.batch_max, self.linger_s, stop)
            if batch:
                if not self._commit(batch, stop):
                    log.warning("stopping with %d messages unacknowledged; the broker keeps them", len(batch))
                    break
                transport.acknowledge([m.token for m in batch])
            elif paused:
                break
            if self._clock() >= next_stats:
                log.info("ingest: %s [%s]", self.counters.summary(), self.name)
                if self._heartbeat is not None:  # alive, and not stuck retrying the store
                    self._heartbeat()
                next_stats = self._clock() + self.stats_every_s
        log.info("ingest stopped: %s [%s]", self.counters.summary(), self.name)
        return self.counters

    def _commit(self, batch: list[Inbound], stop: threading.Event) -> bool:
        """Validate and store one batch, retrying the store with backoff. False if asked to stop
        while the store still fails (nothing is acknowledged then)."""
        started = time.perf_counter()
        readings, dead_letters = self.validate(batch)
        delay = 0.2
        while True:
            try:
                outcome = self.store.write(readings, dead_letters)
                break
            except StoreError as exc:
                self.counters.store_retries += 1
                log.error(
                    "store write failed (%s); %d messages wait unacknowledged, retry in %.1f s",
                    exc,
                    len(batch),
                    delay,
                )
                if stop.wait(delay):
                    return False
                delay = min(delay * 2, self.retry_max_s)
        self.counters.received += len(batch)
        self.counters.stored += outcome.stored
        self.counters.duplicates += outcome.duplicates
        for letter in dead_letters:
            self.counters.rejected[letter.reason] += 1
        if outcome.conflicts:
            self.counters.rejected[Reason.sequence_conflict] += outcome.conflicts
        self._track_sequences(readings)
        self.counters.record_batch((time.perf_counter() - started) * 1000)
        return True

    def validate(self, batch: Sequence[Inbound]) -> tuple[list[Reading], list[DeadLetter]]:
        readings: list[Reading] = []
        dead_letters: list[DeadLetter] = []
        translate = self._translate
        for message in batch:
            received_at = datetime.fromtimestamp(message.received_at, tz=UTC)
            try:
                if translate is None:
                    readings.append(accept(message.topic, message.payload, received_at, self.registry, self.limits))
                else:
                    mapped = translate(message, received_at)
                    readings.extend(mapped)
                    if not mapped:
                        self.counters.duplicates += 1  # a recognised replay
            except Rejected as rejection:
                dead_letters.append(DeadLetter.of(message.topic, message.payload, received_at, rejection))
                log.debug("rejected %s: %s", message.topic[:120], rejection)
        return readings, dead_letters

    def _track_sequences(self, readings: Sequence[Reading]) -> None:
        if self._sequences is None:
            return
        skipped: dict[str, int] = {}
        resets_before = sum(self._sequences.resets.values())
        for reading in readings:
            missing = self._sequences.observe(reading.device_id, reading.seq)
            if missing:
                skipped[reading.device_id] = skipped.get(reading.device_id, 0) + missing
        if sum(self._sequences.resets.values()) > resets_before:
            log.warning(
                "implausible sequence jumps (device reset or fault, not lost messages): %s",
                ", ".join(f"{device} ({n})" for device, n in list(self._sequences.resets.items())[:5]),
            )
        if skipped:
            total = sum(skipped.values())
            counted = self.counters.sequence_gap_messages
            assert counted is not None  # tracked here, so counted here
            self.counters.sequence_gap_messages = counted + total
            examples = ", ".join(f"{device} ({n})" for device, n in list(skipped.items())[:5])
            log.warning(
                "%d devices skipped %d sequence numbers in all (messages lost upstream): %s%s",
                len(skipped),
                total,
                examples,
                ", ..." if len(skipped) > 5 else "",
            )
