"""An archiver run that SIGKILLs itself at one step of one part: the crash test's victim.

Usage: python -m tests.archive_victim DB ARCHIVE_ROOT NOW_ISO HOT_DAYS STEP NTH
(kills itself the NTH time it reaches STEP; NTH = 0 never)."""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from bantar.archive.archiver import Archiver
from bantar.stores.sqlite import SqliteStore


def main() -> None:
    db, root, now, hot_days, step, nth = sys.argv[1:]
    store = SqliteStore(Path(db), archive_root=Path(root))
    reached = 0

    def on_step(name: str) -> None:
        nonlocal reached
        if name == step:
            reached += 1
            if reached == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)

    moment = datetime.fromisoformat(now)
    Archiver(store, Path(root), int(hot_days), lambda: moment, on_step).run()


if __name__ == "__main__":
    main()
