"""Path and query parameters shared by several routes, declared once with their exact shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from bantar.domain.registry import CODE_PATTERN

RTCode = Annotated[str, Path(description="RT code, e.g. 1571010001-003", pattern=CODE_PATTERN)]
AreaCode = Annotated[str | None, Query(description="kecamatan, kelurahan or RT code", pattern=CODE_PATTERN)]
