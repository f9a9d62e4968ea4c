"""Where simulated messages go: an MQTT broker (one shared client, or one client per device with
its own id and username) or a JSON-lines file that ``bantar replay`` publishes later."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import httpx

from simulators.devices import Message
from simulators.publisher import MqttPublisher

MAX_DEVICE_CLIENTS = 1000
"""Each per-device client holds a connection and a thread: beyond this, use the shared client."""


class MqttSink:
    def __init__(
        self, host: str, port: int, *, per_device: bool = False, passwords: dict[str, str] | None = None
    ) -> None:
        self.host, self.port, self.per_device = host, port, per_device
        self.passwords = passwords or {}
        self._shared = MqttPublisher(host, port, client_id="bantar-simulator")
        self._devices: dict[str, MqttPublisher] = {}
        self.sent = 0

    def _client(self, device_id: str | None) -> MqttPublisher:
        if not self.per_device or device_id is None:
            return self._shared  # unattributed (hostile) messages come from the shared client
        client = self._devices.get(device_id)
        if client is None:
            if len(self._devices) >= MAX_DEVICE_CLIENTS:
                raise RuntimeError(f"more than {MAX_DEVICE_CLIENTS} devices: publish with the shared client")
            client = MqttPublisher(
                self.host,
                self.port,
                client_id=device_id,
                username=device_id,
                password=self.passwords.get(device_id),
            )
            self._devices[device_id] = client
        return client

    def send(self, message: Message) -> None:
        self._client(message.device_id).publish(message.topic, message.payload)
        self.sent += 1

    def close(self, timeout_s: float = 60.0) -> bool:
        """Wait for the broker to acknowledge everything, then disconnect; False on timeout."""
        clients = [self._shared, *self._devices.values()]
        ok = all(c.wait_acknowledged(c.published, timeout_s) for c in clients)
        for c in clients:
            c.close()
        return ok


class JsonLinesSink:
    def __init__(self, path: Path) -> None:
        self._out: IO[str] = path.open("w", encoding="utf-8")
        self.sent = 0

    def send(self, message: Message) -> None:
        self._out.write(json.dumps(message_record(message), separators=(",", ":")) + "\n")
        self.sent += 1

    def close(self) -> bool:
        self._out.close()
        return True


def message_record(message: Message) -> dict[str, Any]:
    record: dict[str, Any] = {"at": round(message.at, 3), "device": message.device_id, "topic": message.topic}
    try:
        record["payload"] = message.payload.decode("utf-8")
    except UnicodeDecodeError:
        record["payload_b64"] = base64.b64encode(message.payload).decode()
    return record


def read_messages(path: Path) -> Iterator[Message]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
                payload = (
                    record["payload"].encode("utf-8")
                    if "payload" in record
                    else base64.b64decode(record["payload_b64"])
                )
                yield Message(float(record["at"]), record.get("device"), record["topic"], payload)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a simulator message record ({exc})") from None


class HttpSink:
    """People's posts over the API: bank sampah deposits and poskamling reports are posted for
    the device's RT (other kinds have no HTTP route and are skipped). The device id and sequence
    number make the Idempotency-Key, so a re-run posts nothing twice."""

    ROUTES: ClassVar[dict[str, str]] = {
        "bank_sampah": "bank-sampah/deposits",
        "poskamling": "poskamling/reports",
    }

    def __init__(self, base_url: str, token: str, rt_of: dict[str, str]) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"})
        self.rt_of = rt_of
        self.sent = self.skipped = self.refused = 0
        self.last_refusal = ""

    def send(self, message: Message) -> None:
        kind = message.topic.rsplit("/", 1)[-1]
        route = self.ROUTES.get(kind)
        if route is None or message.device_id is None:
            self.skipped += 1
            return
        body = json.loads(message.payload)
        key = f"{message.device_id}-{body.pop('seq')}"
        path = f"/api/v1/rts/{self.rt_of[message.device_id]}/{route}"
        response = self._http.post(path, json=body, headers={"Idempotency-Key": key})
        while response.status_code == 429:  # a polite client waits as long as the API asks
            time.sleep(float(response.headers.get("Retry-After", "1")))
            response = self._http.post(path, json=body, headers={"Idempotency-Key": key})
        if response.status_code in (200, 201):
            self.sent += 1
        else:
            self.refused += 1
            self.last_refusal = f"{response.status_code} {response.text[:200]}"

    def close(self) -> bool:
        self._http.close()
        return self.refused == 0
