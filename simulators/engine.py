"""The simulation: a registry, scenarios per RT, a seed and a period in, messages in time order
and the ground truth out. Same inputs, same messages, byte for byte."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

from bantar.domain.registry import Registry, RegistryIndex
from bantar.domain.topics import DeviceKind
from bantar.kinds.registry import load, plugin
from simulators.devices import DAY, WIB_OFFSET_S, Context, Message, hostile, wib_day, wib_midnight
from simulators.scenarios import Behaviour, Plan, plan_rts
from simulators.truth import OVERFLOW_PCT, GroundTruth


def model_of(kind: DeviceKind) -> Callable[[Context], Iterator[Message]]:
    """The simulator's model of a kind, named by its plug-in (``KindPlugin.simulator``,
    ``module:function``): the programme's kinds' in ``simulators.devices``, a later kind's in
    its own package."""
    path = plugin(kind).simulator
    if path is None:
        raise ValueError(f"no simulator model for {kind}")
    model: Callable[[Context], Iterator[Message]] = load(path)
    return model


CLOCK_FAULTS = (DeviceKind.bin, DeviceKind.poskamling)
"""Kinds whose first device of an RT runs its clock behind in the ``clock-offset`` scenario."""


class Simulation:
    def __init__(
        self,
        registry: Registry,
        *,
        start: datetime,
        end: datetime,
        seed: int = 1,
        scenarios: Sequence[str] = ("healthy",),
        lapse_onset: datetime | None = None,
        first_seq: dict[str, int] | None = None,
    ) -> None:
        if end <= start:
            raise ValueError("the simulated period must end after it starts")
        self.index = RegistryIndex(registry)
        self.start, self.end, self.seed = start.timestamp(), end.timestamp(), seed
        onset = lapse_onset or start + (end - start) / 3
        self.plans = plan_rts(scenarios, list(self.index.rts), seed, onset)
        self._blackout_whole_kelurahan()
        self.first_seq = first_seq or {}
        self.truth = GroundTruth(
            {
                "seed": seed,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "lapse_onset": onset.isoformat(),
                "overflow_pct": OVERFLOW_PCT,
                "scenarios": {code: list(plan.names) for code, plan in sorted(self.plans.items())},
            }
        )
        self._behaviours: dict[tuple[str, int], Behaviour] = {}

    def _blackout_whole_kelurahan(self) -> None:
        """A power cut hits a whole kelurahan: every RT of a kelurahan with a blackout RT gets it."""
        hit = {self.index.rts[c].kelurahan_code for c, p in self.plans.items() if "blackout" in p.names}
        for code, place in self.index.rts.items():
            plan = self.plans[code]
            if place.kelurahan_code in hit and "blackout" not in plan.names:
                names = (*tuple(n for n in plan.names if n != "healthy"), "blackout")
                self.plans[code] = Plan(names, plan.lapse_onset)

    def behaviour(self, rt_code: str, at: float) -> Behaviour:
        """An RT's behaviour, evaluated once per WIB day (scenarios change over weeks, not seconds)."""
        day = int((at + WIB_OFFSET_S) // DAY)
        key = (rt_code, day)
        if key not in self._behaviours:
            noon = datetime.fromtimestamp(day * DAY - WIB_OFFSET_S + DAY / 2, UTC)
            self._behaviours[key] = self.plans[rt_code].behaviour(noon)
        return self._behaviours[key]

    def _power_cuts(self, kelurahan_code: str, rt_codes: list[str]) -> list[tuple[float, float]]:
        rng = random.Random(f"{self.seed}:power:{kelurahan_code}")
        rate = max(self.behaviour(c, self.start).power_cuts_per_day for c in rt_codes)
        cuts: list[tuple[float, float]] = []
        if rate <= 0:
            return cuts
        t = self.start
        while True:
            t += rng.expovariate(rate / DAY)
            if t >= self.end:
                return cuts
            duration = rng.uniform(0.5, 6) * 3600
            cuts.append((t, t + duration))
            t += duration

    def messages(self) -> Iterator[Message]:
        """Every message of the period, in time order. Ground truth is complete once exhausted."""
        streams = []
        by_kelurahan: dict[str, list[str]] = {}
        for code, place in self.index.rts.items():
            by_kelurahan.setdefault(place.kelurahan_code, []).append(code)
        cuts = {kel: self._power_cuts(kel, codes) for kel, codes in by_kelurahan.items()}
        self._register_rt_days()
        for device in self.index.registry.devices:
            if not device.active:
                continue
            place = self.index.rts[device.rt]
            siblings = [d for d in self.index.devices_in(device.rt) if d.kind is device.kind]
            rng = random.Random(f"{self.seed}:{device.id}")
            b = self.behaviour(device.rt, self.start)
            drift = rng.uniform(-1, 1) * b.clock_drift_s_per_day
            ctx = Context(
                device=device,
                rt=place.rt,
                rng=rng,
                start=self.start,
                end=self.end,
                behaviour=partial(self.behaviour, device.rt),
                truth=self.truth,
                power_cuts=cuts[place.kelurahan_code],
                seq=self.first_seq.get(device.id, 1),
                clock_drift=drift,
                devices_of_kind_in_rt=len(siblings),
                clock_offset=b.clock_offset_s if device is siblings[0] and device.kind in CLOCK_FAULTS else 0.0,
            )
            streams.append(model_of(device.kind)(ctx))
            if b.hostile and device is siblings[0]:
                hostile_rng = random.Random(f"{self.seed}:hostile:{device.id}")
                streams.append(hostile(replace(ctx, rng=hostile_rng), self.first_seq.get(device.id, 1)))
        return heapq.merge(*streams, key=lambda m: m.at)

    def _register_rt_days(self) -> None:
        """Every RT-day of the period has a truth record with its device counts, even a quiet one."""
        day, last = wib_day(self.start), wib_day(self.end - 1)
        while day <= last:
            if wib_midnight(day) < self.end:
                for code in self.index.rts:
                    devices = [d for d in self.index.devices_in(code) if d.active]
                    record = self.truth.at(code, day)
                    record.bins = sum(1 for d in devices if d.kind is DeviceKind.bin)
                    record.cameras = sum(1 for d in devices if d.kind is DeviceKind.cctv)
            day += timedelta(days=1)
