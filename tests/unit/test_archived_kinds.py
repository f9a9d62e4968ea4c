"""The archived kinds are the plug-ins' to name (``KindPlugin.archive``), and asking for them
loads no pyarrow (the stores ask at import)."""

from __future__ import annotations

import subprocess
import sys

from bantar.archive.kinds import ARCHIVED_KINDS
from bantar.archive.parts import ARCHIVED
from bantar.kinds.registry import DeviceKind, plugins


def test_the_archived_kinds_are_those_whose_plugins_say_so() -> None:
    assert [p.kind for p in plugins().values() if p.archive is not None] == list(ARCHIVED_KINDS)
    assert (DeviceKind.bin, DeviceKind.cctv, DeviceKind.poskamling) == ARCHIVED_KINDS
    intervals = {kind for kind, spec in ARCHIVED.items() if spec.intervals}
    assert intervals == {DeviceKind.cctv, DeviceKind.poskamling}  # availability-type: kept as state intervals
    assert ARCHIVED[DeviceKind.cctv].fields == ("online", "recording")


def test_asking_which_kinds_are_archived_loads_no_pyarrow() -> None:
    probe = "import sys, bantar.archive.kinds; print('pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
