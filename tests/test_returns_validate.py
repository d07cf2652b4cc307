"""Validation of returned workbooks: identity from the signed manifest, rows by action ID, cell checks.

Every returned file here is one the tool issued, changed the way a lead, a program or a forger would
(with openpyxl), then validated. Each case asserts its own finding code, where it points, and that the
register was only read.
"""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hwbs_xl.findings import ERROR
from hwbs_xl.manifest import MANIFEST_SHEET
from hwbs_xl.register import Register
from hwbs_xl.returns.validate import validate

from test_returns_support import (
    CHILDREN,
    CYCLE,
    DPH,
    HOUSING,
    NOW,
    Cells,
    fill_openpyxl,
    issued_files,
    plan_copy,
    read_manifest,
)

TODAY = date(2024, 10, 10)


@pytest.fixture
def plan(tmp_path: Path):  # type: ignore[no-untyped-def]
    return plan_copy(tmp_path)


def run(paths, *files, **kw):  # type: ignore[no-untyped-def]
    with Register.open(paths) as reg:
        before = reg.fingerprint()
    result = validate(paths, list(files), today=TODAY, **kw)
    with Register.open(paths) as reg:
        assert reg.fingerprint() == before  # validation only reads the register
    return result


def codes(result, severity=None):  # type: ignore[no-untyped-def]
    return [f.code for f in result.report if severity is None or f.severity == severity]


def one(result, code):  # type: ignore[no-untyped-def]
    found = [f for f in result.report if f.code == code]
    assert len(found) == 1, (code, codes(result))
    return found[0]


def dph(plan):  # type: ignore[no-untyped-def]
    path = issued_files(plan)[DPH]
    return path, Cells(read_manifest(path))


def edit(src: Path, dest: Path, change) -> Path:  # type: ignore[no-untyped-def]
    wb = load_workbook(src)
    change(wb)
    wb.save(dest)
    return dest


# ---- identity ------------------------------------------------------------------------------------------

def test_the_issued_workbook_is_recognised(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, cells = dph(plan)
    result = run(plan, path)
    check = result.checks[0]
    assert (check.lead, check.cycle, check.sheet, check.rejected) == (DPH, CYCLE, "Update", False)
    assert [r.action_id for r in check.rows] == ["KA1-02", "KA2-02", "KA2-03"]
    assert codes(result, ERROR) == [] and "return-empty" in codes(result)


def test_a_workbook_from_another_plan(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = dph(plan)
    plan.manifest_key.write_bytes(secrets.token_bytes(32))  # this folder is now a different plan
    result = run(plan, path)
    f = one(result, "workbook-other-plan")
    assert result.checks[0].rejected and "Test Health and Wellbeing Strategy" in f.message


def test_a_workbook_for_an_old_cycle(plan) -> None:  # type: ignore[no-untyped-def]
    from hwbs_xl.plan.cycle import open_cycle

    path, _ = dph(plan)
    open_cycle(plan, "April 2025", date(2025, 4, 18), command="test")
    f = one(run(plan, path), "workbook-old-cycle")
    assert "'October 2024'" in f.message and "'April 2025'" in f.message


def test_an_edited_manifest_breaks_the_signature(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = dph(plan)

    def claim_other_lead(wb):  # type: ignore[no-untyped-def]
        ws = wb[MANIFEST_SHEET]
        for row in ws.iter_rows():
            if row[0].value == "lead":
                row[1].value = HOUSING
    forged = edit(path, tmp_path / "forged.xlsx", claim_other_lead)
    one(run(plan, forged), "manifest-signature-invalid")


def test_a_missing_manifest(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = dph(plan)
    stripped = edit(path, tmp_path / "copied.xlsx", lambda wb: wb.remove(wb[MANIFEST_SHEET]))
    f = one(run(plan, stripped), "manifest-missing")
    assert "copied.xlsx" in f.message


def test_a_garbled_manifest(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = dph(plan)
    garbled = edit(path, tmp_path / "garbled.xlsx", lambda wb: wb[MANIFEST_SHEET].cell(3, 1, "nonsense"))
    one(run(plan, garbled), "manifest-unreadable")


def test_an_earlier_copy_after_reissue(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hwbs_xl.issue.generate import generate

    path, _ = dph(plan)
    old = tmp_path / "old-copy.xlsx"
    old.write_bytes(path.read_bytes())
    path.unlink()  # the issued file lost: the coordinator issues the lead a new one
    generate(plan, lead=DPH, now=datetime(2024, 9, 27, 9, 0, tzinfo=NOW.tzinfo), example_contact=True, reissue=True,
             command="test")
    f = one(run(plan, old), "workbook-not-issued")
    assert "newer one was issued" in f.message


def test_a_manifest_copied_from_another_leads_workbook(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = dph(plan)
    other = load_workbook(issued_files(plan)[CHILDREN])[MANIFEST_SHEET]

    def transplant(wb):  # type: ignore[no-untyped-def]
        ws = wb[MANIFEST_SHEET]
        ws.delete_rows(1, ws.max_row)
        for row in other.iter_rows(values_only=True):
            ws.append(list(row))
    f = one(run(plan, edit(path, tmp_path / "transplant.xlsx", transplant)), "workbook-identity-mismatch")
    assert CHILDREN in f.message


def test_a_copy_returned_by_someone_else(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = dph(plan)
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(path.read_bytes())
    f = one(run(plan, copy, sender=HOUSING), "workbook-lead-mismatch")
    assert HOUSING in f.message and DPH in f.message
    housing_name = tmp_path / issued_files(plan)[HOUSING].name  # saved under the other lead's file name
    housing_name.write_bytes(path.read_bytes())
    one(run(plan, housing_name), "workbook-lead-mismatch")
    assert run(plan, copy, sender=DPH).checks[0].rejected is False


# ---- finding the data ----------------------------------------------------------------------------------

def test_sheet_renamed_moved_and_extra_sheets(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, cells = dph(plan)

    def reshape(wb):  # type: ignore[no-untyped-def]
        ws = wb[cells.sheet]
        ws.title = "My answers"
        ws[cells.of("KA2-02", "new_status")] = "On target to be achieved by target date"
        ws[cells.of("KA2-02", "new_progress")] = "Fine"
        extra = wb.create_sheet("Export Summary", 0)
        extra["A1"] = "KA2-02"  # a stray ID on another sheet does not fool the search
    result = run(plan, edit(path, tmp_path / "renamed.xlsx", reshape))
    assert result.checks[0].sheet == "My answers"
    one(result, "sheet-renamed")
    assert one(result, "sheets-extra-ignored").detail["sheets"] == ["Export Summary"]
    row = next(r for r in result.checks[0].rows if r.action_id == "KA2-02")
    assert (row.status, row.progress) == ("on_target", "Fine")


def test_rows_sorted_deleted_duplicated_and_unknown(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, cells = dph(plan)
    r5, r6, r7 = (cells.manifest.row_for(a).row for a in ("KA1-02", "KA2-02", "KA2-03"))  # type: ignore[union-attr]

    def shuffle(wb):  # type: ignore[no-untyped-def]
        ws = wb[cells.sheet]
        ws.protection.sheet = False
        first = [c.value for c in ws[r5]]
        third = [c.value for c in ws[r7]]
        for i, v in enumerate(third, start=1):  # KA2-03 moves up to KA1-02's row
            ws.cell(r5, i, v)
        for i, v in enumerate(first, start=1):  # KA1-02 moves down
            ws.cell(r7, i, v)
        ws.cell(r7, 9, "Completed")
        ws.cell(r7, 10, "Sorted, still mine")
        for i, c in enumerate(ws[r6], start=1):  # KA2-02 duplicated below the table
            ws.cell(r7 + 2, i, c.value)
        ws.cell(r7 + 3, 1, "KA9-99")
        ws.cell(r7 + 3, 9, "Completed")
    result = run(plan, edit(path, tmp_path / "sorted.xlsx", shuffle))
    one(result, "rows-reordered")
    dup = one(result, "id-duplicate")
    assert dup.action_id == "KA2-02" and f"A{r6}" in dup.message and f"A{r7 + 2}" in dup.message
    unknown = [f for f in result.report if f.code == "row-unknown-id"]
    assert [f.cell for f in unknown] == [f"A{r7 + 3}"]
    moved = next(r for r in result.checks[0].rows if r.action_id == "KA1-02")
    assert (moved.row, moved.status, moved.progress, moved.blocked) == (r7, "completed", "Sorted, still mine", False)
    assert next(r for r in result.checks[0].rows if r.action_id == "KA2-02").blocked


def test_a_deleted_row_and_a_changed_id(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, cells = dph(plan)
    r5 = cells.manifest.row_for("KA1-02").row  # type: ignore[union-attr]

    def damage(wb):  # type: ignore[no-untyped-def]
        ws = wb[cells.sheet]
        ws.protection.sheet = False
        ws.cell(r5, 1, "KA1-2")  # the ID typed over
        ws.delete_rows(r5 + 1)  # KA2-02 gone
    result = run(plan, edit(path, tmp_path / "damaged.xlsx", damage))
    assert one(result, "row-missing").action_id == "KA2-02"
    changed = one(result, "id-changed")
    assert changed.action_id == "KA1-02" and changed.detail == {"issued": "KA1-02", "returned": "KA1-2"}


# ---- cell checks ---------------------------------------------------------------------------------------

def test_every_cell_check(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, c = dph(plan)
    s = c.sheet
    filled = fill_openpyxl(path, tmp_path / "checks.xlsx", {
        (s, c.of("KA1-02", "new_status")): "Finished",                                  # not in the list
        # A control character pasted from a document: Excel stores it as an escape such as _x0001_ (openpyxl
        # writes text as given, so this is what Excel's file holds). A vertical tab would be a line break.
        (s, c.of("KA1-02", "new_progress")): "Done._x0001_Next line from Word",
        (s, c.of("KA2-02", "new_status")): "Completed",
        (s, c.of("KA2-02", "new_progress")): "=SUM(1,2)",                               # a formula typed
        (s, c.of("KA2-02", "revised_finish")): datetime(2026, 1, 31),                  # completed, future date
        (s, c.of("KA2-03", "new_status")): "Delayed achievement by target date",      # no revised date...
        (s, c.of("KA2-03", "new_progress")): "x" * 3001,                               # over the 3,000 limit
        (s, c.of("KA2-03", "comment")): "#N/A",                                        # an error value
    })
    result = run(plan, filled)
    by = {f.code: f for f in result.report}
    assert by["status-not-in-list"].cell == c.of("KA1-02", "new_status")
    assert by["status-not-in-list"].detail["allowed"][0] == "Completed"
    assert by["text-control-chars"].cell == c.of("KA1-02", "new_progress")
    assert by["formula-in-text-cell"].value == "=SUM(1,2)"
    assert by["status-completed-future-date"].action_id == "KA2-02"
    assert by["status-delayed-no-date"].action_id == "KA2-03"
    assert by["progress-too-long"].action_id == "KA2-03"
    assert by["cell-error-value"].value == "#N/A"
    rows = {r.action_id: r for r in result.checks[0].rows}
    assert rows["KA1-02"].blocked and not rows["KA2-02"].blocked
    assert rows["KA2-02"].progress == "=SUM(1,2)"  # kept as the text typed
    assert rows["KA2-03"].comment == "#N/A"
    for f in result.report:
        assert f.file == "checks.xlsx" and (f.severity == "info" or f.message)


def test_dates_incorporated_and_missing_progress(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, c = dph(plan)
    s = c.sheet
    filled = fill_openpyxl(path, tmp_path / "dates.xlsx", {
        (s, c.of("KA1-02", "new_status")): "Delayed achievement by target date",
        (s, c.of("KA1-02", "new_progress")): "Later",
        (s, c.of("KA1-02", "revised_finish")): "1/6",                                  # ambiguous, no year
        (s, c.of("KA2-02", "new_status")): "Delayed achievement by target date",
        (s, c.of("KA2-02", "new_progress")): "Later",
        (s, c.of("KA2-02", "revised_finish")): datetime(2020, 1, 31),                  # before the start
        (s, c.of("KA2-03", "new_status")): "Action has been incorporated into another piece of work",
    })
    result = run(plan, filled)
    unparseable = one(result, "date-unparseable")
    assert unparseable.value == "1/6" and unparseable.action_id == "KA1-02"
    assert one(result, "date-before-start").action_id == "KA2-02"
    assert one(result, "status-incorporated-no-where").action_id == "KA2-03"


def test_text_over_a_cell_is_never_cut_silently(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, c = dph(plan)
    long = "£" + "ab " * 14_000  # 42,001 characters: more than Excel allows, as another program may write
    filled = fill_openpyxl(path, tmp_path / "long.xlsx", {(c.sheet, c.of("KA2-02", "new_status")): "Completed",
                                                          (c.sheet, c.of("KA2-02", "new_progress")): "LONG-TEXT"})
    _replace_in_zip(filled, b"LONG-TEXT", long.encode("utf-8"))
    f = one(run(plan, filled), "text-truncated")
    assert f.value == long.strip() and f.severity == ERROR


def _replace_in_zip(path: Path, old: bytes, new: bytes) -> None:
    """Edit the saved workbook's XML (openpyxl itself would cut text at 32,767 characters)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    assert sum(old in data for data in parts.values()) == 1
    parts = {name: data.replace(old, new) for name, data in parts.items()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_merged_cells_in_the_update_area(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, c = dph(plan)

    def merge_cells(wb):  # type: ignore[no-untyped-def]
        ws = wb[c.sheet]
        ws.protection.sheet = False
        ws[c.of("KA2-02", "new_status")] = "On target to be achieved by target date"
        ws[c.of("KA2-02", "new_progress")] = "Merged across"
        ws.merge_cells(f"{c.of('KA2-02', 'new_progress')}:{c.of('KA2-02', 'revised_finish')}")
    f = one(run(plan, edit(path, tmp_path / "merged.xlsx", merge_cells)), "merged-cells-in-input")
    assert f.cell == c.of("KA2-02", "new_progress")


def test_stripped_protection_and_an_edited_history_cell(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, c = dph(plan)
    history = c.of("KA2-02", "progress@April 2024")
    issued = load_workbook(path)[c.sheet][history].value

    def tamper(wb):  # type: ignore[no-untyped-def]
        ws = wb[c.sheet]
        ws.protection.sheet = False
        ws[history] = "We always said it would be late."
        ws[c.of("KA2-02", "finish")] = datetime(2027, 12, 1)
    result = run(plan, edit(path, tmp_path / "tampered.xlsx", tamper))
    one(result, "protection-removed")
    changed = {f.cell: f for f in result.report if f.code == "locked-value-changed"}
    assert set(changed) == {history, c.of("KA2-02", "finish")}
    assert changed[history].detail == {"field": "progress@April 2024", "issued": issued.replace("\r\n", "\n"),
                                       "returned": "We always said it would be late."}
    assert changed[c.of("KA2-02", "finish")].detail["issued"] == "2024-11"


def test_a_folder_of_returns_skips_lock_files(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = dph(plan)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "dph.xlsx").write_bytes(path.read_bytes())
    (inbox / ".~lock.dph.xlsx#").write_text("someone,host,...", encoding="utf-8")
    (inbox / "~$dph.xlsx").write_bytes(b"\0" * 165)
    result = run(plan, inbox)
    assert [c.name for c in result.checks] == ["dph.xlsx"]


def test_reports_and_please_fix_notes(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, c = dph(plan)
    filled = fill_openpyxl(path, tmp_path / "fix.xlsx", {(c.sheet, c.of("KA1-02", "new_status")): "Finished"})
    result = run(plan, filled)
    assert result.report_file is not None and result.report_file.is_file()
    [note] = result.notes
    text = note.read_text(encoding="utf-8")
    assert text.startswith("Subject: ") and f"cell {c.of('KA1-02', 'new_status')}" in text and "KA1-02" in text
    assert os.path.dirname(note) == str(plan.reports / "October-2024")
