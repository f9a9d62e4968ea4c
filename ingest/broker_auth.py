"""Device credentials for the broker, from the registry: a Mosquitto ``password_file`` (hashed),
an ``acl_file`` that lets each device publish only to its own topics and read nothing, and the
plaintext credentials for provisioning the devices (kept, mode 600, so a re-run adds new devices
without changing anyone's password)."""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import secrets
import signal
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from bantar.domain.registry import Device
from bantar.domain.topics import TOPIC_ROOT
from bantar.stores.files import write_private
from ingest.sources.accounts import SOURCES_HEADER, Account, acl_block, source_accounts
from ingest.sources.config import SourcesFile

INGEST_USER = "bantar-ingest"
HEALTH_USER = "bantar-health"
"""reads the broker's uptime and nothing else: the container healthcheck's login"""
PBKDF2_ITERATIONS = 101
"""Mosquitto 2's own default for ``$7$`` (PBKDF2-SHA512) hashes."""
REGISTERED = "registered"
"""the file (next to ``passwd``) of the registry's device ids the logins were last brought in
step with: a device gone from the registry since then loses its login (``BrokerLogins``)"""


def mosquitto_hash(password: str, salt: bytes | None = None) -> str:
    """A password hash in Mosquitto 2's ``$7$`` format (what ``mosquitto_passwd`` writes)."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    return f"$7${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def ingest_users(members: int) -> list[str]:
    """The ingestors' logins: one per member of a shared subscription, since the broker uses the
    username as client id (two members with one login would take over each other's session)."""
    return [INGEST_USER, *(f"{INGEST_USER}-{n}" for n in range(2, members + 1))]


def acl_text(ingest_members: int = 1) -> str:
    readers = "".join(f"user {user}\ntopic read {TOPIC_ROOT}/#\n" for user in ingest_users(ingest_members))
    return (
        "# Rendered by `bantar broker config`. Devices log in with their id as username.\n"
        "# Each device may publish only under its own topics and may read nothing.\n"
        f"pattern write {TOPIC_ROOT}/%u/#\n"
        "\n"
        "# The ingestors read every device topic (also through $share/<group>/ subscriptions).\n"
        f"{readers}"
        "\n"
        "# The healthcheck reads the broker's uptime.\n"
        f"user {HEALTH_USER}\n"
        "topic read $SYS/broker/uptime\n"
    )


def read_credentials(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["username"]: row["password"] for row in csv.DictReader(handle)}


def write_credentials(path: Path, credentials: dict[str, str]) -> None:
    write_private(path, "username,password\n" + "".join(f"{u},{p}\n" for u, p in credentials.items()))


def write_broker_auth(
    devices: Iterable[Device],
    out: Path,
    ingest_password: str | None = None,
    health_password: str | None = None,
    ingest_members: int = 1,
    source_accounts: Sequence[Account] = (),
) -> dict[str, str]:
    """Write ``passwd``, ``acl`` and ``credentials.csv`` into ``out`` for the active MQTT devices,
    the ingestors (all with ``ingest_password`` when given) and the healthcheck; return the
    logins (username -> password). A switched-off device loses its login but keeps its password
    in ``credentials.csv``, so switching it on again needs no re-provisioning."""
    out.mkdir(parents=True, exist_ok=True)
    credentials_path = out / "credentials.csv"
    known = read_credentials(credentials_path)
    logins = {
        user: ingest_password or known.get(user) or secrets.token_urlsafe(18) for user in ingest_users(ingest_members)
    }
    logins[HEALTH_USER] = health_password or known.get(HEALTH_USER) or secrets.token_urlsafe(18)
    kept = dict(logins)
    for device in devices:
        if device.channel == "mqtt":
            kept[device.id] = known.get(device.id) or secrets.token_urlsafe(18)
            if device.active:
                logins[device.id] = kept[device.id]
    for account in source_accounts:  # config/sources.yaml's integration logins (issue #15)
        kept[account.username] = logins[account.username] = known.get(account.username) or secrets.token_urlsafe(18)
    write_credentials(credentials_path, kept)
    write_private(out / "passwd", "".join(f"{u}:{mosquitto_hash(p)}\n" for u, p in logins.items()))
    acl = acl_text(ingest_members) + (acl_block(source_accounts) if source_accounts else "")
    (out / "acl").write_text(acl, encoding="utf-8")
    write_registered(out, {d.id for d in devices})
    return logins


def read_registered(out: Path) -> set[str]:
    """The device ids ``write_registered`` last wrote (none in a folder written before it)."""
    path = out / REGISTERED
    return set(path.read_text(encoding="utf-8").split()) if path.exists() else set()


def write_registered(out: Path, ids: Collection[str]) -> None:
    """Whole or not at all (a crash mid-write keeps the previous list)."""
    write_private(out / REGISTERED, "".join(f"{i}\n" for i in sorted(ids)))


def switch_sources_acl(accounts: Sequence[Account], out: Path) -> bool:
    """Bring ``out/acl``'s sources block (``acl_block``) in step with the sources' accounts: a
    firmware device new to the registry may publish on its source's topics, a removed or
    switched-off one no longer; the lines before the block stay. Returns whether it changed."""
    acl = out / "acl"
    text = acl.read_text(encoding="utf-8")
    wanted = text.partition(f"\n{SOURCES_HEADER}")[0] + (acl_block(accounts) if accounts else "")
    if wanted == text:
        return False
    acl.write_text(wanted, encoding="utf-8")
    return True


def switch_logins(devices: Iterable[Device], out: Path, gone: Collection[str] = ()) -> bool:
    """Bring ``out/passwd`` in step with the devices' switches and the registry, without
    restarting anything: a switched-off device's login goes, a switched-on one's comes back with
    its kept password (``credentials.csv``), a device new to the registry gets a password there
    and its login, and the devices ``gone`` from the registry lose theirs (their passwords stay
    kept, for their return); every other login stays as it is. Returns whether ``passwd`` changed."""
    passwd = out / "passwd"
    lines = passwd.read_text(encoding="utf-8").splitlines()
    mqtt = {d.id: d for d in devices if d.channel == "mqtt"}
    credentials_path = out / "credentials.csv"
    known = read_credentials(credentials_path)
    if new := [device_id for device_id in mqtt if device_id not in known]:
        known.update((device_id, secrets.token_urlsafe(18)) for device_id in new)
        write_credentials(credentials_path, known)
    managed = mqtt.keys() | set(gone)
    present = {line.split(":", 1)[0]: line for line in lines if line.split(":", 1)[0] in managed}
    wanted = [device_id for device_id, d in mqtt.items() if d.active]
    if set(present) == set(wanted):
        return False
    others = [line for line in lines if line.split(":", 1)[0] not in managed]
    logins = [present.get(i) or f"{i}:{mosquitto_hash(known[i])}" for i in wanted]
    write_private(passwd, "".join(f"{line}\n" for line in others + logins))
    return True


class BrokerLogins:
    """Keeps a Mosquitto's logins (the folder ``bantar broker config`` wrote) in step with the
    admins' switches and the registry file, and with ``sources`` (config/sources.yaml) its ACL's
    sources block; after a change the broker, named by its ``pid_file``, reloads them (SIGHUP: it
    then also drops the connections whose login is gone). A device removed from the registry
    loses its login when this process sees it go, or, removed while no ingestor ran, when the
    next one starts (the folder's ``registered`` ids are the registry last followed)."""

    def __init__(self, folder: Path, pid_file: Path | None, sources: SourcesFile | None = None) -> None:
        self.folder, self.pid_file, self.sources = folder, pid_file, sources

    def follow(self, devices: Iterable[Device]) -> bool:
        devices = list(devices)
        ids = {d.id for d in devices}
        registered = read_registered(self.folder)
        changed = switch_logins(devices, self.folder, gone=registered - ids)
        if self.sources is not None:
            changed = switch_sources_acl(source_accounts(self.sources, devices), self.folder) or changed
        if ids != registered:
            write_registered(self.folder, ids)
        if changed and self.pid_file is not None:
            os.kill(int(self.pid_file.read_text(encoding="ascii").strip()), signal.SIGHUP)
        return changed
