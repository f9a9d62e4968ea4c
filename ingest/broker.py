"""Brokers the project starts itself: a real Mosquitto (tests, benchmarks, demo when installed)
and the embedded amqtt broker (the zero-install demo fallback).

``mosquitto_conf`` is the single source of the broker limits we ship; ``config/mosquitto/``
holds the production copy rendered from it (a test keeps the two in step).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.broker_tls import TLS_PORT, TlsFiles, tls_listener

# Chosen, not defaulted (see README "Broker limits"). Mosquitto 2.0.11's default
# max_queued_messages of 1000 silently drops QoS 1 messages for a subscriber 1000 behind.
MAX_QUEUED_MESSAGES = 1_000_000
"""~8 h of the whole city's traffic for an absent ingestor"""
MAX_QUEUED_BYTES = 256 * 1024 * 1024
"""the memory bound behind the message bound"""
MAX_INFLIGHT_MESSAGES = 10_000
"""matches the ingestor's window (MQTT 3.1.1 clients; MQTT 5 clients send Receive Maximum)"""
MAX_PACKET_SIZE = 65_536
"""oversized publishes are refused by the broker itself; the ingestor's own limit is lower"""
PERSISTENT_CLIENT_EXPIRATION = "7d"
"""a persistent session that never comes back stops queueing after this"""
AUTOSAVE_INTERVAL_S = 30
"""how often Mosquitto snapshots its queues to disk: a broker killed (not stopped) loses what it
queued since the last snapshot, at most this long of traffic (tests/.../test_ingest_mqtt.py, F5)"""


def mosquitto_conf(
    *,
    port: int,
    data_dir: str,
    bind: str = "127.0.0.1",
    password_file: str | None = None,
    acl_file: str | None = None,
    log_file: str | None = None,
    run_as: str | None = None,
    max_queued_messages: int = MAX_QUEUED_MESSAGES,
    autosave_interval: int = AUTOSAVE_INTERVAL_S,
    tls: TlsFiles | None = None,
    tls_port: int = TLS_PORT,
    tls_bind: str = "127.0.0.1",
    pid_file: str | None = None,
) -> str:
    # With logins, a client's id is its username: nobody can take over another's session (and
    # with it the readings the broker queued for it) by connecting with that client's id.
    auth = (
        f"allow_anonymous false\npassword_file {password_file}\nuse_username_as_clientid true\n"
        if password_file
        else "allow_anonymous true\n"
    )
    lines = [
        "# Mosquitto configuration rendered by BANTAR (ingest/broker.py: mosquitto_conf).",
        f"listener {port} {bind}",
        auth.rstrip(),
        f"acl_file {acl_file}" if acl_file else "",
        "persistence true",
        f"persistence_location {data_dir.rstrip('/')}/",
        f"autosave_interval {autosave_interval}",
        f"max_queued_messages {max_queued_messages}",
        f"max_queued_bytes {MAX_QUEUED_BYTES}",
        f"max_inflight_messages {MAX_INFLIGHT_MESSAGES}",
        f"max_packet_size {MAX_PACKET_SIZE}",
        f"persistent_client_expiration {PERSISTENT_CLIENT_EXPIRATION}",
        f"log_dest file {log_file}" if log_file else "log_dest stderr",
        "log_type error\nlog_type warning\nlog_type notice",
        f"user {run_as}" if run_as else "",
        f"pid_file {pid_file}" if pid_file else "",
        tls_listener(tls, tls_port, tls_bind) if tls else "",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s} s")


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None
    )


@dataclass
class MosquittoProcess:
    """A Mosquitto we started, with its own config and data directory."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, workdir: Path, port: int | None = None, **conf: Any) -> MosquittoProcess:
        binary = mosquitto_binary()
        if binary is None:
            raise FileNotFoundError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        workdir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        run_as = "root" if os.geteuid() == 0 else None  # else Mosquitto drops to 'mosquitto' and cannot write workdir
        config = workdir / "mosquitto.conf"
        config.write_text(
            mosquitto_conf(
                port=port,
                data_dir=str(workdir),
                log_file=str(workdir / "mosquitto.log"),
                run_as=run_as,
                **conf,
            )
        )
        process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        broker = cls(port, workdir, process)
        try:
            wait_for_port(port)
        except TimeoutError:
            broker.stop()
            raise RuntimeError(f"mosquitto did not start; see {workdir / 'mosquitto.log'}") from None
        return broker

    def restart(self) -> None:
        """Stop cleanly (persisting its queues) and start again on the same port and data."""
        self.stop()
        binary = mosquitto_binary()
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "-c", str(self.workdir / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL: what the broker queued since its last snapshot is gone."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def embedded_broker(port: int) -> Iterator[None]:
    """amqtt in a background thread: MQTT 3.1.1 only, enough for a demo fleet, not for production."""
    from amqtt.broker import Broker

    loop = asyncio.new_event_loop()
    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config, loop=loop)
    thread = threading.Thread(target=loop.run_forever, name="embedded-broker", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(broker.start(), loop).result(timeout=15)
    try:
        yield
    finally:
        asyncio.run_coroutine_threadsafe(broker.shutdown(), loop).result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


BROKER_TLS_DIR = "/mosquitto/config/tls"
BROKER_PID_FILE = "/mosquitto/run/mosquitto.pid"
"""in the compose stack's ``broker-run`` volume, which the ingestor reads to signal the broker
(SIGHUP) after it changed the logins; they share the broker's PID namespace and user"""


def production_mosquitto_conf(tls: bool = True) -> str:
    """The config shipped in ``config/mosquitto/`` for the docker-compose stack: the plain listener
    only on the container's loopback (its healthcheck), devices and the ingestor over TLS."""
    folder = Path(BROKER_TLS_DIR)
    return mosquitto_conf(
        port=1883,
        data_dir="/mosquitto/data",
        password_file="/mosquitto/config/passwd",  # noqa: S106 (a path, not a password)
        acl_file="/mosquitto/config/acl",
        tls=TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key") if tls else None,
        tls_bind="0.0.0.0",  # noqa: S104 (inside the broker container)
        pid_file=BROKER_PID_FILE,
    )
