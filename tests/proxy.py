"""Loopback proxies for tests: a TCP proxy whose connections a test can cut, to break a link
mid-conversation, and an HTTP proxy that answers 503 to a client's first posts."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple


class CuttableProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self.refusing = False
        """while set, new connections are closed at once, as an unreachable server's would fail"""
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self) -> None:
        """Break every open connection at once, as a failing network would."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.cut()


class Attempt(NamedTuple):
    at: float
    """time.monotonic() when the request arrived"""
    path: str
    key: str | None
    """its Idempotency-Key"""
    status: int
    """what the client was answered"""


class RefusingHttpProxy:
    """A loopback HTTP proxy that answers 503 (as an overloaded server or gateway would) to the
    first ``refuse`` POSTs whose path contains ``refused_path`` and forwards everything else to
    the server; it records every such POST's arrival, to check a client's retry schedule."""

    def __init__(self, target_port: int, refused_path: str, refuse: int) -> None:
        self.target_port, self.refused_path, self.refuse = target_port, refused_path, refuse
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                return

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "POST" and proxy.refused_path in self.path:
                    with proxy._lock:
                        refusing = sum(a.status == 503 for a in proxy.attempts) < proxy.refuse
                        if refusing:
                            proxy.attempts.append(
                                Attempt(time.monotonic(), self.path, self.headers.get("Idempotency-Key"), 503)
                            )
                    if refusing:
                        self._answer(503, [("Content-Type", "text/plain")], b"Service Unavailable")
                        return
                status, headers, answer = proxy.forward(self.command, self.path, self.headers, body)
                if self.command == "POST" and proxy.refused_path in self.path:
                    with proxy._lock:
                        proxy.attempts.append(
                            Attempt(time.monotonic(), self.path, self.headers.get("Idempotency-Key"), status)
                        )
                self._answer(status, headers, answer)

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay  # noqa: N815 (http.server's names)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def forward(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection("127.0.0.1", self.target_port, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(method, path, body=body or None, headers=sent)
            response = upstream.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in (*_HOP_BY_HOP, "content-length")]
            return response.status, kept, answer
        finally:
            upstream.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


_HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection")
