"""Device behaviour models of the programme's first kinds: one small seeded generator per kind,
each named by its kind's plug-in (``KindPlugin.simulator``; kinds added since keep theirs in
their own package).

Each model walks simulated time for one device, keeps the ground truth of what really happened
(true fill, real uptime, real shifts, real deposits) and yields the messages the device would
send — which differ from the truth exactly where a scenario says devices fail or lie.
Times are Unix seconds (floats); days, nights and deposit days follow WIB.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bantar.domain.registry import RT, Device
from bantar.domain.timebase import WIB_FIXED, WIB_OFFSET_MS
from bantar.domain.topics import DeviceKind, Topic
from simulators.scenarios import Behaviour
from simulators.truth import OVERFLOW_PCT, GroundTruth

WIB_OFFSET = WIB_FIXED
DAY = 86400.0
WIB_OFFSET_S = WIB_OFFSET_MS // 1000
PRICES_IDR_PER_KG = {
    "plastic": 3000,
    "paper": 1500,
    "metal": 8000,
    "glass": 500,
    "organic": 300,
    "other": 1000,
}
MATERIAL_MIX = {"plastic": 0.38, "paper": 0.3, "metal": 0.08, "glass": 0.07, "organic": 0.12, "other": 0.05}
_RHYTHM = [
    0.3,
    0.2,
    0.2,
    0.2,
    0.4,
    0.9,
    1.8,
    2.0,
    1.7,
    1.1,
    1.0,
    1.1,
    1.2,
    1.0,
    0.9,
    0.9,
    1.1,
    1.6,
    1.7,
    1.6,
    1.2,
    0.8,
    0.5,
    0.4,
]  # waste produced per WIB hour
RHYTHM = [w * 24 / sum(_RHYTHM) for w in _RHYTHM]


@dataclass(frozen=True)
class Message:
    at: float
    """simulated send time (Unix seconds, true clock)"""
    device_id: str | None
    topic: str
    payload: bytes
    received: float | None = None
    """when it reaches the service, if not as sent (a backlog uploaded after an outage)"""


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def wib_iso(at: float) -> str:
    return datetime.fromtimestamp(at, WIB_OFFSET).isoformat(timespec="seconds")


def wib_day(at: float) -> date:
    return datetime.fromtimestamp(at, WIB_OFFSET).date()


def wib_night(at: float) -> date:
    """The WIB date of the night a moment belongs to (before noon: the previous evening's)."""
    return wib_day(at - DAY / 2)


def wib_hour(at: float) -> int:
    return int((at + WIB_OFFSET_S) % DAY // 3600)


def wib_midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=WIB_OFFSET).timestamp()


@dataclass
class Context:
    """What a device model needs to know about its world."""

    device: Device
    rt: RT
    rng: random.Random
    start: float
    end: float
    behaviour: Callable[[float], Behaviour]
    truth: GroundTruth
    power_cuts: list[tuple[float, float]]
    """(start, end) of the kelurahan's power cuts, sorted"""
    seq: int
    """the first sequence number this device sends"""
    clock_drift: float = 0.0
    """seconds per day this device's clock gains (negative: loses)"""
    devices_of_kind_in_rt: int = 1
    clock_offset: float = 0.0
    """seconds this device's clock runs behind, all along"""

    def faulty(self, what: str, day: date, p: float) -> bool:
        """Whether a whole-day fault hits this device on ``day`` (drawn apart from the device's
        own random stream, so faults leave every other message as it was)."""
        return p > 0 and random.Random(f"{self.device.id}:{what}:{day}").random() < p

    def powered(self, at: float) -> bool:
        i = bisect_right(self.power_cuts, (at, math.inf)) - 1
        return i < 0 or not (self.power_cuts[i][0] <= at < self.power_cuts[i][1])

    def device_time(self, at: float) -> float:
        return at + self.clock_drift * (at - self.start) / DAY - self.clock_offset

    def send(self, at: float, body: dict[str, Any]) -> Message:
        device_clock = self.device_time(at)
        received = None
        if self.faulty("outage", wib_day(at), self.behaviour(at).outage_day_p):
            received = wib_midnight(wib_day(at) + timedelta(days=1)) + 600  # back at 00:10
        message = Message(
            at,
            self.device.id,
            str(Topic(self.device.id, self.device.kind)),
            encode({"ts": wib_iso(device_clock), "seq": self.seq, **body}),
            received,
        )
        self.seq += 1
        if self.clock_offset:
            self.truth.at(self.rt.code, wib_day(device_clock)).flags.add(("clock_skew", self.device.id))
        return message


def bins(ctx: Context) -> Iterator[Message]:
    rng, interval = ctx.rng, ctx.device.interval_s
    kk_share = ctx.rt.kk_count / max(1, ctx.devices_of_kind_in_rt) / 60
    fill, battery = rng.uniform(5, 40), rng.uniform(70, 100)
    next_collection = wib_midnight(wib_day(ctx.start)) + 7 * 3600 + rng.uniform(0, 2 * DAY)
    stuck_value: float | None = None
    silent_until = stuck_until = 0.0
    t = ctx.start + rng.uniform(0, interval)
    stuck_day: date | None = None
    day_stuck_value = 0.0
    while t < ctx.end:
        b = ctx.behaviour(t)
        today = wib_day(t)
        day_truth = ctx.truth.at(ctx.rt.code, today)
        step = 60.0 if b.fast_when_full and fill >= 80 else float(interval)
        fill = min(100.0, fill + b.fill_pct_per_day_per_60kk * kk_share * RHYTHM[wib_hour(t)] * step / DAY)
        stuck_today = ctx.faulty("stuck", today, b.stuck_day_p)
        if stuck_today and stuck_day != today:
            stuck_day, day_stuck_value = today, min(99.0, max(1.0, round(fill, 1))) + 0.05
        if t >= next_collection:
            if rng.random() >= b.collection_miss_p:
                fill = rng.uniform(0, 4)
                collected = ctx.truth.at(ctx.rt.code, wib_day(next_collection))
                collected.bin_collections += 1
                if not stuck_today and not ctx.clock_offset:
                    collected.bin_collections_valid += 1
            next_collection += b.collection_every_days * DAY + rng.uniform(-3600, 3600)
        if fill >= OVERFLOW_PCT:
            day_truth.bin_overflow_hours += step / 3600
        per_step = interval / DAY
        if rng.random() < b.bin_stuck_p_per_day * per_step:
            stuck_value, stuck_until = round(fill, 1), t + rng.uniform(2, 24) * 3600
        if rng.random() < b.bin_silent_p_per_day * per_step:
            silent_until = t + rng.uniform(6, 48) * 3600
        battery = max(0.0, battery - b.battery_drain_pct_per_day * per_step)
        if t >= silent_until and battery > 3 and ctx.powered(t):
            if t < stuck_until and stuck_value is not None:
                reported = stuck_value
            elif rng.random() < b.bin_spike_p:
                reported = 100.0
            else:
                reported = round(min(100.0, max(0.0, fill + rng.gauss(0, 1.5))), 1)
            if stuck_today:
                reported = day_stuck_value
                day_truth.flags.add(("stuck", ctx.device.id))
            level: dict[str, float] = {"fill_pct": reported}
            sentinel = False
            if b.sentinel_p and ctx.device.depth_cm:
                sentinel = ctx.faulty(f"sentinel:{t}", today, b.sentinel_p)
                distance = 999.9 if sentinel else round(ctx.device.depth_cm * (1 - reported / 100), 1)
                level = {"distance_cm": distance}
                if sentinel:
                    ctx.truth.at(ctx.rt.code, wib_day(ctx.device_time(t))).flags.add(("sentinel", ctx.device.id))
            if not (stuck_today or sentinel or ctx.clock_offset):
                span = min(step, interval, wib_midnight(today + timedelta(days=1)) - t) / 3600
                day_truth.bin_hours_valid += span
                if fill >= OVERFLOW_PCT:
                    day_truth.bin_overflow_hours_valid += span
            yield ctx.send(t, {**level, "battery_pct": round(battery, 1)})
        t += step


def cameras(ctx: Context) -> Iterator[Message]:
    rng, interval = ctx.rng, ctx.device.interval_s
    storage = rng.uniform(30, 95)
    fault_until = 0.0
    t = ctx.start + rng.uniform(0, interval)
    while t < ctx.end:
        b = ctx.behaviour(t)
        per_step = interval / DAY
        if t >= fault_until and rng.random() < b.camera_faults_per_day * per_step:
            fault_until = t + rng.expovariate(1 / b.camera_fault_hours) * 3600
        storage -= 2.5 * per_step
        if storage < 10 and rng.random() < 0.3 * per_step:
            storage = rng.uniform(85, 98)  # someone cleared the recorder
        storage = max(0.0, storage)
        powered, online = ctx.powered(t), t >= fault_until
        day_truth = ctx.truth.at(ctx.rt.code, wib_day(t))
        if powered and online:
            day_truth.camera_online_minutes += interval / 60
        if powered:
            recording = online and storage > 2 and not ctx.faulty("not-recording", wib_day(t), b.not_recording_day_p)
            if online and not recording:
                day_truth.flags.add(("not_recording", ctx.device.id))
                day_truth.cctv_flagged += 1
            elif not ctx.clock_offset:
                day_truth.cameras_reporting_valid.add(ctx.device.id)
                day_truth.cctv_up_valid += online
            yield ctx.send(t, {"online": online, "recording": recording, "storage_free_pct": round(storage, 1)})
        t += interval


def poskamling(ctx: Context) -> Iterator[Message]:
    """Hourly duty status all day (a heartbeat), a night shift (about 22:00-04:00 WIB) staffed
    with some probability, patrol check-ins during it, and rare incidents."""
    rng = ctx.rng
    events: list[tuple[float, dict[str, Any]]] = []
    shifts: list[tuple[float, float, int]] = []
    day = wib_day(ctx.start) - timedelta(days=1)
    while wib_midnight(day) < ctx.end:
        night_start = wib_midnight(day) + 22 * 3600
        b = ctx.behaviour(night_start)
        if rng.random() < b.night_staffed_p:
            on, off = night_start + rng.uniform(-900, 900), night_start + 6 * 3600 + rng.uniform(-900, 900)
            guards = rng.randint(2, 4)
            shifts.append((on, off, guards))
            events.append((on, {"event": "duty", "on_duty": True, "guards": guards}))
            events.append((off, {"event": "duty", "on_duty": False, "guards": 0}))
            for i in range(b.patrols_per_night):
                events.append((rng.uniform(on + 1800, off - 1800), {"event": "patrol", "checkpoint": f"pos-{i + 1}"}))
        if rng.random() < b.incident_p_per_night:
            category = rng.choice(["theft", "disturbance", "suspicious", "fire", "flood"])
            at = night_start + rng.uniform(0, 6 * 3600)
            events.append((at, {"event": "incident", "category": category, "note": "laporan warga"}))
        day += timedelta(days=1)
    t = ctx.start + rng.uniform(0, ctx.device.interval_s)
    while t < ctx.end:
        guards = next((g for on, off, g in shifts if on <= t < off), 0)
        events.append((t, {"event": "duty", "on_duty": guards > 0, "guards": guards}))
        t += ctx.device.interval_s
    first_night = wib_day(ctx.start)
    for at, body in sorted(events, key=lambda e: e[0]):
        if not ctx.start <= at < ctx.end or wib_night(at) < first_night:
            continue  # outside the period, or the tail of a shift that began before it
        truth = ctx.truth.at(ctx.rt.code, wib_night(at))
        if body["event"] == "patrol":
            truth.patrols += 1
        elif body["event"] == "incident":
            truth.incidents += 1
        elif body["on_duty"] and body["guards"]:
            truth.night_staffed = True
        in_night = wib_hour(at) >= 20 or wib_hour(at) < 6
        if body["event"] == "duty" and in_night and not ctx.clock_offset:
            truth.night_duty_reports_valid += 1
            truth.night_staffed_valid = truth.night_staffed_valid or bool(body["on_duty"] and body["guards"])
        yield ctx.send(at, body)


def bank_sampah(ctx: Context) -> Iterator[Message]:
    """Weekly deposit mornings (Saturday 08:00-11:00 WIB): each household of the RT comes with
    the scenario's participation probability and brings one to three materials."""
    rng = ctx.rng
    households = [_household_id(ctx.rt.code, i) for i in range(ctx.rt.kk_count)]
    day = wib_day(ctx.start)
    while wib_midnight(day) < ctx.end:
        if day.weekday() == 5:
            opens = wib_midnight(day) + 8 * 3600
            b = ctx.behaviour(opens)
            visits = sorted(
                (opens + rng.uniform(0, 3 * 3600), hh) for hh in households if rng.random() < b.bank_participation
            )
            if ctx.faulty("gaming", day, b.gaming_p):
                burst_at = opens + 3600
                visits += [(burst_at + i * 10, f"hh-new-{ctx.device.id[-8:]}-{day:%m%d}-{i}") for i in range(26)]
                ctx.truth.at(ctx.rt.code, day).flags.add(("deposit_burst", ctx.device.id))
                visits.sort()
            for at, household in visits:
                if not ctx.start <= at < ctx.end:
                    continue
                if household.startswith("hh-new-"):
                    ctx.truth.at(ctx.rt.code, day).deposits_gamed += 1
                    yield ctx.send(
                        at,
                        {
                            "deposit_id": f"{ctx.device.id}-{ctx.seq}",
                            "household": household,
                            "items": {"plastic": 0.1},
                            "price_idr_per_kg": {"plastic": 3000},
                        },
                    )
                    continue
                drawn = rng.choices(list(MATERIAL_MIX), weights=list(MATERIAL_MIX.values()), k=rng.randint(1, 3))
                materials = sorted(set(drawn))  # sorted: set order would differ between processes
                items = {m: round(max(0.1, rng.lognormvariate(math.log(1.6), 0.6)), 2) for m in materials}
                truth = ctx.truth.at(ctx.rt.code, day)
                truth.deposits += 1
                truth.households.add(household)
                for m, kg in items.items():
                    truth.deposit_kg[m] = truth.deposit_kg.get(m, 0.0) + kg
                yield ctx.send(
                    at,
                    {
                        "deposit_id": f"{ctx.device.id}-{ctx.seq}",
                        "household": household,
                        "items": items,
                        "price_idr_per_kg": {m: PRICES_IDR_PER_KG[m] for m in items},
                    },
                )
        day += timedelta(days=1)


FAR_FUTURE_S = 75 * 365 * DAY
"""a clock this far ahead is refused; each day's message differs, so none merges with another's"""


def hostile(ctx: Context, first_seq: int) -> Iterator[Message]:
    """A daily handful of messages that must all end as dead letters: malformed, non-finite,
    out of range, oversized, spoofed identity or kind, a named RT, a conflicting replay of a real
    sequence number, a far-future clock, a malformed topic."""
    rng, device = ctx.rng, ctx.device
    topic = str(Topic(device.id, device.kind))
    day = wib_day(ctx.start)
    while wib_midnight(day) < ctx.end:
        lo = max(wib_midnight(day), ctx.start + 900)  # after the device's first real report
        hi = min(wib_midnight(day) + DAY, ctx.end) - 20
        day += timedelta(days=1)
        if lo >= hi:
            continue
        at = rng.uniform(lo, hi)
        ts = wib_iso(at)
        other_kind = DeviceKind.cctv if device.kind is not DeviceKind.cctv else DeviceKind.bin
        bad = [
            (topic, b'{"ts": "' + ts.encode() + b'", "seq": '),
            (topic, b'{"ts":"' + ts.encode() + b'","seq":1,"fill_pct":NaN,"battery_pct":50}'),
            (topic, encode({"ts": ts, "seq": 1, "fill_pct": 180.0, "battery_pct": 50.0})),
            (topic, encode({"ts": ts, "seq": 1, "pad": "x" * 9000})),
            (f"bantar/v1/ghost-{device.id[-20:]}/{device.kind}", encode({"ts": ts, "seq": 1})),
            (str(Topic(device.id, other_kind)), encode({"ts": ts, "seq": 1})),
            (topic, encode({"ts": ts, "seq": 1, "rt": "1571010001-001", "fill_pct": 1.0})),
            (
                topic,
                encode({"ts": wib_iso(at + FAR_FUTURE_S), "seq": 1, "fill_pct": 1.0, "battery_pct": 1.0}),
            ),
            (f"{topic}/extra", encode({"ts": ts, "seq": 1})),
        ]
        if device.kind is DeviceKind.bin:  # same seq as its first real report, other content
            bad.append((topic, encode({"ts": ts, "seq": first_seq, "fill_pct": 99.9, "battery_pct": 1.0})))
        ctx.truth.at(ctx.rt.code, wib_day(at)).hostile_messages += len(bad)
        for i, (bad_topic, payload) in enumerate(bad):
            yield Message(at + i, None, bad_topic, payload)


def _household_id(rt_code: str, index: int) -> str:
    return "hh-" + hashlib.blake2b(f"{rt_code}:{index}".encode(), digest_size=5).hexdigest()
