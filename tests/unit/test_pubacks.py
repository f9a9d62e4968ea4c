"""The batched PUBACKs are byte for byte what paho's own ``ack()`` queues, one message at a time,
through the same private output queue: if a paho upgrade changes either, this fails first."""

from __future__ import annotations

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.mqtt import pubacks


@pytest.mark.parametrize("protocol", [paho.MQTTv311, paho.MQTTv5])
def test_pubacks_match_what_paho_ack_queues(protocol: int) -> None:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=protocol, manual_ack=True)
    mids = [1, 2, 255, 256, 4711, 65535]
    for mid in mids:
        client.ack(mid, 1)  # not connected: the packet stays in paho's output queue
    queued = b"".join(bytes(p["packet"]) for p in client._out_packet)
    assert pubacks(mids) == queued
    assert len(queued) == 4 * len(mids)
