"""The one intake path: raw topic + payload bytes -> a validated ``Reading`` or a rejection.

Pure: the caller passes the receive time and the registry. MQTT messages and HTTP posts both go
through ``accept``, so validation rules exist once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bantar.domain.errors import Reason, Rejected
from bantar.domain.readings import Payload, Reading, canonical_form
from bantar.domain.registry import Device, RegistryIndex
from bantar.domain.timebase import PROGRAMME_START, to_utc
from bantar.domain.topics import DeviceKind, Topic
from bantar.kinds.registry import plugins

_PARSERS: dict[DeviceKind, Callable[[bytes], Payload]] = {kind: p.parse for kind, p in plugins().items()}
"""each kind's payload model, from its plug-in (``bantar.kinds``)"""
CALIBRATE: dict[DeviceKind, Callable[[Payload, Device], float]] = {
    kind: p.calibrate for kind, p in plugins().items() if p.calibrate is not None
}
"""each kind's figure from the device's registration (bins: fill from distance), from its plug-in"""


class IntakeLimits(BaseModel):
    """What the intake accepts. The time window is asymmetric on purpose: devices buffer and
    resend old readings after an outage (so the past reaches far), but a clock running ahead of
    the server is a fault (so the future allows only a little skew)."""

    model_config = ConfigDict(frozen=True)

    max_payload_bytes: int = Field(default=8192, ge=256, le=1_048_576)
    max_age: timedelta = Field(default=timedelta(days=400))
    max_future_skew: timedelta = Field(default=timedelta(minutes=5))


DEAD_LETTER_HEAD_BYTES = 512
BOM = b"\xef\xbb\xbf"
"""a UTF-8 byte order mark: skipped in front of a payload, alike on MQTT and HTTP"""


class DeadLetter(BaseModel):
    """A refused input, kept for inspection: why, where it came from, and its first bytes."""

    model_config = ConfigDict(frozen=True)

    received_at: datetime
    reason: Reason
    detail: str
    topic: str
    payload_head: bytes = Field(description="the first bytes of the payload, truncated")
    payload_size: int
    digest: int

    @classmethod
    def of(cls, topic: str, payload: bytes, received_at: datetime, error: Rejected) -> DeadLetter:
        return cls(
            received_at=received_at,
            reason=error.reason,
            detail=error.detail,
            topic=topic[:256],
            payload_head=payload[:DEAD_LETTER_HEAD_BYTES],
            payload_size=len(payload),
            digest=payload_digest(topic.encode("utf-8", "replace") + b"\0" + payload),
        )


def payload_digest(data: bytes) -> int:
    """A 64-bit fingerprint (signed, to fit an SQLite INTEGER): compact in every stored row, and
    only ever compared between two payloads claiming the same (device_id, seq)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def accept(
    topic: str,
    payload: bytes,
    received_at: datetime,
    registry: RegistryIndex,
    limits: IntakeLimits,
    channel: Literal["mqtt", "http"] = "mqtt",
) -> Reading:
    """Validate one message; raise ``Rejected`` with the reason and a one-sentence detail.
    ``channel`` is how it came: a device's MQTT login, or a person's HTTP post."""
    if len(payload) > limits.max_payload_bytes:
        raise Rejected(
            Reason.payload_too_large,
            f"payload is {len(payload)} bytes; the limit is {limits.max_payload_bytes}",
        )
    device = _device_of(topic, registry)
    if not device.active:
        raise Rejected(Reason.device_inactive, f"device {device.id!r} is deactivated")
    if device.channel != channel:
        raise Rejected(Reason.wrong_channel, f"device {device.id!r} reports over {device.channel}, not {channel}")
    text = parse_json(payload)  # the checks JSON itself leaves open: UTF-8, duplicate keys, depth
    try:
        body = _PARSERS[device.kind](text)
    except ValidationError as exc:
        raise _rejection(exc) from None
    ts = to_utc(body.ts)
    _check_window(ts, received_at, limits)
    return Reading(
        device_id=device.id,
        kind=device.kind,
        rt_code=device.rt,
        seq=body.seq,
        ts=ts,
        received_at=received_at,
        payload=body,
        calibrated=calibrate(device.kind, body, device),
        digest=payload_digest(canonical_form(body, ts)),
        raw=payload,
    )


def parse_json(payload: bytes) -> bytes:
    """The payload without a leading BOM, once it is known to be UTF-8 JSON with no key given
    twice in any object and no nesting beyond the parser's depth. Both channels call it, so a
    byte order mark, ``"seq":1,"seq":6`` or ``[[[[...]]]]`` get the same answer on MQTT and HTTP."""
    text = payload.removeprefix(BOM)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(Reason.not_utf8, f"byte {exc.start} is not valid UTF-8") from None
    try:
        _DECODER.decode(decoded)
    except RecursionError:
        raise Rejected(Reason.malformed_json, "not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise Rejected(Reason.malformed_json, f"not valid JSON: {str(exc)[:120]}") from None
    except _KeyTwice as twice:
        raise Rejected(Reason.duplicate_key, f"the key {twice.key!r} appears more than once", field=twice.key) from None
    return text


class _KeyTwice(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key[:40]


def _no_key_twice(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        raise _KeyTwice(next(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return found


_DECODER = json.JSONDecoder(object_pairs_hook=_no_key_twice)
"""built once: ``json.loads(..., object_pairs_hook=...)`` would build a decoder per call (3x slower)"""


def _device_of(topic: str, registry: RegistryIndex) -> Device:
    """The registered device whose topic this is. A device's own topic is one dictionary lookup;
    any other topic is parsed, to say exactly what is wrong with it."""
    device_id = registry.device_by_topic.get(topic)
    if device_id is not None and (device := registry.devices.get(device_id)) is not None:
        return device  # (None: only while a new registry file is swapped in; parsed below)
    parsed_topic = Topic.parse(topic)
    device = registry.devices.get(parsed_topic.device_id)
    if device is None:
        raise Rejected(Reason.unknown_device, f"device {parsed_topic.device_id!r} is not registered")
    if device.kind is not parsed_topic.kind:
        raise Rejected(
            Reason.kind_mismatch,
            f"device {device.id!r} is registered as {device.kind}, not {parsed_topic.kind}",
        )
    return device


def calibrate(kind: DeviceKind, body: Payload, device: Device) -> float | None:
    """``Reading.calibrated`` of a reading of ``kind`` (None: its kind has no such figure)."""
    found = CALIBRATE.get(kind)
    return None if found is None else found(body, device)


def _check_window(ts: datetime, received_at: datetime, limits: IntakeLimits) -> None:
    earliest = max(PROGRAMME_START, received_at - limits.max_age)
    latest = received_at + limits.max_future_skew
    if ts < earliest:
        raise Rejected(
            Reason.timestamp_out_of_window,
            f"ts {ts.isoformat()} is before the earliest accepted time {earliest.isoformat()}",
        )
    if ts > latest:
        raise Rejected(
            Reason.timestamp_out_of_window,
            f"ts {ts.isoformat()} is more than {limits.max_future_skew} ahead of the server clock",
        )


_REASON_BY_ERROR_TYPE = {
    "missing": Reason.missing_field,
    "extra_forbidden": Reason.unexpected_field,
    "finite_number": Reason.not_finite,
    "greater_than": Reason.out_of_range,
    "greater_than_equal": Reason.out_of_range,
    "less_than": Reason.out_of_range,
    "less_than_equal": Reason.out_of_range,
}


def _rejection(exc: ValidationError) -> Rejected:
    """Turn pydantic's errors into one reason (from the first error) and a detail naming up to
    three fields, the rule each broke, and the value given."""
    errors = exc.errors(include_url=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return Rejected(Reason.malformed_json, f"not valid JSON: {errors[0]['msg']}")
    fields = ", ".join(".".join(str(p) for p in e["loc"]) or "payload" for e in errors[:3])
    reason = _REASON_BY_ERROR_TYPE.get(errors[0]["type"], Reason.invalid_field)
    parts = []
    for error in errors[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "payload"
        given = error.get("input")
        shown = "" if isinstance(given, dict | list) else f" (got {str(given)[:40]!r})"
        parts.append(f"{where}: {error['msg']}{shown}")
    more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
    return Rejected(reason, "; ".join(parts) + more, field=fields)


# The same time window and the same reasons for readings mapped from devices' own formats
# (``ingest.sources``, issue #15).
check_window = _check_window
rejection_of = _rejection
