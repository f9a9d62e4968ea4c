"""The water-level kind end to end: simulated flood sensors through a real Mosquitto into
``bantar ingest`` on SQLite and on InfluxDB, evidence equal on both and true to the simulator's
ground truth, served by the API with its chart, and a danger crossing in the alert book."""

from __future__ import annotations

import operator
from datetime import UTC, datetime, time, timedelta
from functools import reduce
from pathlib import Path

import httpx

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.readings import Material
from bantar.domain.registry import Device, Registry
from bantar.domain.timebase import WIB, wib_day
from bantar.kinds.registry import DeviceKind
from bantar.kinds.water_level.simulate import RAINY_MONTHS
from bantar.registry_file import dump_registry, load_registry
from bantar.settings import InfluxSettings, MqttSettings, Settings, SqliteSettings
from ingest.broker import MosquittoProcess, free_port
from shell.compose import build_services
from simulators.engine import Simulation
from simulators.run import drive
from simulators.sinks import MqttSink
from tests.influx import InfluxProcess
from tests.support import REPO, bantar_env, start_ingestor, stop_ingestor, wait_until


def rainy_end() -> datetime:
    """The latest WIB midnight before today whose six days before lie in the rainy season: the
    simulator draws the same floods for any such period, and the intake's window takes it."""
    day = wib_day(datetime.now(UTC)) - timedelta(days=1)
    while not all((day - timedelta(days=i)).month in RAINY_MONTHS for i in range(6)):
        day -= timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=WIB)


RT_A, RT_B = "1571010001-001", "1571010001-002"
END = rainy_end()
START = END - timedelta(days=4)
NOW = END + timedelta(minutes=1)


def flood_registry() -> Registry:
    """The configured city's areas (the notification rules name them) with flood sensors only."""
    sensor = {"kind": DeviceKind.water_level, "interval_s": 600}
    devices = [
        Device(id="wl-drain-01", rt=RT_A, calibration={"warning_cm": 60, "danger_cm": 90}, **sensor),
        Device(id="wl-river-01", rt=RT_A, calibration={"warning_cm": 90, "danger_cm": 120}, **sensor),
        Device(id="wl-river-02", rt=RT_B, calibration={"warning_cm": 150}, **sensor),  # no danger level registered
    ]
    return load_registry(REPO / "config/registry.yaml").model_copy(update={"devices": devices})


def test_flood_sensors_from_simulator_to_alert(
    mosquitto: MosquittoProcess, influxdb: InfluxProcess, tmp_path: Path
) -> None:
    registry = flood_registry()
    dump_registry(registry, tmp_path / "registry.yaml")
    sim = Simulation(registry, start=START, end=END, seed=3)
    messages = list(sim.messages())
    settings = {
        "sqlite": Settings(
            registry=tmp_path / "registry.yaml",
            sqlite=SqliteSettings(path=tmp_path / "wl.db"),
            app_db=tmp_path / "app-sqlite.db",
            mqtt=MqttSettings(port=mosquitto.port),
        ),
        "influxdb": Settings(
            registry=tmp_path / "registry.yaml",
            store="influxdb",
            influxdb=InfluxSettings(url=influxdb.url, database="water", ledger_path=tmp_path / "ledger.db"),
            app_db=tmp_path / "app-influx.db",
            mqtt=MqttSettings(port=mosquitto.port),
        ),
    }
    common = {"registry": str(tmp_path / "registry.yaml"), "mqtt__port": str(mosquitto.port)}
    envs = {
        "sqlite": bantar_env(**common, sqlite__path=str(tmp_path / "wl.db"), mqtt__client_id="ingest-sqlite"),
        "influxdb": bantar_env(
            **common,
            store="influxdb",
            influxdb__url=influxdb.url,
            influxdb__database="water",
            influxdb__ledger_path=str(tmp_path / "ledger.db"),
            mqtt__client_id="ingest-influx",
        ),
    }
    ingestors = {}
    try:
        for name, env in envs.items():  # both subscribe before anything is published
            log = tmp_path / f"{name}.log"
            ingestors[name] = start_ingestor(env, log, wait_subscribed=False)
            wait_until(lambda log=log: "subscribed" in log.read_text(), 120, f"the {name} ingestor to subscribe")
        report = drive(messages, [MqttSink("127.0.0.1", mosquitto.port)], sim_start=sim.start)
        assert report.acknowledged
        services = {name: build_services(s, now=lambda: NOW) for name, s in settings.items()}
        for service in services.values():
            wait_until(lambda s=service: s.store.counts().readings == len(messages), 180, "every reading stored")
    finally:
        for process in ingestors.values():
            stop_ingestor(process)

    for service in services.values():
        service.updater.update_all()
    days = {
        name: s.store.day_evidence(None, wib_day(START), wib_day(END - timedelta(seconds=1)))
        for name, s in services.items()
    }
    assert [e.kinds for e in days["sqlite"]] == [e.kinds for e in days["influxdb"]]
    for e in days["sqlite"]:  # true to what the simulator did
        truth = sim.truth.at(e.rt_code, e.day).kinds["water_level"]
        figures = e.kinds["water_level"]
        assert figures["max_level_cm"] == truth["max_level_cm"]
        assert abs(figures["hours_above_danger"] - truth["hours_above_danger"]) <= 2 * 600 / 3600
        assert figures["coverage"] >= 0.99
    recent = [e for e in days["sqlite"] if e.day >= wib_day(NOW) - timedelta(days=2)]
    crossed = {(e.rt_code, d) for e in recent for d in e.kinds["water_level"]["danger_devices"]}
    assert crossed, "the seed must flood a drain in the last three days"
    assert (RT_B, "wl-river-02") not in crossed

    service = services["sqlite"]
    service.alerts.sync()
    server = BackgroundServer(create_app(service, run_evidence_loop=False), free_port()).start()
    try:
        _, token = service.app_db.create_token("assessor", Role.assessor, ScopeLevel.city, None)
        with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
            period = {"start": wib_day(START).isoformat(), "end": wib_day(END - timedelta(seconds=1)).isoformat()}
            evidence = client.get(f"/api/v1/rts/{RT_A}/evidence", params=period).json()["data"]
            charts = client.get("/api/v1/charts").json()
            assert [c["kind"] for c in charts] == ["bin", "cctv", "poskamling", "bank_sampah", "water_level"]
            assert charts[-1]["root"] == ["kinds", "water_level"]
            assert {s["figure"] for s in charts[-1]["series"]} <= set(days["sqlite"][0].kinds["water_level"])
            for series in (s for c in charts for s in c["series"] if s["path"]):  # each figure is a day's
                *parent, key = series["path"]
                figures = reduce(operator.getitem, parent, evidence[0])
                assert key in figures or (parent == ["deposit_kg"] and key in set(Material)), series
            assert [d["kinds"]["water_level"] for d in evidence] == [
                e.kinds["water_level"] for e in days["sqlite"] if e.rt_code == RT_A
            ]
            alerts = client.get("/api/v1/alerts", params={"kind": "flood_danger"}).json()["data"]
            assert {(a["rt_code"], a["device_id"]) for a in alerts} == crossed
            assert all(a["state"] == "open" for a in alerts)
            for a in alerts:  # both languages, from the plug-in's texts
                assert a["message_id"].startswith(f"Sensor banjir {a['device_id']} mencapai tingkat bahaya pada")
                assert a["message_en"].startswith(f"Flood sensor {a['device_id']} reached its danger level on")
            scores = client.get(f"/api/v1/rts/{RT_A}/scores", params=period).json()
            shown = [
                i
                for c in scores["criteria"]
                for i in c.get("shown", [])
                if i["metric"] == "flood_danger_hours_per_month"
            ]
            assert [i["status"] for i in shown] == ["scored"]
            covered = shown[0]["coverage"]  # the kind's coverage metric (``KindPlugin.coverage``)
            summary = client.get("/api/v1/summary", params=period).json()
            assert summary["mean_coverage"]["water_level"] >= 0.99
            kel = service.registry.rts[RT_A].kelurahan_code
            recap = client.get("/api/v1/reports/evidence-recap", params={**period, "level": "kelurahan", "code": kel})
            row = next(r for r in recap.json()["rows"] if r["kode_rt"] == RT_A)
            assert row["cakupan_water_level"] == round(covered, 3)
    finally:
        server.stop()
        for s in services.values():
            s.store.close()
