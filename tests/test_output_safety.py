"""Output safety: whatever a person typed is written as text in every workbook and CSV hwbs-xl writes.

A plan is built in which every string a person types is an injection payload (the plan title, key areas,
activities, lead names, e-mail addresses, the coordinator's name, past progress reports and statuses, and
the leads' returned progress reports and comments, including a conflict so flags carry them too). Then
every command that writes a file runs for real: generate (lead workbooks, distribution list, drafts),
merge (master appendix, reports, please-fix notes), status (chase list, reminders), appendix, export,
review, and import (import report). Every workbook written is then checked at the XML level: no formula,
no error value, no hyperlink anywhere; every CSV cell that a spreadsheet would run is apostrophe-escaped;
and each payload is found, as text, where it belongs (so the checks cannot pass on empty files).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hwbs_xl.errors import InvalidData
from hwbs_xl.model import Action, Cycle, Month, Provenance, Update, cycle_seq
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.folder import init_plan
from hwbs_xl.register import Register, action_row, cycle_row, update_row
from hwbs_xl.sheets.reader import read_file
from hwbs_xl.sheets.writing import FORMULA_TRIGGERS, csv_bytes, csv_safe
from hwbs_xl.text import normalise, visible_controls

import figures
from badfiles import Package

PAYLOADS = ["=cmd|'/c calc'!A0", "+1+1", "-2", "@SUM(1)", "\t=1", "\r=1", "#N/A", "external:c:\\x.exe",
            "http://example.org/x", '=HYPERLINK("http://evil.example","Click")', "#DIV/0!", "-1+2",
            "=1+1", "@cmd", "ctrl \x01 bell \x0b vt \x00 nul"]
TITLE = '=HYPERLINK("http://evil.example","Plan") Health and Wellbeing Strategy'
LEADS = ["=cmd|'/c calc'!A0 Director", "+Head of Housing", "@Public Health Lead", "-Chief Nurse"]
HISTORY, CYCLE = "April 2024", "October 2024"
TODAY = date(2024, 10, 10)
NOW = datetime(2024, 9, 20, 9, 0, tzinfo=UTC)
ON_TARGET = "On target to be achieved by target date"


def shown(text: str) -> str:
    """How a typed string is stored and shown: the shared text rule (controls made visible, trimmed)."""
    return normalise(text)


@dataclass
class Outputs:
    paths: PlanPaths
    import_plan: PlanPaths
    extra: list[Path]

    def workbooks(self) -> list[Path]:
        roots = [self.paths.root, self.import_plan.root]
        found = [p for r in roots for p in r.rglob("*.xlsx") if "returns" not in p.relative_to(r).parts]
        return sorted(found + [p for p in self.extra if p.suffix == ".xlsx"])

    def csvs(self) -> list[Path]:
        return sorted(p for r in (self.paths.root, self.import_plan.root) for p in r.rglob("*.csv"))

    def texts(self) -> list[Path]:
        return sorted(p for p in self.paths.root.rglob("*") if p.suffix in (".txt", ".eml", ".json")
                      and "templates" not in p.parts and "returns" not in p.parts)


def build_payload_plan(root: Path) -> PlanPaths:
    """A plan whose every typed string is a payload, with the October 2024 cycle open and workbooks issued."""
    from hwbs_xl.issue.generate import generate
    from hwbs_xl.plan.cycle import open_cycle

    paths = PlanPaths(root)
    reg, _ = init_plan(paths, TITLE)
    plan_toml = paths.templates / "plan.toml"
    plan_toml.write_text(plan_toml.read_text(encoding="utf-8").replace(
        'name = "Health and Wellbeing Board coordinator"', 'name = "@Coordinator =SUM(1)"'), encoding="utf-8")
    contacts = "[leads]\n" + "".join(f'"{lead}" = "=1+1@example.org"\n' for lead in LEADS[:2])
    (paths.templates / "contacts.toml").write_text(contacts, encoding="utf-8")
    with reg.batch("import", command="test set-up", summary="payload plan") as b:
        b.put("cycles", cycle_row(Cycle(HISTORY, cycle_seq(HISTORY), report_date=date(2024, 4, 1), state="closed")))
        for i, payload in enumerate(PAYLOADS[:8]):
            a = Action(f"KA{i // 4 + 1}-0{i % 4 + 1}", f"Key Area {i // 4 + 1}: {PAYLOADS[(i + 3) % len(PAYLOADS)]}",
                       payload, (LEADS[i % len(LEADS)], LEADS[(i + 1) % len(LEADS)]) if i % 3 == 0 else
                       (LEADS[i % len(LEADS)],), Month(2023, 1), Month(2025, 3))
            b.put("actions", action_row(a))
            b.put("updates", update_row(Update(
                a.id, HISTORY, None, PAYLOADS[(i + 5) % len(PAYLOADS)], progress=PAYLOADS[(i + 7) % len(PAYLOADS)],
                comment=PAYLOADS[(i + 9) % len(PAYLOADS)], needs_review=True, activity_as_reported=payload,
                leads_as_reported=a.leads, source=Provenance(file="=cmd.xlsx", where="A1"))))
    reg.close()
    open_cycle(paths, CYCLE, date(2024, 10, 18), command="test")
    generate(paths, now=NOW, drafts=True, example_contact=True, command="test")
    return paths


def returned(paths: PlanPaths, lead: str, texts: dict[tuple[str, str], str], dest: Path) -> Path:
    """The lead's issued workbook with text typed into cells as text (inline strings: never a formula)."""
    from test_returns_support import Cells, read_manifest

    with Register.open(paths) as reg:
        file = paths.root / reg.conn.execute("SELECT file FROM issued WHERE lead = ?", (lead,)).fetchone()[0]
    cells = Cells(read_manifest(file))
    pkg = Package.of(file)
    for (action, key), text in texts.items():
        pkg.set_text(cells.sheet, cells.of(action, key), text)
    return pkg.save(dest)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    from hwbs_xl.appendix.build import build_appendix
    from hwbs_xl.importing.pipeline import import_files
    from hwbs_xl.plan.export import export_xlsx
    from hwbs_xl.plan.review import write_review
    from hwbs_xl.returns.merge import merge
    from hwbs_xl.returns.status import status

    tmp = tmp_path_factory.mktemp("output-safety")
    paths = build_payload_plan(tmp / "plan")
    with Register.open(paths) as reg:
        mine = {lead: [a.id for a in reg.actions() if lead in a.leads] for lead in LEADS}
    files = []
    for n, lead in enumerate(LEADS[:2]):  # KA1-01 is joint: the two leads' different reports conflict
        texts = {}
        for i, action in enumerate(mine[lead]):
            texts[(action, "new_status")] = ON_TARGET
            texts[(action, "new_progress")] = PAYLOADS[(n * 5 + i) % len(PAYLOADS)]
            texts[(action, "comment")] = PAYLOADS[(n * 5 + i + 2) % len(PAYLOADS)]
        if n == 1:  # a status typed over the drop-down: the lead gets a please-fix note quoting it
            texts[(mine[lead][-1], "new_status")] = "=1+1 Done"
        files.append(returned(paths, lead, texts, tmp / "received" / f"return {n}.xlsx"))
    result = merge(paths, files, command="test", today=TODAY)
    assert result.batch_id and result.master_problem is None, result.master_problem
    status(paths, drafts=True, today=TODAY)
    built = build_appendix(paths, formats=["xlsx"])
    with Register.open(paths) as reg:
        export = export_xlsx(reg, tmp / "export.xlsx")
        assert reg.flags(open_only=True), "the conflict must give flags (the review workbook lists them)"
    review, _ = write_review(paths, tmp / "review.xlsx")
    appendix_md = tmp / "payload appendix.md"
    rows = "".join(f"| Key Area 1 | {p.replace('|', '/')} | {LEADS[1]} | Jan-24 | Mar-25 | {p} | {p} |\n"
                   for p in PAYLOADS if p.isprintable() and "|" not in p)  # what a text table can hold
    appendix_md.write_text("Appendix A\n\n" + TITLE + "\n\n| Key Area | Project Activity | Lead | Start | Finish | "
                           "Status as of April 2024 | Progress |\n|---|---|---|---|---|---|---|\n" + rows,
                           encoding="utf-8")
    imported = PlanPaths(tmp / "imported")
    assert not import_files(imported, [appendix_md], command="test").report.errors
    return Outputs(paths, imported, [export, review, *[p for p in built.files if p.suffix == ".xlsx"]])


# ---- the checks ------------------------------------------------------------------------------------------

HYPERLINK_REL = re.compile(r'Type="[^"]*/hyperlink"')


def xml_problems(path: Path) -> list[str]:
    """Formulas, error values and hyperlinks anywhere in a workbook's XML."""
    problems = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            text = z.read(name).decode("utf-8", "replace")
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                if re.search(r"<f[\s>]", text):
                    problems.append(f"{name}: a formula")
                if re.search(r'<c\b[^>]*\bt="e"', text):
                    problems.append(f"{name}: an error value")
                if "<hyperlink" in text:
                    problems.append(f"{name}: a hyperlink")
            if name.endswith(".rels") and HYPERLINK_REL.search(text):
                problems.append(f"{name}: a hyperlink relationship")
    return problems


def strings_in(path: Path) -> set[str]:
    """Every text cell of a workbook, as read back (and structure: no formula or error value may exist)."""
    book = read_file(path).book
    assert book is not None, path
    assert all(not s.formulas and not s.errors for s in book.sheets), path
    return {v for s in book.sheets for _, _, v in s.cells() if isinstance(v, str)}


def numbers_in(path: Path) -> set[float]:
    book = read_file(path).book
    assert book is not None
    return {float(v) for s in book.sheets for _, _, v in s.cells() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def test_every_workbook_written_holds_typed_text_as_text(outputs: Outputs) -> None:
    books = outputs.workbooks()
    kinds = {_kind(p) for p in books}
    assert {"lead workbook", "distribution list", "master appendix", "appendix", "chase list", "export",
            "review", "import report"} <= kinds, kinds
    for path in books:
        assert xml_problems(path) == [], path
        strings = strings_in(path)
        joined = "\n".join(strings)
        found = [p for p in PAYLOADS if shown(p) and shown(p) in joined]
        assert found, f"{path.name}: no typed text found in it, so the check would prove nothing"
        figures.add("output_checks", len(found))
    # "-2", "+1+1" and "=1+1" were typed as text: they are never stored as the numbers they spell
    for path in books:
        if _kind(path) in ("master appendix", "lead workbook", "export"):
            assert -2.0 not in numbers_in(path), path


def _kind(path: Path) -> str:
    name = path.name
    if name == "master.xlsx":
        return "master appendix"
    if name.startswith("distribution-list"):
        return "distribution list"
    if name.startswith("chase-list"):
        return "chase list"
    if name.startswith("appendix-"):
        return "appendix"
    if name.startswith("import-"):
        return "import report"
    if name == "export.xlsx":
        return "export"
    if name == "review.xlsx":
        return "review"
    return "lead workbook"


def test_each_payload_reaches_the_workbooks_as_the_text_typed(outputs: Outputs) -> None:
    """Every payload is somewhere in the written workbooks, exactly as typed (after the shared text rule)."""
    everything = set().union(*(strings_in(p) for p in outputs.workbooks()))
    text = "\n".join(everything)
    for payload in PAYLOADS:
        assert shown(payload) in text, repr(payload)
    assert visible_controls("\x01") in text and "\x01" not in text  # a control character made visible
    assert any(s.startswith(TITLE) for s in everything)


def test_every_csv_escapes_cells_a_spreadsheet_would_run(outputs: Outputs) -> None:
    files = outputs.csvs()
    assert {p.name for p in files} >= {"distribution-list.csv", "chase-list.csv"}
    for path in files:
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        cells = [c for row in rows for c in row]
        for cell in cells:
            assert not cell.startswith(FORMULA_TRIGGERS), (path.name, cell)
            assert cell.strip().upper() not in ERROR_LITERALS, (path.name, cell)
        assert any(c.startswith("'") for c in cells), f"{path.name}: no typed text to escape, the check proves nothing"
        figures.add("output_checks", sum(c.startswith("'") for c in cells))


ERROR_LITERALS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "#SPILL!",
                  "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!"}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_cells_are_safe_and_lose_nothing(payload: str) -> None:
    """csv_bytes, cell by cell: what a spreadsheet would run or show as an error gets an apostrophe; the rest
    is the text exactly (controls made visible)."""
    data = csv_bytes(["Lead", "Text"], [["Lead", payload]]).decode("utf-8-sig")
    [_, [lead, cell]] = list(csv.reader(io.StringIO(data)))
    text = visible_controls(payload)
    escaped = text.startswith(FORMULA_TRIGGERS) or text.strip().upper() in ERROR_LITERALS
    assert cell == ("'" + text if escaped else text) and csv_safe(payload) == cell
    figures.add("output_checks")


def test_text_files_hold_the_typed_text(outputs: Outputs) -> None:
    """Please-fix notes, reports and e-mail drafts are text: the typed text is there, nothing crashed."""
    files = outputs.texts()
    kinds = {p.suffix for p in files}
    assert {".txt", ".json", ".eml"} <= kinds, kinds
    notes = [p for p in files if p.name.startswith("please-fix")] + [p for p in files if p.suffix == ".json"]
    assert notes


# ---- control characters and text longer than a cell ------------------------------------------------------

def test_control_characters_never_crash_a_write(tmp_path: Path) -> None:
    """Every control character, in every field, through every workbook writer: no IllegalCharacterError,
    and each is shown as its visible picture."""
    from hwbs_xl.issue.generate import generate
    from hwbs_xl.plan.export import export_xlsx
    from hwbs_xl.returns.merge import regenerate_master

    from test_returns_support import plan_copy

    paths = plan_copy(tmp_path)
    controls = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\x7f"
    with Register.open(paths) as reg, reg.batch("edit", command="test") as b:
        b.put("actions", {"id": "KA2-02", "activity": f"Monitors {controls} near schools"})
        b.put("updates", {"action_id": "KA2-02", "cycle": HISTORY, "progress": f"History {controls} text"})
        b.put("updates", {"action_id": "KA2-02", "cycle": CYCLE, "status": "on_target", "status_raw": ON_TARGET,
                          "progress": f"Now {controls} text"})
    master = regenerate_master(paths)
    issued = generate(paths, now=NOW, example_contact=True, reissue=True, command="test")  # KA2-02 changed
    assert issued.files
    with Register.open(paths) as reg:
        exported = export_xlsx(reg, tmp_path / "export.xlsx")
    for path in [master, exported, *issued.files]:
        text = "\n".join(strings_in(path))
        assert xml_problems(path) == [] and "\x01" not in text
        if "KA2-02" in text or path == master:
            assert visible_controls(controls) in text, path.name
        figures.add("output_checks")


LONG = "Long report. " * 3_000  # 39,000 characters: more than one cell holds


def test_text_longer_than_a_cell_is_never_cut_silently(tmp_path: Path) -> None:
    """A 39,000-character progress report in the register: the master appendix carries all of it (split
    over continuation rows); a lead workbook or export that would need it in one cell refuses with
    text-too-long naming the action, and writes nothing."""
    from hwbs_xl.issue.generate import generate
    from hwbs_xl.plan.export import export_xlsx
    from hwbs_xl.returns.merge import regenerate_master

    from test_returns_support import issued_files, plan_copy

    paths = plan_copy(tmp_path)
    with Register.open(paths) as reg, reg.batch("edit", command="test") as b:
        b.put("updates", {"action_id": "KA2-02", "cycle": CYCLE, "status": "on_target", "status_raw": ON_TARGET,
                          "progress": LONG.strip()})
        b.put("updates", {"action_id": "KA1-01", "cycle": CYCLE, "status": "on_target", "status_raw": ON_TARGET,
                          "progress": LONG.strip()})
        b.put("updates", {"action_id": "KA2-03", "cycle": HISTORY, "progress": LONG.strip()})
    master = regenerate_master(paths)
    cells = [v for s in read_file(master).book.sheets for _, _, v in s.cells() if isinstance(v, str)]  # type: ignore[union-attr]
    # both of this cycle's long reports whole (the previous cycle's reports print only while nobody has reported)
    assert sum(c.count("Long report.") for c in cells) >= 2 * 3_000
    before = {p: p.read_bytes() for p in issued_files(paths).values()}
    with pytest.raises(InvalidData) as refused:
        generate(paths, now=NOW, example_contact=True, command="test")
    assert refused.value.code == "text-too-long" and "KA2-03" in refused.value.message
    assert {p: p.read_bytes() for p in before} == before  # nothing half-issued
    with Register.open(paths) as reg, pytest.raises(InvalidData) as too_long:
        export_xlsx(reg, tmp_path / "export.xlsx")
    assert too_long.value.code == "text-too-long" and not (tmp_path / "export.xlsx").exists()
    figures.add("output_checks", 3)
    figures.add("loss_checks")
