"""Merging returned workbooks: exact values, evidence kept, idempotence, conflicts, supersession, safety.

Returns are the tool's own issued workbooks filled with openpyxl (the LibreOffice round trip is in
test_merge_libreoffice.py). "Nothing changed" is always checked with Register.fingerprint().
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from hwbs_xl.errors import OutputLocked, RegisterBusy
from hwbs_xl.model import Month
from hwbs_xl.register import Register, update_row
from hwbs_xl.returns.merge import merge
from hwbs_xl.returns.validate import validate
from hwbs_xl.safeio import office_lock_file, plan_lock
from hwbs_xl.sheets.reader import read_file

from conftest import hwbs_command
from test_returns_support import (
    CHILDREN,
    CYCLE,
    DPH,
    HOUSING,
    Cells,
    fill_openpyxl,
    issued_files,
    plan_copy,
    read_manifest,
)

TODAY = date(2024, 10, 10)
PROGRESS = "Café sessions ran in 12 wards – £4,500 spent.\nNext: “walk and talk” in Zoë’s team.\n\n• 名前 ✓"


@pytest.fixture
def plan(tmp_path: Path):  # type: ignore[no-untyped-def]
    return plan_copy(tmp_path)


def fingerprint(paths) -> str:  # type: ignore[no-untyped-def]
    with Register.open(paths) as reg:
        return reg.fingerprint()


def tables(paths) -> dict[str, list]:  # type: ignore[no-untyped-def]
    with Register.open(paths) as reg:
        return {t: [dict(r) for r in reg.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")]
                for t in ("updates", "flags", "returns")}


def fill(paths, lead: str, dest: Path, answers: dict[tuple[str, str], object]) -> Path:  # type: ignore[no-untyped-def]
    src = issued_files(paths)[lead]
    c = Cells(read_manifest(src))
    return fill_openpyxl(src, dest, {(c.sheet, c.of(a, k)): v for (a, k), v in answers.items()})


def dph_return(paths, dest: Path, progress: str = PROGRESS) -> Path:  # type: ignore[no-untyped-def]
    return fill(paths, DPH, dest, {
        ("KA1-02", "new_status"): "Completed", ("KA1-02", "new_progress"): progress,
        ("KA2-03", "new_status"): "Delayed achievement by target date",
        ("KA2-03", "new_progress"): "Waiting for the ICB’s data-sharing agreement.",
        ("KA2-03", "revised_finish"): datetime(2026, 3, 31),
        ("KA2-03", "comment"): "Call José on 020 8359 2000 – “any time”.",
    })


def run(paths, *files, **kw):  # type: ignore[no-untyped-def]
    return merge(paths, list(files), command="pytest merge", today=TODAY, **kw)


def test_every_typed_value_arrives_exactly_and_the_file_is_kept(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    returned = dph_return(plan, tmp_path / "from DPH.xlsx")
    result = run(plan, returned)
    assert result.ok and result.batch_id
    with Register.open(plan) as reg:
        done = reg.update("KA1-02", CYCLE)
        delayed = reg.update("KA2-03", CYCLE)
        row = dict(reg.conn.execute("SELECT * FROM returns").fetchone())
    assert done is not None and delayed is not None
    assert (done.status, done.status_raw, done.progress) == ("completed", "Completed", PROGRESS)
    assert (delayed.status, delayed.revised_finish) == ("delayed", Month(2026, 3))
    assert delayed.comment == "Call José on 020 8359 2000 – “any time”."
    assert delayed.source.returned_by == DPH and delayed.source.where == "'Update'!I7"
    evidence = plan.root / row["stored_path"]
    assert evidence.read_bytes() == returned.read_bytes()  # byte for byte, never re-saved
    assert evidence.name.startswith(row["sha256"]) and row["state"] == "merged" and row["lead"] == DPH
    assert delayed.source.sha256 == row["sha256"]
    assert result.master is not None and result.master.is_file()


def test_the_same_workbook_merged_twice_changes_nothing(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    returned = dph_return(plan, tmp_path / "dph.xlsx")
    run(plan, returned)
    before = fingerprint(plan)
    again = run(plan, returned)
    assert fingerprint(plan) == before and again.batch_id is None
    assert [o.state for o in again.files] == ["already-merged"]
    assert [f.code for f in again.report if f.code == "already-merged"] == ["already-merged"]
    copy = tmp_path / "renamed copy.xlsx"  # the same bytes under another name: still the same return
    copy.write_bytes(returned.read_bytes())
    run(plan, copy)
    assert fingerprint(plan) == before


def test_dry_run_shows_each_action_and_writes_nothing(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    returned = dph_return(plan, tmp_path / "dph.xlsx")
    before = fingerprint(plan)
    files_before = sorted(p for p in plan.root.rglob("*") if p.is_file())
    result = run(plan, returned, dry_run=True)
    assert fingerprint(plan) == before
    assert sorted(p for p in plan.root.rglob("*") if p.is_file()) == files_before
    assert {(c.action_id, c.kind) for c in result.changes} == {("KA1-02", "new"), ("KA2-03", "new")}
    text = "\n".join(result.lines())
    assert "dry run" in text and "KA1-02" in text and "KA2-03" in text


def test_two_leads_conflicting_returns_give_a_conflict(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run(plan, dph_return(plan, tmp_path / "dph.xlsx"))
    children = fill(plan, CHILDREN, tmp_path / "children.xlsx", {
        ("KA1-02", "new_status"): "On target to be achieved by target date",
        ("KA1-02", "new_progress"): "Training booked for January.",
        ("KA1-01", "new_status"): "On target to be achieved by target date",
        ("KA1-01", "new_progress"): "Hubs open in 20 of 24 wards.",
    })
    result = run(plan, children)
    conflict = next(c for c in result.changes if c.action_id == "KA1-02")
    assert conflict.kind == "conflict"
    with Register.open(plan) as reg:
        kept = reg.update("KA1-02", CYCLE)
        flags = reg.flags(cycle=CYCLE, open_only=True)
        other = reg.update("KA1-01", CYCLE)
    assert kept is not None and kept.progress == PROGRESS and kept.source.returned_by == DPH and kept.needs_review
    assert [(f.action_id, f.field, f.code) for f in flags] == [("KA1-02", "status", "return-conflict"),
                                                               ("KA1-02", "progress", "return-conflict")]
    sides = json.loads(flags[0].raw)
    assert sides["register"]["by"] == DPH and sides["returned"]["by"] == CHILDREN
    assert sides["returned"]["progress"] == "Training booked for January."
    assert flags[1].candidates == (PROGRESS, "Training booked for January.")
    assert other is not None and other.progress == "Hubs open in 20 of 24 wards."  # the rest of the file is taken
    text = "\n".join(result.lines())
    assert "CONFLICT" in text and DPH in text and CHILDREN in text
    # the coordinator settles it the usual way: Children's Services' wording and status win
    from hwbs_xl.plan.review import settle

    settled = settle(plan, [(flags[0].id, "On target to be achieved by target date"), (flags[1].id, flags[1].candidates[1])],
                     command="pytest settle")
    assert settled.batch_id
    with Register.open(plan) as reg:
        now = reg.update("KA1-02", CYCLE)
        assert now is not None and (now.status, now.progress) == ("on_target", "Training booked for January.")
        assert reg.flags(cycle=CYCLE, open_only=True) == []


def test_a_joint_lead_agreeing_or_leaving_it_blank_is_no_conflict(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run(plan, dph_return(plan, tmp_path / "dph.xlsx"))
    housing = fill(plan, HOUSING, tmp_path / "housing.xlsx", {
        ("KA2-03", "new_status"): "Delayed achievement by target date",
        ("KA2-03", "new_progress"): "Waiting for the ICB’s data-sharing agreement.",
        ("KA2-03", "revised_finish"): datetime(2026, 3, 1),
        ("KA2-03", "comment"): "Call José on 020 8359 2000 – “any time”.",
        ("KA2-01", "new_status"): "On target to be achieved by target date",
        ("KA2-01", "new_progress"): "Standards drafted.",
    })
    result = run(plan, housing)
    assert {c.action_id: c.kind for c in result.changes} == {"KA2-03": "same", "KA2-01": "new"}
    assert tables(plan)["flags"] == []


def test_a_newer_return_from_the_same_lead_supersedes_explicitly(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = dph_return(plan, tmp_path / "v1.xlsx")
    second = dph_return(plan, tmp_path / "v2.xlsx", progress="Corrected: 14 wards, £4,700.")
    os.utime(first, (time.time() - 3600, time.time() - 3600))
    run(plan, first)
    result = run(plan, second)
    assert {c.action_id: c.kind for c in result.changes} == {"KA1-02": "replaced", "KA2-03": "same"}
    assert [f.code for f in result.report if f.code == "return-superseded"] == ["return-superseded"]
    with Register.open(plan) as reg:
        assert reg.update("KA1-02", CYCLE).progress == "Corrected: 14 wards, £4,700."  # type: ignore[union-attr]
        states = dict(reg.conn.execute("SELECT original_name, state FROM returns").fetchall())
    assert states == {"v1.xlsx": "superseded", "v2.xlsx": "merged"}
    assert tables(plan)["flags"] == []


def test_an_older_copy_after_a_newer_one_is_not_taken(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    old = dph_return(plan, tmp_path / "old.xlsx", progress="First thoughts.")
    new = dph_return(plan, tmp_path / "new.xlsx")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    run(plan, new)
    result = run(plan, old)
    assert [o.state for o in result.files] == ["superseded"]
    assert [f.code for f in result.report if f.code == "return-older-ignored"] == ["return-older-ignored"]
    with Register.open(plan) as reg:
        assert reg.update("KA1-02", CYCLE).progress == PROGRESS  # type: ignore[union-attr]


def test_a_register_change_since_issue_is_shown_not_overwritten(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hwbs_xl.model import Provenance, Update

    with Register.open(plan) as reg, reg.batch("edit", command="coordinator edit") as b:
        b.put("updates", update_row(Update("KA2-03", CYCLE, "on_target", "On target to be achieved by target date",
                                           progress="Told me by phone: on target.",
                                           source=Provenance(file="phone call"))))
    result = run(plan, dph_return(plan, tmp_path / "dph.xlsx"))
    change = next(c for c in result.changes if c.action_id == "KA2-03")
    assert change.kind == "register-changed"
    with Register.open(plan) as reg:
        assert reg.update("KA2-03", CYCLE).progress == "Told me by phone: on target."  # type: ignore[union-attr]
        assert {(f.field, f.code) for f in reg.flags(open_only=True)} == {
            ("status", "register-changed-since-issue"), ("progress", "register-changed-since-issue"),
            ("revised_finish", "register-changed-since-issue")}
    assert "register-changed-since-issue" in [f.code for f in result.report]


def test_a_merge_is_one_batch_that_undo_reverses(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = tables(plan)
    result = run(plan, dph_return(plan, tmp_path / "dph.xlsx"))
    with Register.open(plan) as reg:
        assert [b.kind for b in reg.log()][-1] == "merge"
        reg.undo(result.batch_id, command="pytest undo")
    assert tables(plan) == before


def test_rejected_files_are_kept_and_recorded_but_change_no_update(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "scan.xlsx"
    junk.write_bytes(b"%PDF-1.4 not a workbook")
    before = tables(plan)["updates"]
    result = run(plan, junk)
    assert [o.state for o in result.files] == ["rejected"] and not result.ok
    assert tables(plan)["updates"] == before
    [row] = tables(plan)["returns"]
    assert row["state"] == "rejected" and (plan.root / row["stored_path"]).read_bytes() == junk.read_bytes()


def test_master_open_elsewhere_fails_before_any_work(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    returned = dph_return(plan, tmp_path / "dph.xlsx")
    lock = office_lock_file(plan.master)
    lock.write_text("Coordinator,PC,...", encoding="utf-8")
    before = fingerprint(plan)
    with pytest.raises(OutputLocked, match="open in another program"):
        run(plan, returned)
    assert fingerprint(plan) == before and not any(plan.evidence.iterdir())
    lock.unlink()
    run(plan, returned)
    assert fingerprint(plan) != before


def test_a_second_coordinator_is_told_another_command_is_running(plan, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    returned = dph_return(plan, tmp_path / "dph.xlsx")
    monkeypatch.setenv("HWBS_LOCK_TIMEOUT", "0.2")
    before = fingerprint(plan)
    with plan_lock(plan.lock, "merge returns"):  # the first coordinator's merge, still running
        with pytest.raises(RegisterBusy, match="Another coordinator"):
            run(plan, returned)
    assert fingerprint(plan) == before


KILLER = r"""
import sys, time
from pathlib import Path
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Batch
from hwbs_xl.returns.merge import merge
from hwbs_xl.returns.validate import validate

real_put = Batch.put
def slow_put(self, table, row):
    done = real_put(self, table, row)
    if self.changes >= int(sys.argv[3]):
        Path(sys.argv[4]).write_text("inside the transaction")
        time.sleep(120)   # killed here, mid-merge
    return done
Batch.put = slow_put
merge(PlanPaths(Path(sys.argv[1])), [Path(sys.argv[2])], command="killed merge")
"""


@pytest.mark.parametrize("after_changes", [1, 3])
def test_a_merge_killed_part_way_leaves_the_register_intact(plan, tmp_path, after_changes: int) -> None:  # type: ignore[no-untyped-def]
    returned = dph_return(plan, tmp_path / "dph.xlsx")
    before = fingerprint(plan)
    marker = tmp_path / "inside"
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(plan.root), str(returned), str(after_changes), str(marker)])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the merge ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert fingerprint(plan) == before  # the rollback journal undid the half-done batch on next open
    result = run(plan, returned)  # and running again completes
    assert result.batch_id and fingerprint(plan) != before


def test_cli_exit_codes(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = fill(plan, DPH, tmp_path / "bad.xlsx", {("KA1-02", "new_status"): "Finished"})
    cmd = [*hwbs_command(), "--plan", str(plan.root)]
    validate = subprocess.run([*cmd, "validate", str(bad)], capture_output=True, text=True)
    assert validate.returncode == 1 and "status-not-in-list" in validate.stdout
    dry = subprocess.run([*cmd, "merge", "--dry-run", str(bad)], capture_output=True, text=True)
    assert dry.returncode == 1 and "dry run" in dry.stdout  # the same verdict as validate, nothing written
    assert dry.stdout.rstrip().splitlines()[-1].startswith("Not everything was taken")
    with plan_lock(plan.lock, "merge returns"):
        busy = subprocess.run([*cmd, "merge", str(bad)], capture_output=True, text=True,
                              env={**os.environ, "HWBS_LOCK_TIMEOUT": "0.2"})
    assert busy.returncode == 3 and "register-busy" in busy.stderr and "Traceback" not in busy.stderr


def test_merge_exits_1_after_committing_what_was_good_and_a_merge_that_took_nothing_changes_nothing(
        plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A folder with one good return and one refused row: the good update is committed, the exit is 1 and
    the last line says why. The same folder again takes nothing: no batch, master.xlsx left as it was."""
    inbox = tmp_path / "inbox"
    fill(plan, DPH, inbox / "one.xlsx", {("KA1-02", "new_status"): "Finished",
                                         ("KA2-02", "new_status"): "Completed", ("KA2-02", "new_progress"): "Done."})
    cmd = [*hwbs_command(), "--plan", str(plan.root), "merge", str(inbox)]
    first = subprocess.run(cmd, capture_output=True, text=True)
    assert first.returncode == 1, first.stdout + first.stderr
    last = first.stdout.rstrip().splitlines()[-1]
    assert last == "Not everything was taken: 0 file(s) and 1 row(s) refused; everything else is merged (exit 1)."
    with Register.open(plan) as reg:
        batches = len(reg.log())
        assert reg.update("KA2-02", CYCLE) is not None and reg.update("KA1-02", CYCLE) is None
    master = plan.master.stat().st_mtime_ns
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 1 and "Register batch" not in again.stdout
    assert "Master appendix workbook regenerated" not in again.stdout
    with Register.open(plan) as reg:
        assert len(reg.log()) == batches
    assert plan.master.stat().st_mtime_ns == master


DISK_FULL = r"""
import resource, signal, sys
from pathlib import Path
from hwbs_xl.errors import HwbsError
from hwbs_xl.paths import PlanPaths
from hwbs_xl.returns.merge import merge
from hwbs_xl.returns.validate import validate

paths = PlanPaths(Path(sys.argv[1]))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as on a full disk
limit = paths.register.stat().st_size          # the register cannot grow by a single page
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    merge(paths, [Path(p) for p in sys.argv[2:]], command="merge on a full disk")
except HwbsError as exc:
    print(exc.code, exc.exit_code)
    sys.exit(exc.exit_code)
"""


def test_a_full_disk_leaves_the_register_as_it_was(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    long = "A long progress report – £ and “quotes”. " * 120
    returns = [dph_return(plan, tmp_path / "dph.xlsx", progress=long),
               fill(plan, HOUSING, tmp_path / "housing.xlsx", {
                   ("KA2-01", "new_status"): "On target to be achieved by target date", ("KA2-01", "new_progress"): long}),
               fill(plan, CHILDREN, tmp_path / "children.xlsx", {
                   ("KA1-01", "new_status"): "On target to be achieved by target date", ("KA1-01", "new_progress"): long})]
    before = fingerprint(plan)
    script = tmp_path / "full.py"
    script.write_text(DISK_FULL, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), str(plan.root), *map(str, returns)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr  # could not finish: nothing was changed
    assert "io-error" in proc.stdout and "Traceback" not in proc.stderr
    assert fingerprint(plan) == before
    assert not list(plan.root.rglob(".hwbs-tmp-*"))  # no half-written temporary file left behind
    run(plan, *returns)  # with room again, the same merge completes
    assert fingerprint(plan) != before


def test_undo_of_a_merge_leaves_master_xlsx_true(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """master.xlsx showed the merged update; after `undo` of that merge it no longer does, and undo says
    it rebuilt it (it used to keep showing the undone update)."""
    returned = fill(plan, DPH, tmp_path / "dph.xlsx", {("KA2-02", "new_status"): "Completed",
                                                       ("KA2-02", "new_progress"): "Unmistakable merged words."})
    cmd = [*hwbs_command(), "--plan", str(plan.root)]
    merged = subprocess.run([*cmd, "merge", str(returned)], capture_output=True, text=True)
    assert merged.returncode == 0, merged.stdout + merged.stderr

    def master_text() -> str:
        book = read_file(plan.master).book
        assert book is not None
        return "\n".join(str(v) for s in book.sheets for _, _, v in s.cells())

    assert "Unmistakable merged words." in master_text()
    with Register.open(plan) as reg:
        batch = reg.log()[-1].id
    undone = subprocess.run([*cmd, "undo", str(batch)], capture_output=True, text=True)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert f"Master appendix workbook rebuilt: {plan.master}" in undone.stdout
    assert "Unmistakable merged words." not in master_text()
    again = subprocess.run([*cmd, "log"], capture_output=True, text=True)  # a reading command touches nothing
    assert "Master appendix" not in again.stdout


def test_a_leads_comment_reaches_the_coordinator_whole(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The comment column is the lead talking to the coordinator: merge prints it in full (it was shown
    only with --details, cut at 40 characters), status lists it, the export carries it."""
    comment = "Please note: from January this action moves to the Head of Prevention,\nwho will report next time."
    returned = fill(plan, DPH, tmp_path / "dph.xlsx", {("KA2-02", "new_status"): "On target to be achieved by target date",
                                                       ("KA2-02", "new_progress"): "Work continues.",
                                                       ("KA2-02", "comment"): comment})
    cmd = [*hwbs_command(), "--plan", str(plan.root)]
    merged = subprocess.run([*cmd, "merge", str(returned)], capture_output=True, text=True)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert f"Comment from {DPH} on KA2-02" in merged.stdout
    assert "    Please note: from January this action moves to the Head of Prevention," in merged.stdout
    assert "    who will report next time." in merged.stdout
    status = subprocess.run([*cmd, "status"], capture_output=True, text=True)
    assert "Comments to you from the leads (1):" in status.stdout and "who will report next time." in status.stdout
    out = tmp_path / "export.xlsx"
    assert subprocess.run([*cmd, "export", "--format", "xlsx", "--out", str(out)], capture_output=True).returncode == 0
    book = read_file(out).book
    assert book is not None
    assert comment in [v for s in book.sheets for _, _, v in s.cells()]


def test_a_second_generate_does_not_void_returns_of_the_first(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The blocker: generating again (nothing changed) used to overwrite every workbook, and every return
    made from the first issue was then refused as workbook-not-issued. Now the first issue stands."""
    from hwbs_xl.issue.generate import generate

    returned = fill(plan, DPH, tmp_path / "dph.xlsx", {("KA2-02", "new_status"): "Completed",
                                                       ("KA2-02", "new_progress"): "Done and dusted."})
    again = generate(plan, drafts=True, example_contact=True, command="test: generate again")
    assert again.workbooks == () and DPH in again.unchanged
    checked = validate(plan, [returned])
    assert checked.ok, [f.line() for f in checked.report.findings]
    assert "workbook-not-issued" not in {f.code for f in checked.report.findings}
    result = merge(plan, [returned], command="test")
    with Register.open(plan) as reg:
        update = reg.update("KA2-02", CYCLE)
    assert result.ok and update is not None and update.progress == "Done and dusted."
