"""The tool's own appendix PDF of a merged cycle imports back (issue 6): after a real cycle (issue lead
workbooks, fill them, merge the returns), the committee PDF (typeset by Typst, no LibreOffice), imported into an empty
plan, gives back every status and progress report the register holds for that cycle.
(The imported cycle's own round trip is in test_appendix_barnet.py.)"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hwbs_xl.appendix import build as apb
from hwbs_xl.appendix import model as ap
from hwbs_xl.demo.fill import fill_for_demo
from hwbs_xl.demo.sample import BARNET_FILES
from hwbs_xl.importing.pdf import read_pdf
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.issue.generate import generate
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.cycle import open_cycle
from hwbs_xl.register import Register
from hwbs_xl.returns.merge import merge
from hwbs_xl.text import squash

CYCLE = "October 2024"


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanPaths, Path]:
    root = tmp_path_factory.mktemp("merged-cycle")
    paths = PlanPaths(root / "plan")
    import_files(paths, list(BARNET_FILES), command="test import")
    open_cycle(paths, CYCLE, date(2024, 10, 18), open_flags=True, command="test open")
    issued = generate(paths, now=datetime(2024, 9, 20, 9, 0, tzinfo=UTC), example_contact=True, open_flags=True, command="test generate")
    returned = fill_for_demo(paths, issued.files, count=len(issued.files))
    merge(paths, returned, command="test merge")
    built = apb.build_appendix(paths, cycle=CYCLE, formats=("pdf",), out=root / "appendix")
    assert built.pdf is not None
    return paths, built.pdf


@pytest.fixture(scope="module")
def imported_back(merged, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The appendix PDF imported into an empty plan: (that plan, the import's result)."""
    _, pdf = merged
    again = PlanPaths(tmp_path_factory.mktemp("again") / "plan")
    result = import_files(again, [pdf], command="test round trip")
    assert result.changed and not result.report.errors
    return again, result



def test_the_appendix_pdf_of_a_merged_cycle_gives_back_the_registers_statuses_and_text(merged, imported_back) -> None:
    paths, _ = merged
    again, _ = imported_back
    with Register.open(paths) as src, Register.open(again) as back:
        printed = {squash(src.action(u.action_id).activity): u for u in src.updates(cycle=CYCLE)}
        read = {squash(u.activity_as_reported): u for u in back.updates(cycle=CYCLE)}
        awaiting = {squash(row.activity) for row in ap.build(src, CYCLE).summary.awaiting}
    assert len(printed) >= 30 and any(u.source.sha256 for u in printed.values())  # merged returns, not seeds
    assert awaiting and set(read) == set(printed) | awaiting
    for key, u in printed.items():
        assert (read[key].status, squash(read[key].progress)) == (u.status, squash(u.progress)), key[:60]
        assert read[key].source.where.startswith("page ")
    for key in awaiting:  # printed as "Awaiting update": read back as unknown and flagged, never guessed
        assert read[key].status is None and read[key].needs_review



def test_the_appendix_pdf_tables_are_read_with_their_ruling_lines(merged) -> None:
    _, pdf = merged
    table = read_pdf(pdf)
    info = next(f for f in table.findings if f.code == "pdf-read")
    assert "with ruling lines" in info.message and "without" not in info.message
    assert table.pages and table.pages >= 3  # the summary, then the table
    assert not [f for f in table.findings if f.code == "pdf-glyph-unmapped"]



def test_the_summary_pages_before_the_appendix_table_are_one_note_each(merged, imported_back) -> None:
    """The summary pages (status counts, the chart read as a grid, movement list, legend) come before the
    appendix's first header: each page is ONE info note listing every line skipped there, not a warning (or
    a note) per line; inside the table nothing is unreadable."""
    _, pdf = merged
    _, result = imported_back
    rows = read_pdf(pdf).rows
    first_header = next(i for i, r in enumerate(rows) if "Project Activity" in r.cells)
    before = rows[:first_header]
    summary_pages = sorted({r.page for r in before})
    assert len(before) >= 20 and len(summary_pages) >= 2
    outside = result.report.of("outside-table")
    assert [f.where for f in outside] == [
        f"page {p}, rows 1-{max(int(r.where.rsplit(' ', 1)[1]) for r in before if r.page == p)}"
        for p in summary_pages]
    assert all(f.severity == "info" and f.file == pdf.name for f in outside)
    listed = [line for f in outside for line in f.value.split("\n")]
    assert len(listed) == len(before)
    assert listed[0].startswith("Key area | Completed")
    assert not result.report.of("row-unreadable")


@pytest.mark.parametrize("cell, expected", [
    ("Revised: Sep-25\n(was Mar-25)", ("Mar-25", "Sep-25")),  # as the appendix PDF prints it, on two lines
    ("revised Sep-25 (was Mar-25)", ("Mar-25", "Sep-25")),
    ("Mar-25", ("Mar-25", None)),
    ("Revised", ("Revised", None)),
])
def test_a_finish_cell_with_its_revised_date_reads_as_both(cell: str, expected: tuple[str, str | None]) -> None:
    """The PDF prints a revised finish in the Finish column with the original: importing it back gives the
    original finish and the cycle's revised finish, not an unreadable finish date."""
    from hwbs_xl.importing.rows import split_revised

    assert split_revised(cell) == expected


def test_a_revised_finish_printed_in_the_pdf_imports_back(plan_paths: PlanPaths, tmp_path: Path) -> None:
    """The whole way: an action whose finish was revised prints "Revised: Mar-25 (was ...)" in the Finish
    column; importing that PDF gives the original finish to the action and the revised one to the update."""
    from test_appendix import APR24, make_register

    make_register(plan_paths)
    built = apb.build_appendix(plan_paths, cycle=APR24, formats=("pdf",), out=tmp_path / "out")
    assert built.pdf is not None
    again = PlanPaths(tmp_path / "again")
    result = import_files(again, [built.pdf], command="test round trip")
    assert not result.report.errors
    with Register.open(plan_paths) as src, Register.open(again) as back:
        revised = [u for u in src.updates(cycle=APR24) if u.revised_finish]
        assert revised
        for u in revised:
            original = src.action(u.action_id)
            [read] = [v for v in back.updates(cycle=APR24)
                      if squash(v.activity_as_reported or back.action(v.action_id).activity) == squash(original.activity)]
            assert read.revised_finish == u.revised_finish
            assert back.action(read.action_id).finish == original.finish
        assert not [f for f in back.flags(open_only=True) if f.field == "finish"]
