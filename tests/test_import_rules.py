"""The import's rules are general: shown on small appendices of another (made-up) council, written here.

Each test writes a real file in tmp_path (or builds the SourceTable a PDF/xlsx reader would give) and imports
it through the one shared pipeline into a real register.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hwbs_xl.errors import InvalidData
from hwbs_xl.importing.pipeline import import_files, import_tables
from hwbs_xl.importing.readers import detect_form, read_source
from hwbs_xl.importing.source import SourceRow, SourceTable, sha256_of
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register

NORTHSHIRE_MD = """\
Appendix 1

Northshire Joint Health and Wellbeing Strategy Delivery Plan

| Priority | Action | Lead Officer(s) | Start | Target Date | RAG status as at March 2025 | Update | Budget (£) |
|---|---|---|---|---|---|---|---|
| Starting Well | Expand the family hubs offer to every locality | Head of Early Help; Family Hubs Manager | Apr-24 | Mar-26 | Green | Four hubs open.<br>Two more planned. | 12,000 |
| Starting Well | Deliver the school nurse healthy weight pilot | School Nursing Lead | Sep-24 | Jul-25 | Complete | <ul><li>Pilot finished</li><li>Evaluation written</li></ul> | |
| Living Well | Reduce smoking in pregnancy | Public Health Principal | Jan-24 | Dec-25 | Amber | \uf0b7 Referral pathway live \uf0b7 Incentive scheme agreed | |
| Living Well | Open the community diagnostics centre | Director of Place | Jan-24 | Dec-24 | Blue sky | Delayed by building works (cid:3) | |
"""

# Tab-separated text as PDF extraction gives it: a header over two lines ("Finish" / "Date"), a header cell
# split in two ("Respon" | "sible officer", with the data cells under it split too), a page break (blank
# line) that cuts a row, a repeated header on the next page, a row shifted right by an empty cell, a
# "(continued)" marker, and an empty key area under a merged cell.
EASTFORD_TSV = (
    "Theme\tWhat we will do\tRespon\tsible officer\tStart date\tFinish\tStatus as of October 2024\tProgress update\n"
    "\t\t\t\t\tDate\t\t\n"
    "Healthy Places\tCreate a network of walking routes\tDirector of\tPlace\tJan-24\tDec-25\tOn target to be achieved by target date\tThe network met twice and\n"
    "\n"
    "Theme\tWhat we will do\tRespon\tsible officer\tStart date\tFinish\tStatus as of October 2024\tProgress update\n"
    "\t\t\t\t\tDate\t\t\n"
    "\t\t\t\t\t\t\tagreed the first ten routes.\n"
    "Healthy Places\tPlant street trees in the ten most deprived wards\tTree Officer\t\tMar-24\tMar-26\tDelayed achievement by target dote\tPlanting season missed.\n"
    "\tHealthy Places\tOpen two warm spaces\tCommunity Lead\t\tOct-23\tMar-25\tCompleted\tBoth open.\t\n"
    "\tFund the food pantry\tCommunity Lead\t\tApr-24\tMar-25\tOn target\tFunded to 2025.\n"
    "\t(continued)\t\t\t\t\t\tMore volunteers recruited.\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _one(reg: Register, words: str):  # type: ignore[no-untyped-def]
    return next(a for a in reg.actions() if words in a.activity)


def test_form_is_decided_by_content_not_extension(tmp_path: Path) -> None:
    md = _write(tmp_path, "appendix.txt", NORTHSHIRE_MD)
    tsv = _write(tmp_path, "appendix.md", EASTFORD_TSV)
    assert read_source(md).form == "markdown"
    assert read_source(tsv).form == "tsv"
    assert detect_form("Just a letter.\nNo table here.\n") is None
    prose = _write(tmp_path, "letter.xlsx", "Dear colleague,\nplease find the plan attached.\n")
    with pytest.raises(InvalidData) as info:
        read_source(prose)
    assert info.value.code == "import-no-table"


def test_another_councils_markdown_appendix(tmp_path: Path) -> None:
    paths = PlanPaths(tmp_path / "plan")
    result = import_files(paths, [_write(tmp_path, "northshire.md", NORTHSHIRE_MD)], command="t")
    assert result.changed and not result.report.errors
    with Register.open(paths) as reg:
        assert reg.plan().title == "Northshire Joint Health and Wellbeing Strategy Delivery Plan"
        assert [c.label for c in reg.cycles()] == ["March 2025"]
        hubs = _one(reg, "family hubs")
        assert hubs.leads == ("Head of Early Help", "Family Hubs Manager")
        assert hubs.id == "KA1-01" and hubs.key_area == "Starting Well"
        assert _one(reg, "smoking").id == "KA2-01"          # a key area without a number gets the next one
        u = reg.update(hubs.id, "March 2025")
        assert u.status == "on_target" and u.progress == "Four hubs open.\nTwo more planned."  # RAG "Green"
        nurse = reg.update(_one(reg, "school nurse").id, "March 2025")
        assert nurse.status == "completed"                  # "Complete": one status fits
        assert nurse.progress == "• Pilot finished\n• Evaluation written"
        smoking = reg.update(_one(reg, "smoking").id, "March 2025")
        assert smoking.status == "delayed"                  # "Amber" is the RAG of only one status
        assert smoking.progress == "• Referral pathway live\n• Incentive scheme agreed"
        centre = _one(reg, "diagnostics")
        flags = {f.code: f for f in reg.flags() if f.action_id == centre.id}
        assert set(flags) == {"status-unrecognised", "pdf-glyph-unmapped"}
        assert flags["status-unrecognised"].raw == "Blue sky"
        assert reg.update(centre.id, "March 2025").status is None
    ignored = result.report.of("column-ignored")
    assert [f.value for f in ignored] == ["12,000"]          # nothing lost: the unknown column's text is reported


def test_tsv_extract_with_page_break_split_cells_and_shifted_rows(tmp_path: Path) -> None:
    paths = PlanPaths(tmp_path / "plan")
    result = import_files(paths, [_write(tmp_path, "eastford.txt", EASTFORD_TSV)], command="t")
    assert not result.report.errors, [f.line() for f in result.report.errors]
    with Register.open(paths) as reg:
        assert [c.label for c in reg.cycles()] == ["October 2024"]
        assert len(reg.actions()) == 4
        walking = _one(reg, "walking routes")
        assert walking.leads == ("Director of Place",)                   # "Director of" | "Place" joined
        assert walking.finish.label == "Dec-25"                           # "Finish" + "Date"
        u = reg.update(walking.id, "October 2024")
        assert u.progress == "The network met twice and agreed the first ten routes."   # stitched over the page
        assert u.source.where == "line 3; line 7"
        trees = reg.update(_one(reg, "street trees").id, "October 2024")
        assert trees.status == "delayed" and trees.status_raw == "Delayed achievement by target dote"
        warm = _one(reg, "warm spaces")
        assert warm.key_area == "Healthy Places" and reg.update(warm.id, "October 2024").status == "completed"
        pantry = _one(reg, "food pantry")
        assert pantry.key_area == "Healthy Places"                       # empty key area, own dates: carried
        assert pantry.activity == "Fund the food pantry"                  # the "(continued)" mark is not text
        p = reg.update(pantry.id, "October 2024")
        assert p.status == "on_target" and p.progress == "Funded to 2025. More volunteers recruited."
    codes = [f.code for f in result.report]
    for code in ("row-stitched", "cell-split-repaired", "header-dropped", "row-shifted", "key-area-carried",
                 "status-repaired"):
        assert code in codes, code


def test_findings_point_at_the_cells_they_are_about(tmp_path: Path) -> None:
    """Provenance per cell through stitching, split cells, carried key areas and shifted rows: each finding
    names the row(s) and the cell(s) (a text's column, counted as the file has them)."""
    result = import_files(PlanPaths(tmp_path / "plan"), [_write(tmp_path, "eastford.txt", EASTFORD_TSV)],
                          command="t")
    where = {(f.code, f.where) for f in result.report}
    assert ("cell-split-repaired", "line 1; header cells column 3 + column 4") in where  # "Respon" | "sible officer"
    assert ("cell-split-repaired", "line 3; lead cells column 3 + column 4") in where    # "Director of" | "Place"
    assert ("row-stitched", "line 7; joined cell column 8") in where                     # the progress carried over
    assert ("status-repaired", "line 8; status cell column 7") in where
    assert ("key-area-carried", "line 10; key area cell column 1") in where
    # a stitched row: both rows, then the cell the status came from
    assert ("status-repaired", "line 10; line 11; status cell line 10, column 7") in where
    # a row shifted right by an empty cell: read in its header's columns, its cells named as in the file
    shifted = _write(tmp_path, "shifted.txt", "Key Area\tProject Activity\tLead\tStart Date\tFinish Date\t"
                     "Status as of April 2025\n\tKey Area 1\tRun the pilot\tPilot Lead\tJan-25\tDec-25\ttarget date\n")
    again = import_files(PlanPaths(tmp_path / "plan2"), [shifted], command="t")
    flagged = again.report.of("status-ambiguous")
    assert [(f.where, f.value, f.detail["cell_where"]) for f in flagged] == [
        ("line 2; status cell column 7", "target date", ["line 2, column 7"])]


def test_a_plans_older_report_columns_still_show_the_cell(tmp_path: Path) -> None:
    """A plan's own import.toml from before the position column ([title, width], eight columns): the report
    keeps those columns and shows the cell after the row, so nothing a reviewer needs is missing."""
    import openpyxl

    paths = PlanPaths(tmp_path / "plan")
    from hwbs_xl.plan.folder import init_plan

    init_plan(paths, "Eastford")[0].close()
    own = paths.templates / "import.toml"
    text = own.read_text(encoding="utf-8")
    start = text.index("columns = [", text.index("[report]"))
    end = text.index("\n]\n", start) + 2
    old = ('columns = [["Severity", 10], ["Code", 20], ["File", 24], ["Where", 16], ["Action", 9], '
           '["Cycle", 14], ["Value found", 36], ["What was done / what to do", 70]]')
    own.write_text(text[:start] + old + text[end:], encoding="utf-8")
    result = import_files(paths, [_write(tmp_path, "eastford.txt", EASTFORD_TSV)], command="t")
    ws = openpyxl.load_workbook(result.report_file)["What was done"]
    header = [c.value for c in ws[1]]
    assert header == ["Severity", "Code", "File", "Where", "Action", "Cycle", "Value found",
                      "What was done / what to do"]
    rows = [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    assert {r["Where"] for r in rows if r["Code"] == "status-repaired"} == {
        "line 8; line 8, column 7", "line 10; line 11; line 10, column 7"}


def test_paged_source_rows_from_a_reader_are_stitched_at_the_page_start(tmp_path: Path) -> None:
    """The contract a PDF/xlsx reader fills: rows with page numbers; a page's first row may carry on."""
    path = _write(tmp_path, "westmoor.pdf.txt", "stand-in for the PDF's bytes\n")
    head = ("Key Area", "Project Activity", "Lead", "Start Date", "Finish Date", "Status as of April 2025",
            "Progress Report")
    rows = [
        SourceRow(head, "page 1, row 1", page=1, page_start=True),
        SourceRow(("Key Area 1", "Run the healthy workplace charter", "Workplace Health Lead", "Apr-24", "Mar-26",
                   "On target to be achieved by target date", "Twelve employers have"), "page 1, row 2", page=1),
        SourceRow(("Westmoor Health and Wellbeing Plan",), "page 2, row 1", page=2, page_start=True),
        SourceRow(head, "page 2, row 2", page=2),
        SourceRow(("", "", "", "", "", "", "signed the charter."), "page 2, row 3", page=2),
        SourceRow(("Key Area 1", "Second action", "Workplace Health Lead", "Apr-24", "Mar-26", "Completed", "Done."),
                  "page 2, row 4", page=2),
    ]
    table = SourceTable(path=path, sha256=sha256_of(path), form="pdf", rows=rows, pages=2)
    paths = PlanPaths(tmp_path / "plan")
    from hwbs_xl.plan.folder import init_plan

    init_plan(paths, "Westmoor")[0].close()
    result = import_tables(paths, [table], cycle=None, command="t")
    assert result.changed
    with Register.open(paths) as reg:
        charter = _one(reg, "charter")
        u = reg.update(charter.id, "April 2025")
        assert u.progress == "Twelve employers have signed the charter."
        assert u.source.where == "page 1, row 2; page 2, row 3"
        assert len(reg.actions()) == 2
    dropped = {f.where: f.value for f in result.report.of("header-dropped")}
    assert dropped["page 2, row 1"] == "Westmoor Health and Wellbeing Plan" and "page 2, row 2" in dropped


NO_CYCLE = ("Key Area\tProject Activity\tLead\tStart Date\tFinish Date\tStatus\tProgress\n"
            "Key Area 1\tRun the pilot\tPilot Lead\tJan-25\tDec-25\tCompleted\tDone.\n"
            "Key Area 1\tWrite the report\tPilot Lead\tJan-25\tDec-25\tOn target\tDrafted.\n")


def test_cycle_comes_from_the_header_or_the_option(tmp_path: Path) -> None:
    src = _write(tmp_path, "nocycle.txt", NO_CYCLE)
    paths = PlanPaths(tmp_path / "plan")
    refused = import_files(paths, [src], command="t")
    assert [f.code for f in refused.report.errors] == ["import-no-cycle"] and not refused.changed
    assert not paths.root.exists()            # a failed import into a new folder leaves no empty plan behind
    ok = import_files(paths, [src], cycle="Oct-25", command="t")
    assert ok.changed
    with Register.open(paths) as reg:
        assert [c.label for c in reg.cycles()] == ["October 2025"]
    named = _write(tmp_path, "named.txt", NO_CYCLE.replace("\tStatus\t", "\tStatus as of May 2025\t"))
    clash = import_files(paths, [named], cycle="October 2025", command="t")
    assert [f.code for f in clash.report.errors] == ["import-cycle-conflict"] and not clash.changed


def test_one_bad_file_means_nothing_is_imported(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.md", NORTHSHIRE_MD)
    bad = _write(tmp_path, "minutes.txt", "Minutes of the meeting\nApologies were received.\n")
    paths = PlanPaths(tmp_path / "plan")
    result = import_files(paths, [good, bad], command="t")
    assert not result.changed and [f.code for f in result.report.errors] == ["import-no-table"]
    assert result.report.errors[0].file == "minutes.txt"
    assert not paths.exists()                 # not even the plan folder was made


def test_linking_a_reworded_action_in_another_councils_plan(tmp_path: Path) -> None:
    """Same key area and start month, reworded, an acronym spelt out: linked; a new action is new."""
    earlier = ("Theme\tAction\tLead\tStart\tEnd date\tStatus as of March 2024\tUpdate\n"
               "Theme 1\tDevelop a Joint Strategic Needs Assessment (JSNA) for older people\tPH Lead\tApr-23\tMar-25\tOn target\tScoping.\n"
               "Theme 1\tPilot social prescribing in two practices\tPCN Lead\tApr-23\tMar-24\tCompleted\tDone.\n")
    later = ("Theme\tAction\tLead\tStart\tEnd date\tStatus as of March 2025\tUpdate\n"
             "Theme 1\tPublish the older people's JSNA and its recommendations\tPublic Health Lead\tApr-23\tMar-25\tCompleted\tPublished.\n"
             "Theme 1\tCommission a falls prevention service\tPCN Lead\tApr-24\tMar-26\tOn target\tTender out.\n")
    paths = PlanPaths(tmp_path / "plan")
    import_files(paths, [_write(tmp_path, "a.txt", earlier)], command="t")
    result = import_files(paths, [_write(tmp_path, "b.txt", later)], command="t")
    with Register.open(paths) as reg:
        jsna = _one(reg, "JSNA and its recommendations")
        assert [u.cycle for u in reg.updates(action_id=jsna.id)] == ["March 2024", "March 2025"]
        assert jsna.leads == ("Public Health Lead",)
        falls = _one(reg, "falls prevention")
        assert [u.cycle for u in reg.updates(action_id=falls.id)] == ["March 2025"]
        assert len(reg.actions()) == 3
    assert result.counts["by_file"]["b.txt"]["links"] == {"link-similar": 1, "action-new": 1}


def test_an_import_that_fails_part_way_changes_nothing(tmp_path: Path) -> None:
    """The report is written inside the batch: when it cannot be written, the whole import is rolled back."""
    src = _write(tmp_path, "northshire.md", NORTHSHIRE_MD)
    paths = PlanPaths(tmp_path / "plan")
    from hwbs_xl.plan.folder import init_plan

    init_plan(paths, "Northshire")[0].close()
    paths.reports.rmdir()
    paths.reports.write_text("a file where the reports folder should be", encoding="utf-8")
    with Register.open(paths) as reg:
        before = reg.fingerprint()
    with pytest.raises(OSError):
        import_files(paths, [src], command="t")
    with Register.open(paths) as reg:
        assert reg.fingerprint() == before and reg.actions() == []


def test_the_same_paper_from_another_file_keeps_what_the_register_has(tmp_path: Path) -> None:
    """A second copy of a paper (other bytes, same content: e.g. its PDF after its text) links to the same
    actions and changes nothing: each update is reported as already recorded."""
    first = _write(tmp_path, "eastford.txt", EASTFORD_TSV)
    second = tmp_path / "eastford-copy.txt"
    second.write_bytes(EASTFORD_TSV.replace("\n", "\r\n").encode("utf-8"))
    paths = PlanPaths(tmp_path / "plan")
    import_files(paths, [first], command="t")
    with Register.open(paths) as reg:
        before = reg.fingerprint()
    again = import_files(paths, [second], command="t")
    assert not again.changed and again.batch_id is None
    assert len(again.report.of("update-already-recorded")) == 4 and not again.report.of("update-differs")
    with Register.open(paths) as reg:
        assert reg.fingerprint() == before


@pytest.mark.parametrize("heading, meaning, cycle", [
    ("Load", "lead", None),
    ("Lead Officer(s)", "lead", None),
    ("April 2024 Progress Peport", "progress", "April 2024"),
    ("TIVODS Ney Area", "key_area", None),
    ("IWBS Key Area", "key_area", None),
    ("Status as Of April 2024", "status", "April 2024"),
    ("RAG status as at Sept 2025", "status", "September 2025"),
    ("September 2022 notes on action", "progress", "September 2022"),
    ("Progress Report - What has been achieved, and what still needs to be achieved?", "progress", None),
    ("Finish Date", "finish", None),
    ("Target date", "finish", None),
    ("Start Date", "start", None),
    ("Priority", "key_area", None),
    ("What we will do", "activity", None),
])
def test_headings_are_read_by_meaning(heading: str, meaning: str, cycle: str | None) -> None:
    from hwbs_xl.importing.columns import HeaderMatcher
    from hwbs_xl.importing.settings import ImportSettings

    match = HeaderMatcher(ImportSettings.load().section("headers")).match(heading)
    assert match is not None and (match.meaning, match.cycle) == (meaning, cycle)


@pytest.mark.parametrize("heading", ["Date", "Budget (£)", "Key", "Cost centre"])
def test_headings_without_a_known_meaning_are_not_guessed(heading: str) -> None:
    from hwbs_xl.importing.columns import HeaderMatcher
    from hwbs_xl.importing.settings import ImportSettings

    assert HeaderMatcher(ImportSettings.load().section("headers")).match(heading) is None


@pytest.mark.parametrize("raw, key, code", [
    ("Completed", "completed", "exact"),
    ("  on TARGET to be achieved by target date ", "on_target", "exact"),
    ("On target to be achieved", "on_target", "status-repaired"),
    ("Delayed", "delayed", "status-repaired"),
    ("Delayed achievement by tagret date", "delayed", "status-repaired"),
    ("Green", "on_target", "status-repaired"),
    ("by target date", None, "status-ambiguous"),
    ("target date", None, "status-ambiguous"),
    ("my tanget water", None, "status-ambiguous"),   # reads "by target date": fits two statuses
    ("", None, "status-missing"),
    ("Awaiting update", None, "status-missing"),      # how an appendix prints "no return received"
    ("On track", None, "status-unrecognised"),
    ("incorporated", None, "status-unrecognised"),   # one word inside a label: too little to repair
])
def test_status_repair_never_guesses(raw: str, key: str | None, code: str) -> None:
    from hwbs_xl.importing.settings import ImportSettings
    from hwbs_xl.importing.status import StatusReader

    settings = ImportSettings.load()
    result = StatusReader(settings.vocabulary, settings.section("status")).read(raw)
    assert (result.key, result.code) == (key, code)


def test_a_named_notes_column_is_an_earlier_cycle_not_the_papers_own(tmp_path: Path) -> None:
    """"Status" (no cycle) with "March 2024 notes": the notes are an earlier cycle's; the paper's cycle must
    be given, and the notes keep their own cycle without status or flags."""
    text = ("Key Area\tProject Activity\tLead\tStart Date\tFinish Date\tStatus\tProgress\tMarch 2024 notes on action\n"
            "Key Area 1\tRun the pilot\tPilot Lead\tJan-24\tDec-25\tCompleted\tDone.\tStarted.\n")
    src = _write(tmp_path, "notes.txt", text)
    paths = PlanPaths(tmp_path / "plan")
    assert [f.code for f in import_files(paths, [src], command="t").report.errors] == ["import-no-cycle"]
    assert import_files(paths, [src], cycle="September 2024", command="t").changed
    with Register.open(paths) as reg:
        assert [c.label for c in reg.cycles()] == ["March 2024", "September 2024"]
        notes, report = reg.updates()
        assert (notes.cycle, notes.status, notes.progress, notes.needs_review) == ("March 2024", None, "Started.", False)
        assert (report.cycle, report.status, report.progress) == ("September 2024", "completed", "Done.")
        assert reg.flags() == []


@pytest.mark.parametrize("content", [
    b"",
    b"\t\t\t\n\t\t\n",
    b"| a | b |\n|---|---|\n| 1 | 2 |\n",
    b"Key Area\tProject Activity\tLead\tStart Date\tFinish Date\tStatus as of April 2024\n" + b"\t" * 40 + b"x\n",
    b"Key Area\tProject Activity\tLead\tStart Date\tFinish Date\tStatus as of April 2024\nKey Area 1\t\t\t\t\t\n",
    b"Key Area\tProject Activity\tLead\tStart Date\tFinish Date\tStatus as of April 2024\n(continued)\tx\n",
    b"Key Area\tProject Activity\tLead\tStart Date\tFinish Date\tStatus as of April 2024\nKey Area 1\t"
    + b"=cmd|' /c calc'!A0 " * 3000 + b"\tL\tJan-24\t13/2024\tRed\n",
    b"\x00\x01\x02 not text",
    "caf\xe9\tna\xefve\tr\xe9sum\xe9\n".encode("cp1252") * 3,
])
def test_bad_input_never_raises_and_is_reported(tmp_path: Path, content: bytes) -> None:
    src = tmp_path / "odd.txt"
    src.write_bytes(content)
    paths = PlanPaths(tmp_path / "plan")
    result = import_files(paths, [src], command="t")
    assert result.report.findings, "every outcome is reported"
    if not result.changed:
        assert result.report.errors or result.report.of("row-unreadable")


def test_a_table_with_no_readable_action_changes_nothing(tmp_path: Path) -> None:
    src = _write(tmp_path, "empty-rows.txt", "Key Area\tProject Activity\tLead\tStart Date\tFinish Date\t"
                 "Status as of April 2024\nKey Area 1\t\tSomeone\tJan-24\tDec-24\tCompleted\n")
    paths = PlanPaths(tmp_path / "plan")
    result = import_files(paths, [src], command="t")
    assert not result.changed and [f.code for f in result.report.warnings] == ["row-unreadable"]
    assert "Someone" in result.report.warnings[0].value
    with Register.open(paths) as reg:
        assert reg.cycles() == [] and reg.actions() == []
