"""Pure parts of notifications and reports: quiet hours, stages, formula cells, area codes,
the rules file's error messages."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bantar.domain.areacodes import kecamatan_code, kelurahan_code
from bantar.domain.errors import RegistryError
from bantar.domain.notifications import Escalation, QuietHours, due_stages
from bantar.domain.registry import RegistryIndex
from bantar.domain.timebase import WIB
from bantar.notify_file import load_notification_rules
from bantar.report_files import csv_bytes, xlsx_bytes
from bantar.reports import Column, Table


def test_quiet_hours_across_midnight_hold_until_their_end() -> None:
    quiet = QuietHours.model_validate({"start": "21:00", "end": "06:00"})
    evening = datetime(2026, 11, 30, 22, 15, tzinfo=WIB)
    assert quiet.next_allowed(evening) == datetime(2026, 12, 1, 6, 0, tzinfo=WIB)
    early = datetime(2026, 12, 1, 5, 0, tzinfo=WIB)
    assert quiet.next_allowed(early) == datetime(2026, 12, 1, 6, 0, tzinfo=WIB)
    noon = datetime(2026, 12, 1, 12, 0, tzinfo=WIB)
    assert quiet.next_allowed(noon) == noon


def test_stages_follow_the_schedule() -> None:
    rules = Escalation(remind_after=timedelta(hours=1), max_reminders=2, escalate_after=timedelta(hours=3))
    opened = datetime(2026, 11, 30, 9, tzinfo=WIB)
    assert [s.name for s in due_stages(rules, opened, opened + timedelta(minutes=59))] == []
    assert [s.name for s in due_stages(rules, opened, opened + timedelta(hours=6))] == [
        "reminder-1",
        "reminder-2",
        "escalation-1",
        "escalation-2",
    ]


def test_formula_cells_are_neutralised_in_csv_and_xlsx() -> None:
    hostile = ['=HYPERLINK("http://x")', "+1+2", "-3+4", "@SUM(A1)", "\tx", "Kel. Aman"]
    table = Table("t", [Column(f"c{i}", "d") for i in range(len(hostile) + 1)], [[*hostile, -5]])
    row = list(csv.reader(io.StringIO(csv_bytes(table).decode())))[1]
    assert row[:5] == ["'" + v for v in hostile[:5]]
    assert row[5:] == ["Kel. Aman", "-5"], "plain text and negative numbers stay as they are"
    sheet = load_workbook(io.BytesIO(xlsx_bytes(table)))["data"]
    cells = next(iter(sheet.iter_rows(min_row=3, max_row=3)))
    assert [c.value for c in cells[:5]] == ["'" + v for v in hostile[:5]]
    assert all(c.data_type == "s" for c in cells[:6])
    assert cells[6].value == -5


def test_kemendagri_codes_from_the_registry_codes() -> None:
    assert kecamatan_code("1571010") == "15.71.01"
    assert kelurahan_code("1571010001") == "15.71.01.1001"
    with pytest.raises(ValueError, match="PPKKCC0"):
        kecamatan_code("157101")


def test_rules_file_errors_name_the_file_entry_and_field(tmp_path: Path, registry_index: RegistryIndex) -> None:
    path = tmp_path / "notifications.yaml"
    path.write_text(
        "recipients:\n"
        "  - {id: ketua, name: Ketua, role: rt_head, scope: 'rt:0000', channels: [wa]}\n"
        "  - {id: tim, name: Tim, role: penilai, scope: city, channels: [mail]}\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError) as error:
        load_notification_rules(path, registry_index, ["wa", "mail"])
    assert str(path) in str(error.value)
    assert "recipients[1] (id 'tim'): field 'role'" in str(error.value)
    path.write_text("recipients:\n  - {id: ketua, name: K, role: rt_head, scope: 'rt:0000', channels: [wa]}\n")
    with pytest.raises(RegistryError, match=r"recipients\[0\] \(id 'ketua'\): field 'scope'"):
        load_notification_rules(path, registry_index, ["wa"])


def test_the_shipped_rules_are_valid(registry_index: RegistryIndex) -> None:
    rules, missing_urls = load_notification_rules(Path("config/notifications.yaml"), registry_index, [])
    assert rules.recipients
    assert all("field 'channels'" in w for w in missing_urls)
