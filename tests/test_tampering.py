"""Tampering: a lead (or anyone holding a workbook) changing what they should not, and what catches it.

Sheet protection is a courtesy, so every case here first strips it where it matters. Each case makes its
forgery from a workbook the tool issued (XML edits or openpyxl, as a forger would), merges it for real, and
asserts its own finding code, that nothing forged reached the register, and that the honest part of the
same return (if any) still arrives. The key that signs manifests is never inside a workbook.
"""

from __future__ import annotations

import secrets
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hwbs_xl.manifest import MANIFEST_SHEET, Manifest, ManifestRow, plan_id, sign, to_cells
from hwbs_xl.register import Register
from hwbs_xl.returns.merge import MergeResult
from test_bad_inputs import ANSWERS, HISTORY_EDIT, TAKEN, Env, run_merge

import figures
from badfiles import Package, data_tables
from test_returns_support import CHILDREN, CYCLE, DPH, HISTORY, HOUSING, NOW, issued_files, read_manifest


def resign(env: Env, change: Callable[[Manifest], Manifest], key: bytes | None, name: str,
           answers: dict[tuple[str, str], Any] | None = None) -> Path:
    """The lead's return with its manifest rewritten (changed, then signed with ``key``; None: not re-signed)."""
    def rewrite(wb: Any, cells: Any) -> None:
        m = change(read_manifest(env.issued()))
        if key is not None:
            m = sign(m, key)
        ws = wb[MANIFEST_SHEET]
        ws.delete_rows(1, ws.max_row)
        for line in to_cells(m):
            ws.append(line)
    return env.filled(answers, change=rewrite, name=name)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def caught(env: Env, files: list[Path], code: str, *, rejected: bool = True) -> MergeResult:
    """Merge the forgery; its finding must be there; a rejected file changes none of the plan's data."""
    before = data_tables(env.paths)
    result = run_merge(env, files)
    codes = [f.code for f in result.report]
    assert code in codes, codes
    if rejected:
        assert all(o.state == "rejected" for o in result.files) and data_tables(env.paths) == before
    figures.add("tampering_caught")
    figures.add("loss_checks")
    return result


def update(env: Env, action: str, cycle: str = CYCLE) -> Any:
    with Register.open(env.paths) as reg:
        return reg.update(action, cycle)


# ---- locked cells ----------------------------------------------------------------------------------------

def test_stripped_protection_with_edited_history_and_wording(env: Env) -> None:
    pkg = env.package()
    pkg.unprotect()
    pkg.set_text("Update", env.ref("KA2-02", f"progress@{HISTORY}"), HISTORY_EDIT)
    pkg.set_text("Update", env.ref("KA2-02", "activity"), "Pilot air-quality monitors (now optional).")
    pkg.set_text("Update", env.ref("KA2-03", "leads"), HOUSING)  # the lead passes the action on
    result = caught(env, [env.save(pkg, "tampered.xlsx")], "locked-value-changed", rejected=False)
    changed = {f.detail["field"]: f for f in result.report if f.code == "locked-value-changed"}
    assert set(changed) == {f"progress@{HISTORY}", "activity", "leads"}
    assert "protection-removed" in [f.code for f in result.report]
    with Register.open(env.paths) as reg:  # the register keeps what was issued; the lead's update arrives
        assert reg.update("KA2-02", HISTORY).progress == changed[f"progress@{HISTORY}"].detail["issued"]  # type: ignore[union-attr]
        assert reg.action("KA2-02").activity == changed["activity"].detail["issued"]
        assert reg.action("KA2-03").leads == (DPH, HOUSING)
    assert update(env, "KA2-02").progress == TAKEN["KA2-02"]["progress"]


def test_an_edited_action_id(env: Env) -> None:
    def retype(wb: Any, cells: Any) -> None:
        wb[cells.sheet][cells.of("KA1-02", "action_id")] = "KA1-01"  # CHILDREN's action, on DPH's row
    result = caught(env, [env.filled(change=retype, name="retyped id.xlsx")], "id-changed", rejected=False)
    f = next(f for f in result.report if f.code == "id-changed")
    assert f.detail == {"issued": "KA1-02", "returned": "KA1-01"}
    assert update(env, "KA1-01") is None and update(env, "KA1-02") is None  # neither took the row


# ---- the manifest ----------------------------------------------------------------------------------------

def test_an_edited_manifest(env: Env) -> None:
    m = resign(env, lambda m: replace(m, lead=HOUSING), None, "edited.xlsx")
    caught(env, [m], "manifest-signature-invalid")


def test_a_manifest_re_signed_with_a_wrong_key(env: Env) -> None:
    """A forger who knows the format signs a changed manifest (its rows now claim Housing's actions too)
    with a key of their own, keeping the plan's public id: the signature does not hold."""
    def claim_more(m: Manifest) -> Manifest:
        return replace(m, rows=(*m.rows, ManifestRow("KA2-01", 8, "0" * 64)))
    forged = resign(env, claim_more, secrets.token_bytes(32), "forged.xlsx")
    caught(env, [forged], "manifest-signature-invalid")


def test_a_manifest_forged_for_a_plan_of_its_own(env: Env) -> None:
    """Forged with a key and a plan id of the forger's own: it is simply another plan's workbook."""
    key = secrets.token_bytes(32)
    forged = resign(env, lambda m: replace(m, plan_id=plan_id(key)), key, "own plan.xlsx")
    caught(env, [forged], "workbook-other-plan")


def test_a_manifest_copied_from_another_leads_workbook(env: Env) -> None:
    pkg = env.package()
    other = Package.of(env.filled({}, lead=CHILDREN))
    pkg.put(pkg.sheet(MANIFEST_SHEET), other.parts[other.sheet(MANIFEST_SHEET)])
    result = caught(env, [env.save(pkg, "transplant.xlsx")], "workbook-identity-mismatch")
    assert CHILDREN in next(f.message for f in result.report if f.code == "workbook-identity-mismatch")


def test_a_deleted_manifest(env: Env) -> None:
    from test_bad_inputs import _manifest_deleted

    caught(env, _manifest_deleted(env), "manifest-missing")


def test_a_garbled_manifest(env: Env) -> None:
    """A second 'lead' line appended to the manifest (to make a reader take the other one)."""
    def twice(wb: Any, cells: Any) -> None:
        wb[MANIFEST_SHEET].append(["lead", HOUSING])
    caught(env, [env.filled(change=twice, name="two leads.xlsx")], "manifest-unreadable")


def test_the_signing_key_is_never_in_a_workbook(env: Env) -> None:
    key = env.paths.manifest_key.read_bytes()
    for path in env.paths.issued(CYCLE).glob("*.xlsx"):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                data = z.read(name)
                assert key not in data and key.hex().encode() not in data and key.hex().upper().encode() not in data
    figures.add("tampering_caught")


# ---- rows and files moved between leads, plans and cycles --------------------------------------------------

def test_a_row_moved_in_from_another_leads_workbook(env: Env) -> None:
    """Children's Services' KA1-01 row, with an update, pasted under DPH's rows: not taken from DPH's
    workbook (it names whose workbook it belongs to); DPH's own rows still arrive."""
    from openpyxl import load_workbook

    source = load_workbook(env.issued(CHILDREN))
    c_cells = env.cells(CHILDREN)
    row = [c.value for c in source[c_cells.sheet][c_cells.manifest.row_for("KA1-01").row]]  # type: ignore[union-attr]

    def paste(wb: Any, cells: Any) -> None:
        ws = wb[cells.sheet]
        target = cells.manifest.rows[-1].row + 1
        for i, value in enumerate(row, start=1):
            ws.cell(target, i, value)
        ws.cell(target, 9, "Completed")
        ws.cell(target, 10, "Done by DPH on Children's behalf.")
    result = caught(env, [env.filled(change=paste, name="moved row.xlsx")], "row-unknown-id", rejected=False)
    f = next(f for f in result.report if f.code == "row-unknown-id")
    assert f.action_id == "KA1-01" and CHILDREN in f.message
    assert update(env, "KA1-01") is None and update(env, "KA2-03").progress == TAKEN["KA2-03"]["progress"]


def test_most_rows_from_another_leads_workbook(env: Env) -> None:
    """DPH's manifest over a sheet of Housing's rows: the rows belong to someone else."""
    from openpyxl import load_workbook

    housing = load_workbook(env.issued(HOUSING))
    h = env.cells(HOUSING)

    def swap_rows(wb: Any, cells: Any) -> None:
        ws = wb[cells.sheet]
        for offset, mrow in enumerate(h.manifest.rows):
            for i, c in enumerate(housing[h.sheet][mrow.row], start=1):
                ws.cell(cells.manifest.rows[0].row + offset, i, c.value)
        for mrow in cells.manifest.rows[len(h.manifest.rows):]:
            ws.cell(mrow.row, 1, "KA1-01")
    caught(env, [env.filled({}, change=swap_rows, name="swapped rows.xlsx")], "workbook-identity-mismatch")


def test_a_return_for_another_plan(env: Env) -> None:
    from test_bad_inputs import _other_plan

    caught(env, _other_plan(env), "workbook-other-plan")


def test_a_return_for_a_closed_cycle(env: Env) -> None:
    from test_bad_inputs import _old_cycle

    caught(env, _old_cycle(env), "workbook-old-cycle")


def test_an_earlier_copy_after_a_reissue(env: Env) -> None:
    from hwbs_xl.issue.generate import generate

    old = env.filled(name="old copy.xlsx")
    issued_files(env.paths)[DPH].unlink()  # the issued file lost: the coordinator issues the lead a new one
    generate(env.paths, lead=DPH, now=datetime(2024, 9, 27, 9, 0, tzinfo=NOW.tzinfo), example_contact=True,
             reissue=True, command="test")
    caught(env, [old], "workbook-not-issued")


def test_another_leads_workbook_sent_as_ones_own(env: Env) -> None:
    env.sender = HOUSING
    caught(env, [env.filled(name="from housing.xlsx")], "workbook-lead-mismatch")


def test_an_older_return_replayed_after_a_newer_one(env: Env) -> None:
    """A copy of a lead's first return, sent again after their correction was merged: not taken."""
    import os
    import time

    first = env.filled(name="first.xlsx")
    os.utime(first, (time.time() - 3600, time.time() - 3600))
    corrected = env.filled({**ANSWERS, ("KA2-02", "new_progress"): "Corrected figures."}, name="second.xlsx")
    run_merge(env, [corrected])
    caught(env, [first], "return-older-ignored", rejected=False)
    assert update(env, "KA2-02").progress == "Corrected figures."


def test_every_tampering_code_is_its_own() -> None:
    """Each kind of tampering above has its own finding code, documented in the catalogue."""
    from hwbs_xl.findings import CODES

    codes = ["locked-value-changed", "id-changed", "manifest-signature-invalid", "workbook-other-plan",
             "workbook-identity-mismatch", "manifest-missing", "manifest-unreadable", "row-unknown-id",
             "workbook-old-cycle", "workbook-not-issued", "workbook-lead-mismatch", "return-older-ignored"]
    assert len(set(codes)) == len(codes) and all(c in CODES for c in codes)
