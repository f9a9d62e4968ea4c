"""The ``bantar`` command. Exit codes: 0 done; 1 failed while running; 2 bad usage, settings or
registry; 3 a broker or store could not be reached."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import click

from bantar.domain.access import Role, ScopeLevel, scope_problem
from bantar.domain.errors import RegistryError, StoreError
from bantar.ports import ReadingStore
from bantar.registry_file import dump_registry, load_registry
from bantar.registry_gen import KecamatanCounts, generate_city, one_kelurahan
from bantar.stores.appdb import AuditNote
from shell.cli_common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    registry_and_store_or_exit,
    services_session,
    settings_or_exit,
    setup_logging,
    stop_on_signals,
)
from shell.cli_field import signin
from shell.cli_notify import notify
from shell.cli_sim import load, replay, simulate
from shell.compose import run_ingest

DEFAULT_CSV = Path("config/kecamatan_bantar_2014_2020.csv")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """BANTAR: continuous sensor evidence for Kota Jambi's Kampung BANTAR programme.

    Settings come from BANTAR_* environment variables (see README, "Configuration").
    """


@main.group()
def registry() -> None:
    """The city registry: kecamatan > kelurahan > RT, and the devices in each RT."""


@registry.command("generate")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="YAML file to write")
@click.option("--small", is_flag=True, help="only one kelurahan (about 20 RTs), for demos and tests")
@click.option("--seed", default=1571, show_default=True, help="same seed, same city")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(exists=True, path_type=Path),
    default=DEFAULT_CSV,
    show_default=True,
    help="the programme's kecamatan table",
)
def registry_generate(out: Path, small: bool, seed: int, csv_path: Path) -> None:
    """Build the Kota Jambi registry (11 kecamatan, 62 kelurahan, 1,635 RTs) from the programme's
    published counts, with synthetic but stable codes, household counts and devices."""
    city = generate_city(KecamatanCounts.read_csv(csv_path), seed=seed)
    chosen = one_kelurahan(city) if small else city
    dump_registry(chosen, out)
    rts = sum(len(kel.rts) for kec in chosen.kecamatan for kel in kec.kelurahan)
    click.echo(f"wrote {out}: {len(chosen.kecamatan)} kecamatan, {rts} RTs, {len(chosen.devices)} devices")


@registry.command("check")
@click.argument("path", type=click.Path(path_type=Path), required=False)
def registry_check(path: Path | None) -> None:
    """Validate a registry file (default: BANTAR_REGISTRY) and summarise it."""
    path = path or settings_or_exit().registry
    try:
        loaded = load_registry(path)
    except RegistryError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    rts = sum(len(kel.rts) for kec in loaded.kecamatan for kel in kec.kelurahan)
    click.echo(f"{path}: valid; {len(loaded.kecamatan)} kecamatan, {rts} RTs, {len(loaded.devices)} devices")


@main.command()
def ingest() -> None:
    """Subscribe to the broker and store validated readings until SIGTERM or Ctrl-C."""
    settings = settings_or_exit()
    setup_logging(settings)
    stop = threading.Event()
    stop_on_signals(stop)
    try:
        run_ingest(settings, stop)
    except RegistryError as exc:  # the registry or config/sources.yaml
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    except (StoreError, ConnectionError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_UNREACHABLE)


@main.command()
@click.option("--dead-letters", "show", default=5, show_default=True, help="how many recent dead letters to list")
def stats(show: int) -> None:
    """What the store holds: readings per kind, rejections per reason, sequence gaps."""
    settings = settings_or_exit()
    _, store = registry_and_store_or_exit(settings)
    try:
        click.echo(_report(store, show, settings.ingest.max_seq_gap))
    finally:
        store.close()


def _report(store: ReadingStore, show: int, max_gap: int) -> str:
    counts = store.counts()
    lines = [f"readings stored: {counts.readings}"]
    lines += [f"  {kind:<12} {n}" for kind, n in counts.readings_by_kind.items()]
    lines.append(f"rejected (dead letters): {counts.dead_letters}")
    lines += [f"  {reason:<24} {n}" for reason, n in sorted(counts.dead_letters_by_reason.items())]
    gaps = store.sequence_gaps(max_gap)
    missing = sum(g.missing for g in gaps)
    lines.append(f"devices with sequence gaps: {len(gaps)} ({missing} messages missing)")
    resets = [g for g in gaps if g.resets]
    if resets:
        lines.append(f"devices whose sequence jumped implausibly (reset or fault, not lost): {len(resets)}")
    if show:
        lines.append("recent dead letters:")
        lines += [f"  - {d.reason}: {d.detail} [{d.topic}]" for d in store.dead_letters(show)]
    return "\n".join(lines)


@main.command()
@click.option("--days", default=60, show_default=True, type=click.IntRange(1, 400), help="days of history sent first")
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    help="stop the live fleet after this many seconds (default: run until Ctrl-C)",
)
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="API port (0: any free port)"
)
@click.option("--keep-data", is_flag=True, help="keep the stores of an earlier run (default: start fresh)")
@click.option("--embedded-broker", is_flag=True, help="use the embedded broker even if mosquitto is installed")
def demo(days: int, seconds: float | None, port: int, keep_data: bool, embedded_broker: bool) -> None:
    """A kelurahan's last DAYS days sent through the real path (simulator -> MQTT -> ingestor ->
    store), then the API and dashboard with a live fleet until Ctrl-C. A broker is started for it
    (Mosquitto when installed, else an embedded one); library logs go to var/demo/demo.log."""
    from shell.demo import demo_settings, quiet_libraries, run_demo, summary_lines

    settings = demo_settings(settings_or_exit(), keep_data=keep_data)
    quiet_libraries(settings.app_db.parent / "demo" / "demo.log")
    stop = threading.Event()
    stop_on_signals(stop)
    with services_session(settings) as services:
        try:
            run_demo(
                services,
                stop,
                days=days,
                live_seconds=seconds,
                api_port=port,
                force_embedded=embedded_broker,
                show=lambda result: click.echo("\n".join(summary_lines(result))),
            )
        except ConnectionError as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_UNREACHABLE)
        click.echo(_report(services.store, 5, settings.ingest.max_seq_gap))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
def api(host: str, port: int) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs) and keep daily evidence up to date."""
    from api.app import create_app
    from api.server import serve

    settings = settings_or_exit()
    setup_logging(settings)
    with services_session(settings) as services:
        serve(create_app(services), host, port, settings.log_level.lower())


@main.group()
def evidence() -> None:
    """Daily evidence per RT: derive what changed, or everything again."""


@evidence.command("update")
def evidence_update() -> None:
    """Derive the RT-days touched by new, late or replayed readings."""
    settings = settings_or_exit()
    setup_logging(settings)
    with services_session(settings) as services:
        click.echo(f"derived evidence for {services.updater.update_all():,} RT-days")


@evidence.command("rebuild")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    show_default="the number of cores",
    help="processes deriving blocks of RT-days (the embedded store)",
)
def evidence_rebuild(workers: int) -> None:
    """Derive every RT-day with readings again, from scratch."""
    settings = settings_or_exit()
    setup_logging(settings)
    with services_session(settings) as services:
        click.echo(f"derived evidence for {services.updater.rebuild(workers):,} RT-days from scratch")


@main.command()
def archive() -> None:
    """Move readings older than the hot window (BANTAR_ARCHIVE__HOT_DAYS) into the archive."""
    settings = settings_or_exit()
    setup_logging(settings)
    with services_session(settings) as services:
        if services.archiver is None:
            click.echo("this store has no archive (docs/archive.md)")
            return
        done = services.archiver.run()
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in sorted(done.by_kind.items())) or "nothing"
        click.echo(
            f"archived {done.readings:,} readings as {done.rows:,} rows in {done.parts} parts ({kinds}); "
            f"removed {done.orphans_removed} files an interrupted run left"
        )


@main.group()
def token() -> None:
    """API tokens: each has a role and a scope (an RT, a kelurahan, a kecamatan or the city)."""


@token.command("create")
@click.option("--name", required=True, help="who holds it")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--scope", "scope", required=True, metavar="city|rt:CODE|kelurahan:CODE|kecamatan:CODE")
def token_create(name: str, role: str, scope: str) -> None:
    """Issue a token; it is printed once, only its hash is kept."""
    level_text, _, code = scope.partition(":")
    try:
        level = ScopeLevel(level_text)
    except ValueError:
        raise click.BadParameter(
            f"{level_text!r} is not city, rt, kelurahan or kecamatan", param_hint="--scope"
        ) from None
    with services_session(settings_or_exit()) as services:
        problem = scope_problem(services.registry, level, code or None)
        if problem:
            raise click.BadParameter(problem, param_hint="--scope")
        note = AuditNote(
            None, "token_create", "", {"role": role, "scope": level.value, "scope_code": code or None}, "cli"
        )
        token_id, secret = services.app_db.create_token(name, Role(role), level, code or None, note)
    click.echo(f"token {token_id} ({role}, {scope}) for {name}:\n{secret}")


@token.command("list")
def token_list() -> None:
    """Tokens and their state (never their secrets)."""
    settings = settings_or_exit()
    with services_session(settings) as services:
        for t in services.app_db.tokens():
            state = "revoked" if t.revoked_ms else "active"
            click.echo(
                f"{t.id}  {state:<7}  {t.role.value:<13} {t.scope_level.value}:{t.scope_code or '-':<16} {t.name}"
            )


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token at once."""
    settings = settings_or_exit()
    with services_session(settings) as services:
        if not services.app_db.revoke_token(token_id, AuditNote(None, "token_revoke", token_id, {}, "cli")):
            click.echo(f"no active token {token_id}", err=True)
            sys.exit(EXIT_CONFIG)
        click.echo(f"revoked {token_id}")


@main.group()
def audit() -> None:
    """The audit log: who did what, when, from where (hash-chained)."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit log's hash chain; exit 1 naming the first entry whose link does not hold."""
    from bantar.stores.appdb import AppDb

    settings = settings_or_exit()
    app_db = AppDb(settings.app_db)
    try:
        broken = app_db.verify_audit()
    finally:
        app_db.close()
    if broken is not None:
        click.echo(f"audit log broken at entry {broken.id}: {broken.why}", err=True)
        sys.exit(EXIT_FAILED)
    click.echo("audit log intact: every entry links to the one before it")


@main.group()
def broker() -> None:
    """The MQTT broker's configuration and device credentials."""


@broker.command("config")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("var/mosquitto"),
    show_default=True,
    help="folder for mosquitto.conf, passwd, acl and credentials.csv",
)
@click.option(
    "--health-password",
    envvar="MQTT_HEALTH_PASSWORD",
    help="password of the healthcheck's login (bantar-health); default: kept, or new",
)
@click.option(
    "--ingest-members",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="ingestors sharing the load (logins bantar-ingest, bantar-ingest-2, ...)",
)
@click.option("--tls", is_flag=True, help="also write a CA, the broker's certificate and a TLS listener on 8883")
@click.option(
    "--tls-host",
    "tls_hosts",
    multiple=True,
    help="a name or address the broker's certificate answers to (default: mosquitto, localhost, 127.0.0.1)",
)
def broker_config(
    out: Path, health_password: str | None, ingest_members: int, tls: bool, tls_hosts: tuple[str, ...]
) -> None:
    """Write Mosquitto's password and ACL files from the registry: each device (its id as
    username) may publish only to its own topics and read nothing; the ingestor reads all.
    Existing passwords in credentials.csv are kept; new devices get new ones. The ingestor's
    password is BANTAR_MQTT__PASSWORD when set (as in docker-compose), else kept or new."""
    from ingest.broker import production_mosquitto_conf
    from ingest.broker_auth import write_broker_auth
    from ingest.sources.accounts import source_accounts
    from ingest.sources.config import load_sources

    settings = settings_or_exit()
    ingest_password = settings.mqtt.password.get_secret_value() if settings.mqtt.password else None
    with services_session(settings) as services:  # the registry with the admins' switches
        devices = list(services.registry.devices.values())
        try:
            accounts = source_accounts(load_sources(settings.sources), devices) if settings.sources else []
        except RegistryError as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_CONFIG)
        credentials = write_broker_auth(devices, out, ingest_password, health_password, ingest_members, accounts)
    if tls:
        from ingest.broker_tls import DEFAULT_HOSTS, write_tls

        write_tls(out / "tls", tls_hosts or DEFAULT_HOSTS)
    (out / "mosquitto.conf").write_text(production_mosquitto_conf(tls), encoding="utf-8")
    click.echo(
        f"wrote {out}/passwd, acl, mosquitto.conf and credentials.csv ({len(credentials)} users; "
        "credentials.csv holds plaintext passwords for provisioning: keep it private)"
        + (f"; {out}/tls: ca.crt (give it to devices), server.crt and server.key, listener 8883" if tls else "")
    )


main.add_command(simulate)
main.add_command(replay)
main.add_command(load)
main.add_command(signin)
main.add_command(notify)
