"""What the LoRaWAN formats share: the uplink's fields into an observation."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from bantar.domain.errors import Reason, Rejected
from bantar.domain.registry import normalise_dev_eui
from ingest.sources.observation import Observation, RawUplink


def dev_eui_id(value: object) -> tuple[str, str] | None:
    if not isinstance(value, str):
        return None
    eui = normalise_dev_eui(value)
    if eui is None:
        raise Rejected(Reason.invalid_field, f"DevEUI {value[:40]!r} is neither 16 hex digits nor base64 of 8 bytes")
    return ("dev_eui", eui)


def uplink(
    ids: list[tuple[str, str] | None],
    ts: datetime | None,
    f_cnt: object,
    f_port: object,
    data: object,
    decoded: object,
) -> Observation:
    raw = None
    if isinstance(data, str) and data:
        try:
            raw = RawUplink(f_port if isinstance(f_port, int) else 0, base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            raw = None  # ChirpStack's documentation example carries "..."; the decoded object may still do
    count = f_cnt if isinstance(f_cnt, int) and not isinstance(f_cnt, bool) else 0  # proto3 JSON omits 0
    if count < 0:
        raise Rejected(Reason.out_of_range, f"frame counter {count} is negative")
    return Observation(
        ids=tuple(i for i in ids if i is not None),
        ts=ts,
        f_cnt=count,
        raw=raw,
        decoded=decoded if isinstance(decoded, dict) else None,
        content=f"{count}:{f_port}:{data if raw else json.dumps(decoded, sort_keys=True, default=str)}".encode(),
    )
