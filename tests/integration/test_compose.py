"""docker-compose.yml cannot run here (no containers), so it is checked the other way round:
parsed and cross-checked against the code, and its parts run natively: the settings it gives the
ingestor and API, the broker files `broker-config` generates (with Mosquitto's healthcheck run
against a real Mosquitto using them), and the Grafana dashboard's queries on a real InfluxDB."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bantar.domain.registry import RegistryIndex
from bantar.settings import Settings
from bantar.stores.influxdb import InfluxStore
from bantar.stores.ledger import SERIES
from ingest.broker import BROKER_PID_FILE, MosquittoProcess, production_mosquitto_conf
from simulators.engine import Simulation
from tests.support import REPO, bantar_env, store_directly

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = {"influxdb", "mosquitto", "ingest", "api", "prometheus", "grafana", "caddy", "notify", "ntfy"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def dotenv(path: Path) -> dict[str, str]:
    lines = [line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return {key: value for key, value in lines}


EXAMPLE = dotenv(REPO / ".env.example")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``; ``$$`` is a literal ``$``."""

    def one(match: re.Match[str]) -> str:
        name, kind, arg = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(f"{name}: {arg}")
        return arg or ""

    return _VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def environment(service: str) -> dict[str, str]:
    return {k: interpolate(str(v), EXAMPLE) for k, v in SERVICES[service].get("environment", {}).items()}


def test_every_service_is_there_with_restart_policy_and_healthcheck() -> None:
    assert set(SERVICES) == LONG_RUNNING | {"broker-config"}
    for name in LONG_RUNNING:
        assert SERVICES[name]["restart"] == "unless-stopped", name
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["broker-config"]["restart"] == "no"


def test_files_written_by_the_root_one_shot_go_to_the_users_that_need_them() -> None:
    uid = re.search(r"useradd .*--uid (\d+)", (REPO / "Dockerfile").read_text()).group(1)  # type: ignore[union-attr]
    script = SERVICES["broker-config"]["command"][-1]
    owned = script.split(f"chown -R {uid}:{uid} ")[1].split()
    mounts = {target: source for source, target in (m.split(":")[:2] for m in SERVICES["broker-config"]["volumes"])}
    # the app DB and ledger it created, and the broker's volumes: the broker runs as bantar too
    assert {mounts[path] for path in owned} == {"bantar-data", "mosquitto-config", "mosquitto-data", "broker-run"}
    assert SERVICES["broker-config"]["user"] == "root"
    assert SERVICES["mosquitto"]["user"] == f"{uid}:{uid}"
    assert "user" not in SERVICES["ingest"]  # the image's own user
    assert "user" not in SERVICES["api"]


def mounts(service: str) -> dict[str, tuple[str, bool]]:
    """The service's mounts: target -> (source, read-only)."""
    found = {}
    for mount in SERVICES[service]["volumes"]:
        source, target, *mode = mount.split(":")
        found[target] = (source, mode == ["ro"])
    return found


def test_the_ingestor_reloads_the_brokers_logins_across_containers() -> None:
    """Issue #13: the ingestor rewrites the broker's passwd and signals the broker (SIGHUP). In
    compose that needs the broker's config volume (writable), its pid file, its PID namespace
    and its user. `docker compose` cannot run here: this checks the file says so."""
    ingest, broker = mounts("ingest"), mounts("mosquitto")
    env = environment("ingest")
    assert SERVICES["ingest"]["pid"] == "service:mosquitto"
    auth = env["BANTAR_MQTT__BROKER_AUTH_DIR"]
    assert ingest[auth] == (broker["/mosquitto/config"][0], False)  # the passwd Mosquitto reads
    assert "password_file /mosquitto/config/passwd" in production_mosquitto_conf()
    pid_file = Path(env["BANTAR_MQTT__BROKER_PID_FILE"])
    assert f"pid_file {BROKER_PID_FILE}" in production_mosquitto_conf()
    assert ingest[str(pid_file.parent)][0] == broker[str(Path(BROKER_PID_FILE).parent)][0]
    assert pid_file.name == Path(BROKER_PID_FILE).name
    assert not broker[str(Path(BROKER_PID_FILE).parent)][1]  # the broker writes it
    # TLS: the CA next to the logins; the broker's private key stays out of the ingestor.
    assert Path(env["BANTAR_MQTT__TLS_CA"]).parent == Path(auth)
    assert "cp /broker/tls/ca.crt /broker/ca.crt" in SERVICES["broker-config"]["command"][-1]
    assert "broker-tls" not in {source for source, _ in ingest.values()}


def test_dependencies_wait_for_what_they_need() -> None:
    for name, service in SERVICES.items():
        for needed, condition in service.get("depends_on", {}).items():
            assert needed in SERVICES, (name, needed)
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[needed], (name, needed)
    assert SERVICES["mosquitto"]["depends_on"]["broker-config"]["condition"] == "service_completed_successfully"
    assert set(SERVICES["ingest"]["depends_on"]) == {"mosquitto", "influxdb"}


def test_volumes_are_declared_and_bind_mounts_exist() -> None:
    declared = set(COMPOSE["volumes"])
    used = set()
    for name, service in SERVICES.items():
        for mount in service.get("volumes", []):
            source, target = mount.split(":")[:2]
            if source.startswith("."):
                assert (REPO / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)
                used.add(source)
            assert target.startswith("/"), (name, mount)
    assert used == declared  # nothing declared and forgotten
    assert "mosquitto-data:/mosquitto/data" in SERVICES["mosquitto"]["volumes"]  # persistence survives restarts


def test_no_secret_is_written_in_the_file_and_every_variable_is_in_the_example() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    for key, value in re.findall(r"^\s*(\w*(?:PASSWORD|TOKEN|SECRET)\w*):\s*(.+)$", text, re.M):
        assert re.fullmatch(r"\$\{\w+(:[-?][^}]*)?\}", value), f"{key} has a literal value"
    assert {m.group(1) for m in _VARIABLE.finditer(text)} <= set(EXAMPLE)
    assert all("change-me" in EXAMPLE[k] for k in EXAMPLE if re.search("PASSWORD|TOKEN", k))
    assert "/.env" in (REPO / ".gitignore").read_text().split()  # the filled-in copy never lands


def test_the_settings_compose_gives_bantar_are_valid_and_point_at_the_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, login in (("ingest", "bantar-ingest"), ("api", "bantar-api")):
        env = {**environment("broker-config"), **environment(name)}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        with pytest.raises(ValueError, match="change-me"):
            Settings()  # the example's placeholders are refused...
        for key, value in env.items():
            monkeypatch.setenv(key, value.replace("change-me", "filled-in"))  # ...real secrets are not
        settings = Settings()
        assert settings.store == "influxdb"
        assert settings.influxdb.url == "http://influxdb:8086"
        assert settings.influxdb.token is None  # never the admin token
        assert settings.influxdb.username == login
        assert settings.mqtt.port == 8883
        assert settings.mqtt.tls_ca is not None
        assert settings.influxdb.database == environment("influxdb")["DOCKER_INFLUXDB_INIT_BUCKET"]
        assert settings.mqtt.host == "mosquitto"
        assert settings.influxdb.ledger_path.parent == Path("/var/lib/bantar")  # the shared volume
        for path in (settings.registry, settings.rules, settings.criteria):
            assert (REPO / path.relative_to("/app")).exists()
    assert SERVICES["ingest"]["environment"]["BANTAR_INGEST__HEARTBEAT_FILE"] in (
        " ".join(SERVICES["ingest"]["healthcheck"]["test"])
    )
    api = SERVICES["api"]
    port = api["command"][api["command"].index("--port") + 1]
    assert "ports" not in api
    assert api["expose"] == [port]
    assert f"127.0.0.1:{port}/api/v1/health" in " ".join(api["healthcheck"]["test"])
    assert (
        "bantar"
        in subprocess.run(
            [sys.executable, "-m", "shell", *SERVICES["ingest"]["command"][1:], "--help"],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        ).stdout.lower()
    )


def test_broker_config_files_work_in_a_real_mosquitto_with_the_compose_healthcheck(
    registry_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "broker"
    env = bantar_env(registry=str(registry_file), app_db=str(tmp_path / "app.db"), sqlite__path=str(tmp_path / "b.db"))
    env |= {name: value for name, value in environment("broker-config").items() if name.startswith("MQTT_")}
    env["BANTAR_MQTT__PASSWORD"] = EXAMPLE["MQTT_INGEST_PASSWORD"].replace("change-me", "filled-in")
    command = [sys.executable, "-m", "shell", "broker", "config", "--out", str(out)]
    subprocess.run(command, env=env, cwd=REPO, check=True)
    shipped = (out / "mosquitto.conf").read_text()
    assert "password_file /mosquitto/config/passwd" in shipped
    assert "acl_file /mosquitto/config/acl" in shipped
    assert "persistence true" in shipped
    broker = MosquittoProcess.start(
        tmp_path / "mosquitto", password_file=str(out / "passwd"), acl_file=str(out / "acl")
    )
    try:
        probe = interpolate(SERVICES["mosquitto"]["healthcheck"]["test"][1], {})
        probe = probe.replace("-p 1883", f"-p {broker.port}")
        done = subprocess.run(
            shlex.split(probe.replace('"$MQTT_HEALTH_PASSWORD"', shlex.quote(EXAMPLE["MQTT_HEALTH_PASSWORD"]))),
            capture_output=True,
            text=True,
            timeout=15,
        )
        assert done.returncode == 0, done.stderr
        wrong = probe.replace('"$MQTT_HEALTH_PASSWORD"', "wrong")
        assert subprocess.run(shlex.split(wrong), capture_output=True, timeout=15).returncode != 0
    finally:
        broker.stop()


DASHBOARD = json.loads((REPO / "deploy/grafana/dashboards/bantar.json").read_text())


def grafana_queries() -> list[list[str]]:
    """Per panel (and the RT picker), its InfluxQL queries."""
    return [[t["query"] for t in p["targets"]] for p in DASHBOARD["panels"]] + [
        [v["query"] for v in DASHBOARD["templating"]["list"]]
    ]


def test_grafana_is_provisioned_with_the_influxdb_the_stack_writes_to() -> None:
    source = yaml.safe_load((REPO / "deploy/grafana/provisioning/datasources/influxdb.yaml").read_text())
    (datasource,) = source["datasources"]
    assert datasource["url"] == "http://influxdb:8086"
    assert datasource["jsonData"]["dbName"] == "${INFLUXDB_BUCKET}"
    assert set(environment("grafana")) >= {"INFLUXDB_BUCKET", "INFLUXDB_GRAFANA_PASSWORD"}
    assert datasource["user"] == "grafana"
    dashboard_dir = yaml.safe_load((REPO / "deploy/grafana/provisioning/dashboards/bantar.yaml").read_text())
    (provider,) = dashboard_dir["providers"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in SERVICES["grafana"]["volumes"]
    assert {t["datasource"]["uid"] for p in DASHBOARD["panels"] for t in p["targets"]} == {datasource["uid"]}
    measurements = {m for panel in grafana_queries() for q in panel for m in re.findall(r'FROM "(\w+)"', q)}
    assert measurements <= set(SERIES.values())


def test_every_dashboard_query_returns_data_from_a_real_influxdb(
    influx_store: InfluxStore, registry_index: RegistryIndex
) -> None:
    end = datetime.now(UTC)
    sim = Simulation(registry_index.registry, start=end - timedelta(days=8), end=end, seed=5, scenarios=["healthy"])
    store_directly(influx_store, registry_index, sim.messages(), end)
    rts = "|".join(re.escape(code) for code in registry_index.rts)
    window = f"time >= {int((end - timedelta(days=8)).timestamp())}s AND time <= {int(end.timestamp())}s"
    for panel in grafana_queries():
        concrete = [
            q.replace("$timeFilter", window).replace("$__interval", "1h").replace("^$rt$", f"^({rts})$") for q in panel
        ]
        answers = influx_store.client.query(concrete)  # an InfluxQL error raises
        assert any(answers), f"no data for the dashboard panel {panel}"


def test_least_privilege_and_transport_security_in_the_stack() -> None:
    """Only InfluxDB holds its admin token; each service logs in with its own least-privilege login;
    MQTT is published over TLS only and the API only through Caddy, whose config is valid."""
    for name, service in SERVICES.items():
        if name != "influxdb":
            assert "INFLUXDB_TOKEN" not in " ".join(str(v) for v in service.get("environment", {}).values()), name
    logins = (REPO / "deploy/influxdb/init-bantar-logins.sh").read_text()
    assert re.search(r"--username bantar-ingest .*\n\s*--write-bucket \S+\n", logins)
    assert re.search(r"--username grafana .*\n\s*--read-bucket \S+\n", logins)
    assert "init-bantar-logins.sh:/docker-entrypoint-initdb.d/" in " ".join(SERVICES["influxdb"]["volumes"])
    assert SERVICES["mosquitto"]["ports"] == ["${MQTT_TLS_PORT:-8883}:8883"]
    assert "--tls" in " ".join(SERVICES["broker-config"]["command"])
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"mosquitto", "caddy", "grafana", "ntfy"}
    caddyfile = REPO / "deploy/caddy/Caddyfile"
    assert "reverse_proxy api:8080" in caddyfile.read_text()
    caddy_ip = SERVICES["caddy"]["networks"]["default"]["ipv4_address"]
    assert json.loads(SERVICES["api"]["environment"]["BANTAR_API__TRUSTED_PROXIES"]) == [f"{caddy_ip}/32"]
    checked = subprocess.run(
        ["caddy", "validate", "--config", str(caddyfile), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env={"HOME": "/tmp", "SITE_ADDRESS": "bantar.jambikota.go.id"},
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr


def test_notifications_go_to_the_stacks_own_ntfy_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in environment("notify").items():
        monkeypatch.setenv(key, value.replace("change-me", "filled-in"))  # real secrets in a real .env
    for key, value in {k: interpolate(str(v), EXAMPLE) for k, v in COMPOSE["x-bantar"]["environment"].items()}.items():
        monkeypatch.setenv(key, value.replace("change-me", "filled-in"))
    settings = Settings()
    assert settings.notify.link_secret is not None
    urls = [u.get_secret_value() for u in settings.notify.channels.values()]
    assert urls
    assert all(u.startswith("ntfy://ntfy/") for u in urls)
    assert SERVICES["notify"]["command"] == ["bantar", "notify", "send"]
    assert SERVICES["ntfy"]["ports"] == ["${NTFY_PORT:-8090}:80"]


def test_prometheus_scrapes_both_services_where_they_serve_metrics() -> None:
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    ingest_port = environment("ingest")["BANTAR_INGEST__METRICS_PORT"]
    assert targets == {"bantar-ingest": [f"ingest:{ingest_port}"], "bantar-api": ["api:8080"]}
    assert environment("ingest")["BANTAR_INGEST__METRICS_HOST"] == "0.0.0.0"
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in SERVICES["prometheus"]["volumes"]
    source = yaml.safe_load((REPO / "deploy/grafana/provisioning/datasources/prometheus.yaml").read_text())
    (prometheus,) = source["datasources"]
    health = json.loads((REPO / "deploy/grafana/dashboards/service-health.json").read_text())
    assert {t["datasource"]["uid"] for p in health["panels"] for t in p["targets"]} == {prometheus["uid"]}
