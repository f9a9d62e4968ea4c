"""Fewer system calls under paho's packet reader.

paho reads every incoming packet with at least three ``recv`` calls (the type byte, each
remaining-length byte, then the body), each a system call: at tens of thousands of messages a
second that was a fifth of the ingestor's network thread. ``ReadAheadSocket`` reads up to 64 KiB
per call and serves paho's small reads from that. paho already asks a socket for ``pending()``
bytes (TLS sockets buffer too) and, while there are some, reads again without waiting in
``select``, so buffered bytes are never left waiting for the network.
"""

from __future__ import annotations

import socket

READ_AHEAD_BYTES = 65536


class ReadAheadSocket(socket.socket):
    """A connected TCP socket (taken over from ``connected``) whose ``recv`` reads ahead."""

    def __init__(self, connected: socket.socket) -> None:
        super().__init__(connected.family, connected.type, connected.proto, fileno=connected.detach())
        self._ahead = b""
        self._at = 0
        self.refills = 0
        """how many reads from the network filled the read-ahead"""

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if flags:
            raise ValueError("ReadAheadSocket.recv takes no flags")
        if self._at >= len(self._ahead):
            data = super().recv(max(bufsize, READ_AHEAD_BYTES))  # BlockingIOError and b"" pass through
            if len(data) <= bufsize:
                return data
            self._ahead, self._at = data, 0
            self.refills += 1
        start, self._at = self._at, min(self._at + bufsize, len(self._ahead))
        return self._ahead[start : self._at]

    def pending(self) -> int:
        """Bytes already read from the network and not yet handed out."""
        return len(self._ahead) - self._at
