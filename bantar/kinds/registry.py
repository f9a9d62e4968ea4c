"""The registry of device kinds: their names, and where each one's plug-in lives.

Adding a kind is a member of ``DeviceKind`` and a line in ``PLUGINS`` (its package holds the
rest). A leaf module: the domain imports the names from here, and plug-ins load only when asked
for (``plugins()``), since every plug-in imports the domain in turn.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bantar.kinds.contract import KindPlugin


class DeviceKind(StrEnum):
    bin = "bin"
    cctv = "cctv"
    poskamling = "poskamling"
    bank_sampah = "bank_sampah"
    gotong_royong = "gotong_royong"
    availability = "availability"
    """a reading kind, not a device kind: online/offline/stopped of any device (LWT, status)"""
    weighing = "weighing"
    """a reading kind, not a device kind: a scale's weight, before it is paired into a deposit"""
    water_level = "water_level"
    """flood sensors on drains and the river bank"""


READING_ONLY_KINDS = frozenset({DeviceKind.availability, DeviceKind.weighing})
"""kinds of readings that no registered device is (a camera reports availability, a scale weighings)"""

PLUGINS: dict[DeviceKind, str] = {
    DeviceKind.bin: "bantar.kinds.bin",
    DeviceKind.cctv: "bantar.kinds.cctv",
    DeviceKind.poskamling: "bantar.kinds.poskamling",
    DeviceKind.bank_sampah: "bantar.kinds.bank_sampah",
    DeviceKind.gotong_royong: "bantar.kinds.gotong_royong",
    DeviceKind.availability: "bantar.kinds.availability",
    DeviceKind.weighing: "bantar.kinds.weighing",
    DeviceKind.water_level: "bantar.kinds.water_level",
}
"""the module of each kind's plug-in (its ``PLUGIN``)"""


@cache
def plugins() -> dict[DeviceKind, KindPlugin]:
    """Every kind's plug-in, in ``DeviceKind`` order."""
    found = {kind: importlib.import_module(PLUGINS[kind]).PLUGIN for kind in DeviceKind}
    for kind, plugin in found.items():
        if plugin.kind is not kind:
            raise RuntimeError(f"{PLUGINS[kind]} holds the plug-in of {plugin.kind}, not {kind}")
    return found


def plugin(kind: DeviceKind) -> KindPlugin:
    return plugins()[kind]


def evidence_reads() -> list[KindPlugin]:
    """The plug-ins whose rows the evidence reads back (``RTReadings``): every kind with daily
    figures, and the kinds their evidence reads too (``KindPlugin.reads``)."""
    found = plugins()
    wanted = {kind for p in found.values() if p.evidence is not None for kind in (p.kind, *p.reads)}
    return [p for kind, p in found.items() if kind in wanted]


def load(path: str) -> Any:
    """The object a plug-in names as ``module:attribute`` (loaded only by whoever needs it)."""
    module, attribute = path.split(":")
    return getattr(importlib.import_module(module), attribute)
