"""Broker logins for the sources that publish into the service's own Mosquitto
(``bantar broker config``): each may publish only under its own topics.

- A firmware device or camera (Tasmota, ESPHome, Frigate/Axis) logs in with its registry id and
  may publish only on its source's topics with its own external id in place (``tele/<topic>/+``).
- A network-server integration publishing into our broker (a ChirpStack MQTT integration, a TTS
  bridge) gets one login per source, ``integration-<source>``, that may publish only under the
  source's topic templates (``application/+/device/+/event/+``).
- Each connection of config/sources.yaml on the service's broker reads its sources' topics with
  its client id as username (the broker uses the username as client id).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from bantar.domain.registry import Device
from ingest.sources.config import ID_FIELD, Route, SourcesFile


class Account(NamedTuple):
    username: str
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()


def source_accounts(sources: SourcesFile, devices: Iterable[Device]) -> list[Account]:
    service = {name for name, c in sources.connections.items() if c.broker == "service"}
    accounts = []
    for name in service:
        routes = [Route(s, t) for s in sources.sources if s.connection == name for t in s.templates]
        accounts.append(
            Account(sources.connections[name].client_id, read=tuple(dict.fromkeys(r.filter for r in routes)))
        )
    active = [d for d in devices if d.active and d.external_ids]
    for source in sources.sources:
        if source.connection not in service:
            continue
        if source.format not in ID_FIELD:
            accounts.append(
                Account(f"integration-{source.name}", write=tuple(Route(source, t).filter for t in source.templates))
            )
            continue
        scheme, placeholder = ID_FIELD[source.format]
        for device in active:
            assert device.external_ids is not None
            external = getattr(device.external_ids, scheme)
            if external:
                topics = tuple(
                    Route(source, t.replace("{" + placeholder + "}", external)).filter for t in source.templates
                )
                accounts.append(Account(device.id, write=topics))
    return accounts


SOURCES_HEADER = "# Sources (config/sources.yaml): each login publishes only under its own topics."
"""the first line of the ACL's sources block (what follows it is ``acl_block``'s)"""


def acl_block(accounts: Iterable[Account]) -> str:
    lines = ["", SOURCES_HEADER]
    for account in accounts:
        lines.append(f"user {account.username}")
        lines += [f"topic read {t}" for t in account.read]
        lines += [f"topic write {t}" for t in account.write]
    return "\n".join(lines) + "\n"
