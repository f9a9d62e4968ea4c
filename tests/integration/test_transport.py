"""Transport security with real processes: `bantar broker config --tls` writes a CA, the broker's
certificate and its 8883 listener; Mosquitto serves it; the ingestor and a device publisher connect
with verification (a client trusting another CA is refused); Caddy terminates TLS in front of
`bantar api`."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bantar.domain.registry import RegistryIndex
from bantar.stores.sqlite import SqliteStore
from ingest.broker import MosquittoProcess, free_port, wait_for_port
from ingest.broker_tls import TlsFiles, write_tls
from simulators.publisher import MqttPublisher
from tests.support import REPO, RunningIngestor, bantar_env, payload, settings_for, wait_until


def test_the_broker_ingestor_and_devices_speak_verified_tls(
    tmp_path: Path, registry_file: Path, registry_index: RegistryIndex, store: SqliteStore
) -> None:
    out = tmp_path / "broker"
    env = bantar_env(registry=str(registry_file), app_db=str(tmp_path / "a.db"), sqlite__path=str(tmp_path / "r.db"))
    made = subprocess.run(
        [sys.executable, "-m", "shell", "broker", "config", "--tls", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    conf = (out / "mosquitto.conf").read_text()
    assert "listener 1883 127.0.0.1" in conf  # the plain listener stays on loopback
    assert "listener 8883 0.0.0.0" in conf
    assert (out / "tls" / "server.key").stat().st_mode & 0o077 == 0
    files = TlsFiles(out / "tls" / "ca.crt", out / "tls" / "server.crt", out / "tls" / "server.key")
    tls_port = free_port()
    broker = MosquittoProcess.start(tmp_path / "mosquitto", tls=files, tls_port=tls_port)
    try:
        wait_for_port(tls_port)
        settings = settings_for(broker, store.path, registry_file)
        settings.mqtt.port, settings.mqtt.tls_ca = tls_port, files.ca
        ingestor = RunningIngestor(settings, registry_index, store)
        device = next(d for d in registry_index.devices.values() if d.channel == "mqtt" and d.kind.value == "bin")
        publisher = MqttPublisher("127.0.0.1", tls_port, tls_ca=str(files.ca))
        try:
            now = datetime.now(UTC).isoformat()
            publisher.publish_all(
                [(f"bantar/v1/{device.id}/bin", payload(ts=now, seq=n, fill_pct=10, battery_pct=90)) for n in (1, 2)]
            )
            assert publisher.wait_acknowledged(2, timeout_s=30)
            wait_until(lambda: store.counts().readings == 2, 30, "two readings over TLS")
        finally:
            publisher.close()
            ingestor.close()
        stranger = write_tls(tmp_path / "other-ca")
        trusting_another_ca = ssl.create_default_context(cafile=str(stranger.ca))
        with socket.create_connection(("127.0.0.1", tls_port)) as raw, pytest.raises(ssl.SSLCertVerificationError):
            trusting_another_ca.wrap_socket(raw, server_hostname="127.0.0.1")
    finally:
        broker.stop()


def test_caddy_terminates_tls_in_front_of_bantar_api(tmp_path: Path, registry_file: Path) -> None:
    files = write_tls(tmp_path / "tls", ("localhost", "127.0.0.1"), name="api")
    api_port, https_port = free_port(), free_port()
    env = bantar_env(
        registry=str(registry_file),
        app_db=str(tmp_path / "a.db"),
        sqlite__path=str(tmp_path / "r.db"),
        api__trusted_proxies=json.dumps(["127.0.0.1/32"]),
    )
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(
        "{\n  admin off\n  auto_https off\n  storage file_system " + str(tmp_path / "caddy-data") + "\n}\n"
        f"https://127.0.0.1:{https_port} {{\n  tls {files.cert} {files.key}\n"
        f"  reverse_proxy 127.0.0.1:{api_port}\n}}\n"
    )
    caddy_env = {
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    with (tmp_path / "api.log").open("wb") as api_log, (tmp_path / "caddy.log").open("wb") as caddy_log:
        api = subprocess.Popen(
            [sys.executable, "-m", "shell", "api", "--port", str(api_port)],
            env=env,
            stdout=api_log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        caddy = subprocess.Popen(
            ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
            env=caddy_env,
            stdout=caddy_log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        wait_for_port(api_port, 30)
        wait_for_port(https_port, 30)
        with httpx.Client(
            base_url=f"https://127.0.0.1:{https_port}",
            verify=ssl.create_default_context(cafile=str(files.ca)),
            timeout=10,
        ) as client:
            health = client.get("/api/v1/health")
            assert health.status_code == 200
            assert "script-src 'self'" in health.headers["content-security-policy"]
            token = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "shell",
                    "token",
                    "create",
                    "--name",
                    "Ketua",
                    "--role",
                    "admin",
                    "--scope",
                    "city",
                ],
                env=env,
                capture_output=True,
                text=True,
                cwd=REPO,
                check=True,
            ).stdout.split()[-1]
            made = client.post(
                "/api/v1/tokens",
                json={"name": "via caddy", "role": "operator", "scope_level": "city"},
                headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": "6.6.6.6"},
            )
            assert made.status_code == 201, made.text
            entry = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"}).json()[0]
            assert entry["action"] == "token_create"
            assert entry["client"] == "127.0.0.1"  # Caddy replaced the caller's forged header
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://127.0.0.1:{https_port}/api/v1/health", verify=True, timeout=10)  # not a public CA
    finally:
        caddy.terminate()
        api.terminate()
        caddy.wait(20)
        api.wait(20)
