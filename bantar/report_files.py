"""Tables as files: CSV (UTF-8, comma-separated) and XLSX (openpyxl). Text that a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
written with a leading apostrophe, so a name in the registry can never become a formula."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from bantar.reports import Cell, Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(table: Table, *, with_totals: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    rows = [*table.rows, *([table.totals] if with_totals and table.totals else [])]
    for row in rows:
        writer.writerow(["" if v is None else neutralised(v) for v in row])
    return out.getvalue().encode("utf-8")


def xlsx_bytes(table: Table) -> bytes:
    """Sheet ``data``: a title line, the header, the rows, the totals in bold; sheet ``kolom``:
    what each column holds; notes under the data."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    bold = Font(bold=True)

    def line(values: list[Cell], strong: bool = False) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=neutralised(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
            if strong:
                cell.font = bold
            cells.append(cell)
        return cells

    sheet.append(line([table.title], strong=True))
    sheet.append(line([c.name for c in table.columns], strong=True))
    for row in table.rows:
        sheet.append(line(row))
    if table.totals is not None:
        sheet.append(line(table.totals, strong=True))
    for note in table.notes:
        sheet.append(line([note]))
    columns = book.create_sheet("kolom")
    columns.append(["kolom", "keterangan"])
    for column in table.columns:
        columns.append([column.name, neutralised(column.description)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
