"""Every ``type: ignore`` left in the strictly typed packages says why, on its own line."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch

from tests.support import REPO

IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^]]*\])?(?P<reason>\s+#\s*\S.*)?$")


def not_strict_yet() -> list[str]:
    """The modules pyproject's mypy overrides keep out of strict mode (pending the kind plug-ins)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]
    return [m for o in config.get("overrides", []) for m in o["module"]]


def test_each_type_ignore_names_its_error_codes_and_its_reason() -> None:
    pending = not_strict_yet()
    files = [p for package in REPO.glob("*/__init__.py") for p in package.parent.rglob("*.py")]
    checked, bare = 0, []
    for path in files:
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        if path.parts[len(REPO.parts)] in ("tests", "bench", ".venv") or any(fnmatch(module, m) for m in pending):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = IGNORE.search(line)
            if found:
                checked += 1
                if not (found["codes"] and found["reason"]):
                    bare.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert checked > 0
    assert bare == []
