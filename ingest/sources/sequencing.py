"""Sequence numbers for devices that have none of ours.

LoRaWAN: ``epoch * 2**32 + fCnt``. The frame counter starts again at every join (and on some
reboots), so a session epoch is bumped on a join event, or when the counter goes back on an
uplink the network server timed after the last one seen: a session boundary, not billions of
lost messages, never a conflict. The same uplink delivered twice (two gateways, two
integrations, a retry) has the same counter and time, so it maps to the same number and is one
reading. The position survives restarts: it is what the store holds (``last_sequences`` and
``last_seen``).

Counter-less firmware (Tasmota, ESPHome, cameras): a number derived from the message's time and
content, above ``NO_COUNTER_BASE``, increasing with time, so the same message redelivered is the
same number; gap tracking skips this range.
"""

from __future__ import annotations

import threading
from datetime import datetime

from bantar.domain.intake import payload_digest
from bantar.domain.readings import MAX_SEQ
from bantar.domain.sequences import NO_COUNTER_BASE, SESSION_SPAN
from bantar.domain.timebase import PROGRAMME_START, to_epoch_ms

_CONTENT_BITS = 10
_PROGRAMME_START_MS = to_epoch_ms(PROGRAMME_START)


def derived_seq(ts: datetime, content: bytes) -> int:
    """Time (ms since the programme's start) and 10 bits of the content's fingerprint."""
    ms = max(0, to_epoch_ms(ts) - _PROGRAMME_START_MS)
    seq = NO_COUNTER_BASE + (ms << _CONTENT_BITS) + (payload_digest(content) & ((1 << _CONTENT_BITS) - 1))
    return min(seq, MAX_SEQ)


class FrameCounterSessions:
    """Per device: the highest sequence number given and the latest time seen. Shared by the
    connections' ingest threads (a device may come through two integrations), hence the lock."""

    def __init__(self, last_seq: dict[str, int], last_ts_ms: dict[str, int]) -> None:
        self._seq = {d: s for d, s in last_seq.items() if s < NO_COUNTER_BASE}
        self._ts = dict(last_ts_ms)
        self._joined: set[str] = set()
        self._lock = threading.Lock()

    def joined(self, device_id: str, ts: datetime) -> None:
        """A join accepted after the last uplink: the next uplink starts a new session."""
        with self._lock:
            if to_epoch_ms(ts) > self._ts.get(device_id, -1):
                self._joined.add(device_id)

    def seq_for(self, device_id: str, f_cnt: int, ts: datetime) -> int:
        with self._lock:
            return self._next(device_id, f_cnt, to_epoch_ms(ts))

    def _next(self, device_id: str, f_cnt: int, ts_ms: int) -> int:
        last = self._seq.get(device_id)
        if last is None:
            seq = f_cnt
        else:
            epoch, last_f_cnt = divmod(last, SESSION_SPAN)
            reset = f_cnt < last_f_cnt and ts_ms > self._ts.get(device_id, -1)
            if device_id in self._joined or reset:
                epoch += 1
            seq = epoch * SESSION_SPAN + f_cnt
        self._joined.discard(device_id)
        self._seq[device_id] = max(seq, last if last is not None else seq)
        self._ts[device_id] = max(ts_ms, self._ts.get(device_id, ts_ms))
        return seq
