"""A minimal live fleet for ``bantar demo``: every registered device reports at a quickened pace
with plausible values, and a few deliberately bad messages show the rejection path."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bantar.domain.registry import Device, RegistryIndex
from bantar.domain.topics import DeviceKind, Topic

MATERIALS = ["plastic", "paper", "metal", "glass", "organic", "other"]


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class DemoFleet:
    def __init__(
        self, registry: RegistryIndex, seed: int = 7, last_sequences: dict[str, int] | None = None
    ) -> None:
        """``last_sequences`` continues each device's numbering, as a real device keeps it."""
        self.devices = [d for d in registry.registry.devices if d.active]
        self.rng = random.Random(seed)
        known = last_sequences or {}
        self.seq: dict[str, int] = {d.id: known.get(d.id, 0) for d in self.devices}
        self.fill: dict[str, float] = {d.id: self.rng.uniform(5, 60) for d in self.devices}

    def round(self, now: datetime | None = None) -> Iterator[tuple[str, bytes]]:
        """One report from every device, then a handful of bad messages."""
        now = now or datetime.now(UTC)
        for device in self.devices:
            self.seq[device.id] += 1
            body = {
                "ts": now.isoformat(timespec="seconds"),
                "seq": self.seq[device.id],
                **self._values(device),
            }
            yield str(Topic(device.id, device.kind)), encode(body)
        yield from self._bad(now)

    def _values(self, device: Device) -> dict[str, Any]:
        rng = self.rng
        match device.kind:
            case DeviceKind.bin:
                level = self.fill[device.id] + rng.uniform(0, 8)
                self.fill[device.id] = rng.uniform(0, 10) if level > 95 else level
                return {
                    "fill_pct": round(min(level, 100.0), 1),
                    "battery_pct": round(rng.uniform(60, 100), 1),
                }
            case DeviceKind.cctv:
                online = rng.random() > 0.05
                return {
                    "online": online,
                    "recording": online,
                    "storage_free_pct": round(rng.uniform(10, 90), 1),
                }
            case DeviceKind.poskamling:
                return {"event": "patrol", "checkpoint": f"pos-{rng.randint(1, 4)}"}
            case DeviceKind.bank_sampah:
                material = rng.choice(MATERIALS)
                return {
                    "deposit_id": f"{device.id}-{self.seq[device.id]}",
                    "household": f"hh-{rng.randint(1, 60):04d}",
                    "items": {material: round(rng.uniform(0.5, 6), 2)},
                    "price_idr_per_kg": {material: rng.choice([1500, 2500, 3000])},
                }

    def _bad(self, now: datetime) -> Iterator[tuple[str, bytes]]:
        ts = now.isoformat(timespec="seconds")
        some_bin = next((d for d in self.devices if d.kind is DeviceKind.bin), None)
        yield (
            "bantar/v1/not-registered-1/bin",
            encode({"ts": ts, "seq": 1, "fill_pct": 10, "battery_pct": 90}),
        )
        if some_bin:
            topic = str(Topic(some_bin.id, DeviceKind.bin))
            yield topic, b'{"ts": "' + ts.encode() + b'", "seq": 99999999, "fill_pct": NaN, "battery_pct": 1}'
            yield topic, encode({"ts": ts, "seq": 99999998, "fill_pct": 140, "battery_pct": 50})
            yield topic, b"{not json"
