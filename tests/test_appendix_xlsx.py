"""The print-ready appendix workbook, read back with openpyxl: print settings, text, colours, summary."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from hwbs_xl import templates
from hwbs_xl.appendix import build as apb
from hwbs_xl.appendix import model as ap
from hwbs_xl.appendix import xlsx as ax
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register
from hwbs_xl.text import EXCEL_CELL_LIMIT, squash
from test_appendix import APR24, FORMULA_TEXT, UNICODE_TEXT, make_register

from conftest import hwbs_command

HEADER_ROW = ax.TITLE_ROWS + 1  # 1-based row of the table header


@pytest.fixture
def plan(plan_paths: PlanPaths) -> PlanPaths:
    make_register(plan_paths)
    return plan_paths


def _write(paths: PlanPaths, out: Path, cycle: str | None = None) -> tuple[ap.Appendix, Path]:
    with Register.open(paths) as reg:
        model = ap.build(reg, cycle)
    return model, ax.write(model, out)


def _table(path: Path) -> openpyxl.worksheet.worksheet.Worksheet:
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Appendix A"]
    return wb["Appendix A"]


def _rows(ws) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[c if c is not None else "" for c in row]
            for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True)]


def _joined(rows: list[list[str]], col: int) -> list[str]:
    """Each action's text in one column, continuation rows joined back on."""
    out: list[str] = []
    for row in rows:
        if row[0] == "" and out:  # a continuation row has an empty key area
            out[-1] += " " + row[col]
        else:
            out.append(row[col])
    return out


def test_print_settings(plan: PlanPaths, tmp_path: Path) -> None:
    model, path = _write(plan, tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # one page wide (fitToWidth absent means 1 in OOXML), as many pages tall as it takes
        assert int(ws.page_setup.fitToWidth or 1) == 1 and int(ws.page_setup.fitToHeight) == 0
        assert "Page &P of &N" in ws.oddFooter.right.text
        assert "Barnet Health && Wellbeing Strategy" in ws.oddHeader.center.text  # & escaped for Excel
        assert "Printed " in ws.oddFooter.center.text and "batch" not in ws.oddFooter.center.text + ws.oddFooter.left.text
    ws = wb["Appendix A"]
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}"
    assert ws.auto_filter.ref == f"A{HEADER_ROW}:G{ws.max_row}"
    assert wb.active.title == "Appendix A"


def test_headers_are_the_seed_headers(plan: PlanPaths, tmp_path: Path) -> None:
    _, path = _write(plan, tmp_path / "a.xlsx")
    ws = _table(path)
    assert [c.value for c in ws[HEADER_ROW]] == [
        "HWBS Key Area", "Project Activity", "Lead", "Start Date", "Finish Date", "Status as of April 2024",
        "Progress Report - What has been achieved, and what still needs to be achieved?"]  # as the PDF's
    assert ws["A1"].value == "Appendix A"
    assert ws["A2"].value == "Barnet Health & Wellbeing Strategy - Phase 2 Implementation Plan"


def test_every_word_is_there_as_text_and_rows_fit(plan: PlanPaths, tmp_path: Path) -> None:
    model, path = _write(plan, tmp_path / "a.xlsx")
    ws = _table(path)
    rows = _rows(ws)
    progress = _joined(rows, 6)
    with Register.open(plan) as reg:
        expected = [r.progress for r in model.rows]
        assert [squash(p) for p in progress] == [squash(p) for p in expected]
        assert squash(reg.update("KA2-04", APR24).progress) in [squash(p) for p in progress]  # type: ignore[union-attr]
    assert UNICODE_TEXT in progress  # line breaks and unicode kept exactly
    formula = next(c for row in ws.iter_rows(min_row=HEADER_ROW + 1) for c in row if c.value == FORMULA_TEXT)
    assert formula.data_type == "s"  # typed text, never a formula
    continued = [r for r in rows if r[1] == "(continued)"]
    assert len(continued) >= 2  # the 7,000-character report continues over several rows
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        height = ws.row_dimensions[r].height
        assert height is not None and 12 <= height <= ax.ROW_LIMIT_PT  # set by us, within Excel's limit


def test_status_spelled_out_with_its_colour(plan: PlanPaths, tmp_path: Path) -> None:
    model, path = _write(plan, tmp_path / "a.xlsx")
    ws = _table(path)
    vocab = templates.vocabulary(plan.root)
    seen = set()
    for row in ws.iter_rows(min_row=HEADER_ROW + 1):
        status = row[5]
        if row[0].value is None:
            continue
        s = vocab.by_label(status.value)
        fill = status.fill.fgColor.rgb[-6:].upper()
        if s is not None:
            assert fill == s.fill.lstrip("#").upper() and status.font.b
            seen.add(s.key)
        else:  # awaiting update or to be confirmed: red text on white, the words still say it
            assert status.font.color.rgb[-6:].upper() == vocab.unknown_font.lstrip("#").upper()
    assert seen == {"completed", "on_target", "delayed", "incorporated"}


def test_summary_counts_match_the_register(plan: PlanPaths, tmp_path: Path) -> None:
    model, path = _write(plan, tmp_path / "a.xlsx")
    ws = openpyxl.load_workbook(path)["Summary"]
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(values) if row[0] == "Key area")
    heads = values[header]
    assert heads[1:7] == ["Completed", "On target", "Delayed", "Incorporated", "To be confirmed", "Awaiting update"]
    with Register.open(plan) as reg:
        listed = {r.action.id for r in model.rows}
        for offset, area in enumerate(("Key Area 1", "Key Area 2", "Key Area 3")):
            row = values[header + 1 + offset]
            assert row[0] == area
            ids = [a.id for a in reg.actions() if a.key_area == area and a.id in listed]
            updates = [reg.update(i, APR24) for i in ids]
            assert row[1] == sum(1 for u in updates if u and u.status == "completed")
            assert row[2] == sum(1 for u in updates if u and u.status == "on_target")
            assert row[3] == sum(1 for u in updates if u and u.status == "delayed")
            assert row[7] == len(ids)
        total = values[header + 4]
        assert total[0] == "Total" and total[7] == len(listed) == 13
    text = "\n".join(str(c) for row in values for c in row if c is not None)
    assert "Movement since April 2023" in text and "Retired since April 2023" in text
    assert "KA1-05: Agree and deliver a Food Plan for Barnet" in text  # the retired action, named as the PDF does
    assert "Awaiting an update for April 2024" in text
    assert "No return received" in text and " of 13 actions." in text  # the reason, with the count
    assert "Key Area 2" in text and "Ensure the two School Superzones are delivered" in text
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert chart.count("<c:ser>") == len(model.summary.status_keys) and "barDir val=\"bar\"" in chart


def test_same_register_same_bytes(plan: PlanPaths, tmp_path: Path) -> None:
    _, one = _write(plan, tmp_path / "one.xlsx")
    _, two = _write(plan, tmp_path / "two.xlsx")
    assert one.read_bytes() == two.read_bytes()


def test_text_longer_than_a_cell_is_continued_not_cut(plan_paths: PlanPaths, tmp_path: Path) -> None:
    make_register(plan_paths, long_chars=EXCEL_CELL_LIMIT + 8000)
    model, path = _write(plan_paths, tmp_path / "a.xlsx")
    ws = _table(path)
    rows = _rows(ws)
    assert all(len(c) <= EXCEL_CELL_LIMIT for row in rows for c in row)
    long = next(r.progress for r in model.rows if r.action.id == "KA2-04")
    assert len(long) > EXCEL_CELL_LIMIT
    assert squash(long) in [squash(p) for p in _joined(rows, 6)]


def test_a3_from_the_plans_own_template(plan: PlanPaths, tmp_path: Path) -> None:
    own = plan.templates / "appendix.toml"
    shutil.copyfile(templates.bundled_dir() / "appendix.toml", own)
    own.write_text(own.read_text(encoding="utf-8").replace('paper = "A4"', 'paper = "A3"'), encoding="utf-8")
    _, path = _write(plan, tmp_path / "a.xlsx")
    assert int(_table(path).page_setup.paperSize) == 8


def test_earlier_cycle_prints_its_notes_column(plan: PlanPaths, tmp_path: Path) -> None:
    """The previous cycle's reports print when the plan's template says ``show = true`` (by default only
    while nobody has reported for the cycle printed)."""
    own = plan.templates / "appendix.toml"
    shutil.copyfile(templates.bundled_dir() / "appendix.toml", own)
    own.write_text(own.read_text(encoding="utf-8").replace('show = "auto"', "show = true"), encoding="utf-8")
    _, path = _write(plan, tmp_path / "a.xlsx", "April 2023")
    ws = _table(path)
    heads = [c.value for c in ws[HEADER_ROW]]
    assert heads[5] == "Status as of April 2023" and heads[7] == "September 2022 progress report"
    notes = _joined(_rows(ws), 7)
    assert notes[0].startswith("September 2022 note on KA1-01")


def test_build_appendix_without_libreoffice_writes_both(plan: PlanPaths, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWBS_SOFFICE", str(tmp_path / "no-such-soffice"))
    result = apb.build_appendix(plan, out=tmp_path / "out")
    assert [p.name for p in result.files] == ["appendix-April-2024.xlsx", "appendix-April-2024.pdf"]
    assert result.missing == [] and result.pages and result.pdf and result.pdf.read_bytes().startswith(b"%PDF-")


def test_cli_exit_codes(plan: PlanPaths, tmp_path: Path) -> None:
    """The real command, started as a user starts it, on a machine without LibreOffice (HWBS_SOFFICE names a
    missing file and PATH holds no soffice): it still writes the xlsx and the PDF."""
    env = {**os.environ, "HWBS_SOFFICE": str(tmp_path / "no-such-soffice"),
           "PATH": str(Path(sys.executable).parent)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*hwbs_command(), "--plan", str(plan.root), "appendix", *args], env=env,
                              capture_output=True, text=True, timeout=300)

    assert shutil.which("soffice", path=env["PATH"]) is None
    ok = run("--format", "xlsx")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (plan.appendix / "appendix-April-2024.xlsx").is_file()
    assert "status still to be confirmed: KA2-01, KA3-02, KA3-03" in ok.stdout
    assert run("--format", "docx").returncode == 2
    both = run("--out", str(tmp_path / "o"))
    assert both.returncode == 0, both.stdout + both.stderr
    assert re.search(r"appendix-April-2024\.pdf \(\d+ pages\)", both.stdout)
    assert (tmp_path / "o" / "appendix-April-2024.xlsx").is_file()
    assert (tmp_path / "o" / "appendix-April-2024.pdf").read_bytes().startswith(b"%PDF-")
