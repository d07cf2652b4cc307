"""Importing the two bundled Barnet appendices: the figures the plan is built on, provenance, linking,
idempotence, order independence, undo and the import report. Real files, real register, no mocks."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from hwbs_xl.cli import main
from hwbs_xl.demo.sample import BARNET_2023, BARNET_2024, BARNET_TITLE
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.importing.readers import read_source
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register

from conftest import copy_plan

ON, DELAYED, DONE = "on_target", "delayed", "completed"


@pytest.fixture(scope="module")
def barnet(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanPaths, object]:
    """Both appendices imported in one call into a plan folder that did not exist."""
    paths = PlanPaths(tmp_path_factory.mktemp("barnet") / "plan")
    result = import_files(paths, [BARNET_2023, BARNET_2024], command="test import")
    return paths, result


def _statuses(reg: Register, cycle: str) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for u in reg.updates(cycle=cycle):
        out[u.status] = out.get(u.status, 0) + 1
    return out


def _by_line(reg: Register, cycle: str, line: int):  # type: ignore[no-untyped-def]
    return next(u for u in reg.updates(cycle=cycle) if u.source.where == f"line {line}")


def test_forms_are_detected_by_content() -> None:
    assert read_source(BARNET_2023).form == "markdown"
    assert read_source(BARNET_2024).form == "tsv"


def test_import_creates_the_plan_with_the_appendix_title(barnet) -> None:
    paths, result = barnet
    assert result.changed and result.batch_id and not result.report.errors
    with Register.open(paths) as reg:
        assert reg.plan().title == BARNET_TITLE
        assert [c.label for c in reg.cycles()] == ["September 2022", "April 2023", "April 2024"]
        assert all(c.state == "closed" for c in reg.cycles())
        assert [c.seq for c in reg.cycles()] == [202209, 202304, 202404]


def test_april_2023_has_33_actions_26_on_target_5_delayed_2_completed(barnet) -> None:
    paths, result = barnet
    with Register.open(paths) as reg:
        assert len(reg.updates(cycle="April 2023")) == 33
        assert _statuses(reg, "April 2023") == {ON: 26, DELAYED: 5, DONE: 2}
        assert not any(u.needs_review for u in reg.updates(cycle="April 2023"))
    assert result.counts["cycles"]["April 2023"]["actions"] == 33


def test_september_2022_notes_are_their_own_cycle_without_status_or_flags(barnet) -> None:
    paths, _ = barnet
    with Register.open(paths) as reg:
        notes = reg.updates(cycle="September 2022")
        # one April 2023 row (Resilient Schools) has an empty notes cell: no update is invented for it
        assert len(notes) == 32
        assert all(u.status is None and not u.needs_review and u.status_raw == "" for u in notes)
        assert not reg.flags(cycle="September 2022")
        dementia = _by_line(reg, "September 2022", 10)
        assert dementia.progress.startswith("Public Health will submit application")
        assert dementia.activity_as_reported == "Become a dementia friendly borough"


def test_april_2024_every_status_mapped_or_flagged_none_guessed(barnet) -> None:
    paths, result = barnet
    with Register.open(paths) as reg:
        updates = reg.updates(cycle="April 2024")
        assert len(updates) == 42
        flagged = [u for u in updates if u.status is None]
        assert all(u.needs_review for u in flagged)
        raws = sorted(u.status_raw for u in flagged)
        assert raws == ["", "", "", "by target date", "by target date", "by target date", "my tanget water",
                        "target date"]
        codes = {f.raw: f.code for f in reg.flags(cycle="April 2024") if f.field == "status"}
        assert codes["by target date"] == codes["target date"] == codes["my tanget water"] == "status-ambiguous"
        assert codes[""] == "status-missing"
        ambiguous = next(f for f in reg.flags() if f.raw == "target date")
        assert set(ambiguous.candidates) == {"On target to be achieved by target date",
                                             "Delayed achievement by target date"}
        # the three "On target to be achieved" are repairs with a single answer
        repaired = [u for u in updates if u.status_raw == "On target to be achieved"]
        assert len(repaired) == 3 and all(u.status == ON for u in repaired)
        status_flagged = {f.action_id for f in reg.flags() if f.field == "status"}
        assert not status_flagged & {u.action_id for u in repaired}
        assert _statuses(reg, "April 2024") == {ON: 25, DONE: 7, DELAYED: 1, "incorporated": 1, None: 8}
    assert len(result.report.of("status-repaired")) == 3
    assert result.counts["cycles"]["April 2024"]["flagged"] == 8


def test_garbage_lead_and_missing_finish_are_flagged_with_raw_kept(barnet) -> None:
    paths, _ = barnet
    with Register.open(paths) as reg:
        transport = _by_line(reg, "April 2024", 25)
        assert transport.leads_as_reported == () and transport.needs_review
        lead_flag = next(f for f in reg.flags() if f.code == "lead-unreadable")
        assert lead_flag.raw == "• •" and lead_flag.action_id == transport.action_id
        missing = {f.action_id for f in reg.flags() if f.code == "finish-missing"}
        assert missing == {_by_line(reg, "April 2024", 12).action_id, _by_line(reg, "April 2024", 48).action_id}
        # a later paper that leaves the finish empty does not erase the finish an earlier paper gave
        food = reg.action(_by_line(reg, "April 2024", 12).action_id)
        assert food.finish and food.finish.label == "Jul-24"


def test_seed_oddities_are_repaired_by_general_rules(barnet) -> None:
    paths, result = barnet
    with Register.open(paths) as reg:
        # "Key" | "Area 1" (line 19) and the split header "HWBS K" | "ey Area" (line 17)
        anchor = reg.action(_by_line(reg, "April 2024", 19).action_id)
        assert anchor.key_area == "Key Area 1" and anchor.activity.startswith("Work between Anchor Institutions")
        # the block whose header and rows are shifted right by a stray leading cell (lines 31-35)
        oral = reg.action(_by_line(reg, "April 2024", 33).action_id)
        assert oral.key_area == "Key Area 2" and oral.activity.startswith("Improving children's oral hygiene")
        assert oral.leads == ("Barnet Oral Health Partnership Working Group",)
        # "Load" is the lead, "Progress Peport" the progress, "Finish" + "Date" the finish (lines 1-2)
        hia = _by_line(reg, "April 2024", 3)
        assert hia.progress.startswith("Health Impact Assessment (HIA) guidance note")
        assert reg.action(hia.action_id).finish.label == "Mar-24"
        # <ul><li>■ ...: HTML removed, one bullet per line
        dementia = _by_line(reg, "April 2024", 4)
        assert "<" not in dementia.progress and "■" not in dementia.progress
        assert dementia.progress.splitlines()[0].startswith("• Barnet has successfully maintained")
        assert len([x for x in dementia.progress.splitlines() if x.startswith("• ")]) >= 3
        # several leads stay several leads (a slash, and two names run together by extraction)
        air = _by_line(reg, "April 2024", 15)
        assert air.leads_as_reported[0] == "Public Health Officer, LBB" and len(air.leads_as_reported) == 2
        assert _by_line(reg, "April 2024", 3).leads_as_reported == ("Deputy Director of Public Health",
                                                                     "Public Health Officer, LBB")
    codes = {f.code for f in result.report}
    assert {"header-dropped", "cell-split-repaired", "text-cleaned", "lead-split"} <= codes
    dropped = [f.where for f in result.report.of("header-dropped") if f.file == BARNET_2024.name]
    assert "line 8" in dropped and "line 57" in dropped


def test_obvious_repeats_are_linked_and_doubtful_ones_flagged(barnet) -> None:
    paths, result = barnet
    links = result.counts["by_file"][BARNET_2024.name]["links"]
    assert links["link-same-wording"] == 17 and links["link-similar"] == 3
    assert links["action-new"] + links["link-doubtful"] == 22 and links["link-doubtful"] == 6
    with Register.open(paths) as reg:
        assert len(reg.actions()) == 33 + 22
        drink = _by_line(reg, "April 2024", 5)
        assert [u.cycle for u in reg.updates(action_id=drink.action_id)] == ["September 2022", "April 2023", "April 2024"]
        # reworded: "Become a dementia friendly borough" -> "Further develop the Dementia Friendly Partnership..."
        dementia = _by_line(reg, "April 2024", 4)
        assert _by_line(reg, "April 2023", 10).action_id == dementia.action_id
        action = reg.action(dementia.action_id)
        assert action.activity.startswith("Further develop the Dementia Friendly Partnership")  # latest wording
        assert action.leads == ("Senior Public Health Strategist, LBB",)                   # latest leads
        # the two Corporate Parenting actions of 2023 are candidates for the 2024 one, with scores
        parenting = _by_line(reg, "April 2024", 27)
        flag = next(f for f in reg.flags() if f.code == "link-doubtful" and f.action_id == parenting.action_id)
        assert len(flag.candidates) == 2 and all("(" in c for c in flag.candidates)


def test_provenance_names_file_hash_and_line(barnet) -> None:
    paths, _ = barnet
    with Register.open(paths) as reg:
        u = _by_line(reg, "April 2024", 40)
        assert u.source.file == BARNET_2024.name and len(u.source.sha256) == 64
        assert u.status is None and u.status_raw == "my tanget water"
        assert u.activity_as_reported.startswith("Ongoing implementation of Champion role to focus")


def test_reimport_changes_nothing_and_says_already_imported(barnet, tmp_path: Path) -> None:
    paths = copy_plan(barnet[0], tmp_path / "copy")
    with Register.open(paths) as reg:
        before, batches = reg.fingerprint(), len(reg.log())
    again = import_files(paths, [BARNET_2024, BARNET_2023], command="test again")
    assert not again.changed and again.batch_id is None and again.report_file is None
    assert [f.code for f in again.report] == ["already-imported", "already-imported"]
    with Register.open(paths) as reg:
        assert reg.fingerprint() == before and len(reg.log()) == batches


def _shape(paths: PlanPaths) -> dict:  # type: ignore[type-arg]
    """The register without its IDs: each action as the set of (cycle, wording) it was reported with."""
    with Register.open(paths) as reg:
        out = {}
        for a in reg.actions():
            ups = reg.updates(action_id=a.id)
            key = frozenset((u.cycle, u.activity_as_reported) for u in ups)
            flags = tuple(sorted((f.code, f.cycle, f.raw, len(f.candidates)) for f in reg.flags() if f.action_id == a.id))
            out[key] = (a.key_area, a.activity, a.leads, a.start, a.finish, flags,
                        tuple((u.cycle, u.status, u.status_raw, u.needs_review, u.progress) for u in ups))
        return out


def test_either_order_or_one_call_gives_the_same_actions(barnet, tmp_path: Path) -> None:
    forward = PlanPaths(tmp_path / "forward")
    import_files(forward, [BARNET_2023], command="t")
    import_files(forward, [BARNET_2024], command="t")
    backward = PlanPaths(tmp_path / "backward")
    import_files(backward, [BARNET_2024], command="t")
    import_files(backward, [BARNET_2023], command="t")
    one_call = _shape(barnet[0])
    assert _shape(forward) == one_call
    assert _shape(backward) == one_call


def test_undo_of_the_import_restores_the_empty_plan(barnet, tmp_path: Path) -> None:
    paths = copy_plan(barnet[0], tmp_path / "copy")
    with Register.open(paths) as reg:
        reg.undo(barnet[1].batch_id, command="test undo")
        assert reg.actions() == [] and reg.cycles() == [] and reg.flags() == []
    # numbers are never reused: a fresh import after the undo continues after the highest ID ever given
    again = import_files(paths, [BARNET_2023], command="t")
    with Register.open(paths) as reg:
        assert again.changed and min(a.id for a in reg.actions() if a.id.startswith("KA1-")) == "KA1-17"


def test_import_report_lists_every_repair_flag_and_link_with_its_line(barnet) -> None:
    paths, result = barnet
    assert result.report_file.parent == paths.reports and result.report_file.name.startswith("import-")
    wb = openpyxl.load_workbook(result.report_file)
    assert wb.sheetnames == ["Summary", "What was done"]
    summary = [c.value for c in wb["Summary"]["B"] if c.value]
    assert any("33 actions: 26 On target" in v for v in summary)
    ws = wb["What was done"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    assert len(rows) == len(result.report)
    flagged = [r for r in rows if r["Code"] == "status-ambiguous"]
    assert len(flagged) == 5 and all(r["Where"].startswith("line ") for r in flagged)
    # the status cell in its own column: the April 2024 text's sixth column ("Status as of April 2024")
    assert all(r["Cell / position"] == f"{r['Where']}, column 6" for r in flagged)
    repaired = {f.where for f in result.report.of("status-repaired")}
    assert repaired == {f"line {n}; status cell column 6" for n in (25, 43, 48)}
    assert {r["Where"] for r in rows if r["Code"] == "status-repaired"} == {"line 25", "line 43", "line 48"}
    assert sum(1 for r in rows if r["Code"].startswith("link-same")) == 17
    # every cell is text, even ones that look like numbers or formulas
    assert all(c.data_type == "s" for r in ws.iter_rows() for c in r if c.value is not None)


def test_cli_import_export_json_shows_everything_with_provenance(tmp_path: Path) -> None:
    plan = str(tmp_path / "plan")
    runner = CliRunner()
    result = runner.invoke(main, ["--plan", plan, "import", str(BARNET_2023), str(BARNET_2024)])
    assert result.exit_code == 0, result.output
    assert "April 2023: 33 actions: 26 On target" in result.output and "Report:" in result.output
    again = runner.invoke(main, ["--plan", plan, "import", str(BARNET_2024)])
    assert again.exit_code == 0 and "Nothing changed." in again.output
    out = runner.invoke(main, ["--plan", plan, "export", "--format", "json"])
    assert out.exit_code == 0
    data = json.loads(out.output)
    assert data["plan"]["title"] == BARNET_TITLE
    assert [c["label"] for c in data["cycles"]] == ["September 2022", "April 2023", "April 2024"]
    april = [u for a in data["actions"] for u in a["updates"] if u["cycle"] == "April 2024"]
    assert len(april) == 42 and sum(1 for u in april if u["status"] is None) == 8
    assert all(u["status"] is None or u["status"] in {s["label"] for s in data["statuses"]} for u in april)
    assert all(u["source"]["file"] and len(u["source"]["sha256"]) == 64 and u["source"]["where"] for u in april)
    unresolved = next(u for u in april if u["status_raw"] == "target date")
    assert unresolved["status"] is None and unresolved["needs_review"] is True
