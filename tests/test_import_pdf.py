"""Importing appendices from committee-pack PDFs (issue 6).

The PDFs in tests/data/pdf/ were made by real programs (LibreOffice Writer from the bundled seed rows,
pdftoppm + Pillow for the scan; see make_fixtures.py, which regenerates them). Each seed appendix as a PDF
must import exactly as the seed's text does: same actions, statuses (mapped or flagged alike) and text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner

from hwbs_xl.cli import main
from hwbs_xl.demo.sample import BARNET_2023, BARNET_2024
from hwbs_xl.importing.pdf import join_lines, page_ranges, read_pdf
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register
from hwbs_xl.text import squash

PDFS = Path(__file__).resolve().parent / "data" / "pdf"
RULED_2023 = PDFS / "barnet-2023-04-ruled.pdf"
RULED_2024 = PDFS / "barnet-2024-04-ruled.pdf"
PLAIN_2023 = PDFS / "barnet-2023-04-plain.pdf"  # no line at all
PLAIN_2024 = PDFS / "barnet-2024-04-plain.pdf"  # only a rule under the header
GLYPHS_2024 = PDFS / "barnet-2024-04-glyphs.pdf"
SCANNED = PDFS / "scanned.pdf"
COVER = PDFS / "cover-report.pdf"
MINUTES = PDFS / "minutes.pdf"

UPDATE_FIELDS = ("status", "status_raw", "needs_review", "progress", "activity_as_reported", "leads_as_reported",
                 "revised_finish")
ACTION_FIELDS = ("key_area", "activity", "leads", "start", "finish", "state")


def _import(root: Path, files: list[Path]) -> PlanPaths:
    paths = PlanPaths(root / "plan")
    result = import_files(paths, files, command="test import")
    assert result.changed and not result.report.errors, [f.line() for f in result.report.errors]
    return paths


def _snapshot(paths: PlanPaths) -> tuple[dict, dict, dict]:
    """Actions, updates and open flags, with text compared after whitespace normalisation."""
    def norm(v: object) -> object:
        return squash(v) if isinstance(v, str) else v

    with Register.open(paths) as reg:
        actions = {a.id: tuple(norm(getattr(a, f)) for f in ACTION_FIELDS) for a in reg.actions(include_retired=True)}
        updates = {(u.action_id, u.cycle): tuple(norm(getattr(u, f)) for f in UPDATE_FIELDS) for u in reg.updates()}
        flags = {(f.action_id, f.cycle, f.field, f.code, squash(f.raw)) for f in reg.flags(open_only=True)}
    return actions, updates, flags


@pytest.fixture(scope="module")
def text_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, dict]:
    return _snapshot(_import(tmp_path_factory.mktemp("text"), [BARNET_2023, BARNET_2024]))


@pytest.fixture(scope="module", params=["ruled", "plain"])
def pdf_import(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Both seeds as PDFs: tables with ruling lines, or drawn without a grid."""
    files = [RULED_2023, RULED_2024] if request.param == "ruled" else [PLAIN_2023, PLAIN_2024]
    paths = PlanPaths(tmp_path_factory.mktemp(f"pdf-{request.param}") / "plan")
    result = import_files(paths, files, command="test import")
    assert result.changed and not result.report.errors
    return paths, result, files


# ---- the seeds as PDFs import exactly like the seeds ----------------------------------------------------

def assert_same_register(paths: PlanPaths, want: tuple[dict, dict, dict]) -> None:
    """The plan holds the same actions, updates and open flags as ``want`` (a ``_snapshot``)."""
    actions, updates, flags = _snapshot(paths)
    want_actions, want_updates, want_flags = want
    assert actions == want_actions
    assert updates.keys() == want_updates.keys()
    for key, expected in want_updates.items():
        assert updates[key] == expected, key
    assert flags == want_flags


def test_seed_pdfs_give_the_same_actions_statuses_and_text_as_the_text_seeds(pdf_import, text_import) -> None:
    paths, _, _ = pdf_import
    assert_same_register(paths, text_import)


def test_seed_pdfs_give_the_seed_figures(pdf_import) -> None:
    paths, _, _ = pdf_import
    with Register.open(paths) as reg:
        april_2023 = reg.updates(cycle="April 2023")
        assert len(april_2023) == 33
        assert sorted(u.status for u in april_2023 if u.status) == (["completed"] * 2 + ["delayed"] * 5
                                                                   + ["on_target"] * 26)
        april_2024 = reg.updates(cycle="April 2024")
        assert len(april_2024) == 42
        unsettled = sorted(u.status_raw for u in april_2024 if u.status is None)
        assert unsettled.count("by target date") == 3 and unsettled.count("target date") == 1
        assert unsettled.count("") == 3
        assert all(u.needs_review for u in april_2024 if u.status is None)
        assert all(u.source.where.startswith("page ") and u.source.file.endswith(".pdf") for u in april_2024)


STATUS_FLAGS = ("status-ambiguous", "status-missing", "status-unrecognised")
BOX = re.compile(r"page (\d+) \(x (\d+)-(\d+), y (\d+)-(\d+) pt from top left\)")


def report_rows(report_file: Path) -> list[dict[str, str]]:
    """The import report's "What was done" sheet as one dict per finding, by column title."""
    import openpyxl

    ws = openpyxl.load_workbook(report_file)["What was done"]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value or "" for c in r))) for r in ws.iter_rows(min_row=2)]


def test_flagged_statuses_name_the_page_and_the_box_of_their_cell(pdf_import) -> None:
    """Provenance per cell: the finding (and the report's own column) gives the status cell's page and box,
    and the text inside that box on that page, read back with pdfplumber, is the flagged status."""
    _, result, files = pdf_import
    flagged = [f for f in result.report if f.code in STATUS_FLAGS]
    assert len(flagged) == 8  # the April 2024 seed's unsettled statuses, as for the text import
    by_file = {pdf.name: pdf for pdf in files}
    for f in flagged:
        row, _, cell = f.where.partition("; status cell ")
        m = BOX.fullmatch(cell)
        assert m and re.fullmatch(r"page \d+, row \d+(; page \d+, row \d+)*", row), f.where
        page, x0, x1, top, bottom = (int(v) for v in m.groups())
        assert f"page {page}, row" in row  # the box is on a page the row is on
        with pdfplumber.open(by_file[f.file]) as doc:
            inside = doc.pages[page - 1].within_bbox((x0 - 1, top - 1, x1 + 1, bottom + 1)).extract_text()
        assert squash(inside) == squash(f.value or ""), f.where
    rows = report_rows(result.report_file)
    shown = {(r["File"], r["Where"], r["Cell / position"]) for r in rows if r["Code"] in STATUS_FLAGS}
    assert shown == {(f.file, f.where.split("; status cell ")[0], f.detail["cell_where"][0]) for f in flagged}


def _continued_pages(pdf: Path) -> list[int]:
    """Pages whose first table row carries on a row from the page before, found without the reader:
    the first line below the (bold) header has nothing in the key-area column."""
    pages = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            words = page.extract_words(extra_attrs=["fontname"])
            head = [w for w in words if w["text"] == "HWBS"]
            if not head:
                continue
            key_area_right = min(w["x0"] for w in words if w["text"] == "Project")
            body = [w for w in words if w["top"] > head[0]["top"] and "Bold" not in w["fontname"]]
            first_top = min(w["top"] for w in body)
            first_line = [w for w in body if abs(w["top"] - first_top) < 2]
            if all(w["x0"] >= key_area_right for w in first_line):
                pages.append(page.page_number)
    return pages


def test_every_row_cut_by_a_page_break_is_stitched(pdf_import) -> None:
    paths, result, files = pdf_import
    cut = {pdf.name: _continued_pages(pdf) for pdf in files}
    assert sum(len(v) for v in cut.values()) >= 10  # long progress reports really do break across pages
    stitched = result.report.of("row-stitched")
    for name, pages in cut.items():
        mine = [f for f in stitched if f.file == name]
        assert len(mine) == len(pages), name
        # each stitch joins the last row of one page to the first table row of the next
        continued = sorted(int(re.findall(r"page (\d+)", f.where)[-1]) for f in mine)
        assert continued == pages, name


# ---- what the reader gives the pipeline -----------------------------------------------------------------

@pytest.fixture(scope="module")
def ruled_2024():  # type: ignore[no-untyped-def]
    return read_pdf(RULED_2024)


def test_rows_keep_page_row_and_cell_positions(ruled_2024) -> None:
    table = ruled_2024
    assert table.form == "pdf" and table.pages == 9 and len(table.sha256) == 64
    assert table.rows[0].cells[:3] == ("HWBS Key Area", "Project Activity", "Lead")  # header rows are emitted
    starts = [r for r in table.rows if r.page_start]
    assert [r.page for r in starts] == list(range(1, 10))  # the first row read on each page
    row = table.rows[1]
    assert row.where == "page 1, row 2" and row.page == 1 and not row.page_start
    assert len(row.cell_where) == len(row.cells) == 7
    assert re.fullmatch(r"page 1 \(x \d+-\d+, y \d+-\d+ pt from top left\)", row.cell_where[0])
    assert ("Appendix A", "page 1, text line 1 (y 28)") in table.text_lines
    assert any(t == "Barnet Health and Wellbeing Strategy - Phase 2 Implementation Plan" for t, _ in table.text_lines)
    info = [f for f in table.findings if f.code == "pdf-read"]
    assert len(info) == 1 and "9 table(s) (with ruling lines)" in info[0].message


def _cell(table, start: str, column: int) -> str:  # type: ignore[no-untyped-def]
    return next(r.cells[column] for r in table.rows if r.cells[column].startswith(start))


def test_multi_line_cells_are_joined_with_the_right_spacing(ruled_2024) -> None:
    t = ruled_2024
    # wrapped lines join with one space; no line break is left inside a wrapped sentence
    activity = _cell(t, "Further develop the Dementia", 1)
    assert activity == ("Further develop the Dementia Friendly Partnership, and increase the number of "
                        "organisations who are Dementia Friendly accredited")
    # a list keeps one item a line, each with its bullet (the cleaner normalises the glyph)
    items = _cell(t, "■ Barnet has successfully", 6).split("\n")
    assert len(items) == 6 and all(i.startswith("■ ") for i in items)
    # a word broken at its own hyphen at a line end is whole again; a spaced dash keeps its space
    assert "has been co-produced." in items[5]
    suicide = _cell(t, "Annual report on progress", 6)
    assert "per 100,000 (2019 -2021), remained" in suicide


def test_joining_rules_without_space_glyphs() -> None:
    """Producers that write no space glyphs: a hyphen or slash right after a letter glues, else a space."""
    assert join_lines(["Develop a co-", "produced plan"]) == "Develop a co-produced plan"
    assert join_lines(["Public Health", "Strategist/", "Engagement Officer"]) == \
        "Public Health Strategist/Engagement Officer"
    assert join_lines(["Director -", "Children's Services"]) == "Director - Children's Services"
    assert join_lines(["Things include:", "• Sharing data", "\uf0b7 Parent carers", "(cid:3) more",
                                     "1. First", "wrapped"]) == \
        "Things include:\n• Sharing data\n\uf0b7 Parent carers\n(cid:3) more\n1. First wrapped"


def test_unmapped_glyphs_are_flagged_for_review_with_page_and_position(tmp_path: Path) -> None:
    table = read_pdf(GLYPHS_2024)
    found = [f for f in table.findings if f.code == "pdf-glyph-unmapped"]
    assert [f.where for f in found] == ["page 1, row 3, column 7", "page 3, row 5, column 7", "page 4, row 3, column 7"]
    assert found[0].detail["glyphs"] == ["(cid:1)"] * 6 and "\ufffd" in found[1].value
    assert all(f.file == GLYPHS_2024.name and "x " in f.message and f.severity == "warning" for f in found)
    paths = PlanPaths(tmp_path / "plan")
    result = import_files(paths, [GLYPHS_2024], command="test import")
    assert not result.report.errors
    with Register.open(paths) as reg:
        flagged = {f.action_id for f in reg.flags(open_only=True) if f.code == "pdf-glyph-unmapped"}
        assert len(flagged) == 3
        for action_id in flagged:
            update = reg.update(action_id, "April 2024")
            assert update.needs_review and update.source.where.startswith("page ")
            assert "(cid:1)" in update.progress or "\ufffd" in update.progress  # kept, never silently dropped


def test_two_processes_read_the_same_rows_in_the_same_order() -> None:
    one, two = read_pdf(PLAIN_2024, workers=1), read_pdf(PLAIN_2024, workers=2)
    assert one.rows == two.rows and one.text_lines == two.text_lines and one.findings == two.findings
    assert page_ranges(9, 2) == [(0, 5), (5, 9)] and page_ranges(3, 4) == [(0, 1), (1, 2), (2, 3)]
    assert page_ranges(5) == [(0, 5)]  # a short file is read in this process


# ---- refused files change nothing ---------------------------------------------------------------------

@pytest.fixture
def seeded(tmp_path: Path) -> PlanPaths:
    return _import(tmp_path, [BARNET_2023])


def _refused(paths: PlanPaths, pdf: Path, code: str) -> str:
    with Register.open(paths) as reg:
        before = reg.fingerprint()
    result = import_files(paths, [pdf], command="test import")
    assert not result.changed and result.batch_id is None
    assert [f.code for f in result.report.errors] == [code]
    with Register.open(paths) as reg:
        assert reg.fingerprint() == before
    cli = CliRunner().invoke(main, ["--plan", str(paths.root), "import", str(pdf)])
    assert cli.exit_code == 1, cli.output
    assert "Traceback" not in cli.output and pdf.name in cli.output
    with Register.open(paths) as reg:
        assert reg.fingerprint() == before
    return result.report.errors[0].message


def test_a_scanned_pdf_is_refused_it_needs_ocr_or_manual_entry(seeded: PlanPaths) -> None:
    message = _refused(seeded, SCANNED, "pdf-no-text-layer")
    assert "no text layer" in message and "OCR or manual entry" in message and "Nothing was changed" in message


def test_a_pdf_of_text_only_says_what_it_found(seeded: PlanPaths) -> None:
    message = _refused(seeded, MINUTES, "import-no-table")
    assert "1 page(s), 0 table(s)" in message and "Minutes of the meeting" in message


def test_a_pdf_without_an_appendix_table_says_which_tables_it_found(seeded: PlanPaths) -> None:
    _refused(seeded, COVER, "import-no-table")
    read = [f for f in import_files(seeded, [COVER], command="t").report if f.code == "pdf-read"]
    assert len(read) == 1
    assert "1 page(s), 1 table(s) (with ruling lines)" in read[0].message and '"Report details"' in read[0].message


def test_a_locked_or_damaged_pdf_is_named_not_a_traceback(seeded: PlanPaths, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    locked = tmp_path / "locked.pdf"
    writer = PdfWriter(clone_from=PdfReader(RULED_2024))
    writer.encrypt("secret", algorithm="AES-128")
    writer.write(locked)
    assert "password-protected" in _refused(seeded, locked, "import-unreadable")
    damaged = tmp_path / "damaged.pdf"  # a download cut short
    damaged.write_bytes(RULED_2024.read_bytes()[:20000])
    assert "could not be read as a PDF" in _refused(seeded, damaged, "import-unreadable")
