"""Importing appendices from workbooks (issue 6): a council's own Appendix A spreadsheet, made by
LibreOffice Calc from the seed rows (title rows, a two-line header, merged key-area cells, real date cells,
bulleted progress lines, a hidden lists sheet), and hwbs-xl's own appendix workbook, imported back."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from hwbs_xl.appendix import build as apb
from hwbs_xl.demo.sample import BARNET_2023, BARNET_2024, BARNET_TITLE
from hwbs_xl.errors import InvalidData
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.importing.readers import read_source
from hwbs_xl.importing.xlsx import cell_text, read_xlsx
from hwbs_xl.model import Month
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register
from hwbs_xl.text import squash
from libreoffice import convert
from test_import_pdf import STATUS_FLAGS, _import, _snapshot, assert_same_register, report_rows

from conftest import DATA, FOREIGN, libreoffice_required

sys.path.insert(0, str(DATA / "pdf"))
import make_fixtures as seeds  # noqa: E402  (the fixture-only seed parser the PDF fixtures are made with)

# ---- a council's own workbook, as LibreOffice Calc saves it ---------------------------------------------

def _cell(value: str, *, column: int) -> str:
    """One spreadsheet cell: months as real dates, several lines as several paragraphs (Alt+Enter)."""
    month = Month.parse(value) if column in (3, 4) else None
    if month is not None:
        return (f'<table:table-cell table:style-name="month" office:value-type="date" '
                f'office:date-value="{date(month.year, month.month, 1).isoformat()}"><text:p>{month.label}'
                '</text:p></table:table-cell>')
    items = [i.strip() for i in re.findall(r"<li>(.*?)</li>", value, re.S)] or [value]
    paras = "".join(f"<text:p>{escape(p)}</text:p>" for p in items if p)
    return f'<table:table-cell table:style-name="wrap" office:value-type="string">{paras}</table:table-cell>'


def _sheet(header: list[str], rows: list[list[str]]) -> str:
    """Title rows, the header (finish heading on two lines), then rows with key areas merged down."""
    head = "".join('<table:table-cell office:value-type="string">'
                   + "".join(f"<text:p>{escape(p)}</text:p>" for p in h.replace("Finish Date", "Finish\nDate").split("\n"))
                   + "</table:table-cell>" for h in header)
    out = ['<table:table-row><table:table-cell office:value-type="string"><text:p>Appendix A</text:p>'
           '</table:table-cell></table:table-row>',
           f'<table:table-row><table:table-cell office:value-type="string"><text:p>{escape(BARNET_TITLE)}</text:p>'
           '</table:table-cell></table:table-row>', f"<table:table-row>{head}</table:table-row>"]
    i = 0
    while i < len(rows):
        span = 1
        while i + span < len(rows) and rows[i + span][0] == rows[i][0]:
            span += 1
        for k in range(span):
            row = rows[i + k]
            first = (f'<table:table-cell table:number-rows-spanned="{span}" office:value-type="string">'
                     f"<text:p>{escape(row[0])}</text:p></table:table-cell>") if k == 0 else "<table:covered-table-cell/>"
            out.append("<table:table-row>" + first + "".join(_cell(v, column=j) for j, v in enumerate(row[1:], 1))
                       + "</table:table-row>")
        i += span
    return "".join(out)


def _fods(header: list[str], rows: list[list[str]]) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:automatic-styles>
 <number:date-style style:name="N1"><number:month number:textual="true"/><number:text>-</number:text><number:year/></number:date-style>
 <style:style style:name="month" style:family="table-cell" style:data-style-name="N1"/>
 <style:style style:name="wrap" style:family="table-cell"><style:table-cell-properties fo:wrap-option="wrap"/></style:style>
 <style:style style:name="hidden" style:family="table"><style:table-properties table:display="false"/></style:style>
</office:automatic-styles>
<office:body><office:spreadsheet>
 <table:table table:name="Appendix A">{_sheet(header, rows)}</table:table>
 <table:table table:name="Lists" table:style-name="hidden"><table:table-row><table:table-cell office:value-type="string">
  <text:p>Completed</text:p></table:table-cell></table:table-row></table:table>
</office:spreadsheet></office:body></office:document>
"""


@pytest.fixture(scope="module")
def council_workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both seeds as Calc workbooks: April 2023 saved as .xlsx, April 2024 as .xlsx and as .ods."""
    libreoffice_required()
    folder = tmp_path_factory.mktemp("council-xlsx")
    out = {}
    for name, (header, rows) in {"appendix-2023": seeds.seed_2023(), "appendix-2024": seeds.seed_2024()}.items():
        src = folder / f"{name}.fods"
        src.write_text(_fods(header, rows), encoding="utf-8")
        out[f"{name}.xlsx"] = convert(src, "xlsx:Calc MS Excel 2007 XML", folder)
        if name == "appendix-2024":
            out[f"{name}.ods"] = convert(src, "ods", folder)
    return out


@pytest.fixture(scope="module")
def text_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, dict]:
    return _snapshot(_import(tmp_path_factory.mktemp("text"), [BARNET_2023, BARNET_2024]))


@pytest.mark.libreoffice
@pytest.mark.parametrize("april_2024", ["appendix-2024.xlsx", "appendix-2024.ods"])
def test_council_workbooks_import_like_the_text_seeds(council_workbooks, text_import, april_2024: str,
                                                      tmp_path: Path) -> None:
    files = [council_workbooks["appendix-2023.xlsx"], council_workbooks[april_2024]]
    assert_same_register(_import(tmp_path, files), text_import)


@pytest.mark.libreoffice
def test_workbook_rows_keep_sheet_and_cell_positions(council_workbooks) -> None:
    path = council_workbooks["appendix-2024.xlsx"]
    table = read_source(path)  # a zip: dispatched to the workbook reader by content
    assert table.form == "xlsx" and table.pages == 1
    assert [r.cells[0] for r in table.rows[:2]] == ["Appendix A", BARNET_TITLE]
    header = table.rows[2]
    assert table.rows[0].page_start and not header.page_start  # a sheet is a page: its first row starts it
    assert header.where == "'Appendix A'!A3" and header.cells[4] == "Finish\nDate"
    first, second = table.rows[3], table.rows[4]
    assert first.cells[:1] == ("Key Area 1",) and second.cells[0] == ""  # merged cell: text in its first cell
    assert first.cells[3:5] == ("2023-09-01", "2024-03-01")  # real dates, read without day/month doubt
    assert second.cell_where[6] == "'Appendix A'!G5" and not second.page_start
    assert second.cells[6].count("\n■") == 5  # one line per bullet, as typed
    assert ("(hidden sheet 'Lists' not read)", "sheet 'Lists'") in table.text_lines
    assert not any("Completed" == r.cells[0] for r in table.rows)


# ---- hwbs-xl's own appendix workbook --------------------------------------------------------------------

@pytest.fixture(scope="module")
def own_workbook(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The seeds' April 2024 appendix workbook written by hwbs-xl, imported into an empty plan."""
    tmp_path = tmp_path_factory.mktemp("own-xlsx")
    source = _import(tmp_path / "source", [BARNET_2023, BARNET_2024])
    built = apb.build_appendix(source, cycle="April 2024", formats=("xlsx",), out=tmp_path / "out")
    assert built.xlsx is not None
    again = PlanPaths(tmp_path / "again")
    result = import_files(again, [built.xlsx], command="test round trip")
    assert not result.report.errors
    return source, again, built.xlsx, result


def test_the_tools_own_appendix_workbook_imports_back(own_workbook) -> None:
    source, again, _, _ = own_workbook
    with Register.open(source) as src, Register.open(again) as back:
        printed = {squash(u.activity_as_reported): u for u in src.updates(cycle="April 2024")}
        read = {squash(u.activity_as_reported): u for u in back.updates(cycle="April 2024")}
        assert set(printed) == set(read)
        for key, u in printed.items():
            assert (read[key].status, squash(read[key].progress)) == (u.status, squash(u.progress)), key[:60]
            assert read[key].source.where.startswith("'")  # 'Sheet'!A12


def test_flagged_statuses_name_their_sheet_and_cell(own_workbook) -> None:
    """Provenance per cell: a flagged status names the sheet and A1 cell it was read from (the report shows
    it in its own column), and that cell of the workbook, opened with openpyxl, holds the flagged text."""
    import openpyxl

    _, _, xlsx, result = own_workbook
    flagged = [f for f in result.report if f.code in STATUS_FLAGS]
    assert len(flagged) == 8
    ws = openpyxl.load_workbook(xlsx)["Appendix A"]
    status_column = next(c.column_letter for row in ws.iter_rows() for c in row
                         if str(c.value or "").startswith("Status as of April 2024"))
    for f in flagged:
        assert f.sheet == "Appendix A" and re.fullmatch(rf"{status_column}\d+", f.cell), (f.sheet, f.cell)
        assert f.where is None and f"sheet 'Appendix A', cell {f.cell}" in f.location
        assert squash(str(ws[f.cell].value or "")) == squash(f.value or ""), f.cell
    shown = {r["Cell / position"] for r in report_rows(result.report_file) if r["Code"] in STATUS_FLAGS}
    assert shown == {f"'Appendix A'!{f.cell}" for f in flagged}


def test_a_sheet_without_its_own_header_is_not_read_under_another_sheets(tmp_path: Path) -> None:
    """Between tables no header is active: a summary sheet before the appendix and a legend sheet after it
    are each named once (one outside-table note per sheet, listing their lines), never read as actions."""
    import xlsxwriter

    path = tmp_path / "appendix.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    summary = wb.add_worksheet("Summary")
    for r, row in enumerate([["Key area", "Completed", "On target"], ["Key Area 1", 1, 2], ["Total", 1, 2]]):
        summary.write_row(r, 0, row)
    table = wb.add_worksheet("Appendix A")
    for r, row in enumerate([
            ["HWBS Key Area", "Project Activity", "Lead", "Start Date", "Finish Date", "Status as of April 2024"],
            ["Key Area 1", "Run the pilot", "Pilot Lead", "Jan-24", "Dec-24", "Completed"],
            ["", "Write the report", "Pilot Lead", "Jan-24", "Dec-24", "On target"]]):
        table.write_row(r, 0, row)
    legend = wb.add_worksheet("Legend")
    for r, row in enumerate([["Completed", "The action has been fully delivered."],
                             ["On target", "Work is under way and will be finished by the finish date."]]):
        legend.write_row(r, 0, row)
    wb.close()
    paths = PlanPaths(tmp_path / "plan")
    result = import_files(paths, [path], command="t")
    assert result.changed and not result.report.warnings
    outside = result.report.of("outside-table")
    assert [(f.where, f.severity) for f in outside] == [("'Summary'!A1:A3", "info"), ("'Legend'!A1:A2", "info")]
    assert outside[0].value.split("\n") == ["Key area | Completed | On target", "Key Area 1 | 1 | 2",
                                            "Total | 1 | 2"]
    assert "after a table" in outside[1].message and "fully delivered" in outside[1].value
    with Register.open(paths) as reg:
        assert sorted(a.activity for a in reg.actions()) == ["Run the pilot", "Write the report"]


# ---- the reader on its own ------------------------------------------------------------------------------

def test_cell_values_become_the_text_the_cell_shows() -> None:
    assert [cell_text(v) for v in (None, True, 3.0, 2.5, date(2022, 9, 1), "Sep-22")] == \
        ["", "TRUE", "3", "2.5", "2022-09-01", "Sep-22"]
    table = read_xlsx(FOREIGN / "ca_any_sheets.ods")
    assert table.rows[0].where == "'Visible'!A1" and table.rows[0].cells == ("1", "2")
    assert [t for t, _ in table.text_lines] == ["(hidden sheet 'Hidden' not read)", "(hidden sheet 'VeryHidden' not read)"]


def test_a_workbook_that_cannot_be_read_says_why() -> None:
    with pytest.raises(InvalidData) as err:
        read_xlsx(FOREIGN / "ca_pass_protected.xlsx")
    assert err.value.code == "file-encrypted" and "password" in str(err.value)
