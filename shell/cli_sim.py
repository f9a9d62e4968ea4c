"""``bantar simulate``, ``bantar replay`` and ``bantar load``: simulated fleets for demos, tests
and benchmarks."""

from __future__ import annotations

import sys
import threading
from datetime import timedelta
from pathlib import Path

import click

from bantar.domain.errors import RegistryError
from bantar.domain.registry import Registry
from bantar.registry_file import load_registry
from bantar.settings import Settings
from shell.cli_common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    registry_and_store_or_exit,
    settings_or_exit,
    setup_logging,
    stop_on_signals,
    when,
)
from simulators.devices import Message
from simulators.engine import Simulation
from simulators.load import bin_burst
from simulators.run import drive
from simulators.sinks import HttpSink, JsonLinesSink, MqttSink, read_messages


def _registry(settings: Settings, path: Path | None) -> Registry:
    try:
        return load_registry(path or settings.registry)
    except RegistryError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)


def _mqtt_sink(settings: Settings, per_device: bool = False) -> MqttSink:
    try:
        return MqttSink(settings.mqtt.host, settings.mqtt.port, per_device=per_device)
    except OSError as exc:
        click.echo(f"cannot reach MQTT broker {settings.mqtt.host}:{settings.mqtt.port}: {exc}", err=True)
        sys.exit(EXIT_UNREACHABLE)


@click.command()
@click.option(
    "--registry",
    "registry_path",
    type=click.Path(exists=True, path_type=Path),
    help="registry file (default: BANTAR_REGISTRY)",
)
@click.option(
    "--days",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.001, max=400),
    help="simulated days, ending at --end",
)
@click.option("--end", default="now", show_default=True, help="end of the simulated period (ISO 8601 with offset)")
@click.option("--seed", default=1, show_default=True, help="same seed, same messages, byte for byte")
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    metavar="NAME[:SHARE|:RT,RT]",
    help="healthy, lapsing, faulty-sensors, blackout, hostile, clock-skew; repeatable",
)
@click.option("--lapse-onset", help="when lapsing RTs start to decay (default: a third into the period)")
@click.option("--out", type=click.Path(path_type=Path), help="write the messages as JSON lines (for replay)")
@click.option("--truth", type=click.Path(path_type=Path), help="write the ground truth as JSON lines")
@click.option("--mqtt", "to_mqtt", is_flag=True, help="publish to the broker in BANTAR_MQTT__*")
@click.option("--per-device", is_flag=True, help="one MQTT client per device (client id = username = device id)")
@click.option(
    "--http", "http_url", metavar="URL", help="also post bank sampah deposits and poskamling reports to the API"
)
@click.option(
    "--token",
    envvar="BANTAR_TOKEN",
    help="API token for --http: an operator's posts deposits, a security post's poskamling reports",
)
@click.option("--speed", default=0.0, show_default=True, help="simulated seconds per wall second; 0: flat out")
@click.option("--seq-from-store", is_flag=True, help="continue each device's sequence numbers from the store")
@click.option(
    "--format",
    "device_format",
    type=click.Choice(["tts", "chirpstack", "tasmota", "esphome"]),
    help="bins and cameras speak this real format instead of bantar/v1 (docs/sources.md)",
)
def simulate(
    registry_path: Path | None,
    days: float,
    end: str,
    seed: int,
    scenarios: tuple[str, ...],
    lapse_onset: str | None,
    out: Path | None,
    truth: Path | None,
    to_mqtt: bool,
    per_device: bool,
    http_url: str | None,
    token: str | None,
    speed: float,
    seq_from_store: bool,
    device_format: str | None,
) -> None:
    """Simulate the registry's device fleets over a period, with scenarios per RT; write or
    publish the messages, and write the ground truth. Without --out or --mqtt it only
    generates the messages and reports the rate."""
    settings = settings_or_exit()
    setup_logging(settings)
    registry = _registry(settings, registry_path)
    first_seq = None
    if seq_from_store:
        _, store = registry_and_store_or_exit(settings)
        first_seq = {device: seq + 1 for device, seq in store.last_sequences().items()}
        store.close()
    end_at = when(end)
    try:
        sim = Simulation(
            registry,
            start=end_at - timedelta(days=days),
            end=end_at,
            seed=seed,
            scenarios=scenarios or ("healthy",),
            lapse_onset=when(lapse_onset) if lapse_onset else None,
            first_seq=first_seq,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario") from None
    sinks: list[JsonLinesSink | MqttSink | HttpSink] = []
    if out:
        sinks.append(JsonLinesSink(out))
    if to_mqtt:
        sinks.append(_mqtt_sink(settings, per_device))
    if http_url:
        if not token:
            raise click.BadParameter("--http needs --token (or BANTAR_TOKEN)", param_hint="--token")
        sinks.append(HttpSink(http_url, token, {d.id: d.rt for d in registry.devices}))
    stop = threading.Event()
    stop_on_signals(stop)
    with click.progressbar(length=int(sim.end - sim.start), label="simulated time", file=sys.stderr) as bar:
        messages = sim.messages()
        if device_format:
            from simulators.formats import reformat

            messages = reformat(messages, registry, device_format)
        report = drive(
            messages,
            sinks,
            sim_start=sim.start,
            speed=speed,
            progress=lambda seconds: bar.update(int(seconds)),
            stop=stop.is_set,
        )
    if truth:
        sim.truth.write(truth)
    click.echo(
        f"simulated {report.messages:,} messages ({report.hostile:,} hostile) from {len(sim.plans):,} RTs "
        f"over {days:g} days in {report.seconds:.1f} s: {report.rate:,.0f} msg/s"
        + (f"; ground truth in {truth}" if truth else "")
    )
    if not report.acknowledged:
        click.echo("the broker did not acknowledge every message in time", err=True)
        sys.exit(EXIT_FAILED)


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--speed", default=0.0, show_default=True, help="simulated seconds per wall second; 0: flat out")
@click.option("--per-device", is_flag=True, help="one MQTT client per device")
def replay(path: Path, speed: float, per_device: bool) -> None:
    """Publish a JSON-lines file written by `bantar simulate --out` to the broker in BANTAR_MQTT__*."""
    settings = settings_or_exit()
    setup_logging(settings)
    try:
        first = next(read_messages(path), None)
        if first is None:
            click.echo(f"{path} holds no messages", err=True)
            sys.exit(EXIT_CONFIG)
        sink = _mqtt_sink(settings, per_device)
        report = drive(read_messages(path), [sink], sim_start=first.at, speed=speed)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"replayed {report.messages:,} messages in {report.seconds:.1f} s: {report.rate:,.0f} msg/s")
    if not report.acknowledged:
        sys.exit(EXIT_FAILED)


@click.command()
@click.option(
    "--count",
    default=100_000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="readings to publish at most",
)
@click.option("--max-seconds", default=120.0, show_default=True, help="stop after this long in any case")
@click.option("--registry", "registry_path", type=click.Path(exists=True, path_type=Path))
def load(count: int, max_seconds: float, registry_path: Path | None) -> None:
    """Load mode for benchmarks: publish valid bin readings as fast as the broker takes them,
    bounded by count and time; report the rate."""
    settings = settings_or_exit()
    registry = _registry(settings, registry_path)
    sink = _mqtt_sink(settings)
    burst = (Message(i, None, topic, payload) for i, (topic, payload) in enumerate(bin_burst(registry, count)))
    with click.progressbar(length=count, label="publishing", file=sys.stderr) as bar:
        report = drive(burst, [sink], sim_start=0, progress=lambda n: bar.update(int(n)), max_seconds=max_seconds)
    click.echo(
        f"published {report.messages:,} readings in {report.seconds:.1f} s: {report.rate:,.0f} msg/s"
        + ("" if report.acknowledged else " (not all acknowledged)")
    )
    sys.exit(0 if report.acknowledged else EXIT_FAILED)
