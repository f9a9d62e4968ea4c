from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bantar.domain.registry import Registry, RegistryIndex
from bantar.ports import ReadingStore
from bantar.registry_file import dump_registry
from bantar.registry_gen import KecamatanCounts, generate_city, one_kelurahan
from bantar.stores.influxdb import InfluxClient, InfluxStore
from bantar.stores.sqlite import SqliteStore
from ingest.broker import MosquittoProcess, mosquitto_binary
from tests.influx import InfluxProcess, database_name, influxd_binary
from tests.support import REPO
from tests.world import World


@pytest.fixture(scope="session")
def city() -> Registry:
    return generate_city(KecamatanCounts.read_csv(REPO / "config/kecamatan_bantar_2014_2020.csv"))


@pytest.fixture(scope="session")
def small_registry(city: Registry) -> Registry:
    return one_kelurahan(city)


@pytest.fixture(scope="session")
def registry_index(small_registry: Registry) -> RegistryIndex:
    return RegistryIndex(small_registry)


@pytest.fixture
def registry_file(small_registry: Registry, tmp_path: Path) -> Path:
    path = tmp_path / "registry.yaml"
    dump_registry(small_registry, path)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "bantar.db")
    yield s
    s.close()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A real Mosquitto on a free port with its own config and data directory."""
    if mosquitto_binary() is None:
        pytest.fail("mosquitto is not installed: .ci/run installs it (apt-get install mosquitto)")
    broker = MosquittoProcess.start(tmp_path / "mosquitto")
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, small_registry: Registry) -> Iterator[World]:
    """A simulated kelurahan over 35 days, stored and derived once per session."""
    world = World(tmp_path_factory.mktemp("evidence"), small_registry)
    yield world
    world.store.close()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxProcess]:
    """A real InfluxDB 1.x on a free port with a temporary data directory, shared by the session
    (each test writes to a database of its own)."""
    if influxd_binary() is None:
        pytest.fail("influxd is not installed: .ci/run installs it (apt-get install influxdb)")
    influx = InfluxProcess.start(tmp_path_factory.mktemp("influxdb"))
    yield influx
    influx.stop()


@pytest.fixture
def influx_store(influxdb: InfluxProcess, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[InfluxStore]:
    client = InfluxClient(influxdb.url, database_name(request.node.name))
    client.create_database()
    s = InfluxStore(client, tmp_path / "ledger.db")
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "influxdb"])
def any_store(request: pytest.FixtureRequest) -> ReadingStore:
    """The store contract holds on every adapter: one suite, run on each."""
    return request.getfixturevalue("store" if request.param == "sqlite" else "influx_store")
