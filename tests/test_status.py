"""The return register (`hwbs-xl status`): positions per lead, overdue by the cycle's due date, the chase
list files, and reminder drafts for outstanding leads."""

from __future__ import annotations

import email
import subprocess
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hwbs_xl.errors import UsageProblem
from hwbs_xl.returns.merge import merge
from hwbs_xl.returns.status import status

from conftest import hwbs_command
from test_returns_support import CHILDREN, DPH, HOUSING, Cells, fill_openpyxl, issued_files, plan_copy, read_manifest

BEFORE_DUE, AFTER_DUE = date(2024, 10, 10), date(2024, 10, 25)


@pytest.fixture
def plan(tmp_path: Path):  # type: ignore[no-untyped-def]
    return plan_copy(tmp_path)


def returned(plan, lead: str, dest: Path, status_label: str = "On target to be achieved by target date") -> Path:  # type: ignore[no-untyped-def]
    src = issued_files(plan)[lead]
    c = Cells(read_manifest(src))
    edits = {}
    for row in c.manifest.rows:
        edits[(c.sheet, c.of(row.action_id, "new_status"))] = status_label
        edits[(c.sheet, c.of(row.action_id, "new_progress"))] = f"Progress on {row.action_id}."
    return fill_openpyxl(src, dest, edits)


def test_positions_merged_queried_rejected_outstanding(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = returned(plan, DPH, tmp_path / "dph.xlsx")
    queried = returned(plan, CHILDREN, tmp_path / "children.xlsx", status_label="Finished")
    junk = tmp_path / "housing.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")
    merge(plan, [good, queried, junk], command="pytest")
    reg = status(plan, today=AFTER_DUE)
    by = {r.lead: r for r in reg.leads}
    assert by[DPH].state == "merged" and not by[DPH].outstanding and not by[DPH].overdue
    # every row of the children's return was refused: returned, queried, but nothing usable, so still chased
    assert by[CHILDREN].state == "queried" and by[CHILDREN].queried and by[CHILDREN].outstanding
    assert by[CHILDREN].chase == "queried" and by[CHILDREN].overdue
    assert by[HOUSING].state == "outstanding" and by[HOUSING].overdue  # the unreadable file names nobody
    assert (reg.count("returned"), reg.count("merged"), reg.count("queried"), reg.count("outstanding"),
            reg.count("overdue")) == (2, 1, 1, 2, 2)
    assert by[DPH].updated == 3 and by[DPH].last_received


def test_nobody_is_overdue_before_the_due_date(plan) -> None:  # type: ignore[no-untyped-def]
    reg = status(plan, today=BEFORE_DUE)
    assert reg.count("outstanding") == 3 and reg.count("overdue") == 0
    assert "3 outstanding, 0 overdue" in reg.lines()[0]


def test_chase_list_files_are_safe_and_readable(plan) -> None:  # type: ignore[no-untyped-def]
    reg = status(plan, today=AFTER_DUE)
    csv, xlsx = reg.files
    assert csv.name == "chase-list.csv" and xlsx.name == "chase-list.xlsx"
    text = csv.read_text(encoding="utf-8-sig")
    assert HOUSING in text and "OVERDUE" in text
    ws = load_workbook(xlsx).active
    leads = [ws.cell(r, 1).value for r in range(5, 8)]
    assert sorted(leads) == sorted([DPH, CHILDREN, HOUSING])
    assert all(ws.cell(r, 1).data_type == "s" for r in range(5, 8))


def test_reminder_drafts_for_outstanding_leads_only(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    merge(plan, [returned(plan, DPH, tmp_path / "dph.xlsx")], command="pytest")
    reg = status(plan, drafts=True, today=AFTER_DUE)
    assert len(reg.drafts) == 2
    for path in reg.drafts:
        msg = email.message_from_bytes(path.read_bytes())
        assert msg["X-Unsent"] == "1" and "Reminder" in msg["Subject"]
        body, attachment = [p for p in msg.walk() if not p.is_multipart()]
        assert "was due on 18 October 2024" in body.get_payload(decode=True).decode("utf-8")
        assert attachment.get_filename().endswith(".xlsx")
    assert DPH not in " ".join(p.name for p in reg.drafts)


def test_no_open_cycle_is_a_usage_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hwbs_xl.paths import PlanPaths
    from hwbs_xl.plan.folder import init_plan

    paths = PlanPaths(tmp_path / "empty")
    init_plan(paths, "Empty")[0].close()
    with pytest.raises(UsageProblem, match="No cycle is open"):
        status(paths)


def test_cli_status(plan) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run([*hwbs_command(), "--plan", str(plan.root), "status", "--drafts"], capture_output=True, text=True)
    assert proc.returncode == 0 and "3 issued" in proc.stdout and "reminder draft" in proc.stdout


def _reminder(draft: Path) -> str:
    message = email.message_from_bytes(draft.read_bytes())
    body = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    return str(body.get_payload(decode=True).decode("utf-8"))  # type: ignore[union-attr]


def test_blank_and_partial_returns_are_chased_with_what_is_missing(plan, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A workbook sent back untouched is still outstanding and gets a reminder that says so; one with one
    of three actions filled gets a reminder naming the other two; the appendix says they returned."""
    from hwbs_xl.appendix.model import build
    from hwbs_xl.register import Register

    blank = fill_openpyxl(issued_files(plan)[DPH], tmp_path / "dph-blank.xlsx", {})
    src = issued_files(plan)[HOUSING]
    c = Cells(read_manifest(src))
    first, *rest = [row.action_id for row in c.manifest.rows]
    part = fill_openpyxl(src, tmp_path / "housing-part.xlsx", {
        (c.sheet, c.of(first, "new_status")): "On target to be achieved by target date",
        (c.sheet, c.of(first, "new_progress")): "Going well."})
    merge(plan, [blank, part], command="pytest")
    reg = status(plan, today=AFTER_DUE, drafts=True)
    by = {r.lead: r for r in reg.leads}
    assert by[DPH].chase == "empty" and by[DPH].outstanding and by[DPH].overdue
    assert by[HOUSING].chase == "partial" and not by[HOUSING].outstanding and by[HOUSING].missing == tuple(rest)
    assert by[CHILDREN].chase == "not_returned"
    assert "Returned with nothing typed in" in "\n".join(reg.lines())
    drafts = {p.stem: _reminder(p) for p in reg.drafts}
    assert len(drafts) == 3
    (dph,) = [text for name, text in drafts.items() if name.startswith("Director")]
    assert "no update had been typed into it" in dph
    (housing,) = [text for name, text in drafts.items() if name.startswith("Housing") or "Housing" in name]
    assert f"{len(rest)} of your {1 + len(rest)} action(s) still have no update: {', '.join(rest)}" in housing
    with Register.open(plan) as r:
        appendix = build(r)
    reasons = {row.action.id: appendix.awaiting_reason(row) for row in appendix.summary.awaiting}
    assert all(reasons[a] == "Returned, but with no update for these actions" for a in rest)
