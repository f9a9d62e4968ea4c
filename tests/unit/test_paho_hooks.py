"""The paho internals ``ingest.mqtt`` hooks into (see its docstring) are still there, as they
were: if a paho upgrade changes one, these fail first, naming it."""

from __future__ import annotations

import inspect

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.mqtt import pubacks


@pytest.mark.parametrize("protocol", [paho.MQTTv311, paho.MQTTv5])
def test_batched_pubacks_are_the_bytes_paho_ack_queues(protocol: int) -> None:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=protocol, manual_ack=True)
    mids = [1, 2, 255, 256, 4711, 65535]
    for mid in mids:
        client.ack(mid, 1)  # not connected: the packet stays in paho's output queue
    queued = b"".join(bytes(p["packet"]) for p in client._out_packet)
    assert pubacks(mids) == queued
    assert len(queued) == 4 * len(mids)


@pytest.mark.parametrize(
    ("method", "parameters"),
    [
        ("_packet_queue", ["self", "command", "packet", "mid", "qos", "info"]),
        ("_create_socket_connection", ["self"]),
        ("_handle_on_message", ["self", "message"]),
        ("loop_read", ["self", "max_packets"]),
    ],
)
def test_the_hooked_methods_have_the_expected_signatures(method: str, parameters: list[str]) -> None:
    assert list(inspect.signature(getattr(paho.Client, method)).parameters) == parameters


def test_paho_looks_for_pending_bytes_before_it_waits() -> None:
    """ReadAheadSocket.pending is only honoured because paho's loop asks every socket for it."""
    assert "pending()" in inspect.getsource(paho.Client._loop)
