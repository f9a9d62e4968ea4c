"""An archiver run that SIGKILLs itself at one step of one part: the crash test's victim.

Usage: python -m tests.archive_victim FOLDER ARCHIVE_ROOT NOW_ISO HOT_DAYS STEP NTH
(kills itself the NTH time it reaches STEP; NTH = 0 never). FOLDER holds the store: the SQLite
``store.db``, or the InfluxDB store's ``ledger.db`` with ``influx-database`` naming its URL and
database."""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bantar.archive.archiver import Archiver, ArchiveSide
from bantar.stores.influxdb import InfluxClient, InfluxStore
from bantar.stores.sqlite import SqliteStore


def open_side(folder: Path, root: Path) -> ArchiveSide[Any]:
    influx = folder / "influx-database"
    if not influx.exists():
        return SqliteStore(folder / "store.db", archive_root=root)
    url, database = influx.read_text().split()
    return InfluxStore(InfluxClient(url, database), folder / "ledger.db", archive_root=root).archive


def main() -> None:
    folder, root, now, hot_days, step, nth = sys.argv[1:]
    side = open_side(Path(folder), Path(root))
    reached = 0

    def on_step(name: str) -> None:
        nonlocal reached
        if name == step:
            reached += 1
            if reached == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)

    moment = datetime.fromisoformat(now)
    Archiver(side, Path(root), int(hot_days), lambda: moment, on_step).run()


if __name__ == "__main__":
    main()
