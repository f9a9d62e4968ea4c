"""CSV that spreadsheets open safely: a text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab
or carriage return) would run as a formula in Excel or LibreOffice (OWASP's "CSV injection"), so
it is prefixed with ``'``; numbers stay numbers. Every CSV export writes through ``safe_writer``."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])


def safe_writer(out: TextIO) -> SafeWriter:
    return SafeWriter(out)
