"""ESPHome: ``<node>/status`` (``online`` birth, retained; ``offline`` Last Will) and
``<node>/sensor/<object id>/state`` (the bare number as text; the unit is not in the message, so
the source's ``sensors`` mapping states it; ``nan`` is a failed read)."""

from __future__ import annotations

import math
from typing import Any

from bantar.domain.errors import Reason, Rejected
from ingest.sources.decoders import SENTINELS
from ingest.sources.formats._json import text
from ingest.sources.observation import Observation, Quantity, availability_state, not_a_reading


def parse(topic: str, fields: dict[str, str], payload: bytes, ctx: Any) -> Observation:
    ids = (("esphome_node", fields["node"]),)
    said = text(payload)
    if "sensor" not in fields:
        state = availability_state(said)
        if state is None:
            raise not_a_reading(f"status {said[:40]!r} is neither online nor offline")
        return Observation(ids=ids, ts=None, state=state, content=payload)
    mapped = ctx.sensors.get(fields["sensor"])
    if mapped is None:
        raise Rejected(Reason.no_mapped_field, f"sensor {fields['sensor'][:60]!r} has no mapping in this source")
    try:
        value = float(said)
    except ValueError:
        raise Rejected(Reason.invalid_field, f"state {said[:40]!r} is not a number") from None
    if math.isnan(value) or math.isinf(value) or value in SENTINELS:
        return Observation(ids=ids, ts=None, fault=f"sensor {fields['sensor'][:60]!r} reports {said[:20]!r}, no value")
    return Observation(
        ids=ids, ts=None, values={mapped[0]: Quantity(value, mapped[1])}, content=f"{fields['sensor']}={said}".encode()
    )
