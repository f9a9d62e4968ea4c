"""What every stored row starts with, whatever its kind."""

from __future__ import annotations

from bantar.domain.readings import Reading
from bantar.domain.timebase import to_epoch_ms


def common(r: Reading) -> tuple[str, int, str, int, int]:
    """(device_id, seq, rt_code, ts_ms, received_ms): the key columns of every reading table."""
    return (r.device_id, r.seq, r.rt_code, to_epoch_ms(r.ts), to_epoch_ms(r.received_at))
