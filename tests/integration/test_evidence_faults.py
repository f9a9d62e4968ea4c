"""The evidence engine against ground truth with every fault the simulator knows: a kelurahan
over 60 days, each fault scenario in its own RTs, healthy and lapsing RTs around them, readings
stored as they would arrive (late uploads after their outage) in a real SQLite file.

Done when: every faulty RT-day is flagged with its device, no healthy RT-day is, and the period
scores equal the scores the rules give on the ground truth, for every RT, week and criterion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bantar.domain.errors import Rejected
from bantar.domain.intake import DeadLetter, IntakeLimits, accept
from bantar.domain.registry import Registry, RegistryIndex
from bantar.domain.scoring import PeriodTotals, longest_run_without
from bantar.domain.timebase import WIB
from bantar.domain.topics import DeviceKind
from bantar.evidence_service import EvidenceQueries, EvidenceUpdater
from bantar.ports import ReadingStore
from bantar.registry_file import dump_registry
from bantar.rules_file import load_rules
from bantar.stores.sqlite import SqliteStore
from ingest.broker import MosquittoProcess
from simulators.devices import Message
from simulators.engine import Simulation
from simulators.run import drive
from simulators.scenarios import FAULTS
from simulators.sinks import MqttSink
from simulators.truth import RTDay
from tests.support import REPO, RunningIngestor, settings_for, wait_until

END = datetime(2026, 11, 2, tzinfo=WIB)  # a Monday
START = END - timedelta(days=60)
INTERVALS = {DeviceKind.bin: 900, DeviceKind.cctv: 900}
"""Slower than the registry's (5 min bins, 1 min cameras) so 60 days stay quick in CI."""


@dataclass
class FaultWorld:
    registry: RegistryIndex
    sim: Simulation
    store: ReadingStore
    queries: EvidenceQueries
    scenario_of: dict[str, tuple[str, ...]]


def store_as_received(store: ReadingStore, registry: RegistryIndex, messages: Iterator[Message]) -> None:
    """Through the intake into the store, each message received when it would reach the service."""
    limits = IntakeLimits(max_age=timedelta(days=3650))
    readings, letters = [], []
    for m in messages:
        received = datetime.fromtimestamp(m.received or m.at + 2, UTC)
        try:
            readings.append(accept(m.topic, m.payload, received, registry, limits))
        except Rejected as exc:
            letters.append(DeadLetter.of(m.topic, m.payload, received, exc))
        if len(readings) >= 5000:
            store.write(readings, letters)
            readings, letters = [], []
    store.write(readings, letters)


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory, small_registry: Registry) -> Iterator[FaultWorld]:
    devices = [
        d.model_copy(update={"interval_s": INTERVALS.get(d.kind, d.interval_s)})
        for d in small_registry.devices
        if d.kind is not DeviceKind.cctv or d.rt.endswith(("-001", "-002", "-003", "-004", "-005", "-006"))
    ]
    registry = RegistryIndex(small_registry.model_copy(update={"devices": devices}))
    free = sorted(registry.rts)
    needs = {"gaming": DeviceKind.bank_sampah, "not-recording": DeviceKind.cctv}
    specs = ["healthy"]
    for name in sorted(FAULTS, key=lambda n: n not in needs):  # the picky ones choose first
        kind = needs.get(name, DeviceKind.bin)
        chosen = [c for c in free if any(d.kind is kind for d in registry.devices_in(c))][:2]
        free = [c for c in free if c not in chosen]
        specs.append(f"{name}:{','.join(chosen)}")
    specs += [f"lapsing:{free[0]},{free[1]}", f"hostile:{free[2]}"]
    sim = Simulation(registry.registry, start=START, end=END, seed=14, scenarios=specs)
    store = SqliteStore(tmp_path_factory.mktemp("faults") / "evidence.db", synchronous="OFF")
    store_as_received(store, registry, sim.messages())
    rules = load_rules(REPO / "config/rules.yaml")
    now = END + timedelta(minutes=1)
    EvidenceUpdater(store, registry, rules, now=lambda: now).update_all()
    queries = EvidenceQueries(store, registry, rules, now=lambda: now)
    yield FaultWorld(registry, sim, store, queries, {c: p.names for c, p in sim.plans.items()})
    store.close()


def _days() -> list[date]:
    return [START.date() + timedelta(days=i) for i in range(60)]


def test_every_faulty_rt_day_is_flagged_and_no_healthy_one(faults: FaultWorld) -> None:
    evidence = {(e.rt_code, e.day): e for e in faults.store.day_evidence(None, START.date(), END.date())}
    table: Counter[tuple[str, str]] = Counter()
    wrong = []
    for code in faults.registry.rts:
        for day in _days():
            truth = {f"{c}:{d}" for c, d in faults.sim.truth.at(code, day).flags}
            e = evidence.get((code, day))
            found = {f"{f.code}:{f.device_id}" for f in e.flags} if e else set()
            for flag in truth | found:
                verdict = "agree" if flag in truth and flag in found else "missed" if flag in truth else "false"
                table[(flag.split(":")[0], verdict)] += 1
                if verdict != "agree":
                    wrong.append((code, day, flag, verdict, faults.scenario_of[code]))
    print("\nflags per RT-day:", dict(sorted(table.items())))
    assert not wrong, wrong[:10]
    for code in ("stuck", "sentinel", "not_recording", "clock_skew", "deposit_burst"):
        assert table[(code, "agree")] > 0, code


def truth_totals(world: FaultWorld, code: str, start: date, end: date) -> PeriodTotals:
    """What the rules see when the sensors tell the truth: the ground truth's counted figures."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    records: list[RTDay] = [world.sim.truth.at(code, d) for d in days]
    place_devices = [d for d in world.registry.devices_in(code) if d.active]
    bins = sum(1 for d in place_devices if d.kind is DeviceKind.bin)
    posts = [d for d in place_devices if d.kind is DeviceKind.poskamling]
    night_expected = sum(10 * 3600 // d.interval_s for d in posts)
    observed = [bool(bins) and r.bin_hours_valid >= 0.6 * bins * 24 for r in records]
    collected = [d for d, r in zip(days, records, strict=True) if r.bin_collections_valid]
    nights = [
        r.night_staffed_valid or (night_expected and r.night_duty_reports_valid >= 0.6 * night_expected)
        for r in records
    ]
    households: set[str] = set()
    for r in records:
        households |= r.households
    t = PeriodTotals(
        bin_hours_observed=sum(r.bin_hours_valid for r in records),
        bin_overflow_hours=sum(r.bin_overflow_hours_valid for r in records),
        bin_days_observed=sum(observed),
        longest_days_without_collection=longest_run_without(
            collected, start, end, [d for d, o in zip(days, observed, strict=True) if not o and d not in collected]
        ),
        camera_days_reporting=sum(len(r.cameras_reporting_valid) for r in records),
        cctv_online_heartbeats=sum(r.cctv_up_valid for r in records),
        cctv_heartbeats_flagged=sum(r.cctv_flagged for r in records),
        post_reports=1 if posts else 0,
        nights_observed=sum(bool(n) for n in nights),
        staffed_nights=sum(r.night_staffed_valid for r in records),
        patrols=sum(r.patrols for r in records if r.night_staffed_valid),
        deposits=sum(r.deposits for r in records),
        distinct_households=len(households),
    )
    return world.queries._complete(t, world.queries.registry.devices_in(code), start, end)


def test_period_scores_equal_the_ground_truth_scores(faults: FaultWorld) -> None:
    from bantar.domain.scoring import device_counts, score_criteria

    weeks = [START.date() + timedelta(days=7 * i) for i in range(8)]
    periods = [(w, w + timedelta(days=6)) for w in weeks] + [(START.date(), END.date() - timedelta(days=1))]
    agree: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses = []
    for code in sorted(faults.registry.rts):
        rt = faults.registry.rts[code].rt
        kinds = device_counts(faults.queries.registry.devices_in(code))
        for start, end in periods:
            engine = {c.criterion: c.score for c in faults.queries.scores(code, start, end).criteria}
            truth = score_criteria(truth_totals(faults, code, start, end), rt, kinds, faults.queries.rules)
            for c in truth:
                total[c.criterion] += 1
                if engine[c.criterion] == c.score:
                    agree[c.criterion] += 1
                else:
                    misses.append((code, faults.scenario_of[code], start, c.criterion, engine[c.criterion], c.score))
    print("\nagreement per criterion:", {k: f"{agree[k]}/{total[k]}" for k in sorted(total)})
    for miss in misses[:20]:
        print("  differs:", miss)
    assert sum(agree.values()) == sum(total.values()), misses[:10]


def test_faults_through_a_real_broker_and_ingestor_are_flagged(
    mosquitto: MosquittoProcess, store: SqliteStore, small_registry: Registry, tmp_path: Path
) -> None:
    """The smaller run through the real path: simulate -> Mosquitto -> ingestor -> evidence."""
    keep = {"1571010001-001", "1571010001-005", "1571010001-006"}  # bins, cameras, bank sampah
    devices = [
        d.model_copy(update={"interval_s": INTERVALS.get(d.kind, d.interval_s)})
        for d in small_registry.devices
        if d.rt in keep
    ]
    registry = RegistryIndex(small_registry.model_copy(update={"devices": devices}))
    registry_file = tmp_path / "registry.yaml"
    dump_registry(registry.registry, registry_file)
    end = datetime.now(UTC).replace(microsecond=0)
    sim = Simulation(
        registry.registry,
        start=end - timedelta(days=3),
        end=end,
        seed=5,
        scenarios=["healthy", "stuck:1571010001-001", "not-recording:1571010001-005", "sentinel:1571010001-006"],
    )
    messages = list(sim.messages())
    ingestor = RunningIngestor(settings_for(mosquitto, store.path, registry_file), registry, store)
    try:
        report = drive(messages, [MqttSink("127.0.0.1", mosquitto.port)], sim_start=sim.start)
        assert report.acknowledged
        wait_until(lambda: ingestor.counters.received == len(messages), 60, "every message")
    finally:
        ingestor.close()
    EvidenceUpdater(store, registry, load_rules(REPO / "config/rules.yaml")).update_all()
    first = (end - timedelta(days=3)).astimezone(WIB).date()
    today = end.astimezone(WIB).date()  # still in progress: a flat line may not be long enough yet
    found = {
        (e.rt_code, e.day, f"{f.code}:{f.device_id}")
        for e in store.day_evidence(None, first, today - timedelta(days=1))
        for f in e.flags
    }
    truth = {
        (code, day, f"{c}:{d}")
        for (code, day), record in sim.truth.days.items()
        if code in keep and day < today
        for c, d in record.flags
    }
    assert truth
    assert found == truth


def test_a_rebuild_from_scratch_equals_the_incremental_evidence_flags_and_revisions(faults: FaultWorld) -> None:
    before = faults.store.day_evidence(None, START.date() - timedelta(days=1), END.date())
    now = END + timedelta(minutes=1)
    EvidenceUpdater(faults.store, faults.registry, faults.queries.rules, now=lambda: now).rebuild()
    after = faults.store.day_evidence(None, START.date() - timedelta(days=1), END.date())
    assert [e.figures() for e in after] == [e.figures() for e in before]
    assert [(e.revision, e.change_reason) for e in after] == [(e.revision, e.change_reason) for e in before]
    assert sum(len(e.flags) for e in after) > 0


def test_late_readings_revise_a_finished_day_and_say_so(
    store: SqliteStore, small_registry: Registry, tmp_path: Path
) -> None:
    registry = RegistryIndex(
        small_registry.model_copy(
            update={
                "devices": [d for d in small_registry.devices if d.rt == "1571010001-001" and d.kind is DeviceKind.bin]
            }
        )
    )
    day_end = datetime(2026, 11, 3, tzinfo=WIB)
    sim = Simulation(registry.registry, start=day_end - timedelta(days=1), end=day_end, seed=3)
    messages = list(sim.messages())
    held_back = [m for i, m in enumerate(messages) if i % 3 == 0]
    on_time = [m for i, m in enumerate(messages) if i % 3]
    rules = load_rules(REPO / "config/rules.yaml")
    clock = [day_end + timedelta(hours=1)]
    updater = EvidenceUpdater(store, registry, rules, now=lambda: clock[0])
    store_as_received(store, registry, iter(on_time))
    updater.update_all()
    (first,) = store.day_evidence(
        ["1571010001-001"], day_end.date() - timedelta(days=1), day_end.date() - timedelta(days=1)
    )
    assert (first.revision, first.change_reason, first.late_readings) == (1, "first", 0)
    clock[0] = day_end + timedelta(days=10)
    late = [Message(m.at, m.device_id, m.topic, m.payload, m.at + 10 * 86400) for m in held_back]
    store_as_received(store, registry, iter(late))
    updater.update_all()
    (revised,) = store.day_evidence(["1571010001-001"], first.day, first.day)
    assert revised.revision == 2
    assert revised.change_reason == "late_readings"
    assert revised.changed_at_ms == int(clock[0].timestamp() * 1000)
    assert revised.late_readings == sum(s.late for s in revised.sources) > 0
    day_messages = [m for m in messages if datetime.fromtimestamp(m.at, WIB).date() == first.day]
    assert sum(s.readings for s in revised.sources) == len(day_messages)
    assert all(s.kind is DeviceKind.bin and s.seq_first <= s.seq_last for s in revised.sources)
