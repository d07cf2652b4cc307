"""validate's results reused by merge (returns/memo.py), checks on several processes, evidence written once.

Every test uses real returned workbooks (the plan's own, filled with openpyxl) and real bad files. Whether
merge checked a file again is seen by counting calls of the per-file check (``check_bytes``) with one
worker, so the count is taken in this process; nothing about file I/O is replaced.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.cycle import retire_action
from hwbs_xl.register import Register
from hwbs_xl.returns import memo
from hwbs_xl.returns import validate as validate_mod
from hwbs_xl.returns.merge import merge
from hwbs_xl.returns.validate import validate

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
ANSWERS = {DPH: ("KA2-02", "KA2-03"), HOUSING: ("KA2-01", "KA2-03"), CHILDREN: ("KA1-01", "KA1-02")}


def fill(paths: PlanPaths, lead: str, dest: Path, progress: str, status: str = "Completed") -> Path:
    src = issued_files(paths)[lead]
    c = Cells(read_manifest(src))
    edits = {}
    for action in ANSWERS[lead]:
        edits[(c.sheet, c.of(action, "new_status"))] = status
        edits[(c.sheet, c.of(action, "new_progress"))] = f"{progress} ({action})"
    return fill_openpyxl(src, dest, edits)


@pytest.fixture
def plan(tmp_path: Path) -> PlanPaths:
    return plan_copy(tmp_path)


def inbox(paths: PlanPaths, folder: Path) -> list[Path]:
    """28 returned files: good ones from each lead (several saves each), and bad ones of every kind."""
    leads = [DPH, HOUSING, CHILDREN]
    for n in range(21):
        lead = leads[n % 3]
        fill(paths, lead, folder / f"{n:02d} {lead[:12]}.xlsx", f"Save {n}: £{n},000 spent – “café” ✓")
    fill(paths, DPH, folder / "bad status.xlsx", "Typed a status of our own", status="Nearly there")
    shutil.copy(issued_files(paths)[HOUSING], folder / "untouched.xlsx")  # nothing typed
    (folder / "notes.xlsx").write_text("not a workbook at all\n", encoding="utf-8")
    good = (folder / "00 Director of .xlsx").read_bytes()
    (folder / "cut short.xlsx").write_bytes(good[: len(good) // 2])
    zipped = folder / "sent as zip.xlsx"
    zipped.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    theirs = folder / issued_files(paths)[HOUSING].name  # DPH's workbook saved under Housing's file name
    fill(paths, DPH, theirs, "Saved under the wrong name")
    (folder / "empty.xlsx").write_bytes(b"")
    return sorted(folder.iterdir())


def comparable(result) -> list[dict]:  # type: ignore[no-untyped-def]
    """A validation or merge result's per-file content, without what differs between plan copies."""
    return [{k: v for k, v in f.items() if k not in ("evidence",)} for f in result.to_dict()["files"]]


def tables(paths: PlanPaths) -> dict[str, list[dict]]:
    skip = {"recorded_at", "received_at", "batch_id", "stored_path"}
    with Register.open(paths) as reg:
        return {t: [{k: v for k, v in dict(r).items() if k not in skip}
                    for r in reg.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in ("updates", "flags", "returns")}


def counting(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every file the check is run on (one worker, so it runs here)."""
    monkeypatch.setenv("HWBS_WORKERS", "1")
    seen: list[Path] = []
    real = validate_mod.check_bytes

    def check(facts, path, data, *, sender=None):  # type: ignore[no-untyped-def]
        seen.append(path)
        return real(facts, path, data, sender=sender)

    monkeypatch.setattr(validate_mod, "check_bytes", check)
    return seen


def run_merge(paths: PlanPaths, files: list[Path], **kw):  # type: ignore[no-untyped-def]
    return merge(paths, files, command="pytest memo", today=TODAY, **kw)


# ---- several processes give what one gives --------------------------------------------------------------

def test_one_worker_and_two_give_identical_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = plan_copy(tmp_path, "one"), plan_copy(tmp_path, "two")
    files = inbox(one, tmp_path / "inbox")
    assert len(files) > 24
    got = {}
    for workers, paths in (("1", one), ("2", two)):
        monkeypatch.setenv("HWBS_WORKERS", workers)
        checked = validate(paths, files, today=TODAY, write_reports=False)
        merged = run_merge(paths, files)
        lines = [line.replace(str(paths.root), "PLAN") for line in merged.lines() if "batch" not in line]
        got[workers] = (comparable(checked), comparable(merged), tables(paths), lines)
        states = {o.state for o in merged.files}
        assert {"rejected", "merged", "queried"} <= states, states
    assert got["1"][0] == got["2"][0]
    assert got["1"][1] == got["2"][1]
    assert got["1"][2] == got["2"][2]
    assert got["1"][3] == got["2"][3]


def test_evidence_is_every_readable_file_byte_for_byte_and_checks_hold_no_bytes(plan: PlanPaths, tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWBS_WORKERS", "2")
    files = inbox(plan, tmp_path / "inbox")
    result = run_merge(plan, files)
    kept = {o.check.sha256: o.evidence for o in result.files if o.evidence}
    expected = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.stat().st_size}
    assert set(kept) == expected  # every file read, even the rejected ones
    for p in files:
        if p.stat().st_size:
            assert kept[hashlib.sha256(p.read_bytes()).hexdigest()].read_bytes() == p.read_bytes()
    assert not list(plan.evidence.glob(".hwbs-tmp-*"))
    for o in result.files:  # memory stays flat: no file's bytes or sheets are held until the batch
        assert o.check.read.data == b"" and o.check.read.book is None


def opened(monkeypatch: pytest.MonkeyPatch, folder: Path) -> dict[str, int]:
    """Count every opening of a file in ``folder`` (one worker, so all of them happen in this process)."""
    import builtins
    import os

    monkeypatch.setenv("HWBS_WORKERS", "1")
    counts: dict[str, int] = {}
    real_os_open, real_open = os.open, builtins.open

    def count(path: object) -> None:
        if isinstance(path, (str, Path)) and Path(path).parent == folder:
            counts[Path(path).name] = counts.get(Path(path).name, 0) + 1

    def os_open(path, *args, **kw):  # type: ignore[no-untyped-def]
        count(path)
        return real_os_open(path, *args, **kw)

    def open_(path, *args, **kw):  # type: ignore[no-untyped-def]
        count(path)
        return real_open(path, *args, **kw)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    return counts


@pytest.mark.parametrize("validated_first", [False, True])
def test_merge_reads_each_returned_file_once_and_keeps_those_bytes(plan: PlanPaths, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  validated_first: bool) -> None:
    files = inbox(plan, tmp_path / "inbox")
    if validated_first:
        validate(plan, files, today=TODAY)  # merge then takes validate's results: the file is still read once
    counts = opened(monkeypatch, tmp_path / "inbox")
    result = run_merge(plan, files)
    monkeypatch.undo()
    assert counts == {p.name: 1 for p in files}
    for o in result.files:
        if o.evidence is not None:
            assert o.evidence.name.startswith(o.check.sha256)
            assert hashlib.sha256(o.evidence.read_bytes()).hexdigest() == o.check.sha256


# ---- merge reuses validate's result only when nothing it depends on changed -----------------------------

def test_merge_after_validate_checks_nothing_again_and_gives_the_same_result(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fresh, reused = plan_copy(tmp_path, "fresh"), plan_copy(tmp_path, "reused")
    files = inbox(fresh, tmp_path / "inbox")
    seen = counting(monkeypatch)
    expected = run_merge(fresh, files)
    assert len(seen) == len(files)
    validate(reused, files, today=TODAY)
    assert memo.memo_path(reused).is_file()
    seen.clear()
    result = run_merge(reused, files)
    assert seen == []  # every result came from validate's memo
    assert comparable(result) == comparable(expected)
    assert tables(reused) == tables(fresh)
    assert [line.replace(str(reused.root), "PLAN") for line in result.lines() if "batch" not in line] == \
        [line.replace(str(fresh.root), "PLAN") for line in expected.lines() if "batch" not in line]


def test_a_file_changed_after_validate_is_checked_again(plan: PlanPaths, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    returned = fill(plan, DPH, tmp_path / "inbox" / "dph.xlsx", "First save")
    validate(plan, [returned], today=TODAY)
    fill(plan, DPH, returned, "Second save, after validate")
    seen = counting(monkeypatch)
    run_merge(plan, [returned])
    assert seen == [returned]
    with Register.open(plan) as reg:
        update = reg.update("KA2-02", CYCLE)
    assert update is not None and update.progress == "Second save, after validate (KA2-02)"


def test_a_register_change_after_validate_means_a_new_check(plan: PlanPaths, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    returned = fill(plan, DPH, tmp_path / "inbox" / "dph.xlsx", "Done")
    validate(plan, [returned], today=TODAY)
    retire_action(plan, "KA2-02", command="pytest")  # the check now says the action was retired
    seen = counting(monkeypatch)
    result = run_merge(plan, [returned])
    assert seen == [returned]
    assert [f.action_id for f in result.report if f.code == "action-retired"] == ["KA2-02"]


def test_another_day_another_sender_or_another_path_means_a_new_check(plan: PlanPaths, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    returned = fill(plan, DPH, tmp_path / "inbox" / "dph.xlsx", "Done")
    validate(plan, [returned], today=TODAY)
    seen = counting(monkeypatch)
    merge(plan, [returned], command="pytest", today=date(2024, 10, 11), dry_run=True)
    assert seen == [returned]
    seen.clear()
    result = run_merge(plan, [returned], sender=HOUSING, dry_run=True)  # validated without --from
    assert seen == [returned] and [o.state for o in result.files] == ["rejected"]
    assert any(f.code == "workbook-lead-mismatch" for f in result.report)
    moved = tmp_path / "Head of Housing" / "dph.xlsx"
    moved.parent.mkdir()
    shutil.copy(returned, moved)
    seen.clear()
    run_merge(plan, [moved], dry_run=True)
    assert seen == [moved]
    seen.clear()
    run_merge(plan, [returned], dry_run=True)
    assert seen == []  # and unchanged, it is still reused


@pytest.mark.parametrize("damage", ["edited", "forged", "garbage", "truncated", "other plan"])
def test_a_damaged_or_forged_memo_is_ignored(plan: PlanPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             damage: str) -> None:
    returned = fill(plan, DPH, tmp_path / "inbox" / "dph.xlsx", "What the lead typed")
    validate(plan, [returned], today=TODAY)
    path = memo.memo_path(plan)
    mac, body = path.read_bytes().split(b"\n", 1)
    lie = body.replace(b"What the lead typed", b"What a forger typed")
    assert lie != body
    if damage == "edited":
        path.write_bytes(mac + b"\n" + lie)
    elif damage == "forged":  # signed, but not with this plan's key
        path.write_bytes(hmac.new(b"k" * 32, lie, hashlib.sha256).hexdigest().encode() + b"\n" + lie)
    elif damage == "garbage":
        path.write_bytes(b"\x00\xff not json at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:
        other = plan_copy(tmp_path, "other")  # a copy of the plan folder (same key), the memo copied in
        shutil.copy(path, memo.memo_path(other))
        plan = other
        returned = fill(other, DPH, tmp_path / "inbox" / "dph.xlsx", "What the lead typed")
    seen = counting(monkeypatch)
    result = run_merge(plan, [returned])
    assert seen == [returned]
    with Register.open(plan) as reg:
        update = reg.update("KA2-02", CYCLE)
    assert update is not None and update.progress == "What the lead typed (KA2-02)"
    assert result.ok


def test_the_memo_round_trips_every_field_merge_uses(plan: PlanPaths, tmp_path: Path) -> None:
    files = inbox(plan, tmp_path / "inbox")
    result = validate(plan, files, today=TODAY, write_reports=False)
    for check in result.checks:
        entry = memo.to_entry(check)
        if entry is None:
            assert not check.sha256
            continue
        back = memo.from_entry(json.loads(json.dumps(entry)), check.path)
        for name in ("name", "sha256", "state", "cycle", "lead", "sheet", "issued_ids", "rejected", "format",
                     "bytes_read", "manifest"):
            assert getattr(back, name) == getattr(check, name), name
        assert back.findings == check.findings or json.dumps([f.to_dict() for f in back.findings]) == \
            json.dumps([f.to_dict() for f in check.findings])
        assert back.rows == check.rows
        assert back.read.findings == check.read.findings and back.read.size == check.read.size
