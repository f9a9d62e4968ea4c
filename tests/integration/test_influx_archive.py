"""The InfluxDB store's archive against a real influxd: deleting an archived day removes exactly
that day's points; ``bantar archive`` runs on the InfluxDB store; the retention policy is set at
start with its duration, and one shorter than the archive needs is refused. (The crash, late
readings and evidence tests run on both stores in ``test_archive.py``.)"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bantar.archive.archiver import Archiver
from bantar.archive.kinds import ARCHIVED_KINDS
from bantar.domain.registry import Registry, RegistryIndex
from bantar.domain.topics import DeviceKind
from bantar.settings import Settings
from bantar.stores.archive_influx import InfluxArchiveSide, day_range_ns, delete_statement, ensure_retention_policy
from bantar.stores.influxdb import InfluxClient, InfluxStore
from bantar.stores.ledger import SERIES
from shell.compose import build_archiver, build_store
from simulators.engine import Simulation
from tests.influx import InfluxProcess, database_name
from tests.support import REPO, bantar_env, store_directly

DAY = date(2026, 11, 3)


def fresh_client(influxdb: InfluxProcess, name: str) -> InfluxClient:
    client = InfluxClient(influxdb.url, database_name(name))
    client.create_database()
    return client


def durations(client: InfluxClient) -> dict[str, str]:
    (rows,) = client.query([f'SHOW RETENTION POLICIES ON "{client.database}"'])
    return {row["name"]: row["duration"] for row in rows}


def test_deleting_an_archived_day_removes_exactly_its_points(
    influxdb: InfluxProcess, request: pytest.FixtureRequest
) -> None:
    client = fresh_client(influxdb, request.node.name)
    start, end = day_range_ns(DAY)
    edges = [start - 1, start, end - 1, end]
    table = SERIES[DeviceKind.bin]
    client.write([f"{table},device_id=B-1,rt_code=RT-1 fill_pct=1,seq={i}i {t}" for i, t in enumerate(edges)])

    client.query([delete_statement(DeviceKind.bin, DAY)])

    (left,) = client.query([f"SELECT seq FROM {table}"])
    assert [row["time"] for row in left] == [start - 1, end]
    client.close()


def test_the_retention_policy_is_created_or_altered_with_its_duration(
    influxdb: InfluxProcess, request: pytest.FixtureRequest
) -> None:
    client = fresh_client(influxdb, request.node.name)
    assert durations(client)["autogen"] == "0s"  # InfluxDB's default: forever

    ensure_retention_policy(client, "autogen", 420)
    writing_to_it = InfluxClient(influxdb.url, client.database, retention_policy="bantar_hot")  # not there yet
    ensure_retention_policy(writing_to_it, "bantar_hot", 30)
    assert durations(client) == {"autogen": "10080h0m0s", "bantar_hot": "720h0m0s"}

    ensure_retention_policy(writing_to_it, "bantar_hot", 31)
    assert durations(client)["bantar_hot"] == "744h0m0s"
    writing_to_it.close()
    client.close()


def test_a_retention_shorter_than_the_archive_needs_is_refused() -> None:
    settings = Settings(ingest={"max_age_days": 10}, archive={"hot_days": 7})  # type: ignore[arg-type]
    assert settings.retention_minimum_days() == 7 + 1 + 1 + 7  # hot days, today, one run, slack
    assert Settings().retention_minimum_days() == 401  # the intake accepts readings 400 days old

    with pytest.raises(ValidationError, match=r"retention_days=15 would let InfluxDB drop readings.*at least 16"):
        Settings(ingest={"max_age_days": 10}, archive={"hot_days": 7}, influxdb={"retention_days": 15})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="at least 401"):
        Settings(influxdb={"retention_days": 100})  # type: ignore[arg-type]


def test_the_influxdb_store_starts_with_its_retention_and_its_archiver(
    influxdb: InfluxProcess, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database = database_name(request.node.name)
    settings = Settings(
        store="influxdb",
        influxdb={"url": influxdb.url, "database": database, "retention_days": 16, "ledger_path": tmp_path / "l.db"},  # type: ignore[arg-type]
        ingest={"max_age_days": 10},  # type: ignore[arg-type]
    )
    store = build_store(settings)
    assert isinstance(store, InfluxStore)
    assert durations(store.client)["autogen"] == "384h0m0s"
    archiver = build_archiver(settings, store)
    assert isinstance(archiver, Archiver)
    assert isinstance(archiver.store, InfluxArchiveSide)
    assert archiver.root == tmp_path / "archive"  # next to the ledger
    store.close()


def test_bantar_archive_moves_old_points_of_the_influxdb_store(
    influxdb: InfluxProcess,
    small_registry: Registry,
    registry_file: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    rt = small_registry.kecamatan[0].kelurahan[0].rts[0].code
    registry = small_registry.model_copy(update={"devices": [d for d in small_registry.devices if d.rt == rt]})
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)
    messages = list(Simulation(registry, start=end - timedelta(days=1), end=end, seed=3).messages())
    database = database_name(request.node.name)
    client = InfluxClient(influxdb.url, database)
    client.create_database()
    store = InfluxStore(client, tmp_path / "ledger.db")
    store_directly(store, RegistryIndex(registry), messages, end)
    counts = store.counts()
    archivable = sum(counts.readings_by_kind[kind.value] for kind in ARCHIVED_KINDS)
    assert archivable > 1000
    env = bantar_env(
        store="influxdb",
        influxdb__url=influxdb.url,
        influxdb__database=database,
        influxdb__ledger_path=str(tmp_path / "ledger.db"),
        registry=str(registry_file),
        app_db=str(tmp_path / "app.db"),
    )

    done = subprocess.run(
        [sys.executable, "-m", "shell", "archive"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert f"archived {archivable:,} readings" in done.stdout
    for kind in ARCHIVED_KINDS:
        (left,) = client.query([f"SELECT COUNT(seq) FROM {SERIES[kind]}"])
        assert left == []  # every point of the archived kinds left InfluxDB
    assert sum(p.readings for p in store.archive.archive_parts()) == archivable
    assert (tmp_path / "archive").is_dir()  # next to the ledger
    assert store.counts() == counts
    store.close()
