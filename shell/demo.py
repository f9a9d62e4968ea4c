"""``bantar demo``: a kelurahan with a history, then a live fleet, on embedded defaults.

The demo first generates the last ``days`` of its kelurahan and sends them through the real path
(simulator → MQTT → ingestor → store), as fast as the machine allows, with the scenarios mixed:
healthy RTs, awarded RTs that lapse (and so raise re-assessment alerts), RTs with faulty
sensors (so *bukti kurang*) and a little hostile traffic. Then it derives the evidence, starts the
API and keeps a live fleet publishing in real time until Ctrl-C (or ``live_seconds``).

To fit 60 days into about a minute on two cores, the demo's kelurahan reports less often than the
committed registry (cameras, bins and flood sensors once an hour instead of every minute, 5 and 10
minutes): ``DEMO_INTERVALS``; at the registry's intervals 60 days are 3 million messages instead
of about 130,000. The evidence is computed against those same intervals, so coverage and scores
are honest for the demo's devices.

The kelurahan's flood sensors (its drains and, in Jambi Timur I, its RTs on the Batanghari bank:
``bantar/registry_gen.py``) follow the season: from November to March the simulator's rains
flood them, so the summary shows the highest water level, the hours above the warning and danger
levels and the ``flood_danger`` alerts of the last three days; in a dry-season run the levels stay
under the danger levels and no flood alert is raised.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import httpx

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.registry import Registry, RegistryIndex
from bantar.domain.timebase import wib_day
from bantar.domain.topics import DeviceKind
from bantar.registry_file import dump_registry, load_registry
from bantar.services import Services
from bantar.settings import Settings
from ingest.broker import MosquittoProcess, embedded_broker, free_port, mosquitto_binary
from ingest.counters import IngestCounters
from ingest.runner import run_ingestor
from shell.field_setup import field_app_lines
from simulators.engine import Simulation
from simulators.run import RunReport, drive
from simulators.sinks import MqttSink

log = logging.getLogger("bantar.demo")

DEMO_DAYS = 60
DEMO_SEED = 1571
"""a fixed seed: every run tells the same story, anchored at the moment it starts"""
DEMO_INTERVALS = {DeviceKind.cctv: 3600, DeviceKind.bin: 3600, DeviceKind.water_level: 3600}
"""seconds between reports in the demo's kelurahan (see the module's docstring)"""
LAPSE_WEEKS_AGO = 6
"""lapsing RTs start to slip this long before now: long enough for a re-assessment alert"""
DEMO_TOKEN_FILE = "demo-token.txt"  # noqa: S105 (a file name)
DEMO_DIR = "demo"
"""under the app database's folder: the demo's registry, its token and its log"""
NOISY_LOGGERS = ("transitions", "amqtt", "asyncio", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")


@dataclass
class DemoResult:
    """What the demo did; ``summary_lines`` turns it into the few lines printed at the end."""

    url: str
    token: str
    token_file: Path
    log_file: Path
    days: int
    history_messages: int = 0
    history_hostile: int = 0
    history_seconds: float = 0.0
    devices: int = 0
    rts: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)
    water: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """per RT with flood sensors, its daily ``water_level`` figures of the summary's period"""


def demo_settings(settings: Settings, *, keep_data: bool) -> Settings:
    """The demo's settings: its own registry (the committed one at demo intervals) and, unless
    ``keep_data``, empty stores (a re-run starts fresh)."""
    folder = settings.app_db.parent / DEMO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    registry = folder / "registry.yaml"
    dump_registry(at_demo_intervals(load_registry(settings.registry)), registry)
    if not keep_data:
        # The embedded store and the app database start empty; an InfluxDB store is left alone.
        stores = (settings.sqlite.path, settings.app_db) if settings.store == "sqlite" else (settings.app_db,)
        for path in stores:
            for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                file.unlink(missing_ok=True)
        (folder / DEMO_TOKEN_FILE).unlink(missing_ok=True)
    return settings.model_copy(update={"registry": registry})


def at_demo_intervals(registry: Registry) -> Registry:
    devices = [
        d.model_copy(update={"interval_s": DEMO_INTERVALS[d.kind]}) if d.kind in DEMO_INTERVALS else d
        for d in registry.devices
    ]
    return registry.model_copy(update={"devices": devices})


def demo_scenarios(index: RegistryIndex) -> list[str]:
    """Half the awarded RTs with a security post lapse; three RTs without an award have faulty
    sensors; a tenth send hostile traffic; the rest are healthy."""
    posts = {d.rt for d in index.registry.devices if d.kind is DeviceKind.poskamling}
    awarded = sorted(c for c, p in index.rts.items() if p.rt.awards and c in posts)
    lapsing = awarded[: max(1, len(awarded) // 2)]
    faulty = sorted(c for c, p in index.rts.items() if not p.rt.awards)[:3]
    specs = ["healthy", f"lapsing:{','.join(lapsing)}", "hostile:0.1"]
    if faulty:
        specs.append(f"faulty-sensors:{','.join(faulty)}")
    return specs


def quiet_libraries(log_file: Path) -> None:
    """The terminal shows the demo's own lines; everything the libraries say goes to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


@contextlib.contextmanager
def demo_broker(force_embedded: bool) -> Iterator[tuple[int, str]]:
    """Yield (port, MQTT protocol) of a broker started for the demo."""
    if mosquitto_binary() and not force_embedded:
        with tempfile.TemporaryDirectory(prefix="bantar-mosquitto-") as workdir:
            broker = MosquittoProcess.start(Path(workdir))
            log.info("started mosquitto on 127.0.0.1:%d", broker.port)
            try:
                yield broker.port, "5"
            finally:
                broker.stop()
        return
    port = free_port()
    log.info("starting the embedded broker (amqtt) on 127.0.0.1:%d", port)
    with embedded_broker(port):
        yield port, "3.1.1"


def run_demo(
    services: Services,
    stop: threading.Event,
    *,
    days: int = DEMO_DAYS,
    live_seconds: float | None = None,
    api_port: int = 8080,
    force_embedded: bool = False,
    show: Callable[[DemoResult], None] = lambda _r: None,
) -> DemoResult:
    """Send the history, start the API, then run the live fleet until ``stop`` (or for
    ``live_seconds``); ``show`` is called with the result once the API is up."""
    registry = services.registry
    folder = services.settings.app_db.parent / DEMO_DIR
    with demo_broker(force_embedded) as (port, protocol):
        settings = services.settings.model_copy(
            update={
                "mqtt": services.settings.mqtt.model_copy(
                    update={"port": port, "protocol": protocol, "host": "127.0.0.1"}
                )
            }
        )
        ready, ingest_stop, counters = threading.Event(), threading.Event(), IngestCounters()
        ingestor = threading.Thread(
            target=run_ingestor,
            args=(settings, registry, services.store, ingest_stop, ready, counters),
            name="ingestor",
        )
        ingestor.start()
        server = None
        try:
            if not ready.wait(20):
                raise ConnectionError("the ingestor could not connect to the demo broker")
            now = datetime.now(UTC).replace(microsecond=0)
            scenarios = demo_scenarios(registry)
            onset = now - timedelta(weeks=LAPSE_WEEKS_AGO)
            started = time.monotonic()
            history = _history(
                services, port, _history_start(services, now, days), now, scenarios, onset, counters, stop
            )
            click.echo("deriving daily evidence …", err=True)
            derive_started = time.monotonic()
            services.updater.update_all()
            log.info("history sent and ingested; evidence derived in %.1f s", time.monotonic() - derive_started)
            server = BackgroundServer(create_app(services), _port(api_port)).start()
            token = _demo_token(services, folder / DEMO_TOKEN_FILE)
            result = DemoResult(
                url=server.url,
                token=token,
                token_file=folder / DEMO_TOKEN_FILE,
                log_file=folder / "demo.log",
                days=days,
                history_messages=history.messages,
                history_hostile=history.hostile,
                history_seconds=time.monotonic() - started,
                devices=len(registry.registry.devices),
                rts=len(registry.rts),
            )
            ask_the_api(result, now, flood_rts(registry))
            show(result)
            click.echo(field_app_lines(services, server.url))
            if not stop.is_set():
                _live(services, port, scenarios, onset, stop, live_seconds)
            return result
        finally:
            if server is not None:
                server.stop()
            ingest_stop.set()
            ingestor.join()


def _port(wanted: int) -> int:
    if wanted == 0:
        return free_port()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:
            chosen = free_port()
            log.warning("port %d is taken; the API uses %d", wanted, chosen)
            return chosen
    return wanted


def _history(
    services: Services,
    port: int,
    start: datetime,
    end: datetime,
    scenarios: list[str],
    onset: datetime,
    counters: IngestCounters,
    stop: threading.Event,
) -> RunReport:
    """Publish the period as fast as the broker takes it, then wait until the ingestor has
    handled every message (stored, duplicate or dead-lettered)."""
    sim = Simulation(
        services.registry.registry,
        start=start,
        end=end,
        seed=DEMO_SEED,
        scenarios=scenarios,
        lapse_onset=onset,
        first_seq={device: seq + 1 for device, seq in services.store.last_sequences().items()},
    )
    days = max(1, round((end - start) / timedelta(days=1)))
    sink = MqttSink("127.0.0.1", port)
    with click.progressbar(length=days, label=f"{days} days of history via MQTT", file=sys.stderr) as bar:
        done = 0.0

        def advance(sim_seconds: float) -> None:
            nonlocal done
            done += sim_seconds / 86400
            whole = int(done)
            if whole:
                bar.update(whole)
                done -= whole

        report = drive(sim.messages(), [sink], sim_start=sim.start, progress=advance, stop=stop.is_set)
        bar.update(days)
    _drain(counters, report.messages, stop)
    return report


def _history_start(services: Services, now: datetime, days: int) -> datetime:
    """``days`` before now, or where kept data ends (a run with ``--keep-data`` fills the gap since
    the last run instead of sending the same days twice)."""
    seen = services.store.last_seen()
    start = now - timedelta(days=days)
    if seen:
        start = max(start, datetime.fromtimestamp(max(seen.values()) / 1000, UTC))
    return min(start, now - timedelta(minutes=1))


def _handled(counters: IngestCounters) -> int:
    return counters.stored + counters.duplicates + sum(counters.rejected.values())


def _drain(counters: IngestCounters, published: int, stop: threading.Event, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while _handled(counters) < published and time.monotonic() < deadline and not stop.is_set():
        stop.wait(0.1)
    if _handled(counters) < published:
        log.warning("the ingestor handled %d of %d messages in time", _handled(counters), published)


def _live(
    services: Services,
    port: int,
    scenarios: list[str],
    onset: datetime,
    stop: threading.Event,
    live_seconds: float | None,
) -> None:
    """The fleet in real time, continuing each device's sequence numbers."""
    start = datetime.now(UTC).replace(microsecond=0)
    sim = Simulation(
        services.registry.registry,
        start=start,
        end=start + timedelta(seconds=live_seconds or 7 * 86400),
        seed=DEMO_SEED + 1,
        scenarios=scenarios,
        lapse_onset=onset,
        first_seq={device: seq + 1 for device, seq in services.store.last_sequences().items()},
    )
    drive(
        sim.messages(),
        [MqttSink("127.0.0.1", port)],
        sim_start=sim.start,
        speed=1.0,
        stop=stop.is_set,
        max_seconds=live_seconds,
    )


def _demo_token(services: Services, path: Path) -> str:
    """A city-wide assessor token for trying the dashboard, reused while it is valid."""
    if path.exists():
        token = path.read_text().strip()
        if services.app_db.authenticate(token):
            return token
    _, token = services.app_db.create_token("Penilai demo", Role.assessor, ScopeLevel.city, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def default_period(now: datetime) -> tuple[str, str]:
    """The dashboard's default period: the last four full weeks (Monday to Sunday, WIB) and today."""
    today = wib_day(now)
    monday = today - timedelta(days=today.weekday())
    return (monday - timedelta(weeks=4)).isoformat(), today.isoformat()


def flood_rts(index: RegistryIndex) -> list[str]:
    return sorted({d.rt for d in index.registry.devices if d.kind is DeviceKind.water_level})


def ask_the_api(result: DemoResult, now: datetime, water_rts: list[str]) -> None:
    """Fetch, as the dashboard does, the city summary of the default period, the alerts, and the
    daily evidence of the RTs with flood sensors (``water_rts``)."""
    start, end = default_period(now)
    period = {"start": start, "end": end}
    auth = {"Authorization": f"Bearer {result.token}"}
    with httpx.Client(base_url=result.url, headers=auth, timeout=60) as api:
        result.summary = api.get("/api/v1/summary", params=period).json()
        result.alerts = api.get("/api/v1/alerts").json()
        for code in water_rts:
            days = api.get(f"/api/v1/rts/{code}/evidence", params=period).json()["data"]
            result.water[code] = [d["kinds"]["water_level"] for d in days if "water_level" in d["kinds"]]


def summary_lines(result: DemoResult) -> list[str]:
    """The lines printed once the demo is up. Each part is its own function so more can be added."""
    return [*_history_lines(result), *_evidence_lines(result), *_water_lines(result), "", *_open_lines(result)]


def _history_lines(r: DemoResult) -> list[str]:
    return [
        f"{r.days} days of {r.rts} RTs ({r.devices} devices): {r.history_messages:,} messages "
        f"({r.history_hostile:,} hostile) sent through MQTT and ingested in {r.history_seconds:.0f} s",
    ]


def _evidence_lines(r: DemoResult) -> list[str]:
    s = r.summary
    lines = [f"suggested levels {s.get('start')} – {s.get('end')} (WIB): baik / sedang / kurang / bukti kurang"]
    for c in s.get("criteria", []):
        lines.append(f"  {c['criterion']:<9} {c['baik']:>3} {c['sedang']:>6} {c['kurang']:>6} {c['insufficient']:>8}")
    kinds: dict[str, int] = {}
    for a in r.alerts.get("data", []):
        kinds[a["kind"]] = kinds.get(a["kind"], 0) + 1
    lines.append(
        f"alerts: {kinds.get('reassessment', 0)} re-assessment (penilaian ulang), "
        f"{kinds.get('device_silent', 0)} silent devices, {kinds.get('flood_danger', 0)} flood danger (bahaya banjir)"
    )
    return lines


def _water_lines(r: DemoResult) -> list[str]:
    """The flood sensors' figures over the summary's period, summed over sensors and days."""
    days = [d for figures in r.water.values() for d in figures]
    peaks = [float(d["max_level_cm"]) for d in days if d.get("max_level_cm") is not None]
    if not peaks:
        return []
    warning = sum(float(d.get("hours_above_warning") or 0) for d in days)
    danger = sum(float(d.get("hours_above_danger") or 0) for d in days)
    return [
        f"water levels (tinggi air) in {len(r.water)} RTs: highest {max(peaks):.1f} cm; sensor-hours above "
        f"warning (siaga) {warning:,.1f}, above danger (bahaya) {danger:,.1f}"
    ]


def _open_lines(r: DemoResult) -> list[str]:
    return [
        f"dashboard: {r.url}/   (API docs: {r.url}/docs)",
        f"sign in with the assessor token (also in {r.token_file}):",
        f"  {r.token}",
        f"library logs: {r.log_file}; the live fleet keeps publishing; Ctrl-C stops everything",
    ]
