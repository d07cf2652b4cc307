"""Settling flags: the command form and the review workbook round trip, each one undoable batch that
records who settled and when; bad decisions change nothing."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from hwbs_xl.cli import main
from hwbs_xl.demo.sample import BARNET_2023, BARNET_2024
from hwbs_xl.errors import InvalidData, NotFound
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.review import apply_review, open_flags, settle, write_review
from hwbs_xl.register import Register

from conftest import copy_plan


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> PlanPaths:
    paths = PlanPaths(tmp_path_factory.mktemp("review") / "plan")
    import_files(paths, [BARNET_2023, BARNET_2024], command="t")
    return paths


@pytest.fixture
def plan(imported: PlanPaths, tmp_path: Path) -> PlanPaths:
    return copy_plan(imported, tmp_path / "plan")


def _flag(paths: PlanPaths, code: str, raw: str | None = None):  # type: ignore[no-untyped-def]
    with Register.open(paths) as reg:
        return next(f for f in reg.flags(open_only=True) if f.code == code and (raw is None or f.raw == raw))


def test_settle_status_by_label_records_who_and_when_and_clears_review(plan: PlanPaths) -> None:
    flag = _flag(plan, "status-ambiguous", "target date")
    result = settle(plan, [(flag.id, "delayed achievement BY target date")], by="A. Coordinator", command="t")
    assert result.batch_id and result.settled == [flag.id]
    with Register.open(plan) as reg:
        settled = next(f for f in reg.flags() if f.id == flag.id)
        assert settled.settled_value == "Delayed achievement by target date"
        assert settled.settled_by == "A. Coordinator" and settled.settled_at
        u = reg.update(flag.action_id, flag.cycle)
        assert u.status == "delayed" and u.status_raw == "target date" and not u.needs_review
        assert reg.log()[-1].kind == "settle"
        reg.undo(result.batch_id, command="t")
        assert reg.update(flag.action_id, flag.cycle).status is None
        assert next(f for f in reg.flags() if f.id == flag.id).settled_at is None


def test_settle_status_by_number_keeps_review_while_other_flags_are_open(plan: PlanPaths) -> None:
    food_status = _flag(plan, "status-missing")
    with Register.open(plan) as reg:
        others = [f for f in reg.flags(open_only=True) if f.action_id == food_status.action_id and f.id != food_status.id]
    settle(plan, [(food_status.id, "on target")], command="t")     # words only one status can mean
    with Register.open(plan) as reg:
        u = reg.update(food_status.action_id, food_status.cycle)
        assert u.status == "on_target"
        assert u.needs_review == bool([f for f in others if f.cycle == food_status.cycle])


def test_settle_lead_and_finish(plan: PlanPaths) -> None:
    lead = _flag(plan, "lead-unreadable")
    finish = _flag(plan, "finish-missing")
    settle(plan, [(lead.id, "Head of Transport; Sustainability Lead"), (finish.id, "Mar-25")], command="t")
    with Register.open(plan) as reg:
        assert reg.action(lead.action_id).leads == ("Head of Transport", "Sustainability Lead")
        assert reg.update(lead.action_id, lead.cycle).leads_as_reported == ("Head of Transport", "Sustainability Lead")
        assert reg.action(finish.action_id).finish.label == "Mar-25"


def test_settle_link_merges_the_two_actions_under_the_chosen_id(plan: PlanPaths) -> None:
    with Register.open(plan) as reg:
        flag = next(f for f in reg.flags(open_only=True) if f.code == "link-doubtful" and "oral hygiene" in f.raw)
        target = flag.candidates[0].split(" ")[0]
        before = len(reg.actions())
        cycles = [u.cycle for u in reg.updates(action_id=target)] + [u.cycle for u in reg.updates(action_id=flag.action_id)]
    result = settle(plan, [(flag.id, flag.candidates[0].lower())], command="t")  # "ka2-07 (0.83)" as listed
    with Register.open(plan) as reg:
        assert len(reg.actions()) == before - 1
        with pytest.raises(NotFound):
            reg.action(flag.action_id)
        assert sorted(u.cycle for u in reg.updates(action_id=target)) == sorted(cycles)
        merged = reg.action(target)
        assert "Oral Health Action Plan" in merged.activity              # the later wording wins
        assert next(f for f in reg.flags() if f.id == flag.id).action_id == target
        reg.undo(result.batch_id, command="t")
        assert len(reg.actions()) == before and reg.action(flag.action_id)


def test_settle_link_new_keeps_them_apart(plan: PlanPaths) -> None:
    flag = _flag(plan, "link-doubtful")
    settle(plan, [(flag.id, "new")], command="t")
    with Register.open(plan) as reg:
        assert reg.action(flag.action_id)
        assert next(f for f in reg.flags() if f.id == flag.id).settled_value == "new"


def test_bad_decisions_change_nothing(plan: PlanPaths) -> None:
    status = _flag(plan, "status-ambiguous", "target date")
    finish = _flag(plan, "finish-missing")
    with Register.open(plan) as reg:
        before = reg.fingerprint()
    result = settle(plan, [(status.id, "Completed"), (finish.id, "soon")], command="t")
    assert result.batch_id is None and [f.code for f in result.report.errors] == ["settle-invalid"]
    assert "not a month" in result.report.errors[0].message
    with Register.open(plan) as reg:
        assert reg.fingerprint() == before
    with pytest.raises(NotFound):
        settle(plan, [(9999, "Completed")], command="t")
    link = _flag(plan, "link-doubtful")
    bad_link = settle(plan, [(link.id, link.action_id)], command="t")
    assert bad_link.report.errors and "own action" in bad_link.report.errors[0].message


def test_settling_twice_is_refused(plan: PlanPaths) -> None:
    flag = _flag(plan, "status-ambiguous", "target date")
    settle(plan, [(flag.id, "1")], command="t")
    with pytest.raises(InvalidData):
        settle(plan, [(flag.id, "2")], command="t")


def test_review_workbook_round_trip(plan: PlanPaths, tmp_path: Path) -> None:
    out, count = write_review(plan, tmp_path / "review.xlsx")
    assert count == len(open_flags(plan))
    wb = openpyxl.load_workbook(out)
    ws = wb["Flags to settle"]
    header = [c.value for c in ws[2]]
    assert header[0] == "Flag" and header[-1] == "Your decision"
    assert ws.protection.sheet and not ws.cell(3, len(header)).protection.locked
    rows = {ws.cell(r, 1).value: r for r in range(3, ws.max_row + 1)}
    assert len(rows) == count
    by_code = {}
    for r in range(3, ws.max_row + 1):
        by_code.setdefault(ws.cell(r, header.index("Found in the paper") + 1).value, []).append(r)
    decision = len(header)
    for r in by_code["by target date"]:
        ws.cell(r, decision).value = "On target to be achieved by target date"
    ws.cell(by_code["target date"][0], decision).value = 3                  # a number, as Excel stores it
    wb.save(out)
    result = apply_review(plan, out, by="Reviewer", command="t")
    assert not result.report.errors and len(result.settled) == 4
    with Register.open(plan) as reg:
        statuses = {u.status_raw: u.status for u in reg.updates(cycle="April 2024")
                    if u.status_raw in ("by target date", "target date")}
        assert statuses == {"by target date": "on_target", "target date": "delayed"}
        assert reg.log()[-1].kind == "review"
    # applying the same workbook again settles nothing more and says so
    again = apply_review(plan, out, command="t")
    assert again.batch_id is None and len(again.report.of("settle-already")) == 4


def test_review_with_a_bad_decision_applies_nothing(plan: PlanPaths, tmp_path: Path) -> None:
    out, _ = write_review(plan, tmp_path / "review.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    header = [c.value for c in ws[2]]
    ws.cell(3, len(header)).value = "Probably fine"
    ws.cell(4, len(header)).value = "new"
    wb.save(out)
    with Register.open(plan) as reg:
        before = reg.fingerprint()
    result = apply_review(plan, out, command="t")
    assert result.batch_id is None and result.report.errors
    assert result.report.errors[0].where.endswith("row 3") and result.report.errors[0].file == "review.xlsx"
    with Register.open(plan) as reg:
        assert reg.fingerprint() == before


def test_cli_flags_settle_and_review(plan: PlanPaths, tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["--plan", str(plan.root), "flags"])
    assert listed.exit_code == 0 and "answer with:" in listed.output and "open flag(s)" in listed.output
    flag = _flag(plan, "status-ambiguous", "target date")
    done = runner.invoke(main, ["--plan", str(plan.root), "settle", str(flag.id), "3", "--by", "Sam"])
    assert done.exit_code == 0, done.output
    assert "settled as 'Delayed achievement by target date' by Sam" in done.output
    bad = runner.invoke(main, ["--plan", str(plan.root), "settle", str(_flag(plan, "finish-missing").id), "soon"])
    assert bad.exit_code == 1 and "not a month" in bad.output
    out = tmp_path / "r.xlsx"
    written = runner.invoke(main, ["--plan", str(plan.root), "review", "--out", str(out)])
    assert written.exit_code == 0 and out.is_file()
    applied = runner.invoke(main, ["--plan", str(plan.root), "review", "--apply", str(out)])
    assert applied.exit_code == 0 and "No decisions" in applied.output
    both = runner.invoke(main, ["--plan", str(plan.root), "review"])
    assert both.exit_code == 2


def test_settle_a_merge_flag_on_the_revised_finish(plan: PlanPaths) -> None:
    """Merges flag per field (status, progress, revised_finish); the same settle resolves them."""
    from hwbs_xl.model import Flag
    from hwbs_xl.register import flag_row

    with Register.open(plan) as reg:
        u = reg.updates(cycle="April 2024")[0]
        with reg.batch("merge", command="t") as b:
            fid = b.new_flag_id()
            b.put("flags", flag_row(Flag(fid, u.action_id, "April 2024", "revised_finish", "return-conflict",
                                         "{}", "Two leads gave different revised finish dates.", ("Jun-25", "Sep-25"))))
    bad = settle(plan, [(fid, "later")], command="t")
    assert bad.report.errors and "not a month" in bad.report.errors[0].message
    settle(plan, [(fid, "September 2025")], command="t")
    with Register.open(plan) as reg:
        assert reg.update(u.action_id, "April 2024").revised_finish.label == "Sep-25"
