"""Files that hold secrets or personal data (databases, credentials) are created mode 0600 from
the start, never widened afterwards, so no other user on the host can read them at any moment."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE = 0o600


def private_file(path: Path) -> Path:
    """Create ``path`` (and its folder) readable by its owner only, if it does not exist yet.
    SQLite gives its -wal and -shm files the mode of the database file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE))
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file that is mode 0600 from its first byte (replacing any older one atomically)."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    partial.replace(path)
