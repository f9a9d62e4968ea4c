"""JSON and time helpers the formats share."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bantar.domain.errors import Reason, Rejected


def json_object(payload: bytes) -> dict[str, Any]:
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejected(Reason.malformed_json, f"not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(body, dict):
        raise Rejected(Reason.invalid_field, "the payload is not a JSON object")
    return body


def parse_time(value: object, local_tz: str | None = None) -> datetime | None:
    """RFC 3339 (nanoseconds cut to microseconds); a time without offset is in ``local_tz``."""
    if not isinstance(value, str) or len(value) < 19:
        return None
    text = value.strip().replace("Z", "+00:00")
    head, _, rest = text.partition(".")
    if rest:  # fraction then maybe an offset: keep 6 digits
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        offset = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{offset}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Rejected(Reason.invalid_field, f"time {value[:40]!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        if local_tz is None:
            raise Rejected(Reason.invalid_field, f"time {value[:40]!r} has no offset")
        parsed = parsed.replace(tzinfo=ZoneInfo(local_tz))
    return parsed


def text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise Rejected(Reason.not_utf8, f"byte {exc.start} is not valid UTF-8") from None
