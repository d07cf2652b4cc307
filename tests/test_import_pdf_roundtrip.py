"""The tool's own appendix PDF of a merged cycle imports back (issue 6): after a real cycle (issue lead
workbooks, fill them, merge the returns), the committee PDF printed by LibreOffice, imported into an empty
plan, gives back every status and progress report the register holds for that cycle.
(The imported cycle's own round trip is in test_appendix_barnet.py.)"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from hwbs_xl import appendix as ap
from hwbs_xl.cycle import open_cycle
from hwbs_xl.importing.pdf import read_pdf
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.leadbook import generate
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register
from hwbs_xl.returns.demofill import fill_for_demo
from hwbs_xl.returns.merge import merge
from hwbs_xl.sample import BARNET_FILES
from hwbs_xl.text import squash

from conftest import libreoffice_required

CYCLE = "October 2024"


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanPaths, Path]:
    libreoffice_required()
    root = tmp_path_factory.mktemp("merged-cycle")
    paths = PlanPaths(root / "plan")
    import_files(paths, list(BARNET_FILES), command="test import")
    open_cycle(paths, CYCLE, date(2024, 10, 18), command="test open")
    issued = generate(paths, now=datetime(2024, 9, 20, 9, 0, tzinfo=timezone.utc), command="test generate")
    returned = fill_for_demo(paths, issued.files, count=len(issued.files))
    merge(paths, returned, command="test merge")
    built = ap.build_appendix(paths, cycle=CYCLE, formats=("pdf",), out=root / "appendix")
    assert built.pdf is not None
    return paths, built.pdf


@pytest.mark.libreoffice
def test_the_appendix_pdf_of_a_merged_cycle_gives_back_the_registers_statuses_and_text(merged, tmp_path: Path) -> None:
    paths, pdf = merged
    again = PlanPaths(tmp_path / "again")
    result = import_files(again, [pdf], command="test round trip")
    assert result.changed and not result.report.errors
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


@pytest.mark.libreoffice
def test_the_appendix_pdf_tables_are_read_with_their_ruling_lines(merged) -> None:
    _, pdf = merged
    table = read_pdf(pdf)
    info = next(f for f in table.findings if f.code == "pdf-read")
    assert "with ruling lines" in info.message and "without" not in info.message
    assert table.pages and table.pages >= 10
    assert not [f for f in table.findings if f.code == "pdf-glyph-unmapped"]
