"""A real InfluxDB (Debian's ``influxdb`` 1.x package) on free loopback ports, for tests and benchmarks."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ingest.broker import free_port, wait_for_port


def influxd_binary() -> str | None:
    return shutil.which("influxd") or ("/usr/bin/influxd" if Path("/usr/bin/influxd").exists() else None)


def influxdb_conf(workdir: Path, http_port: int, rpc_port: int) -> str:
    return f"""\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{workdir / "meta"}"
[data]
  dir = "{workdir / "data"}"
  wal-dir = "{workdir / "wal"}"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
"""


def database_name(test_name: str) -> str:
    """A database name per test: letters, digits and underscores of the test's name, plus a counter."""
    return f"t{next(_database_numbers)}_" + "".join(c if c.isalnum() else "_" for c in test_name)[:60]


_database_numbers = itertools.count(1)


@dataclass
class InfluxProcess:
    """An InfluxDB we started, with its own config and data directories."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, workdir: Path) -> InfluxProcess:
        if influxd_binary() is None:
            raise FileNotFoundError("influxd is not installed (Debian: apt-get install influxdb)")
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        (workdir / "influxdb.conf").write_text(influxdb_conf(workdir, port, free_port()))
        influx = cls(workdir, port, cls._spawn(workdir))
        influx.wait_ready()
        return influx

    @staticmethod
    def _spawn(workdir: Path) -> subprocess.Popen[bytes]:
        with (workdir / "influxd.log").open("ab") as log:  # the child keeps its own descriptor
            return subprocess.Popen(
                [str(influxd_binary()), "run", "-config", str(workdir / "influxdb.conf")], stdout=log, stderr=log
            )

    def wait_ready(self, timeout_s: float = 20.0) -> None:
        wait_for_port(self.port, timeout_s)
        for _ in range(100):
            if httpx.get(f"{self.url}/ping", timeout=2).status_code == 204:
                return
            time.sleep(0.1)
        raise RuntimeError(f"InfluxDB did not become ready; see {self.workdir / 'influxd.log'}")

    def restart(self) -> None:
        self.stop()
        self.process = self._spawn(self.workdir)
        self.wait_ready()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
