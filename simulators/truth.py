"""Ground truth: what really happened per RT and WIB day, as the simulator generated it.

File format (JSON lines, UTF-8), documented in docs/ground-truth.md: the first line is
``{"type": "meta", ...}`` (seed, period, thresholds, scenarios per RT); then one
``{"type": "rt_day", ...}`` line per RT and WIB day, sorted by RT then day.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

OVERFLOW_PCT = 90.0
"""A bin at or above this fill counts as overflowing (the evidence rules use the same bound)."""


@dataclass
class RTDay:
    bins: int = 0
    bin_collections: int = 0
    bin_overflow_hours: float = 0.0
    """bin-hours with the true fill at or above OVERFLOW_PCT"""
    cameras: int = 0
    camera_online_minutes: float = 0.0
    night_staffed: bool = False
    """the night starting on this WIB day (about 22:00-04:00) had a staffed shift"""
    patrols: int = 0
    incidents: int = 0
    deposits: int = 0
    deposit_kg: dict[str, float] = field(default_factory=dict)
    households: set[str] = field(default_factory=set)
    hostile_messages: int = 0
    flags: set[tuple[str, str]] = field(default_factory=set)
    """(flag code, device id) the engine must raise for this day (by device time)"""
    bin_hours_valid: float = 0.0
    """bin-hours the unflagged readings stand for (each its interval, or less if the next came sooner)"""
    bin_overflow_hours_valid: float = 0.0
    """of those, hours with the true fill at or above ``overflow_pct``"""
    bin_collections_valid: int = 0
    """collections of bins whose readings that day count (not stuck, clock right)"""
    cctv_up_valid: int = 0
    """heartbeats online and recording (clock right)"""
    cctv_flagged: int = 0
    cameras_reporting_valid: set[str] = field(default_factory=set)
    night_duty_reports_valid: int = 0
    """duty reports of the night (20:00-06:00) from posts whose clock is right"""
    night_staffed_valid: bool = False
    deposits_gamed: int = 0
    kinds: dict[str, dict[str, float]] = field(default_factory=dict)
    """what plug-in kinds' models record (``KindPlugin.simulator``), by kind"""

    @property
    def camera_uptime(self) -> float | None:
        return self.camera_online_minutes / (self.cameras * 1440) if self.cameras else None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["households"] = len(self.households)
        data["flags"] = sorted(f"{code}:{device}" for code, device in self.flags)
        data["cameras_reporting_valid"] = len(self.cameras_reporting_valid)
        data["bin_hours_valid"] = round(self.bin_hours_valid, 3)
        data["bin_overflow_hours_valid"] = round(self.bin_overflow_hours_valid, 3)
        data["camera_uptime"] = None if self.camera_uptime is None else round(self.camera_uptime, 4)
        data["bin_overflow_hours"] = round(self.bin_overflow_hours, 3)
        data["camera_online_minutes"] = round(self.camera_online_minutes, 1)
        data["deposit_kg"] = {m: round(kg, 3) for m, kg in sorted(self.deposit_kg.items())}
        if not self.kinds:
            del data["kinds"]  # files of the programme's kinds only read as before
        return data


class GroundTruth:
    def __init__(self, meta: dict[str, Any]) -> None:
        self.meta = meta
        self.days: dict[tuple[str, date], RTDay] = defaultdict(RTDay)

    def at(self, rt_code: str, day: date) -> RTDay:
        return self.days[(rt_code, day)]

    def write(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as out:
            out.write(json.dumps({"type": "meta", **self.meta}, sort_keys=True) + "\n")
            for (rt_code, day), record in sorted(self.days.items()):
                line = {"type": "rt_day", "rt": rt_code, "day": day.isoformat(), **record.as_json()}
                out.write(json.dumps(line, sort_keys=True) + "\n")


def read_truth(path: Path) -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]]]:
    """(meta, {(rt, day): record}) from a ground-truth file."""
    meta: dict[str, Any] = {}
    days: dict[tuple[str, str], dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["type"] == "meta":
            meta = record
        else:
            days[(record["rt"], record["day"])] = record
    return meta, days
