"""The composition root: every adapter is chosen and built here, from settings, and nowhere else."""

from __future__ import annotations

from bantar.domain.registry import RegistryIndex
from bantar.domain.scoring import Rules
from bantar.ports import ReadingStore
from bantar.registry_file import load_registry
from bantar.rules_file import load_rules
from bantar.settings import Settings
from bantar.stores.sqlite import SqliteStore


def build_store(settings: Settings) -> ReadingStore:
    match settings.store:
        case "sqlite":
            return SqliteStore(settings.sqlite.path, settings.sqlite.synchronous)


def build_registry(settings: Settings) -> RegistryIndex:
    return RegistryIndex(load_registry(settings.registry))


def build_rules(settings: Settings) -> Rules:
    return load_rules(settings.rules)
