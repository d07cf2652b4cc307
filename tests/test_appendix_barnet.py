"""The appendix of the real Barnet register (imported from the bundled papers), and the PDF round trip:
the PDF the tool prints imports back with `hwbs-xl import` to the same statuses and progress text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from hwbs_xl.appendix import build as apb
from hwbs_xl.appendix import model as ap
from hwbs_xl.demo.sample import BARNET_2023, BARNET_2024
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register
from hwbs_xl.text import squash


@pytest.fixture(scope="module")
def barnet(tmp_path_factory: pytest.TempPathFactory) -> PlanPaths:
    paths = PlanPaths(tmp_path_factory.mktemp("barnet") / "plan")
    import_files(paths, [BARNET_2023, BARNET_2024], cycle=None, command="test import")
    return paths


@pytest.fixture(scope="module")
def april_2024_pdf(barnet: PlanPaths) -> apb.AppendixResult:
    return apb.build_appendix(barnet, cycle="April 2024")


def _model(paths: PlanPaths, cycle: str) -> ap.Appendix:
    with Register.open(paths) as reg:
        return ap.build(reg, cycle)


def test_april_2023_as_the_council_printed_it(barnet: PlanPaths, tmp_path: Path) -> None:
    model = _model(barnet, "April 2023")
    assert len(model.rows) == 33
    t = model.summary.totals
    assert (t["on_target"], t["delayed"], t["completed"]) == (26, 5, 2)
    assert [c.title for c in model.columns][5:] == [
        "Status as of April 2023",
        "Progress Report - What has been achieved, and what still needs to be achieved?"]
    with Register.open(barnet) as reg:
        for row in model.rows:
            note = reg.update(row.action.id, "September 2022")
            assert row.history["September 2022"] == (note.progress if note else "")
    result = apb.build_appendix(barnet, cycle="April 2023", formats=("xlsx",), out=tmp_path)
    assert [p.name for p in result.files] == ["appendix-April-2023.xlsx"]


def test_april_2024_lists_what_was_reported_and_what_is_unsettled(barnet: PlanPaths) -> None:
    model = _model(barnet, "April 2024")
    assert len(model.rows) == 42  # a closed, imported cycle lists exactly what the paper reported
    with Register.open(barnet) as reg:
        flagged = {f.action_id for f in reg.flags(open_only=True, cycle="April 2024") if f.field == "status"}
        assert {r.action.id for r in model.summary.to_confirm} == flagged
        assert len(flagged) >= 7  # the "by target date", "target date" and empty statuses, none guessed
        unreported = {a.id for a in reg.actions() if reg.update(a.id, "April 2023") and not reg.update(a.id, "April 2024")}
    assert set(model.summary.movement["retired"]) == unreported
    assert not model.summary.awaiting


def test_april_2024_pdf_prints_every_word(april_2024_pdf: apb.AppendixResult, barnet: PlanPaths) -> None:
    model = _model(barnet, "April 2024")
    assert april_2024_pdf.pdf is not None and april_2024_pdf.pages
    with pdfplumber.open(april_2024_pdf.pdf) as doc:
        assert len(doc.pages) == april_2024_pdf.pages
        # the text layer interleaves a row's cells line by line, so words are checked, not whole reports
        # (the import round trip below gives back every report whole)
        # (and a word may break after a hyphen or slash: "well-" / "attended")
        words = {w for page in doc.pages for w in re.split(r"[\s/-]+", squash(page.extract_text() or ""))}
    for row in model.rows:  # the previous cycle's reports are not printed when this cycle has its own
        assert set(re.split(r"[\s/-]+", squash(row.progress))) - {""} <= words, row.action.id


def _unhyphen(text: str) -> str:
    """A word broken after its hyphen at a line end ("Self-" / "neglect") reads back with a space."""
    return re.sub(r"(?<=\w-) ", "", text)


def test_pdf_imports_back_to_the_same_statuses_and_text(april_2024_pdf: apb.AppendixResult, barnet: PlanPaths,
                                                        tmp_path: Path) -> None:
    again = PlanPaths(tmp_path / "again")
    import_files(again, [april_2024_pdf.pdf], cycle=None, command="test round trip")  # type: ignore[list-item]
    with Register.open(barnet) as src, Register.open(again) as back:
        printed = {_key(src, u): u for u in src.updates(cycle="April 2024")}
        read = {_key(back, u): u for u in back.updates(cycle="April 2024")}
        assert set(read) == set(printed)
        for key, u in printed.items():
            v = read[key]
            assert (v.status, squash(v.progress)) == (u.status, squash(u.progress)), key[:60]


def _key(reg: Register, u: Any) -> str:
    return squash(u.activity_as_reported or reg.action(u.action_id).activity)
