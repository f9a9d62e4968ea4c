"""The archive against a real store (SQLite, and InfluxDB with its SQLite ledger) and real
Parquet files: evidence after archiving is the evidence before it; late readings for archived
days still count; an archiver SIGKILLed at each step of its work loses nothing and doubles
nothing."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bantar.archive.archiver import STEPS, Archiver
from bantar.archive.parts import ARCHIVED, verify_part
from bantar.domain.evidence import DayEvidence
from bantar.domain.registry import Registry, RegistryIndex
from bantar.domain.timebase import NS_PER_MS, WIB
from bantar.domain.topics import DeviceKind
from bantar.evidence_service import EvidenceUpdater
from bantar.rules_file import load_rules
from bantar.stores.archive_influx import InfluxArchiveSide
from bantar.stores.influxdb import InfluxClient, InfluxStore
from bantar.stores.ledger import SERIES
from bantar.stores.sqlite import SqliteStore
from simulators.engine import Simulation
from tests.influx import database_name
from tests.support import REPO, store_directly

END = datetime(2026, 11, 6, tzinfo=WIB)
START = END - timedelta(days=4)
HOT_DAYS = 1
Store = SqliteStore | InfluxStore


@pytest.fixture(scope="module")
def town(small_registry: Registry) -> tuple[RegistryIndex, list]:  # type: ignore[type-arg]
    """Four RTs with every kind of device, four days."""
    rts = {rt.code for rt in small_registry.kecamatan[0].kelurahan[0].rts[:4]}
    devices = [d for d in small_registry.devices if d.rt in rts]
    registry = small_registry.model_copy(update={"devices": devices})
    messages = list(Simulation(registry, start=START, end=END, seed=5).messages())
    return RegistryIndex(registry), messages


@pytest.fixture(params=["sqlite", "influxdb"])
def open_store(request: pytest.FixtureRequest) -> Iterator[Callable[[Path], Store]]:
    """Opens a store whose files (and archive) are in a folder; on InfluxDB, a database per folder."""
    opened: list[Store] = []
    url = request.getfixturevalue("influxdb").url if request.param == "influxdb" else None
    databases: dict[Path, str] = {}

    def open_at(tmp: Path) -> Store:
        if url is None:
            opened.append(SqliteStore(tmp / "store.db", synchronous="NORMAL", archive_root=tmp / "archive"))
        else:
            database = databases.setdefault(tmp, database_name(request.node.name))
            tmp.mkdir(parents=True, exist_ok=True)
            (tmp / "influx-database").write_text(f"{url} {database}")  # for the victim process
            client = InfluxClient(url, database)
            client.create_database()
            opened.append(InfluxStore(client, tmp / "ledger.db", synchronous="NORMAL", archive_root=tmp / "archive"))
        return opened[-1]

    yield open_at
    for store in opened:
        store.close()


def side(store: Store) -> SqliteStore | InfluxArchiveSide:
    """What the archiver works on: the SQLite store itself, or the InfluxDB store's archive side."""
    return store if isinstance(store, SqliteStore) else store.archive


def archiver(store: Store, root: Path) -> Archiver:
    return Archiver(side(store), root, HOT_DAYS, lambda: END)


def evidence_of(store: Store, registry: RegistryIndex, rebuild: bool) -> list[DayEvidence]:
    updater = EvidenceUpdater(store, registry, load_rules(REPO / "config/rules.yaml"))
    if rebuild:
        updater.rebuild()
    else:
        updater.update_all()
    found = store.day_evidence(None, START.date() - timedelta(days=1), END.date() + timedelta(days=1))
    return [without_receive_times(e) for e in found]


def without_receive_times(evidence: DayEvidence) -> DayEvidence:
    """The evidence without its late-arrival counts and the revision they cause: heartbeats kept as
    intervals keep no receive time, so provenance counts an archived heartbeat as on time
    (docs/archive.md, a known gap); every figure, flag and sequence range must still be equal."""
    sources = [s.model_copy(update={"late": 0}) for s in evidence.sources]
    return evidence.model_copy(
        update={"late_readings": 0, "sources": sources, "revision": 0, "changed_at_ms": 0, "change_reason": None}
    )


def hot_rows(store: Store, kind: DeviceKind) -> list[tuple[str, int, int]]:
    """(device, seq, time) of the hot rows (points) of ``kind``."""
    if isinstance(store, InfluxStore):
        (points,) = store.client.query([f"SELECT seq FROM {SERIES[kind]} GROUP BY device_id"])
        return [(p["device_id"], p["seq"], p["time"] // NS_PER_MS) for p in points]
    with store.ledger.reading() as db:
        return db.execute(f"SELECT device_id, seq, ts_ms FROM {SERIES[kind]}").fetchall()


def archived_rows(store: Store, kind: DeviceKind) -> list[tuple[str, int, int]]:
    archived = side(store).archived(kind, None, 0, 2**62)
    if archived is None:
        return []
    return list(zip(*(archived[c].to_pylist() for c in ("device_id", "seq", "ts_ms")), strict=True))


def readings_held(store: Store) -> Counter[tuple[str, str, int, int]]:
    """Every reading the store holds as its readers see it, hot or archived: (kind, device, seq,
    time) with multiplicity. A hot row with the device and time of an archived one is a copy
    readers leave out (on InfluxDB, points of a day whose part is listed but not yet deleted)."""
    held: Counter[tuple[str, str, int, int]] = Counter()
    for kind in ARCHIVED:
        archived = archived_rows(store, kind)
        seen = {(device, ts) for device, _, ts in archived}
        held.update((kind.value, *row) for row in archived)
        held.update((kind.value, *row) for row in hot_rows(store, kind) if (row[0], row[2]) not in seen)
    return held


def hot_copies(store: Store) -> int:
    """Hot rows that an archive part holds as well."""
    copies = 0
    for kind in ARCHIVED:
        seen = {(device, ts) for device, _, ts in archived_rows(store, kind)}
        copies += sum((device, ts) in seen for device, _, ts in hot_rows(store, kind))
    return copies


def test_archiving_keeps_every_reading_and_the_evidence(
    tmp_path: Path, town: tuple[RegistryIndex, list], open_store: Callable[[Path], Store]
) -> None:  # type: ignore[type-arg]
    registry, messages = town
    store = open_store(tmp_path)
    store_directly(store, registry, messages, END)
    before = evidence_of(store, registry, rebuild=False)
    held = readings_held(store)
    counts = store.counts()

    run = archiver(store, tmp_path / "archive").run()

    assert run.parts > 0
    assert readings_held(store) == held
    cutoff = archiver(store, tmp_path / "archive").cutoff_ms()
    assert not [row for kind in ARCHIVED for row in hot_rows(store, kind) if row[2] < cutoff]  # deleted
    assert hot_copies(store) == 0
    assert store.counts() == counts
    assert evidence_of(store, registry, rebuild=True) == before
    for part in side(store).archive_parts():
        verify_part(tmp_path / "archive" / part.path, part.rows, part.sha256)
    cctv = [p for p in side(store).archive_parts(DeviceKind.cctv)]
    assert sum(p.rows for p in cctv) <= 0.01 * sum(p.readings for p in cctv)
    assert archiver(store, tmp_path / "archive").run().parts == 0  # nothing left to move


def test_late_readings_for_archived_days_count(
    tmp_path: Path, town: tuple[RegistryIndex, list], open_store: Callable[[Path], Store]
) -> None:  # type: ignore[type-arg]
    registry, messages = town
    everything = open_store(tmp_path / "all")
    store_directly(everything, registry, messages, END)
    expected = evidence_of(everything, registry, rebuild=False)

    late = set(range(0, len(messages), 7))  # every seventh message arrives after its day was archived
    store = open_store(tmp_path / "late")
    store_directly(store, registry, [m for i, m in enumerate(messages) if i not in late], END)
    evidence_of(store, registry, rebuild=False)
    archiver(store, tmp_path / "late" / "archive").run()
    store_directly(store, registry, [m for i, m in enumerate(messages) if i in late], END)
    store_directly(store, registry, messages[:500], END)  # and some redeliveries of archived readings

    assert evidence_of(store, registry, rebuild=False) == expected
    assert evidence_of(store, registry, rebuild=True) == expected  # in bulk: hot late rows over archived days
    archiver(store, tmp_path / "late" / "archive").run()  # the late rows join the archive
    assert readings_held(store) == readings_held(everything)
    assert evidence_of(store, registry, rebuild=True) == expected


def test_readings_arriving_while_their_day_is_archived_stay_hot_until_the_next_run(
    tmp_path: Path, town: tuple[RegistryIndex, list], open_store: Callable[[Path], Store]
) -> None:  # type: ignore[type-arg]
    registry, messages = town
    late = set(range(0, len(messages), 7))
    store = open_store(tmp_path)
    store_directly(store, registry, [m for i, m in enumerate(messages) if i not in late], END)
    arrived = False

    def arrive(step: str) -> None:  # after the first day's rows were read, before they are deleted
        nonlocal arrived
        if step == "selected" and not arrived:
            arrived = True
            store_directly(store, registry, [m for i, m in enumerate(messages) if i in late], END)

    root = tmp_path / "archive"
    Archiver(side(store), root, HOT_DAYS, lambda: END, arrive).run()
    assert arrived

    everything = open_store(tmp_path / "all")
    store_directly(everything, registry, messages, END)
    assert readings_held(store) == readings_held(everything)
    archiver(store, root).run()
    assert readings_held(store) == readings_held(everything)
    assert hot_copies(store) == 0
    assert evidence_of(store, registry, rebuild=True) == evidence_of(everything, registry, rebuild=False)


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_an_archiver_killed_at_any_step_loses_and_doubles_nothing(
    tmp_path: Path,
    town: tuple[RegistryIndex, list],  # type: ignore[type-arg]
    step: str,
    open_store: Callable[[Path], Store],
) -> None:
    registry, messages = town
    store = open_store(tmp_path)
    store_directly(store, registry, messages, END)
    before = evidence_of(store, registry, rebuild=False)
    held = readings_held(store)
    root = tmp_path / "archive"
    for nth in (1, 3):  # the first part, then one in the middle of the next run
        victim = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.archive_victim",
                str(tmp_path),
                str(root),
                END.isoformat(),
                str(HOT_DAYS),
                step,
                str(nth),
            ],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        assert victim.returncode == -9, victim.stderr.decode()
        assert readings_held(store) == held
        if step == "committed" and isinstance(store, InfluxStore):
            assert hot_copies(store) > 0  # killed between listing the part and deleting its points
    archiver(store, root).run()

    assert readings_held(store) == held
    assert hot_copies(store) == 0
    assert not list(root.rglob("*.tmp"))
    listed = {p.path for p in side(store).archive_parts()}
    assert {str(p.relative_to(root)) for p in root.rglob("*.parquet")} == listed
    assert evidence_of(store, registry, rebuild=True) == before
