"""An edit of the registry file reaches every part without a restart (issue #13, item 7): real
`bantar ingest` and `bantar api` processes over one SQLite store and app database, the ingestor
reading the devices from an open Mosquitto and keeping the logins of a secured one (which it
signals to reload them). A device added to the file is accepted, expected and given a login; one
removed or switched off in the file is refused, no longer alerted and logged out (one removed
while no ingestor ran: when the ingestor starts); an invalid edit changes nothing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bantar.domain.access import Role, ScopeLevel
from bantar.domain.registry import Device, Registry
from bantar.domain.timebase import wib_day
from bantar.domain.topics import DeviceKind, Topic
from bantar.registry_file import dump_registry
from bantar.stores.appdb import AppDb
from bantar.stores.sqlite import SqliteStore
from ingest.broker import MosquittoProcess, free_port, wait_for_port
from ingest.broker_auth import read_credentials, write_broker_auth
from tests.integration.test_broker_acl import Client
from tests.integration.test_device_switch import reading
from tests.support import REPO, bantar_env, start_ingestor, stop_ingestor, wait_until

GENEROUS_S = 60.0
POLL_S = "0.2"
"""both processes look at the file this often (injected: the defaults are 30 s and 10 s)"""


@dataclass
class Stack:
    registry: Path
    auth: Path
    store: SqliteStore
    secured: MosquittoProcess
    open_port: int
    http: httpx.Client
    logs: tuple[Path, Path]
    """the ingestor's and the API's output"""
    metrics: tuple[str, str]
    """the ingestor's and the API's Prometheus metrics"""

    def write(self, registry: Registry) -> None:
        dump_registry(registry, self.registry)

    def login_refused(self, device_id: str) -> bool:
        password = read_credentials(self.auth / "credentials.csv").get(device_id, "-")
        attempt = Client(self.secured.port, device_id, password)
        attempt.close()
        return attempt.connect_reason is not None and attempt.connect_reason.is_failure

    def devices(self, rt: str) -> dict[str, bool]:
        """The RT's devices as the API process knows them: id -> active."""
        got = self.http.get(f"/rts/{rt}")
        assert got.status_code == 200, got.text
        return {d["id"]: d["active"] for d in got.json()["devices"]}

    def silent(self, *devices: Device) -> set[str]:
        """Those of the devices with a live silent-device alert (the API's alert book)."""
        got = self.http.get("/alerts", params={"kind": "device_silent"})
        assert got.status_code == 200, got.text
        return {a["device_id"] for a in got.json()["data"]} & {d.id for d in devices}

    def bin_status(self, rt: str) -> str:
        """The RT's bin indicator over the last week: ``not_applicable`` when no bin is expected."""
        today = wib_day(datetime.now(UTC))
        got = self.http.get(f"/rts/{rt}/scores", params={"start": str(today - timedelta(days=6)), "end": str(today)})
        assert got.status_code == 200, got.text
        found = [i for c in got.json()["criteria"] for i in c["indicators"] if i["metric"] == "bin_overflow_share"]
        assert len(found) == 1
        return str(found[0]["status"])

    def refusals(self, n: int) -> set[tuple[str, str]]:
        """The last ``n`` dead letters: (device id, reason)."""
        return {(Topic.parse(d.topic).device_id, d.reason.value) for d in self.store.dead_letters(n)}

    def logged(self, text: str) -> tuple[int, int]:
        return (self.logs[0].read_text().count(text), self.logs[1].read_text().count(text))

    def edits(self) -> list[tuple[float, float]]:
        """Per process: the registry edits (taken, refused) its metrics count."""
        counts = []
        for url in self.metrics:
            families = {f.name: f for f in text_string_to_metric_families(httpx.get(url, timeout=GENEROUS_S).text)}
            taken, refused = families["bantar_registry_edits_taken"], families["bantar_registry_edits_refused"]
            counts.append((taken.samples[0].value, refused.samples[0].value))
        return counts


def without(registry: Registry, *ids: str) -> Registry:
    return registry.model_copy(update={"devices": [d for d in registry.devices if d.id not in ids]})


@pytest.fixture
def two_rts(small_registry: Registry) -> tuple[list[Device], Device]:
    """An RT with two bins (to remove one and switch the other off in the file) and a bin of
    another RT, its only one (held out of the file at first, then added)."""
    bins: dict[str, list[Device]] = {}
    for d in small_registry.devices:
        if d.kind is DeviceKind.bin:
            bins.setdefault(d.rt, []).append(d)
    pair = next(b for b in bins.values() if len(b) == 2)
    single = next(b[0] for b in bins.values() if len(b) == 1)
    return pair, single


@pytest.fixture
def stack(
    tmp_path: Path, small_registry: Registry, mosquitto: MosquittoProcess, two_rts: tuple[list[Device], Device]
) -> Iterator[Stack]:
    first = without(small_registry, two_rts[1].id)
    registry = tmp_path / "registry.yaml"
    dump_registry(first, registry)
    write_broker_auth(small_registry.devices, tmp_path / "auth")  # the held-out bin left the file since
    secured = MosquittoProcess.start(
        tmp_path / "secured",
        password_file=str(tmp_path / "auth/passwd"),
        acl_file=str(tmp_path / "auth/acl"),
        pid_file=str(tmp_path / "secured.pid"),
    )
    app_db = AppDb(tmp_path / "app.db")
    admin = app_db.create_token("Admin", Role.admin, ScopeLevel.city, None)[1]
    app_db.close()
    env = bantar_env(
        registry=str(registry),
        rules=str(REPO / "config/rules.yaml"),
        criteria=str(REPO / "config/criteria.yaml"),
        sqlite__path=str(tmp_path / "bantar.db"),
        app_db=str(tmp_path / "app.db"),
        mqtt__port=str(mosquitto.port),
        mqtt__client_id="reload-test",
        mqtt__broker_auth_dir=str(tmp_path / "auth"),
        mqtt__broker_pid_file=str(tmp_path / "secured.pid"),
        ingest__device_switches_every_s=POLL_S,
        evidence_every_s=POLL_S,
        notify__rules=str(REPO / "config/notifications.yaml"),
        archive__enabled="false",
    )
    logs = (tmp_path / "ingest.log", tmp_path / "api.log")
    ingest_metrics = free_port()
    env["BANTAR_INGEST__METRICS_PORT"] = str(ingest_metrics)
    ingestor = start_ingestor(env, logs[0])
    port = free_port()
    with logs[1].open("ab") as handle:
        api = subprocess.Popen(
            [sys.executable, "-m", "shell", "api", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    store = SqliteStore(tmp_path / "bantar.db")
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1", headers={"Authorization": f"Bearer {admin}"}, timeout=GENEROUS_S
    )
    try:
        wait_for_port(port, GENEROUS_S)
        metrics = (f"http://127.0.0.1:{ingest_metrics}/metrics", f"http://127.0.0.1:{port}/metrics")
        yield Stack(registry, tmp_path / "auth", store, secured, mosquitto.port, http, logs, metrics)
    finally:
        http.close()
        api.terminate()
        api.wait(GENEROUS_S)
        stop_ingestor(ingestor)
        store.close()
        secured.stop()


def test_registry_file_edits_reach_intake_expectations_alerts_and_logins_without_a_restart(
    stack: Stack, small_registry: Registry, two_rts: tuple[list[Device], Device]
) -> None:
    (gone, off), new = two_rts
    pair_rt, new_rt = gone.rt, new.rt
    sender = Client(stack.open_port, "sender", "-", client_id="reload-sender")
    try:
        # Before: the held-out bin is unknown, its RT expects no bin; the pair is expected and silent.
        # It left the file while no ingestor ran: the ingestor took its login away when it started.
        wait_until(lambda: stack.login_refused(new.id), GENEROUS_S, "the broker refusing the device removed before")
        sender.publish(str(Topic(new.id, DeviceKind.bin)), reading(1))
        wait_until(lambda: stack.store.counts().dead_letters == 1, GENEROUS_S, "the unknown device's dead letter")
        assert stack.refusals(1) == {(new.id, "unknown_device")}
        assert new.id not in stack.devices(new_rt)
        assert stack.bin_status(new_rt) == "not_applicable"
        wait_until(lambda: stack.silent(gone, off) == {gone.id, off.id}, GENEROUS_S, "the pair alerted as silent")
        assert stack.bin_status(pair_rt) != "not_applicable"

        # Added to the file: the API expects it (and alerts it silent), the ingestor gave it a
        # login the broker took, and accepts its reading.
        stack.write(small_registry)
        wait_until(lambda: new.id in stack.devices(new_rt), GENEROUS_S, "the API taking the added device")
        assert stack.bin_status(new_rt) != "not_applicable"
        wait_until(lambda: stack.silent(new), GENEROUS_S, "the added device expected (silent)")
        wait_until(lambda: not stack.login_refused(new.id), GENEROUS_S, "the broker taking the added device's login")
        sender.publish(str(Topic(new.id, DeviceKind.bin)), reading(2))
        wait_until(lambda: stack.store.counts().readings == 1, GENEROUS_S, "the added device's reading stored")
        wait_until(lambda: not stack.silent(new), GENEROUS_S, "the added device's silence over")

        # One bin removed from the file, the other switched off in it: the API no longer expects
        # or alerts them, the broker refuses them, the ingestor refuses their readings.
        kept = without(small_registry, gone.id).devices
        edited = small_registry.model_copy(
            update={"devices": [d.model_copy(update={"active": False}) if d.id == off.id else d for d in kept]}
        )
        stack.write(edited)
        wait_until(lambda: stack.devices(pair_rt).get(off.id) is False, GENEROUS_S, "the API taking the edit")
        assert gone.id not in stack.devices(pair_rt)
        assert stack.bin_status(pair_rt) == "not_applicable"
        wait_until(lambda: stack.silent(gone, off) == set(), GENEROUS_S, "the pair's silent alerts resolved")
        wait_until(lambda: stack.login_refused(gone.id), GENEROUS_S, "the broker refusing the removed device")
        wait_until(lambda: stack.login_refused(off.id), GENEROUS_S, "the broker refusing the switched-off device")
        assert not stack.login_refused(new.id)  # the others keep their logins
        sender.publish(str(Topic(gone.id, DeviceKind.bin)), reading(3))
        sender.publish(str(Topic(off.id, DeviceKind.bin)), reading(4))
        wait_until(lambda: stack.store.counts().dead_letters == 3, GENEROUS_S, "the two dead letters")
        assert stack.refusals(2) == {(gone.id, "unknown_device"), (off.id, "device_inactive")}

        # An invalid edit (the removed bin back, in an RT that does not exist): refused by both
        # processes with the reason, and nothing changes.
        broken = edited.model_dump(mode="json", exclude_defaults=True)
        broken["devices"].append({**gone.model_dump(mode="json", exclude_defaults=True), "rt": "no-such-rt"})
        assert stack.logged("registry_invalid") == (0, 0)
        assert stack.edits() == [(2, 0), (2, 0)]
        stack.registry.write_text(yaml.safe_dump(broken), encoding="utf-8")
        wait_until(lambda: min(stack.logged("registry_invalid")) == 1, GENEROUS_S, "both refusing the edit")
        assert min(stack.logged("unknown RT 'no-such-rt'")) == 1  # the problem, named
        assert stack.edits() == [(2, 1), (2, 1)]
        assert gone.id not in stack.devices(pair_rt)
        assert stack.login_refused(gone.id)
        sender.publish(str(Topic(gone.id, DeviceKind.bin)), reading(5))
        wait_until(lambda: stack.store.counts().dead_letters == 4, GENEROUS_S, "the dead letter")
        assert stack.refusals(1) == {(gone.id, "unknown_device")}
        assert stack.store.counts().readings == 1
    finally:
        sender.close()
