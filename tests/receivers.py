"""Real receivers for notification tests: an SMTP server (aiosmtpd) and an HTTP webhook, each on a
free port, recording what they accepted."""

from __future__ import annotations

import json
import select
import socket
import threading
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from ingest.broker import free_port


class SmtpReceiver:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=bantar@example.org&to={to}&mode=insecure"

    def ids(self) -> list[str]:
        with self._lock:
            return [str(m["X-Bantar-Notification"]) for m in self.messages]


class WebhookReceiver:
    """Accepts JSON posts. ``answer(n)`` gives the status for the n-th request (from 1);
    ``hold(n)`` keeps the n-th request waiting until ``release()``. A request counts as received
    only when its answer reaches a sender that is still there: a sender killed while waiting
    never learned of it, so it was not delivered."""

    def __init__(self, answer: Callable[[int], int] = lambda _n: 200) -> None:
        self.received: list[dict[str, Any]] = []
        self.requests = 0
        self.answer = answer
        self.holding = threading.Event()
        self._release = threading.Event()
        self._hold_at: int | None = None
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver._lock:
                    receiver.requests += 1
                    n = receiver.requests
                if n == receiver._hold_at:
                    receiver.holding.set()
                    receiver._release.wait(60)
                    if _peer_gone(self.connection):
                        return
                status = receiver.answer(n)
                if status == 200:
                    with receiver._lock:
                        receiver.received.append({"id": self.headers["X-Bantar-Notification"], **body})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def hold(self, n: int) -> None:
        self._hold_at = n

    def release(self) -> None:
        self._release.set()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def ids(self) -> list[str]:
        with self._lock:
            return [str(r["id"]) for r in self.received]


def _peer_gone(connection: socket.socket) -> bool:
    readable, _, _ = select.select([connection], [], [], 0.5)
    try:
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:  # reset by the dying peer
        return True
