"""The MQTT side of the ingestor (paho-mqtt 2.x), kept thin: connect with a persistent session,
feed the inbox, acknowledge what the service says is stored.

Traps this adapter avoids (see the README's "Ingest guarantees"):
- paho's MQTT 5 default clean start would discard the session, and the messages the broker
  queued for us, on every new process: we connect with ``clean_start=False`` and a session
  expiry (MQTT 3.1.1: ``clean_session=False``), always with the same client id.
- paho answers QoS 2 before our handler runs: we subscribe at QoS 1 and rely on idempotent writes.
- A manual-ack consumer is not bounded by the broker's in-flight limit: the inbox is bounded,
  so when it is full the network thread waits and TCP pushes back on the broker; MQTT 5
  Receive Maximum tells a broker that honours it the same bound.
- An exception escaping ``on_message`` kills paho's network thread: the handler does nothing
  that can raise.
- Acknowledgements carry the connection they came from: after a reconnect the broker redelivers
  whatever was not acknowledged, so an old message id is never acknowledged on a new connection.

paho's per-message costs, cut where a drain profile (py-spy) showed them; together 51 -> 31 µs
of CPU per message. Three of them touch paho's private API, so pyproject.toml pins paho to 2.1-2.2
and tests/unit/test_paho_hooks.py, test_readahead.py and every MQTT test exercise them:
- A batch's PUBACKs leave in one write (``pubacks``) instead of one queued packet, one wake-up
  of the network thread and one ``send`` per message; they go through paho's own output queue
  (``_packet_queue``, the one ``ack()`` uses), so ordering and partial writes stay paho's.
- paho reads a packet with three or more ``recv`` calls and does a ``select`` per packet: the
  socket reads ahead (``ingest.readahead``, hooked in ``_create_socket_connection``) and
  ``loop_read`` goes on through what was read ahead.
- paho walks its per-topic callback tree for every message (``_handle_on_message``), though
  this client registers none.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import paho.mqtt.client as paho
from paho.mqtt.client import PUBACK
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bantar.domain.topics import subscription
from bantar.settings import MqttSettings
from ingest.counters import IngestCounters
from ingest.inbox import Inbox
from ingest.readahead import ReadAheadSocket
from ingest.service import Inbound

log = logging.getLogger("bantar.ingest.mqtt")


_PUBACK = struct.Struct("!BBH")


def pubacks(mids: Sequence[int]) -> bytes:
    """PUBACK packets for these message ids, back to back. Remaining length 2 (the id only) is
    MQTT 3.1.1's PUBACK and MQTT 5's with reason code 0, success."""
    return b"".join([_PUBACK.pack(PUBACK, 2, mid) for mid in mids])


class _Token(NamedTuple):
    connection: int
    mid: int
    qos: int


class _Client(paho.Client):
    def _create_socket_connection(self) -> socket.socket:
        """paho's plain TCP connection, reading ahead (``ingest.readahead``); TLS wraps it as usual."""
        connected = super()._create_socket_connection()
        return ReadAheadSocket(connected) if type(connected) is socket.socket else connected

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """paho reads one packet per pass of its loop, a ``select`` each: read on while the
        read-ahead holds bytes, so a burst costs one pass per read-ahead, not per message. Only
        the bytes already read: the loop returns to paho (to send, to keep alive) before the
        next read from the network."""
        sock = self._sock
        rc = super().loop_read(max_packets)
        if not isinstance(sock, ReadAheadSocket):
            return rc
        reader: ReadAheadSocket = sock
        refills = reader.refills
        while rc == paho.MQTT_ERR_SUCCESS and reader.pending() and reader.refills == refills and self._sock is reader:
            rc = super().loop_read(max_packets)
        return rc

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        """Straight to ``on_message``: paho first walks its per-topic callback tree
        (``message_callback_add``, which this client never uses) with a generator per message,
        a sixth of the network thread's time."""
        with self._in_callback_mutex:
            self.on_message(self, self._userdata, message)  # type: ignore[misc]  # paho types on_message as a property


class MqttSource:
    def __init__(
        self,
        settings: MqttSettings,
        inbox: Inbox[Inbound],
        counters: IngestCounters,
        receive_maximum: int,
        filters: Sequence[str] | None = None,
    ) -> None:
        """``filters``: what to subscribe to (default: ``bantar/v1/#``); given, the messages are
        marked when the broker sends them again (retained or DUP), for sources to recognise."""
        self.settings = settings
        self.filters = list(filters) if filters else None
        self.inbox = inbox
        self.counters = counters
        self.receive_maximum = min(receive_maximum, 65535)
        self.connected = threading.Event()
        """connected and subscribed: set when the broker acknowledges the subscription (SUBACK), not
        at CONNACK; a message published in between would find no subscriber in a new session"""
        self._connection = 0
        self._subscription: tuple[int | None, bool] = (None, False)
        """the SUBSCRIBE awaiting its acknowledgement (message id) and whether the session was resumed"""
        self._closing = False
        self._client = self._build_client()

    def _build_client(self) -> paho.Client:
        v5 = self.settings.protocol == "5"
        client = _Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.settings.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=True,
        )
        if self.settings.username:
            password = self.settings.password.get_secret_value() if self.settings.password else None
            client.username_pw_set(self.settings.username, password)
        if self.settings.tls_ca:
            client.tls_set(ca_certs=str(self.settings.tls_ca))  # verifies the certificate and host name
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def start(self, timeout_s: float = 15.0) -> None:
        """Connect and start the network thread; raise ``ConnectionError`` if not connected in time."""
        properties = None
        kwargs: dict[str, Any] = {}
        if self.settings.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho: no annotations
            properties.SessionExpiryInterval = self.settings.session_expiry_s
            properties.ReceiveMaximum = self.receive_maximum
            kwargs = {"clean_start": False, "properties": properties}
        try:
            self._client.connect(self.settings.host, self.settings.port, self.settings.keepalive_s, **kwargs)
        except OSError as exc:
            raise ConnectionError(f"cannot reach MQTT broker {self.settings.host}:{self.settings.port}: {exc}") from exc
        self._client.loop_start()
        if not self.connected.wait(timeout_s):
            self._client.loop_stop()
            raise ConnectionError(
                f"MQTT broker {self.settings.host}:{self.settings.port} did not accept us or our subscription"
            )

    def _on_connect(self, client: paho.Client, _userdata: Any, flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        self._connection += 1
        _, mid = client.subscribe([(f, 1) for f in self._topic_filters()])
        self._subscription = (mid, bool(flags.session_present))

    def _topic_filters(self) -> list[str]:
        return self.filters or [subscription(self.settings.shared_group)]

    def _on_subscribe(self, _client: paho.Client, _userdata: Any, mid: int, reasons: Any, _props: Any) -> None:
        expected, resumed = self._subscription
        if expected is None or mid != expected:
            return
        topic_filter = ", ".join(self._topic_filters())
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("broker refused the subscription to %s: %s", topic_filter, ", ".join(refused))
            return
        log.info(
            "connected to %s:%s as %s (session %s); subscribed to %s",
            self.settings.host,
            self.settings.port,
            self.settings.client_id,
            "resumed" if resumed else "new",
            topic_filter,
        )
        self.connected.set()

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected.clear()
        if not self._closing:
            log.warning("disconnected from broker (%s); reconnecting", reason)

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        if self._closing:
            return  # not acknowledged: the broker keeps it for our next session
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = message._topic.decode("utf-8", "replace")
        token = _Token(self._connection, message.mid, message.qos)
        # Blocks while the inbox is full: the network thread stops reading, TCP pushes back.
        if self.filters is None:
            # paho hands bytes (its annotation also allows bytearray): no copy on the hot path
            self.inbox.put(Inbound(topic, message.payload, time.time(), token))  # type: ignore[arg-type]  # bytes
        else:
            retained = bool(message.retain or message.dup)
            self.inbox.put(Inbound(topic, message.payload, time.time(), token, retained))  # type: ignore[arg-type]  # bytes

    def acknowledge(self, tokens: Sequence[object]) -> None:
        current = self._connection
        mids = []
        for token in tokens:
            assert isinstance(token, _Token)
            if token.connection != current:
                self.counters.stale_acks += 1
            elif token.qos == 1:
                mids.append(token.mid)
            elif token.qos == 2:  # never subscribed at QoS 2, but if a broker sends one
                self._client.ack(token.mid, token.qos)
        if mids:
            self._client._packet_queue(PUBACK, pubacks(mids), 0, 0)

    def pause(self) -> None:
        """Take no more messages (those arriving now stay unacknowledged, kept by the broker)."""
        self._closing = True

    def stop(self, drain_s: float = 2.0) -> None:
        """Send what acknowledgements are queued, then disconnect, keeping the session."""
        self._closing = True
        deadline = time.monotonic() + drain_s
        while self._client.want_write() and time.monotonic() < deadline:
            time.sleep(0.01)
        self._client.disconnect()
        self._client.loop_stop()
