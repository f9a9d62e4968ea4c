"""Publishing simulated messages over MQTT, safely.

paho-mqtt 2.2 silently loses QoS 1 messages once more than 65,535 wait for acknowledgement
(message ids wrap): ``MqttPublisher`` bounds the unacknowledged messages far below that.
paho's own in-flight window is kept small (50): it rescans its outgoing queue on every
acknowledgement, so 1,000 in flight halved the publish rate here (10,800 vs 21,400 msg/s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

MAX_UNACKED = 20_000


class MqttPublisher:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str = "",
        username: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        qos: int = 1,
        max_unacked: int = MAX_UNACKED,
        max_inflight: int = 50,
    ) -> None:
        if not 0 < max_unacked <= 60_000:
            raise ValueError("max_unacked must stay well below paho's 65,535 message-id space")
        self.qos = qos
        self._window = threading.BoundedSemaphore(max_unacked)
        self._acked = 0
        self.published = 0
        self._lock = threading.Lock()
        self._client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311
        )
        if username:
            self._client.username_pw_set(username, password)
        if tls_ca:
            self._client.tls_set(ca_certs=tls_ca)  # verifies the broker's certificate and host name
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(0)
        self._client.on_publish = self._on_publish
        self._client.connect(host, port, keepalive=30)
        self._client.loop_start()

    def _on_publish(self, *_args: Any) -> None:
        if self.qos:
            self._window.release()
        with self._lock:
            self._acked += 1

    def publish(self, topic: str, payload: bytes) -> None:
        if self.qos:
            self._window.acquire()
        info = self._client.publish(topic, payload, qos=self.qos)
        self.published += 1
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publish to {topic} failed: {paho.error_string(info.rc)}")

    def publish_all(self, messages: Iterable[tuple[str, bytes]], progress: Callable[[int], None] | None = None) -> int:
        count = 0
        for topic, payload in messages:
            self.publish(topic, payload)
            count += 1
            if progress and count % 1000 == 0:
                progress(1000)
        if progress:
            progress(count % 1000)
        return count

    @property
    def acknowledged(self) -> int:
        with self._lock:
            return self._acked

    def wait_acknowledged(self, count: int, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.acknowledged < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
