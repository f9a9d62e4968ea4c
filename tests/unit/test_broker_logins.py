"""The broker's logins follow the registry file: a new device gets a password and a login, a
removed one loses its login and keeps its password (files only; the broker reloading them is
tests/integration/test_registry_reload.py)."""

from __future__ import annotations

from pathlib import Path

from bantar.domain.registry import Registry
from ingest.broker_auth import INGEST_USER, read_credentials, switch_logins, write_broker_auth


def users(out: Path) -> set[str]:
    return {line.split(":", 1)[0] for line in (out / "passwd").read_text().splitlines()}


def test_logins_follow_added_removed_and_switched_off_devices(small_registry: Registry, tmp_path: Path) -> None:
    a, b, c = [d for d in small_registry.devices if d.channel == "mqtt"][:3]
    out = tmp_path / "auth"
    kept = write_broker_auth([a, b], out)
    b_line = next(line for line in (out / "passwd").read_text().splitlines() if line.startswith(f"{b.id}:"))

    assert switch_logins([b, c], out, gone={a.id})
    assert users(out) == {INGEST_USER, "bantar-health", b.id, c.id}
    assert f"{b_line}\n" in (out / "passwd").read_text()  # untouched logins keep their hash
    credentials = read_credentials(out / "credentials.csv")
    assert credentials[a.id] == kept[a.id]
    assert credentials[b.id] == kept[b.id]
    assert credentials[c.id]  # provisioned: the device's password is in credentials.csv

    assert not switch_logins([b, c], out)  # nothing to do
    assert switch_logins([a, b, c.model_copy(update={"active": False})], out)
    assert users(out) == {INGEST_USER, "bantar-health", a.id, b.id}
    assert read_credentials(out / "credentials.csv") == credentials  # a came back with its password
