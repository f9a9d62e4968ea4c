"""Running the API with uvicorn: in the foreground (``bantar api``) or in a thread (demo, tests).

uvicorn's own handling of ``X-Forwarded-For`` is off (it trusts 127.0.0.1 by default, so any
local caller could name any address): ``api.deps.client_address`` trusts only configured proxies.
Its access log never shows query strings (a token pasted into a URL must not reach a log).

The API process also runs the evidence loop, the summaries' warm-up and the archive in threads:
CPU-bound Python that holds the interpreter lock. CPython hands the lock to a waiting thread
only every switch interval (5 ms by default), and a request changes threads many times (event
loop, thread pool, socket), so during an evidence turn each request waited tens to hundreds of
milliseconds. ``bench/summary.py`` (90 days of the city's evidence, 15 updates, quiet machine):
right after an update p50 117 / p95 835 ms with CPython's 5 ms, 88 / 221 ms with 0.5 ms, 57 / 90
ms with 0.1 ms. The API process uses ``SWITCH_INTERVAL_S``. (The lasting fix is the evidence loop
in a process of its own; garbage collections of the loop's allocations pause all threads too.)"""

from __future__ import annotations

import logging
import sys
import threading
import time

import uvicorn
from fastapi import FastAPI

SWITCH_INTERVAL_S = 0.0001
"""how often the interpreter lock passes between threads in the API process (CPython: 0.005)"""


class NoQueryStrings(logging.Filter):
    """Drop the query string from uvicorn's access-log lines (args: client, method, path, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = record.args[2].split("?", 1)[0]
            record.args = tuple(args)
        return True


def config(app: FastAPI, host: str, port: int, log_level: str) -> uvicorn.Config:
    """uvicorn's configuration, and the process's: the access-log filter and the switch interval."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    made = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on", proxy_headers=False)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, NoQueryStrings) for f in access.filters):
        access.addFilter(NoQueryStrings())
    return made


def serve(app: FastAPI, host: str, port: int, log_level: str) -> None:
    uvicorn.Server(config(app, host, port, log_level)).run()


class BackgroundServer:
    """uvicorn in a thread on 127.0.0.1, stopped cleanly with ``stop()``."""

    def __init__(self, app: FastAPI, port: int, host: str = "127.0.0.1") -> None:
        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(config(app, host, port, "warning"))
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    def start(self, timeout_s: float = 15.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the API did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
