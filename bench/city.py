"""The whole generated city behind the composition root, for the benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bantar.domain.registry import Registry
from bantar.registry_file import dump_registry
from bantar.registry_gen import KecamatanCounts, generate_city
from bantar.services import Services
from bantar.settings import ApiSettings, InfluxSettings, Settings, SqliteSettings
from shell.compose import build_services

REPO = Path(__file__).resolve().parent.parent
END = datetime(2026, 11, 2, tzinfo=UTC) - timedelta(hours=7)
"""Monday 00:00 WIB: the benchmarks' clock stands just after it"""


def generated_city() -> Registry:
    """The city the benchmarks run on: 1,635 RTs and 5,931 devices from the programme's table."""
    return generate_city(KecamatanCounts.read_csv(REPO / "config/kecamatan_bantar_2014_2020.csv"))


def city_services(work: Path, influx_url: str | None = None, city: Registry | None = None) -> tuple[Registry, Services]:
    """The city on the embedded store, or with ``influx_url`` on InfluxDB (database ``city``)."""
    work.mkdir(parents=True, exist_ok=True)
    city = city or generated_city()
    dump_registry(city, work / "city.yaml")
    settings = Settings(
        registry=work / "city.yaml",
        store="influxdb" if influx_url else "sqlite",
        sqlite=SqliteSettings(path=work / "city.db"),
        influxdb=InfluxSettings(url=influx_url or "", database="city", ledger_path=work / "ledger.db"),
        app_db=work / "app.db",
        api=ApiSettings(rate_per_token_s=100_000, burst_per_token=100_000),  # timing, not throttling
    )
    return city, build_services(settings, now=lambda: END + timedelta(minutes=1))
