"""Which reading kinds leave the hot store for the archive (their columns: ``parts.ARCHIVED``).

Kept apart from ``parts`` so that the stores can ask without loading pyarrow."""

from __future__ import annotations

from bantar.domain.topics import DeviceKind

ARCHIVED_KINDS = (DeviceKind.bin, DeviceKind.cctv, DeviceKind.poskamling)
"""Bank sampah deposits and gotong royong events (a few a week per RT, and period views count
distinct households over them) stay in the hot store."""
