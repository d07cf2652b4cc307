"""The bad-input catalogue: every row of the shared table of bad inputs and faults (bad-inputs.md, copied in
docs/testing.md), plus the cases it lacks, as one automated case each.

A case makes its input at test time: a workbook the tool issued, filled the way a lead does (openpyxl) and
then changed the way another program, a bad download or an attacker changes it (tests/badfiles.py edits the
zip and its XML); or a file from the foreign corpus (tests/data/foreign, real Excel/LibreOffice/others).
Then the real command runs (merge, or import for appendices) and every case asserts:

- its own finding code(s), naming the file;
- the register afterwards: unchanged (``Register.fingerprint()`` equal), or, for a refused file, the plan's
  data unchanged with the file recorded as rejected and kept byte for byte as evidence, or, for a
  recoverable file, fully updated with exactly the values typed (and the master appendix rebuilt with them);
- every issued action of a readable return accounted for in the report (taken, or a finding saying why not);
- the input files untouched (SHA-256 before and after), and no temporary file left in the plan folder.

Rows already covered by another test module still have a case here, built with that module's builders.
Faults (rows 34-37) run the fault-injection suite's scenarios once each; test_faults.py runs them many times.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from hwbs_xl.errors import OutputLocked
from hwbs_xl.findings import ERROR, INFO, Finding
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register
from hwbs_xl.returns.merge import MergeResult, merge
from hwbs_xl.safeio import office_lock_file
from hwbs_xl.sheets import limits
from hwbs_xl.sheets.reader import read_file
from hwbs_xl.text import normalise, squash, visible_controls

import figures
from badfiles import Package, data_tables, fingerprint, sha, shas, temps
from conftest import hwbs_command
from test_returns_support import CHILDREN, CYCLE, DPH, HISTORY, HOUSING, Cells, issued_files, plan_copy, read_manifest

FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"
SHARED_TABLE = Path(__file__).resolve().parents[2] / "shared" / "docs" / "bad-inputs.md"
TODAY = date(2024, 10, 10)
ROWS = 42

ON_TARGET = "On target to be achieved by target date"
DELAYED = "Delayed achievement by target date"
P1 = "Café sessions ran in 12 wards – £4,500 spent.\nNext: “walk and talk” in Zoë’s team."
P2 = "Monitors installed at 6 schools; readings weekly."
P3 = "Waiting for the ICB’s data-sharing agreement."
C3 = "Call José on 020 8359 2000 – “any time”."
ANSWERS = {("KA1-02", "new_status"): "Completed", ("KA1-02", "new_progress"): P1,
           ("KA2-02", "new_status"): ON_TARGET, ("KA2-02", "new_progress"): P2,
           ("KA2-03", "new_status"): DELAYED, ("KA2-03", "new_progress"): P3,
           ("KA2-03", "revised_finish"): datetime(2026, 3, 31), ("KA2-03", "comment"): C3}
TAKEN = {"KA1-02": {"status": "completed", "progress": P1},
         "KA2-02": {"status": "on_target", "progress": P2},
         "KA2-03": {"status": "delayed", "progress": P3, "revised_finish": "2026-03", "comment": C3}}

UNCHANGED, REJECTED, UPDATED = "unchanged", "rejected", "updated"


# ---- the environment a case builds its inputs in ---------------------------------------------------------

class Env:
    """A fresh copy of the test plan (three leads' workbooks issued for October 2024) and a folder outside
    it for the files a lead sends back."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.paths = plan_copy(tmp)
        self.inbox = tmp / "received"
        self.inbox.mkdir()
        self.sender: str | None = None

    def issued(self, lead: str = DPH) -> Path:
        return issued_files(self.paths)[lead]

    def cells(self, lead: str = DPH) -> Cells:
        return Cells(read_manifest(self.issued(lead)))

    def ref(self, action: str, key: str, lead: str = DPH) -> str:
        return self.cells(lead).of(action, key)

    def filled(self, answers: dict[tuple[str, str], Any] | None = None, *, lead: str = DPH,
               name: str | None = None, change: Callable[[Any, Cells], None] | None = None) -> Path:
        """The lead's issued workbook with ``answers`` typed in (openpyxl, as a script or Google Sheets
        would save it); ``change(wb, cells)`` edits the workbook further before it is saved."""
        from openpyxl import load_workbook

        c = self.cells(lead)
        wb = load_workbook(self.issued(lead))
        if change is not None:
            change(wb, c)
        for (action, key), value in (ANSWERS if answers is None else answers).items():
            wb[c.sheet][c.of(action, key)] = value
        dest = self.inbox / (name or f"{lead.split()[0]} return.xlsx")
        wb.save(dest)
        return dest

    def package(self, answers: dict[tuple[str, str], Any] | None = None, **kw: Any) -> Package:
        return Package.of(self.filled(answers, **kw))

    def save(self, pkg: Package, name: str, **kw: Any) -> Path:
        return pkg.save(self.inbox / name, **kw)

    def write(self, name: str, data: bytes) -> Path:
        path = self.inbox / name
        path.write_bytes(data)
        return path

    def foreign(self, name: str) -> Path:
        return self.write(name, (FOREIGN / name).read_bytes())


# ---- a case, and how it is run ---------------------------------------------------------------------------

@dataclass
class Case:
    id: str  # "NN-what": NN is the row of the shared table (x for a case the table lacks)
    make: Callable[[Env], list[Path]]
    codes: tuple[str, ...]  # finding codes that must be reported
    outcome: str = UPDATED  # unchanged | rejected | updated
    taken: dict[str, dict[str, Any]] = field(default_factory=dict)  # updates the register must hold after
    absent: tuple[str, ...] = ()  # finding codes that must NOT be reported (no false alarms)
    check: Callable[[Env, MergeResult], None] | None = None  # further assertions on the outcome
    marks: tuple[Any, ...] = ()

    @property
    def row(self) -> str:
        return self.id.split("-", 1)[0]


def run_merge(env: Env, inputs: list[Path]) -> MergeResult:
    return merge(env.paths, inputs, command="pytest bad input", today=TODAY, sender=env.sender)


def updates_now(paths: PlanPaths) -> dict[tuple[str, str], dict[str, Any]]:
    with Register.open(paths) as reg:
        return {(r["action_id"], r["cycle"]): dict(r) for r in reg.conn.execute("SELECT * FROM updates")}


def assert_every_action_reported(result: MergeResult) -> None:
    """Each issued action of a readable return is in the report: a row read, or a finding about it."""
    for check in result.validation.checks:
        if check.rejected:
            assert check.findings and all(f.file == check.name for f in check.findings)
            continue
        told = {r.action_id for r in check.rows} | {f.action_id for f in check.findings if f.action_id}
        assert set(check.issued_ids) <= told, (check.name, set(check.issued_ids) - told)


def master_text(paths: PlanPaths) -> str:
    book = read_file(paths.master).book
    assert book is not None, "the master appendix workbook must open"
    return squash(" ".join(str(v) for s in book.sheets for _, _, v in s.cells()))


def assert_outcome(case: Case, env: Env, result: MergeResult, before: dict[str, Any]) -> None:
    paths = env.paths
    if case.outcome == UNCHANGED:
        assert fingerprint(paths) == before["fingerprint"]
        return
    after = updates_now(paths)
    if case.outcome == REJECTED:
        assert data_tables(paths) == before["data"], "a refused file changed the plan's data"
        assert all(o.state == "rejected" for o in result.files), [o.state for o in result.files]
        with Register.open(paths) as reg:
            rows = {r["sha256"]: dict(r) for r in reg.conn.execute("SELECT * FROM returns")}
        for o in result.files:
            if not o.check.sha256:  # refused before a byte was read: nothing to record or keep
                continue
            assert rows[o.check.sha256]["state"] == "rejected"
            if o.check.bytes_read:  # kept byte for byte as evidence (the inputs are left untouched)
                assert (paths.root / rows[o.check.sha256]["stored_path"]).read_bytes() == o.check.path.read_bytes()
        return
    expected = {(a, CYCLE): want for a, want in case.taken.items()}
    for key, want in expected.items():
        assert key in after, f"{key} was not taken"
        got = {k: after[key][k] for k in want}
        assert got == want, key
    for key, row in before["updates"].items():  # nothing else changed (history, other leads)
        if key not in expected:
            assert after.get(key, {}).get("progress") == row["progress"], key
            assert after.get(key, {}).get("status_raw") == row["status_raw"], key
    assert set(after) - set(before["updates"]) <= set(expected), "an update nobody typed appeared"
    text = master_text(paths)  # the master appendix is rebuilt from the register
    for want in case.taken.values():
        if want.get("progress"):
            assert squash(visible_controls(want["progress"])) in text


def run_case(case: Case, tmp: Path) -> None:
    env = Env(tmp)
    inputs = case.make(env)
    input_shas = shas(p for p in inputs if p.is_file() and not p.is_symlink())
    before = {"fingerprint": fingerprint(env.paths), "data": data_tables(env.paths),
              "updates": updates_now(env.paths)}
    result = run_merge(env, inputs)
    codes = [f.code for f in result.report]
    for code in case.codes:
        assert code in codes, (code, codes)
    for code in case.absent:
        assert code not in codes, (code, codes)
    for f in result.report:
        assert "Traceback" not in f.message and "BadZipFile" not in f.message and f.file, f
    assert_every_action_reported(result)
    assert_outcome(case, env, result, before)
    if case.check is not None:
        case.check(env, result)
    assert shas(input_shas) == input_shas, "an input file was changed"
    assert temps(env.paths.root) == []


def one(result: MergeResult, code: str) -> Finding:
    found = [f for f in result.report if f.code == code]
    assert len(found) == 1, (code, [f.code for f in result.report])
    return found[0]


# ---- rows 1-9: what the file is ------------------------------------------------------------------------

def _message_says(code: str, *words: str, never: tuple[str, ...] = ()) -> Callable[[Env, MergeResult], None]:
    def check(env: Env, result: MergeResult) -> None:
        f = next(f for f in result.report if f.code == code)
        for w in words:
            assert w in f.message, (w, f.message)
        for w in never:
            assert w not in f.message, (w, f.message)
    return check


def _xlsm(env: Env) -> list[Path]:
    """The lead's return turned into a macro-enabled workbook carrying a real VBA project (from Excel)."""
    pkg = env.package()
    with zipfile.ZipFile(FOREIGN / "xw_macro01.xlsm") as z:
        pkg.put("xl/vbaProject.bin", z.read("xl/vbaProject.bin"))
    pkg.sub("[Content_Types].xml", r"spreadsheetml\.sheet\.main\+xml", "ms-excel.sheet.macroEnabled.main+xml")
    pkg.sub("[Content_Types].xml", r"</Types>", '<Default Extension="bin" ContentType='
            '"application/vnd.ms-office.vbaProject"/></Types>')
    pkg.sub("xl/_rels/workbook.xml.rels", r"</Relationships>", '<Relationship Id="rIdVba" Type="http://schemas.'
            'microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    return [env.save(pkg, "Director return.xlsm")]


def _no_macros_kept(env: Env, result: MergeResult) -> None:
    with zipfile.ZipFile(env.paths.master) as z:
        assert not any("vba" in n.lower() for n in z.namelist())


def _truncated(env: Env) -> list[Path]:
    data = env.filled().read_bytes()
    return [env.write("cut short.xlsx", data[: len(data) // 2])]


def _damaged_part(env: Env) -> list[Path]:
    pkg = env.package()
    part = pkg.sheet("Update")
    pkg.put(part, pkg.parts[part][:-200])
    return [env.save(pkg, "damaged.xlsx")]


def _names_part(part: str, said: str | None = None) -> Callable[[Env, MergeResult], None]:
    def check(env: Env, result: MergeResult) -> None:
        f = next(f for f in result.report if f.code == "file-corrupt")
        assert f.detail.get("part") == part and (said or part) in f.message, f
    return check


def _backslashes(env: Env) -> list[Path]:
    return [env.save(env.package(), "backslashes.xlsx", rename=lambda n: n.replace("/", "\\"))]


def _strict_has_sheets(env: Env, result: MergeResult) -> None:
    book = read_file(result.validation.checks[0].path).book  # merge keeps no sheets: read the file again
    assert book is not None and book.sheets and book.sheets[0].filled_rows() > 0  # never "0 sheets"


# ---- rows 10-15: hostile and odd packages ----------------------------------------------------------------

LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((n,) + (p,) * 10)
                     for p, n in zip(b"abcdefgh", b"bcdefghi"))
          + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
            b"<si><t>&i;</t></si></sst>")


def _billion_laughs(env: Env) -> list[Path]:
    pkg = env.package()
    pkg.shared_strings()
    pkg.put("xl/sharedStrings.xml", LAUGHS)
    return [env.save(pkg, "laughs.xlsx")]


MEMORY_PROBE = ("import resource, sys\nfrom pathlib import Path\nfrom hwbs_xl.sheets.reader import read_file\n"
                "r = read_file(Path(sys.argv[1]))\n"
                "print(','.join(f.code for f in r.findings), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")


def _memory_flat(env: Env, result: MergeResult) -> None:
    """Reading the file costs no more memory than reading a clean return (each in a fresh process, so the
    peak is this read's own): 10^9 entity expansions were never made."""
    import subprocess
    import sys

    import openpyxl

    assert openpyxl.DEFUSEDXML is True  # openpyxl, wherever it reads XML, has entity expansion off
    peaks = {}
    for path in (env.inbox / "laughs.xlsx", env.filled(name="clean.xlsx")):
        out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path)], capture_output=True, text=True,
                             timeout=120, check=True).stdout.split()
        peaks[path.name] = (out[0] if len(out) > 1 else "", int(out[-1]))
    assert peaks["laughs.xlsx"][0] == "file-unsafe-xml" and peaks["clean.xlsx"][0] == ""
    assert peaks["laughs.xlsx"][1] - peaks["clean.xlsx"][1] < 50 * 1024, peaks  # kB: flat


def _gigabyte_of_zeros(env: Env) -> list[Path]:
    pkg = env.package()
    out = env.inbox / "bomb.xlsx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in pkg.parts.items():
            z.writestr(name, data)
        with z.open("xl/worksheets/zeros.xml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(1024):
                fh.write(chunk)
    return [out]


def _limit_named(code: str, limit: str) -> Callable[[Env, MergeResult], None]:
    def check(env: Env, result: MergeResult) -> None:
        f = next(f for f in result.report if f.code == code)
        assert f.detail.get("limit") == limit, f.detail
    return check


def _many_entries(env: Env) -> list[Path]:
    pkg = env.package()
    for i in range(5_000):
        pkg.put(f"customXml/item{i}.xml", b"<a/>")
    return [env.save(pkg, "entries.xlsx")]


def _row_bomb(env: Env) -> list[Path]:
    from test_reader import _row_bomb as rows  # the reader suite's own row bomb

    pkg = env.package()
    pkg.put(pkg.sheet("Update"), rows(1_000_000))
    return [env.save(pkg, "row bomb.xlsx")]


def _dimension(ref: str | None) -> Callable[[Env], list[Path]]:
    def make(env: Env) -> list[Path]:
        pkg = env.package()
        for sheet in pkg.sheet_names():
            pkg.set_dimension(sheet, ref)
        return [env.save(pkg, f"dimension {ref}.xlsx".replace(":", "-"))]
    return make


# ---- rows 17-32: what a lead does to the workbook ------------------------------------------------------

HISTORY_EDIT = "We always said it would be late."


def _history_edited(env: Env) -> list[Path]:
    pkg = env.package()
    pkg.unprotect()
    pkg.set_text("Update", env.ref("KA2-02", f"progress@{HISTORY}"), HISTORY_EDIT)
    return [env.save(pkg, "tampered.xlsx")]


def _history_kept(env: Env, result: MergeResult) -> None:
    f = one(result, "locked-value-changed")
    assert f.detail["returned"] == HISTORY_EDIT and f.detail["issued"] and f.cell == env.ref("KA2-02", f"progress@{HISTORY}")
    with Register.open(env.paths) as reg:
        assert reg.update("KA2-02", HISTORY).progress == f.detail["issued"]  # type: ignore[union-attr]
    report = (env.paths.reports / "October-2024" / "merge-report.json").read_text(encoding="utf-8")
    assert HISTORY_EDIT in report  # the lead's value is in the report


def _manifest_text(pkg: Package, old: str, new: str) -> None:
    part = pkg.sheet("_hwbs_manifest")
    pkg.sub(part, rf"<t>{re.escape(old)}</t>", f"<t>{new}</t>", count=1)


def _manifest_deleted(env: Env) -> list[Path]:
    pkg = env.package()
    part = pkg.sheet("_hwbs_manifest")
    del pkg.parts[part]
    pkg.sub("xl/workbook.xml", r'<sheet\b[^>]*name="_hwbs_manifest"[^>]*/>', "")
    pkg.sub("[Content_Types].xml", rf'<Override PartName="/{re.escape(part)}"[^>]*/>', "")
    pkg.sub("xl/_rels/workbook.xml.rels", rf'<Relationship\b[^>]*Target="/?(xl/)?{re.escape(part[3:])}"[^>]*/>', "")
    return [env.save(pkg, "no manifest.xlsx")]


def _manifest_edited(env: Env) -> list[Path]:
    pkg = env.package()
    _manifest_text(pkg, DPH, "Head of Housing")
    return [env.save(pkg, "edited manifest.xlsx")]


def _manifest_transplanted(env: Env) -> list[Path]:
    pkg = env.package()
    other = Package.of(env.filled({}, lead=CHILDREN))
    pkg.put(pkg.sheet("_hwbs_manifest"), other.parts[other.sheet("_hwbs_manifest")])
    return [env.save(pkg, "transplanted.xlsx")]


def _another_leads_file(env: Env) -> list[Path]:
    data = env.filled().read_bytes()
    return [env.write(env.issued(HOUSING).name, data)]  # sent in under Housing's workbook name


def _renamed_with_summary(env: Env) -> list[Path]:
    """What Apple Numbers does: sheets renamed after their tables, an "Export Summary" sheet first."""
    pkg = env.package()
    pkg.rename_sheet("Update", "Update - Table 1")
    pkg.add_sheet("Export Summary", {"A1": "Export Summary", "A3": "Update - Table 1", "B3": "KA2-02"}, index=0)
    return [env.save(pkg, "numbers.xlsx")]


def _sorted_rows(env: Env) -> list[Path]:
    def swap(wb: Any, c: Cells) -> None:
        ws = wb[c.sheet]
        r5, r7 = c.manifest.row_for("KA1-02").row, c.manifest.row_for("KA2-03").row  # type: ignore[union-attr]
        first, third = [x.value for x in ws[r5]], [x.value for x in ws[r7]]
        for i, (a, b) in enumerate(zip(first, third), start=1):
            ws.cell(r5, i, b)
            ws.cell(r7, i, a)
    path = env.filled({}, change=swap, name="sorted.xlsx")
    # type the answers on the rows where the actions now are (KA1-02 and KA2-03 swapped places)
    from openpyxl import load_workbook

    c = env.cells()
    wb = load_workbook(path)
    where = {"KA1-02": c.manifest.row_for("KA2-03").row, "KA2-02": c.manifest.row_for("KA2-02").row,  # type: ignore[union-attr]
             "KA2-03": c.manifest.row_for("KA1-02").row}  # type: ignore[union-attr]
    for (action, key), value in ANSWERS.items():
        wb[c.sheet][f"{c.manifest.columns[key]}{where[action]}"] = value
    wb.save(path)
    return [path]


def _deleted_row(env: Env) -> list[Path]:
    def delete(wb: Any, c: Cells) -> None:
        wb[c.sheet].protection.sheet = False
        wb[c.sheet].delete_rows(c.manifest.row_for("KA2-02").row)  # type: ignore[union-attr]
    answers = {k: v for k, v in ANSWERS.items() if k[0] != "KA2-02"}
    # after the deletion KA2-03 sits one row higher: type its answers there
    path = env.filled({}, change=delete, name="deleted row.xlsx")
    from openpyxl import load_workbook

    c = env.cells()
    wb = load_workbook(path)
    for (action, key), value in answers.items():
        row = c.manifest.row_for(action).row - (action == "KA2-03")  # type: ignore[union-attr]
        wb[c.sheet][f"{c.manifest.columns[key]}{row}"] = value
    wb.save(path)
    return [path]


def _duplicated_row(env: Env) -> list[Path]:
    def duplicate(wb: Any, c: Cells) -> None:
        ws = wb[c.sheet]
        r6 = c.manifest.row_for("KA2-02").row  # type: ignore[union-attr]
        for i, x in enumerate(ws[r6], start=1):
            ws.cell(r6 + 4, i, x.value)
        ws.cell(r6 + 4, 9, "Completed")
        ws.cell(r6 + 4, 10, "A second opinion on the same action.")
    return [env.filled(change=duplicate, name="duplicated.xlsx")]


def _inserted_rows(env: Env) -> list[Path]:
    def insert(wb: Any, c: Cells) -> None:
        ws = wb[c.sheet]
        last = c.manifest.rows[-1].row
        ws.cell(last + 2, 1, "KA9-99")
        ws.cell(last + 2, 9, "Completed")
        ws.cell(last + 3, 10, "A progress report typed on a row with no action ID.")
    return [env.filled(change=insert, name="inserted.xlsx")]


def _status_pasted(env: Env) -> list[Path]:
    return [env.filled({**ANSWERS, ("KA1-02", "new_status"): "Finished"})]


def _status_listed(env: Env, result: MergeResult) -> None:
    f = one(result, "status-not-in-list")
    assert f.value == "Finished" and "Completed" in f.detail["allowed"] and f.action_id == "KA1-02"


def _dates_readable(env: Env) -> list[Path]:
    return [env.filled({**ANSWERS, ("KA1-02", "new_status"): DELAYED, ("KA1-02", "revised_finish"): "31/03/2026",
                        ("KA2-02", "new_status"): DELAYED, ("KA2-02", "revised_finish"): 46112,  # General format
                        ("KA2-03", "revised_finish"): "2026-03-31"})]


def _dates_unreadable(env: Env) -> list[Path]:
    return [env.filled({**ANSWERS, ("KA1-02", "new_status"): DELAYED, ("KA1-02", "revised_finish"): "1/6",
                        ("KA2-02", "new_status"): DELAYED, ("KA2-02", "revised_finish"): datetime(2300, 1, 31),
                        ("KA2-03", "revised_finish"): "next spring"})]


def _raw_dates_kept(env: Env, result: MergeResult) -> None:
    raw = {f.action_id: f.value for f in result.report if f.code == "date-unparseable"}
    assert raw["KA1-02"] == "1/6" and raw["KA2-03"] == "next spring" and raw["KA2-02"].startswith("2300-01-31")


def _date1904(env: Env) -> list[Path]:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    def mac(wb: Any, c: Cells) -> None:
        wb.epoch = CALENDAR_MAC_1904
    return [env.filled({**ANSWERS, ("KA1-02", "new_status"): DELAYED,
                        ("KA1-02", "revised_finish"): datetime(1904, 1, 1)},  # serial 0 in the 1904 system
                       change=mac, name="mac 1904.xlsx")]


def _serial_zero_not_a_time(env: Env, result: MergeResult) -> None:
    book = read_file(result.validation.checks[0].path).book  # merge keeps no sheets: read the file again
    assert book is not None and book.date1904
    f = next(f for f in result.report if f.code == "date-before-start")  # 1 Jan 1904, not a time of day
    assert f.action_id == "KA1-02" and f.value == "1904-01"


def _formula_typed(env: Env) -> list[Path]:
    return [env.filled({**ANSWERS, ("KA2-02", "new_progress"): "=1+1"})]


def _xml_has_no_formula_or_link(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml, name
            assert "hyperlink" not in z.read(name).decode("utf-8", "replace") or not name.endswith(".rels"), name


def _formula_kept_as_text(env: Env, result: MergeResult) -> None:
    assert one(result, "formula-in-text-cell").value == "=1+1"
    _xml_has_no_formula_or_link(env.paths.master)
    assert "=1+1" in master_text(env.paths)


PAYLOADS = ["=cmd|'/c calc'!A0", "+1+1", "-2", "@SUM(1)", "\t=1", "\r=1", "#N/A", "external:c:\\x.exe",
            "http://example.org/payload"]


PAYLOAD_SLOTS = [(DPH, a, k) for a in ("KA1-02", "KA2-02", "KA2-03") for k in ("new_progress", "comment")] + [
    (HOUSING, "KA2-01", "new_progress"), (HOUSING, "KA2-01", "comment"), (CHILDREN, "KA1-01", "new_progress")]
PAYLOADS_TAKEN: dict[str, dict[str, Any]] = {}
for (_lead, _action, _key), _payload in zip(PAYLOAD_SLOTS, PAYLOADS):
    PAYLOADS_TAKEN.setdefault(_action, {"status": "on_target"})[_key.replace("new_", "")] = normalise(_payload)


def _payloads(env: Env) -> list[Path]:
    """Every injection payload in a progress or comment cell, typed the way Excel stores it: the DDE string
    as a formula (with its error result), #N/A as an error value, the URL as text with a hyperlink."""
    slots = PAYLOAD_SLOTS
    by_lead: dict[str, dict[tuple[str, str], str]] = {}
    for (lead, action, key), payload in zip(slots, PAYLOADS):
        by_lead.setdefault(lead, {})[(action, key)] = payload
    files = []
    for lead, cells in by_lead.items():
        answers = {(a, "new_status"): ON_TARGET for a, _ in cells}
        pkg = env.package(answers, lead=lead)
        for (action, key), payload in cells.items():
            ref = env.ref(action, key, lead)
            if payload.startswith("=cmd"):
                pkg.set_cell("Update", ref, "<f>cmd|'/c calc'!A0</f><v>#REF!</v>", t="e")
            elif payload == "#N/A":
                pkg.set_cell("Update", ref, "<v>#N/A</v>", t="e")
            else:
                pkg.set_text("Update", ref, payload)
                if payload.startswith("http"):
                    part = pkg.sheet("Update")
                    pkg.sub(part, r"(<pageMargins)", f'<hyperlinks><hyperlink ref="{ref}" r:id="rIdLink"/>'
                            r"</hyperlinks>\1", count=1)
                    pkg.sub(part, r"<worksheet ", '<worksheet xmlns:r="http://schemas.openxmlformats.org/'
                            'officeDocument/2006/relationships" ', count=1)
                    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
                    pkg.put(rels, '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                            'openxmlformats.org/package/2006/relationships"><Relationship Id="rIdLink" Type="http://'
                            'schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="'
                            f'{payload}" TargetMode="External"/></Relationships>')
        files.append(env.save(pkg, f"{lead.split()[0]} payloads.xlsx"))
    return files


def _payloads_are_text(env: Env, result: MergeResult) -> None:
    with Register.open(env.paths) as reg:
        stored = [t for u in reg.updates(cycle=CYCLE) for t in (u.progress, u.comment) if t]
    for payload in PAYLOADS:
        want = "=cmd|'/c calc'!A0" if payload.startswith("=cmd") else normalise(payload)
        assert want in stored, payload
    _xml_has_no_formula_or_link(env.paths.master)
    text = master_text(env.paths)  # the appendix prints progress reports (comments are for the coordinator)
    with Register.open(env.paths) as reg:
        assert all(squash(u.progress) in text for u in reg.updates(cycle=CYCLE) if u.progress)
    figures.add("output_checks", len(PAYLOADS))


def _escapes(env: Env) -> list[Path]:
    pkg = env.package({("KA1-02", "new_status"): "Completed", ("KA2-02", "new_status"): ON_TARGET})
    pkg.set_text("Update", env.ref("KA1-02", "new_progress"), "Line A\r\nLine B from Windows")
    pkg.set_text("Update", env.ref("KA2-02", "new_progress"), "The code _x0041_ stays as typed, and _x005F_ too.")
    pkg.shared_strings()  # as Excel stores text
    return [env.save(pkg, "escapes.xlsx")]


def _control_chars(env: Env) -> list[Path]:
    pkg = env.package({("KA2-02", "new_status"): ON_TARGET})
    pkg.set_text("Update", env.ref("KA2-02", "new_progress"), "Done.\x0bNext line from Word\x01end")
    return [env.save(pkg, "controls.xlsx")]


LONG = "£" + "ab " * 14_000  # 42,001 characters: more than a cell holds, as another program may write


def _too_long(env: Env) -> list[Path]:
    pkg = env.package({k: v for k, v in ANSWERS.items() if k != ("KA2-02", "new_progress")})
    pkg.set_text("Update", env.ref("KA2-02", "new_progress"), LONG)
    return [env.save(pkg, "long.xlsx")]


def _long_text_in_report(env: Env, result: MergeResult) -> None:
    f = one(result, "text-truncated")
    assert f.value == LONG.strip() and f.severity == ERROR
    report = json.loads((env.paths.reports / "October-2024" / "merge-report.json").read_text(encoding="utf-8"))
    assert any(x.get("value") == LONG.strip() for file in report["files"] for x in file["findings"])


def _whitespace(env: Env) -> list[Path]:
    pkg = env.package({("KA1-02", "new_progress"): "   ", ("KA2-02", "new_status"): ON_TARGET,
                       ("KA2-02", "new_progress"): "  Done.  \n"})
    history = env.ref("KA2-03", f"progress@{HISTORY}")
    issued = re.search(r"<t[^>]*>(.*?)</t>", pkg.cell("Update", history) or "", re.S)
    assert issued is not None
    pkg.set_text("Update", history, "  " + issued.group(1).replace("&amp;", "&") + "  ", escaped=True)
    pkg.set_text("Update", env.ref("KA2-03", "comment"), "", escaped=True)  # '' rather than an empty cell
    return [env.save(pkg, "whitespace.xlsx")]


def _merged(env: Env) -> list[Path]:
    pkg = env.package()
    pkg.merge_cells("Update", f"{env.ref('KA2-02', 'new_progress')}:{env.ref('KA2-02', 'revised_finish')}")
    return [env.save(pkg, "merged.xlsx")]


def _new_cell_types(env: Env) -> list[Path]:
    """A picture in a cell (#VALUE! with a value-metadata index), a dynamic array, an in-cell checkbox."""
    pkg = env.package({k: v for k, v in ANSWERS.items() if k[1] not in ("new_progress", "comment")})
    pkg.set_cell("Update", env.ref("KA1-02", "new_progress"), "<v>#VALUE!</v>", t="e", vm="1")
    pkg.set_text("Update", env.ref("KA2-02", "new_progress"), P2)
    pkg.set_cell("Update", env.ref("KA2-02", "comment"),
                 f'<f t="array" ref="{env.ref("KA2-02", "comment")}" aca="false">_xlfn._xlws.SORT(A5:A7)</f>'
                 "<v>KA1-02</v>", t="str", cm="1")
    pkg.set_text("Update", env.ref("KA2-03", "new_progress"), P3)
    pkg.set_cell("Update", env.ref("KA2-03", "comment"), "<v>1</v>", t="b", vm="2")
    return [env.save(pkg, "new types.xlsx")]


def _no_object_reprs(env: Env, result: MergeResult) -> None:
    with Register.open(env.paths) as reg:
        texts = [t for u in reg.updates(cycle=CYCLE) for t in (u.progress, u.comment)]
    assert not any("object at" in t or "ArrayFormula" in t for t in texts)


def _broken_styles(env: Env) -> list[Path]:
    pkg = env.package()
    pkg.sub("xl/styles.xml", r"<fill>.*?</fill>", "<fill/>", count=1)
    return [env.save(pkg, "styles.xlsx")]


def _hidden_sheets(env: Env) -> list[Path]:
    pkg = env.package()
    pkg.add_sheet("Old rows", {"A1": "KA2-02", "I1": "Completed", "J1": "An old draft."}, index=3, state="hidden")
    pkg.add_sheet("Scratch", {"A1": "KA1-02", "B1": "notes"}, index=4, state="veryHidden")
    return [env.save(pkg, "hidden sheets.xlsx")]


def _lists_ignored(*names: str) -> Callable[[Env, MergeResult], None]:
    def check(env: Env, result: MergeResult) -> None:
        assert set(names) <= set(one(result, "sheets-extra-ignored").detail["sheets"])
    return check


# ---- rows 33-38: runs, faults and outputs ----------------------------------------------------------------

def _twice(env: Env) -> list[Path]:
    path = env.filled()
    run_merge(env, [path])
    copy = env.write("the same, renamed.xlsx", path.read_bytes())
    return [path, copy]


def _twice_changed_nothing(env: Env, result: MergeResult) -> None:
    assert [o.state for o in result.files] == ["already-merged", "already-merged"] and result.batch_id is None
    with Register.open(env.paths) as reg:
        assert reg.conn.execute("SELECT COUNT(*) FROM returns").fetchone()[0] == 1


def _refused_before_work(lock: Callable[[PlanPaths], Path]) -> Callable[[Env, MergeResult], None]:
    """The case ran a clean merge first (so the register is as before); now the output is locked."""
    def check(env: Env, result: MergeResult) -> None:
        path = env.filled({**ANSWERS, ("KA2-02", "new_progress"): "Second thoughts."}, name="again.xlsx")
        held = lock(env.paths)
        before = fingerprint(env.paths)
        evidence = sorted(env.paths.evidence.iterdir())
        with pytest.raises(OutputLocked, match="open in another program"):
            run_merge(env, [path])
        assert fingerprint(env.paths) == before and sorted(env.paths.evidence.iterdir()) == evidence
        held.unlink()
        assert run_merge(env, [path]).batch_id is not None  # closed: the same run completes
        figures.add("faults_injected")
        figures.add("faults_survived")
    return check


def _lo_lock(paths: PlanPaths) -> Path:
    lock = office_lock_file(paths.master)
    lock.write_text("Coordinator,pc,localhost,01.10.2024 09:00,file:///home;", encoding="utf-8")
    return lock


def _excel_lock(paths: PlanPaths) -> Path:
    lock = paths.master.with_name("~$" + paths.master.name)
    lock.write_bytes(b"\x0bCoordinator" + b"\0" * 153)
    return lock


def _fault(name: str) -> Callable[[Env, MergeResult], None]:
    """Run one scenario of the fault-injection suite on this plan (test_faults.py runs them many times)."""
    def check(env: Env, result: MergeResult) -> None:
        import test_faults

        getattr(test_faults, name)(env.tmp / "fault")
    return check


def _verify_fails(env: Env, result: MergeResult) -> None:
    """Row 38: the master appendix writer drops an action's row; the check after writing catches it, the
    old master.xlsx stays, and the merge result says which check failed."""
    import test_faults

    test_faults.scenario_written_workbook_fails_its_check(env.tmp / "verify")


# ---- rows 39-41: PDF appendices --------------------------------------------------------------------------

def _pdf_case(row: int) -> Callable[[Path], None]:
    def run(tmp: Path) -> None:
        from hwbs_xl.importing.pipeline import import_files
        from test_import_pdf import GLYPHS_2024, SCANNED, _import, _refused

        if row == 39:
            seeded = _import(tmp, [Path(__file__).resolve().parents[1] / "src/hwbs_xl/demo/sample/barnet-2023-04.md"])
            before = sha(SCANNED)
            message = _refused(seeded, SCANNED, "pdf-no-text-layer")  # register unchanged, exit 1, no traceback
            assert "OCR or manual entry" in message and sha(SCANNED) == before
            return
        paths = PlanPaths(tmp / "plan")
        before = sha(GLYPHS_2024)
        result = import_files(paths, [GLYPHS_2024], command="pytest bad input")
        assert sha(GLYPHS_2024) == before and not result.report.errors
        with Register.open(paths) as reg:
            updates = reg.updates(cycle="April 2024")
            flagged = {f.action_id for f in reg.flags(open_only=True) if f.code == "pdf-glyph-unmapped"}
        if row == 40:  # two-line header mapped, repeated headers dropped, cut rows stitched, count reconciled
            assert result.report.of("header-dropped") and result.report.of("row-stitched")
            assert len(updates) == 42 and all(u.source.where.startswith("page ") for u in updates)
            with Register.open(paths) as reg:  # a finish the header mapping missed would be flagged, not lost
                unflagged = {a.id for a in reg.actions() if a.finish is None} - {
                    f.action_id for f in reg.flags(open_only=True) if f.code == "finish-missing"}
            assert not unflagged
        else:  # bullets normalised; (cid:N) and U+FFFD flagged for review, never dropped
            assert len(result.report.of("pdf-glyph-unmapped")) >= 3 and len(flagged) == 3
            assert all(u.needs_review for u in updates if u.action_id in flagged)
            assert not any("\uf0b7" in u.progress for u in updates)
        figures.add("loss_checks")
    return run


# ---- row 42: other programs' exports ---------------------------------------------------------------------

def _google_sheets(env: Env) -> list[Path]:
    """Google Sheets' export: no <dimension>, protection gone, veryHidden saved as hidden."""
    pkg = env.package()
    for sheet in pkg.sheet_names():
        pkg.set_dimension(sheet, None)
    pkg.unprotect()
    pkg.set_state("_hwbs_manifest", "hidden")
    return [env.save(pkg, "google sheets.xlsx")]


def _numbers(env: Env) -> list[Path]:
    """Apple Numbers' export: renamed sheets, an Export Summary sheet first, protection gone, shared strings."""
    pkg = env.package()
    pkg.rename_sheet("Update", "Update - Table 1")
    pkg.rename_sheet("Instructions", "Instructions - Table 1")
    pkg.add_sheet("Export Summary", {"A1": "This document was exported from Numbers."}, index=0)
    pkg.unprotect()
    pkg.set_state("_hwbs_manifest", "hidden")
    pkg.shared_strings()
    return [env.save(pkg, "numbers export.xlsx")]


def _wps(env: Env) -> list[Path]:
    """WPS Office: a wrong (too small) <dimension>, inline strings kept, protection kept."""
    pkg = env.package()
    for sheet in pkg.sheet_names():
        pkg.set_dimension(sheet, "A1:C3")
    return [env.save(pkg, "wps.xlsx")]


# ---- cases the table lacks -------------------------------------------------------------------------------

def _retired(env: Env) -> list[Path]:
    from hwbs_xl.plan.cycle import retire_action

    path = env.filled()
    retire_action(env.paths, "KA2-02", command="pytest retire")  # the coordinator retires it after issue
    return [path]


def _shown_although_retired(env: Env, result: MergeResult) -> None:
    f = one(result, "action-retired")
    assert f.action_id == "KA2-02" and f.severity == INFO


def _symlink(env: Env) -> list[Path]:
    target = env.filled(name="real.xlsx")
    link = env.inbox / "link.xlsx"
    link.symlink_to(target)
    return [link]


def _evidence_is_a_copy(env: Env, result: MergeResult) -> None:
    evidence = result.files[0].evidence
    assert evidence is not None and not evidence.is_symlink() and evidence.read_bytes() == (env.inbox / "real.xlsx").read_bytes()


def _fifo(env: Env) -> list[Path]:
    path = env.inbox / "pipe.xlsx"
    os.mkfifo(path)
    link = env.inbox / "zeros.xlsx"
    link.symlink_to("/dev/zero")
    return [path, link]


def _missing(env: Env) -> list[Path]:
    return [env.inbox / "deleted before the merge.xlsx"]


def _other_plan(env: Env) -> list[Path]:
    """A workbook with the lead's file name but issued by another plan (same leads, another key)."""
    from test_returns_support import build_plan

    other = build_plan(env.tmp / "other plan")
    data = issued_files(other)[DPH].read_bytes()
    return [env.write(env.issued(DPH).name, data)]


def _old_cycle(env: Env) -> list[Path]:
    from hwbs_xl.plan.cycle import open_cycle

    path = env.filled()
    open_cycle(env.paths, "April 2025", date(2025, 4, 18), command="pytest")
    return [path]


def _lead_renamed(env: Env) -> list[Path]:
    from hwbs_xl.plan.cycle import rename_lead

    path = env.filled()
    rename_lead(env.paths, DPH, "Director of Public Health and Prevention", command="pytest")
    return [path]


def _inbox_with_junk(env: Env) -> list[Path]:
    env.filled()
    (env.inbox / ".~lock.Director return.xlsx#").write_text("someone,pc,...", encoding="utf-8")
    (env.inbox / "~$Director return.xlsx").write_bytes(b"\0" * 165)
    (env.inbox / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (env.inbox / ".hidden").mkdir()
    (env.inbox / ".hidden" / "copy.xlsx").write_bytes(b"junk")
    return [env.inbox]


def _only_the_workbook(env: Env, result: MergeResult) -> None:
    assert [c.name for c in result.validation.checks] == ["Director return.xlsx"]


# ---- the catalogue ---------------------------------------------------------------------------------------

LO = (pytest.mark.libreoffice,)
ALL_TAKEN = TAKEN
NO_TAMPER = ("locked-value-changed", "workbook-identity-mismatch", "manifest-signature-invalid", "manifest-missing")


def _lo(fmt: str) -> Callable[[Env], list[Path]]:
    """The lead's return saved by a real LibreOffice as .xls, .ods or .xlsx (one soffice run per format)."""
    def make(env: Env) -> list[Path]:
        from libreoffice import convert

        from conftest import libreoffice_required

        libreoffice_required()
        source = env.filled()
        out = convert(source, fmt, env.tmp / "libreoffice")
        source.unlink()
        return [out]
    return make


CASES = [
    Case("01-encrypted-xlsx", lambda e: [e.foreign("ca_pass_protected.xlsx")], ("file-encrypted",), REJECTED,
         check=_message_says("file-encrypted", "Password to open", never=("BadZipFile", "not a zip"))),
    Case("02-encrypted-xls", lambda e: [e.foreign("ca_issue_385.xls")], ("file-encrypted",), REJECTED,
         check=_message_says("file-encrypted", ".xls")),
    Case("02-encrypted-ods", lambda e: [e.foreign("ca_pass_protected.ods")], ("file-encrypted",), REJECTED,
         check=_message_says("file-encrypted", ".ods")),
    Case("03-xls-from-libreoffice", _lo("xls"), ("file-format-xls",), UPDATED, ALL_TAKEN, marks=LO),
    Case("03-xls-foreign", lambda e: [e.foreign("lo_resaved_hwbs_template.xls"), e.foreign("ca_any_sheets.xls")],
         ("file-format-xls", "manifest-missing"), REJECTED),
    Case("04-ods-from-libreoffice", _lo("ods"), ("file-format-ods",), UPDATED, ALL_TAKEN, absent=NO_TAMPER, marks=LO),
    Case("04-ods-foreign", lambda e: [e.foreign("lo_resaved_hwbs_template.ods"), e.foreign("ca_any_sheets.ods")],
         ("file-format-ods", "manifest-missing"), REJECTED),
    Case("05-xlsm", _xlsm, ("file-macros-ignored",), UPDATED, ALL_TAKEN, check=_no_macros_kept),
    Case("05-xlsm-foreign", lambda e: [e.foreign("xw_macro01.xlsm")], ("file-macros-ignored", "manifest-missing"),
         REJECTED),
    Case("06-text-named-xlsx", lambda e: [e.write("update.xlsx", b"Action ID,Status\r\nKA1-02,Completed\r\n")],
         ("file-not-spreadsheet",), REJECTED, check=_message_says("file-not-spreadsheet", "CSV", never=("old .xls",))),
    Case("06-attachment-named-xls", lambda e: [e.foreign("ca_too_small.xls")], ("file-not-spreadsheet",), REJECTED,
         check=_message_says("file-not-spreadsheet", "e-mail", never=("old .xls",))),
    Case("06-zero-bytes", lambda e: [e.write("empty.xlsx", b"")], ("file-not-spreadsheet",), REJECTED,
         check=_message_says("file-not-spreadsheet", "empty (0 bytes)")),
    Case("06-pdf-named-xlsx", lambda e: [e.write("appendix.xlsx", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n")],
         ("file-not-spreadsheet",), REJECTED, check=_message_says("file-not-spreadsheet", "PDF")),
    Case("06-xlsx-named-xls", lambda e: [e.write("Director return.xls", e.filled().read_bytes())], (), UPDATED,
         ALL_TAKEN),
    Case("07-null-archive", lambda e: [e.foreign("op_null_archive.xlsx")], ("file-corrupt",), REJECTED,
         check=_names_part("[Content_Types].xml")),
    Case("07-cut-short", _truncated, ("file-corrupt",), REJECTED, check=_names_part("zip central directory", "zip directory")),
    Case("07-damaged-part", _damaged_part, ("file-corrupt",), REJECTED, check=_names_part("xl/worksheets/sheet2.xml")),
    Case("08-strict-ooxml", lambda e: [e.foreign("ca_strict_iso_paths.xlsx")], ("file-strict-ooxml", "manifest-missing"),
         REJECTED, check=_strict_has_sheets),
    Case("09-backslash-part-names", _backslashes, (), UPDATED, ALL_TAKEN),
    Case("09-backslash-foreign", lambda e: [e.foreign("ca_issue_530.xlsx")], ("manifest-missing",), REJECTED),
    Case("10-billion-laughs", _billion_laughs, ("file-unsafe-xml",), REJECTED, check=_memory_flat),
    Case("11-gigabyte-of-zeros", _gigabyte_of_zeros, ("file-too-large",), REJECTED,
         check=_limit_named("file-too-large", "MAX_UNPACKED_BYTES")),
    Case("11-5000-entries", _many_entries, ("file-suspicious-compression",), REJECTED,
         check=_limit_named("file-suspicious-compression", "MAX_ZIP_ENTRIES")),
    Case("12-row-bomb", _row_bomb, ("sheet-too-many-rows",), REJECTED,
         check=_limit_named("sheet-too-many-rows", "MAX_ROWS")),
    Case("13-ods-repeat-bomb", lambda e: [e.foreign("ca_issue_594_dos.ods")], ("file-too-large",), REJECTED),
    Case("14-whole-sheet-dimension", _dimension("A1:XFD1048576"), (), UPDATED, ALL_TAKEN),
    Case("14-gnumeric-whole-sheet", lambda e: [e.foreign("ca_issue_174.xlsx")], ("manifest-missing",), REJECTED),
    Case("15-no-dimension", _dimension(None), (), UPDATED, ALL_TAKEN),
    Case("15-stale-dimension", _dimension("A1:A1"), (), UPDATED, ALL_TAKEN),
    Case("16-libreoffice-resave", _lo("xlsx"), (), UPDATED, ALL_TAKEN, absent=(*NO_TAMPER, "protection-removed"),
         marks=LO),
    Case("17-protection-stripped-history-edited", _history_edited, ("locked-value-changed", "protection-removed"),
         UPDATED, ALL_TAKEN, check=_history_kept),
    Case("18-manifest-deleted", _manifest_deleted, ("manifest-missing",), REJECTED),
    Case("18-manifest-edited", _manifest_edited, ("manifest-signature-invalid",), REJECTED,
         check=_message_says("manifest-signature-invalid", "'Head of Housing'", "'October 2024'")),
    Case("18-manifest-of-another-lead", _manifest_transplanted, ("workbook-identity-mismatch",), REJECTED,
         check=_message_says("workbook-identity-mismatch", CHILDREN)),
    Case("18-another-leads-file", _another_leads_file, ("workbook-lead-mismatch",), REJECTED,
         check=_message_says("workbook-lead-mismatch", DPH, HOUSING)),
    Case("19-renamed-with-export-summary", _renamed_with_summary, ("sheet-renamed", "sheets-extra-ignored"), UPDATED,
         ALL_TAKEN, check=_lists_ignored("Export Summary")),
    Case("20-rows-sorted", _sorted_rows, ("rows-reordered",), UPDATED, ALL_TAKEN, absent=("locked-value-changed",)),
    Case("20-row-deleted", _deleted_row, ("row-missing",), UPDATED, {k: v for k, v in TAKEN.items() if k != "KA2-02"}),
    Case("20-row-duplicated", _duplicated_row, ("id-duplicate",), UPDATED,
         {k: v for k, v in TAKEN.items() if k != "KA2-02"}),
    Case("20-rows-inserted", _inserted_rows, ("row-unknown-id",), UPDATED, ALL_TAKEN),
    Case("21-status-not-in-list", _status_pasted, ("status-not-in-list",), UPDATED,
         {k: v for k, v in TAKEN.items() if k != "KA1-02"}, check=_status_listed),
    Case("22-dates-readable", _dates_readable, (), UPDATED,
         {"KA1-02": {"status": "delayed", "revised_finish": "2026-03"},
          "KA2-02": {"status": "delayed", "revised_finish": "2026-03"},
          "KA2-03": {"status": "delayed", "revised_finish": "2026-03"}}, absent=("date-unparseable",)),
    Case("22-dates-unreadable", _dates_unreadable, ("date-unparseable",), UPDATED, {}, check=_raw_dates_kept),
    Case("22-date-1904", _date1904, ("date-before-start",), UPDATED,
         {k: v for k, v in TAKEN.items() if k != "KA1-02"}, check=_serial_zero_not_a_time),
    Case("23-formula-typed", _formula_typed, ("formula-in-text-cell",), UPDATED,
         {**TAKEN, "KA2-02": {"status": "on_target", "progress": "=1+1"}}, check=_formula_kept_as_text),
    Case("24-injection-payloads", _payloads, ("formula-in-text-cell", "cell-error-value"), UPDATED, PAYLOADS_TAKEN,
         check=_payloads_are_text),
    Case("25-escapes-and-line-endings", _escapes, (), UPDATED,
         {"KA1-02": {"progress": "Line A\nLine B from Windows"},
          "KA2-02": {"progress": "The code _x0041_ stays as typed, and _x005F_ too."}}),
    Case("26-control-characters", _control_chars, ("text-control-chars",), UPDATED,
         {"KA2-02": {"progress": "Done.\nNext line from Word\u2401end"}}),  # Word's Shift+Enter: a line break
    Case("27-text-over-a-cell", _too_long, ("text-truncated",), UPDATED,
         {k: v for k, v in TAKEN.items() if k != "KA2-02"}, check=_long_text_in_report),
    Case("28-whitespace-and-blanks", _whitespace, ("row-not-updated",), UPDATED,
         {"KA2-02": {"status": "on_target", "progress": "Done."}}, absent=("locked-value-changed",)),
    Case("29-merged-input-cells", _merged, ("merged-cells-in-input",), UPDATED, ALL_TAKEN),
    Case("30-new-cell-types", _new_cell_types, ("cell-error-value", "formula-in-text-cell"), UPDATED,
         {"KA1-02": {"progress": "#VALUE!"}, "KA2-02": {"comment": "=_xlfn._xlws.SORT(A5:A7)"},
          "KA2-03": {"comment": "TRUE"}}, check=_no_object_reprs),
    Case("30-new-cell-types-foreign", lambda e: [e.foreign("xw_embed_image01.xlsx"), e.foreign("xw_checkbox01.xlsx"),
                                                 e.foreign("xw_dynamic_array01.xlsx")], ("manifest-missing",), REJECTED),
    Case("31-empty-fill-in-styles", _broken_styles, (), UPDATED, ALL_TAKEN),
    Case("32-hidden-and-very-hidden-sheets", _hidden_sheets, ("sheets-extra-ignored",), UPDATED, ALL_TAKEN,
         check=_lists_ignored("Old rows", "Scratch")),
    Case("32-hidden-sheets-foreign", lambda e: [e.foreign("xw_hide01.xlsx"), e.foreign("ca_any_sheets.xlsx")],
         ("manifest-missing",), REJECTED),
    Case("33-returned-twice", _twice, ("already-merged",), UNCHANGED, check=_twice_changed_nothing),
    Case("34-master-open-in-libreoffice", lambda e: [e.filled()], (), UPDATED, ALL_TAKEN,
         check=_refused_before_work(_lo_lock)),
    Case("34-master-open-in-excel", lambda e: [e.filled()], (), UPDATED, ALL_TAKEN,
         check=_refused_before_work(_excel_lock)),
    Case("34-plan-folder-read-only", lambda e: [e.filled()], (), UPDATED, ALL_TAKEN,
         check=_fault("scenario_read_only_plan_folder")),
    Case("35-two-merges-at-once", lambda e: [e.filled()], (), UPDATED, ALL_TAKEN,
         check=_fault("scenario_second_merge_told_busy")),
    Case("36-killed-mid-merge", lambda e: [e.filled()], (), UPDATED, ALL_TAKEN,
         check=_fault("scenario_merge_killed_inside_the_batch")),
    Case("37-disk-full", lambda e: [e.filled()], (), UPDATED, ALL_TAKEN, check=_fault("scenario_disk_full")),
    Case("38-written-workbook-fails-its-check", lambda e: [e.filled()], (), UPDATED, ALL_TAKEN, check=_verify_fails),
    Case("42-google-sheets-export", _google_sheets, ("protection-removed",), UPDATED, ALL_TAKEN, absent=NO_TAMPER),
    Case("42-numbers-export", _numbers, ("protection-removed", "sheet-renamed", "sheets-extra-ignored"), UPDATED,
         ALL_TAKEN, absent=NO_TAMPER),
    Case("42-wps-export", _wps, (), UPDATED, ALL_TAKEN, absent=(*NO_TAMPER, "protection-removed")),
    Case("x-return-for-a-retired-action", _retired, ("action-retired",), UPDATED, ALL_TAKEN,
         check=_shown_although_retired),
    Case("x-symlink", _symlink, (), UPDATED, ALL_TAKEN, check=_evidence_is_a_copy),
    Case("x-named-pipe-and-device", _fifo, ("file-unreadable",), REJECTED),
    Case("x-file-gone", _missing, ("file-unreadable",), REJECTED),
    Case("x-lead-name-other-plan", _other_plan, ("workbook-other-plan",), REJECTED),
    Case("x-return-for-a-closed-cycle", _old_cycle, ("workbook-old-cycle",), REJECTED),
    Case("x-lead-renamed-after-issue", _lead_renamed, (), UPDATED, ALL_TAKEN),
    Case("x-inbox-with-lock-and-hidden-files", _inbox_with_junk, (), UPDATED, ALL_TAKEN, check=_only_the_workbook),
]
PDF_ROWS = (39, 40, 41)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    from badfiles import deadline

    with deadline(300):  # no hang: a case that runs away fails instead of stopping the suite
        run_case(case, tmp_path)
    figures.add("bad_inputs_tried")
    figures.add("loss_checks")
    if case.row.isdigit():
        figures.seen("bad_input_rows", int(case.row))


@pytest.mark.parametrize("row", PDF_ROWS, ids=["39-scanned-pdf", "40-pdf-table-across-pages", "41-pdf-glyph-noise"])
def test_bad_appendix_pdf(row: int, tmp_path: Path) -> None:
    _pdf_case(row)(tmp_path)
    figures.add("bad_inputs_tried")
    figures.seen("bad_input_rows", row)


def test_every_row_of_the_table_has_a_case() -> None:
    rows = {int(c.row) for c in CASES if c.row.isdigit()} | set(PDF_ROWS)
    assert rows == set(range(1, ROWS + 1)), sorted(set(range(1, ROWS + 1)) - rows)
    if SHARED_TABLE.is_file():  # the shared table itself (outside the repository): still 42 rows
        numbered = re.findall(r"^\| (\d+) \|", SHARED_TABLE.read_text(encoding="utf-8"), flags=re.M)
        assert [int(n) for n in numbered] == list(range(1, ROWS + 1))
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_case_is_in_the_testing_docs() -> None:
    """docs/testing.md lists every case of the catalogue (the table a reader checks the behaviour against)."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "testing.md").read_text(encoding="utf-8")
    ids = [c.id for c in CASES] + ["39-scanned-pdf", "40-pdf-table-across-pages", "41-pdf-glyph-noise"]
    assert [i for i in ids if f"`{i}`" not in doc] == []


# ---- input limits: one place, documented, each with its own finding before heavy work --------------------

def _over_file_bytes(env: Env) -> Path:
    path = env.inbox / "huge.xlsx"
    with open(path, "wb") as fh:
        fh.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: no disk used
    return path


def _over_entries(env: Env) -> Path:
    return _many_entries(env)[0]


def _over_unpacked(env: Env) -> Path:
    return _gigabyte_of_zeros(env)[0]


def _over_ratio(env: Env) -> Path:
    pkg = env.package()
    pkg.put("xl/media/image1.png", b"\0" * (limits.RATIO_APPLIES_ABOVE * 8))  # 8 MB of zeros: ~1000:1
    return env.save(pkg, "ratio.xlsx")


def _over_rows(env: Env) -> Path:
    from test_reader import _row_bomb as rows

    pkg = env.package()
    pkg.put(pkg.sheet("Update"), rows(limits.MAX_ROWS + 1))
    return env.save(pkg, "rows.xlsx")


def _over_cells(env: Env) -> Path:
    pkg = env.package()
    far = f"{'XFD'}{limits.MAX_CELLS // 16384 + 2}"  # one cell far to the right and below: a huge rectangle
    pkg.sub(pkg.sheet("Update"), r"</sheetData>", f'<row r="{far[3:]}"><c r="{far}"><v>1</v></c></row></sheetData>')
    return env.save(pkg, "cells.xlsx")


def _over_sheets(env: Env) -> Path:
    pkg = env.package()
    for i in range(limits.MAX_SHEETS):
        pkg.add_sheet(f"Copy {i}", {"A1": "x"}, index=10_000)
    return env.save(pkg, "sheets.xlsx")


def _over_text(env: Env) -> Path:
    return _too_long(env)[0]


LIMITS = {  # limit -> (file just over it, finding, checked before the values are read)
    "MAX_FILE_BYTES": (_over_file_bytes, "file-too-large", True),
    "MAX_ZIP_ENTRIES": (_over_entries, "file-suspicious-compression", True),
    "MAX_UNPACKED_BYTES": (_over_unpacked, "file-too-large", True),
    "MAX_PART_RATIO": (_over_ratio, "file-suspicious-compression", True),
    "MAX_ROWS": (_over_rows, "sheet-too-many-rows", True),
    "MAX_CELLS": (_over_cells, "file-too-large", True),
    "MAX_SHEETS": (_over_sheets, "file-too-large", True),
    "MAX_TEXT": (_over_text, "text-truncated", False),
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_each_input_limit_gives_its_own_finding_before_heavy_work(limit: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each limit, exceeded by one file built here, gives its finding naming the limit; those guarding the
    reader stop the file before its values are read (the values reader is never called for it)."""
    import hwbs_xl.sheets.reader as reader
    from hwbs_xl.returns.validate import validate

    env = Env(tmp_path)
    make, code, before_values = LIMITS[limit]
    path = make(env)
    calls: list[str] = []
    real = reader._read_values
    monkeypatch.setattr(reader, "_read_values", lambda data, name: calls.append(name) or real(data, name))
    result = validate(env.paths, [path], today=TODAY, write_reports=False)
    found = [f for f in result.report if f.code == code]
    assert found, [f.code for f in result.report]
    if before_values:
        detail = found[0].detail
        assert detail.get("limit") == limit and calls == [], (detail, calls)
        assert detail.get("value", getattr(limits, limit) + 1) > getattr(limits, limit), detail
    figures.add("bad_inputs_tried")


def test_limits_are_in_one_place_and_documented() -> None:
    """Every limit is a constant of returns/limits.py, listed in its docstring table and in describe();
    no other returns module writes a limit's value as a literal."""
    import inspect

    names = [n for n in dir(limits) if n.startswith("MAX_")]
    assert sorted(names) == sorted(LIMITS)
    doc = limits.__doc__ or ""
    for name in names:
        assert name in doc, name
    assert len(limits.describe()) == len(names)
    source = Path(inspect.getfile(limits)).parent
    literals = {f"{getattr(limits, n):_}" for n in names if getattr(limits, n) > 1000} | {
        f"{getattr(limits, n)}" for n in names if getattr(limits, n) > 1000}
    for module in source.glob("*.py"):
        if module.name != "limits.py":
            text = module.read_text(encoding="utf-8")
            assert not [lit for lit in literals if re.search(rf"(?<![\w.]){lit}(?![\w.])", text)], module.name


def test_safe_xml_is_checked_before_any_file_is_read(tmp_path: Path) -> None:
    """With entity expansion switched back on for openpyxl (OPENPYXL_DEFUSEDXML=False), hwbs-xl refuses to
    read any returned file, saying why: the check runs before the first file is opened."""
    import subprocess

    env = Env(tmp_path)
    path = env.filled()
    proc = subprocess.run([*hwbs_command(), "--plan", str(env.paths.root), "validate", str(path)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "OPENPYXL_DEFUSEDXML": "False"})
    assert proc.returncode != 0 and "defusedxml" in proc.stderr and "Checked" not in proc.stdout, proc.stderr
