"""The register export: the documented JSON shape, and a workbook whose every cell is text."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from hwbs_xl.cli import main
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.export import export_json, export_xlsx
from hwbs_xl.register import Register

APPENDIX = ("Key Area\tProject Activity\tLead\tStart Date\tFinish Date\tStatus as of April 2025\tProgress Report\n"
            "Key Area 1\t=HYPERLINK(\"http://x\")\tLead A; Lead B\tJan-25\tDec-25\tCompleted\t=1+1\n"
            "Key Area 2\tSecond action\t@Lead\tFeb-25\t\tby target date\t-2 sites left\n")


def _plan(tmp_path: Path) -> PlanPaths:
    src = tmp_path / "appendix.txt"
    src.write_text(APPENDIX, encoding="utf-8")
    paths = PlanPaths(tmp_path / "plan")
    assert import_files(paths, [src], command="t").changed
    return paths


def test_json_has_the_documented_shape(tmp_path: Path) -> None:
    paths = _plan(tmp_path)
    with Register.open(paths) as reg:
        data = export_json(reg)
    assert set(data) == {"format", "version", "plan", "statuses", "cycles", "actions", "flags"}
    assert data["plan"]["title"] and data["cycles"] == [
        {"label": "April 2025", "seq": 202504, "state": "closed", "report_date": None, "due_date": None}]
    first, second = data["actions"]
    assert set(first) == {"id", "key_area", "activity", "leads", "start", "finish", "state", "updates"}
    assert first["id"] == "KA1-01" and first["leads"] == ["Lead A", "Lead B"] and first["start"] == "2025-01"
    u = first["updates"][0]
    assert u["status"] == "Completed" and u["status_key"] == "completed" and u["needs_review"] is False
    assert u["progress"] == "=1+1" and u["source"]["file"] == "appendix.txt" and u["source"]["where"] == "line 2"
    flagged = second["updates"][0]
    assert flagged["status"] is None and flagged["status_raw"] == "by target date" and flagged["needs_review"]
    assert second["finish"] is None
    assert {f["code"] for f in data["flags"]} == {"status-ambiguous", "finish-missing"}
    assert all(f["open"] for f in data["flags"])
    json.dumps(data)  # serialisable as it is


def test_xlsx_export_reads_back_with_every_cell_text(tmp_path: Path) -> None:
    paths = _plan(tmp_path)
    with Register.open(paths) as reg:
        out = export_xlsx(reg, tmp_path / "export.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Actions", "Updates", "Cycles", "Flags"]
    actions = wb["Actions"]
    assert [c.value for c in actions[1]][:3] == ["ID", "Key area", "Project activity"]
    assert actions["C2"].value == '=HYPERLINK("http://x")' and actions["C2"].data_type == "s"
    updates = wb["Updates"]
    header = [c.value for c in updates[1]]
    progress = [r[header.index("Progress")] for r in updates.iter_rows(min_row=2, values_only=True)]
    assert progress == ["=1+1", "-2 sites left"]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.value is None or c.data_type == "s", (ws.title, c.coordinate, c.value)


def test_cli_export_writes_files(tmp_path: Path) -> None:
    paths = _plan(tmp_path)
    runner = CliRunner()
    out = tmp_path / "register.json"
    r = runner.invoke(main, ["--plan", str(paths.root), "export", "--format", "json", "--out", str(out)])
    assert r.exit_code == 0 and json.loads(out.read_text(encoding="utf-8"))["actions"]
    r = runner.invoke(main, ["--plan", str(paths.root), "export", "--format", "xlsx"])
    assert r.exit_code == 0 and (paths.reports / "register-export.xlsx").is_file()


def test_the_table_writer_writes_text_unless_asked_for_types(tmp_path: Path) -> None:
    """sheets.tables: headings, rows under them, a frozen and filtered heading row; typed cells only on request
    (a date without a date format shows as its serial number)."""
    from datetime import date

    from hwbs_xl.sheets.tables import write_table
    from hwbs_xl.sheets.writing import new_workbook

    wb = new_workbook(str(tmp_path / "t.xlsx"))
    fmt = wb.add_format({"text_wrap": True})
    for name, typed in (("text", False), ("typed", True)):
        write_table(wb.add_worksheet(name), 2, [("ID", 8), ("When", 12), ("What", 30)],
                    [(7, date(2024, 4, 1), "=1+1")], head=fmt, cell=fmt, titles=[("Title", fmt)], typed=typed)
    wb.close()
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    text, typed_ws = book["text"], book["typed"]
    assert text["A1"].value == "Title" and [c.value for c in text[3]] == ["ID", "When", "What"]
    assert [c.value for c in text[4]] == ["7", "2024-04-01", "=1+1"] and text["C4"].data_type == "s"
    assert typed_ws["A4"].value == 7 and typed_ws["B4"].data_type == "n" and typed_ws["C4"].value == "=1+1"
    assert text.freeze_panes == "A4" and text.auto_filter.ref == "A3:C4"
