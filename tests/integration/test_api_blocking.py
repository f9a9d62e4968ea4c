"""A slow store write does not delay other requests: the post's blocking work runs in the thread
pool, not on the event loop (real uvicorn, real SQLite; the write is held by the test)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from api.server import BackgroundServer
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.registry import Registry
from bantar.ports import WriteOutcome
from bantar.registry_file import dump_registry
from bantar.settings import Settings, SqliteSettings
from bantar.stores.sqlite import SqliteStore
from ingest.broker import free_port
from shell.compose import build_services

GENEROUS_S = 30.0


class HeldWrites:
    """The real SQLite store, except that each write waits until the test releases it."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.entered = threading.Event()
        self.release = threading.Event()

    def write(self, *batch: Any) -> WriteOutcome:
        self.entered.set()
        self.release.wait(GENEROUS_S)
        return self._store.write(*batch)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_a_held_store_write_does_not_delay_a_concurrent_read(small_registry: Registry, tmp_path: Path) -> None:
    dump_registry(small_registry, tmp_path / "registry.yaml")
    settings = Settings(registry=tmp_path / "registry.yaml", sqlite=SqliteSettings(path=tmp_path / "r.db"))
    services = build_services(settings.model_copy(update={"app_db": tmp_path / "a.db"}))
    assert isinstance(services.store, SqliteStore)
    held = HeldWrites(services.store)
    services.store = held  # type: ignore[assignment]  # the real store behind a gate the test holds
    rt = small_registry.kecamatan[0].kelurahan[0].rts[0].code
    operator = services.app_db.create_token("Operator", Role.operator, ScopeLevel.rt, rt)[1]
    head = services.app_db.create_token("Ketua RT", Role.rt_head, ScopeLevel.rt, rt)[1]
    server = BackgroundServer(create_app(services, run_evidence_loop=False), free_port()).start()
    posted: list[httpx.Response] = []
    deposit = {
        "deposit_id": "BS-1",
        "household": "hh-1",
        "items": {"plastic": 2.0},
        "price_idr_per_kg": {"plastic": 3000},
    }
    poster = threading.Thread(
        target=lambda: posted.append(
            httpx.post(
                f"{server.url}/api/v1/rts/{rt}/bank-sampah/deposits",
                json=deposit,
                headers={"Authorization": f"Bearer {operator}", "Idempotency-Key": "held-1"},
                timeout=GENEROUS_S * 2,
            )
        )
    )
    try:
        poster.start()
        assert held.entered.wait(GENEROUS_S), "the post never reached the store"
        read = httpx.get(
            f"{server.url}/api/v1/rts/{rt}/bank-sampah/deposits",
            headers={"Authorization": f"Bearer {head}"},
            timeout=GENEROUS_S,
        )
        assert read.status_code == 200, read.text
        assert read.json() == []  # answered while the write is still held
        assert not posted
        held.release.set()
        poster.join(GENEROUS_S)
        assert [r.status_code for r in posted] == [201]
    finally:
        held.release.set()
        server.stop()
        services.close()
