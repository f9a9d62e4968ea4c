"""A simulated kelurahan, ingested and derived once per session, for evidence and API tests."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from bantar.domain.registry import Registry, RegistryIndex
from bantar.domain.scoring import Rules
from bantar.domain.timebase import WIB
from bantar.domain.topics import DeviceKind
from bantar.evidence_service import EvidenceQueries, EvidenceUpdater
from bantar.ports import ReadingStore
from bantar.rules_file import load_rules
from bantar.services import Services
from bantar.settings import ArchiveSettings, NotifySettings, Settings, SqliteSettings
from bantar.stores.sqlite import SqliteStore
from shell.compose import build_services
from simulators.engine import Simulation
from tests.support import REPO, store_directly

END = datetime(2026, 11, 2, tzinfo=WIB)  # a Monday: the last weeks are complete
START = END - timedelta(days=35)
ONSET = START + timedelta(days=5)


class World:
    def __init__(self, tmp: Path, small: Registry, store: ReadingStore | None = None) -> None:
        # Cameras report every minute and would dominate the run: keep them in six RTs only.
        with_cameras = {rt.code for rt in small.kecamatan[0].kelurahan[0].rts[:6]}
        devices = [d for d in small.devices if d.kind is not DeviceKind.cctv or d.rt in with_cameras]
        registry = RegistryIndex(small.model_copy(update={"devices": devices}))
        self.registry = registry
        self.rules: Rules = load_rules(REPO / "config/rules.yaml")
        awarded = [c for c, p in registry.rts.items() if p.rt.awards]
        posts = {d.rt for d in registry.registry.devices if d.kind is DeviceKind.poskamling}
        candidates = [c for c in awarded if c in posts]
        self.lapsing = candidates[: len(candidates) // 2]
        self.healthy_awarded = [c for c in awarded if c not in self.lapsing]
        self.faulty = [c for c in registry.rts if c not in awarded][:2]
        self.sim = Simulation(
            registry.registry,
            start=START,
            end=END,
            seed=21,
            lapse_onset=ONSET,
            scenarios=["healthy", f"lapsing:{','.join(self.lapsing)}", f"faulty-sensors:{','.join(self.faulty)}"],
        )
        self.messages = list(self.sim.messages())
        self.store = store or SqliteStore(tmp / "evidence.db", synchronous="NORMAL")
        # Arrive out of order: the second half of the period first, then the first half, with
        # evidence updated in between, as late readings would.
        half = len(self.messages) // 2
        self.updater = EvidenceUpdater(self.store, registry, self.rules)
        store_directly(self.store, registry, self.messages[half:], END)
        self.updater.update_all()
        store_directly(self.store, registry, self.messages[:half], END)
        self.updater.update_all()
        self.queries = EvidenceQueries(self.store, registry, self.rules, now=lambda: END + timedelta(minutes=1))


def private_copy(store: ReadingStore, folder: Path) -> SqliteStore:
    """A store of its own holding what ``store`` holds (SQLite's online backup): for a test that
    changes evidence, which the session's other modules comparing the world would otherwise see."""
    assert isinstance(store, SqliteStore)
    copy = folder / "copy.db"
    with closing(sqlite3.connect(store.path)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    return SqliteStore(copy)


def services_for(world: World, app_db: Path, store: SqliteStore | None = None) -> Services:
    """The API's services over the world's store (or ``store``, a private copy of it), built by
    the composition root, with the clock just after the world ends."""
    folder = app_db.parent
    settings = Settings(
        rules=REPO / "config/rules.yaml",
        criteria=REPO / "config/criteria.yaml",
        sqlite=SqliteSettings(path=folder / "evidence.db"),
        app_db=app_db,
        notify=NotifySettings(
            rules=REPO / "config/notifications.yaml",
            public_url="http://bantar.test",
            link_secret=SecretStr("test-link-secret"),
        ),
        archive=ArchiveSettings(path=folder / "archive", enabled=False),  # the world is history: no archiving
    )
    return build_services(
        settings, lambda: END + timedelta(minutes=1), store=store or world.store, registry=world.registry
    )
