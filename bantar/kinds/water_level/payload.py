"""What a flood sensor sends."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bantar.domain.readings import Payload

Cm = Annotated[float, Field(ge=-100, le=2000)]
"""a level in cm above the registered zero: below it (a dry drain) down to -1 m, up to 20 m"""


class WaterLevelPayload(Payload):
    """A level reading: ``level_cm`` above the sensor's registered zero, and its battery."""

    level_cm: Cm
    battery_pct: float = Field(ge=0, le=100)
