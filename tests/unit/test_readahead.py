"""ReadAheadSocket on a real socket pair: paho's small reads served from one system call,
partial reads, non-blocking "nothing yet", end of stream."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ingest.readahead import ReadAheadSocket


@pytest.fixture
def pair() -> Iterator[tuple[ReadAheadSocket, socket.socket]]:
    ours, theirs = socket.socketpair()
    reader = ReadAheadSocket(ours)
    reader.setblocking(False)
    yield reader, theirs
    reader.close()
    theirs.close()


def test_small_reads_come_from_one_read_ahead(pair: tuple[ReadAheadSocket, socket.socket]) -> None:
    reader, peer = pair
    packets = [bytes([0x30, 5]) + b"abcde", bytes([0x30, 3]) + b"xyz"]
    peer.sendall(b"".join(packets))
    got = []
    for _ in packets:  # as paho reads: the type byte, one length byte, then the body
        head = reader.recv(1) + reader.recv(1)
        got.append(head + reader.recv(head[1]))
    assert got == packets
    assert reader.refills == 1
    assert reader.pending() == 0


def test_a_read_larger_than_what_is_buffered_returns_what_there_is(pair: tuple[ReadAheadSocket, socket.socket]) -> None:
    reader, peer = pair
    peer.sendall(b"0123456789")
    assert reader.recv(4) == b"0123"
    assert reader.pending() == 6
    assert reader.recv(100) == b"456789"  # like a socket: a short read, never more than asked
    peer.sendall(b"more")
    assert reader.recv(100) == b"more"


def test_nothing_to_read_raises_like_a_non_blocking_socket(pair: tuple[ReadAheadSocket, socket.socket]) -> None:
    reader, peer = pair
    with pytest.raises(BlockingIOError):
        reader.recv(1)
    peer.sendall(b"ab")
    assert reader.recv(1) == b"a"
    assert reader.recv(1) == b"b"
    with pytest.raises(BlockingIOError):
        reader.recv(1)


def test_the_end_of_the_stream_reads_empty_after_what_was_buffered(pair: tuple[ReadAheadSocket, socket.socket]) -> None:
    reader, peer = pair
    peer.sendall(b"last words")
    peer.close()
    assert reader.recv(4) == b"last"
    assert reader.recv(64) == b" words"
    assert reader.recv(1) == b""


def test_it_takes_over_the_connection(pair: tuple[ReadAheadSocket, socket.socket]) -> None:
    reader, peer = pair
    reader.sendall(b"ping")
    assert peer.recv(4) == b"ping"
    assert reader.fileno() >= 0
