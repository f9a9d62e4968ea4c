"""Which reading kinds leave the hot store for the archive (``KindPlugin.archive``; their
columns: ``parts.ARCHIVED``).

Kept apart from ``parts`` so that the stores can ask without loading pyarrow."""

from __future__ import annotations

from bantar.kinds.registry import plugins

ARCHIVED_KINDS = tuple(kind for kind, p in plugins().items() if p.archive is not None)
"""Bank sampah deposits and gotong royong events (a few a week per RT, and period views count
distinct households over them) stay in the hot store."""
