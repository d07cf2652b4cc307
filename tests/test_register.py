"""The register: batches are all-or-nothing, logged, and undo reverses exactly or refuses clearly."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from hwbs_xl.errors import NotFound, PlanNotFound, RegisterBusy, UndoRefused
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import SCHEMA_VERSION, Register


def _add_action(reg: Register, action_id: str, activity: str = "Do a thing") -> int:
    with reg.batch("edit", command="test") as b:
        b.put("actions", {"id": action_id, "key_area": "Key Area 1", "activity": activity, "leads": json.dumps(["Lead"])})
    return b.id


def test_schema_is_versioned(register: Register) -> None:
    assert register.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_missing_plan_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(PlanNotFound) as info:
        Register.open(PlanPaths(tmp_path / "nowhere"))
    assert isinstance(info.value, FileNotFoundError)


def test_batch_that_raises_changes_nothing(register: Register) -> None:
    before = register.fingerprint()
    with pytest.raises(RuntimeError):
        with register.batch("edit", command="test") as b:
            b.put("actions", {"id": "KA1-01", "key_area": "Key Area 1", "activity": "x", "leads": "[]"})
            raise RuntimeError("crash part way")
    assert register.fingerprint() == before
    assert register.actions() == []


def test_empty_batch_leaves_no_log_entry(register: Register) -> None:
    n = len(register.log())
    with register.batch("edit", command="test"):
        pass
    assert len(register.log()) == n


def test_undo_reverses_exactly_and_is_logged(register: Register) -> None:
    before = register.fingerprint()
    batch = _add_action(register, "KA1-01")
    assert [a.id for a in register.actions()] == ["KA1-01"]
    undo = register.undo(batch, command="test undo")
    assert register.actions() == []
    log = {b.id: b for b in register.log()}
    assert log[batch].undone_by == undo.id and log[undo.id].undoes == batch
    # the data tables are as before (the log itself grew)
    assert before != register.fingerprint()
    assert register.conn.execute("SELECT COUNT(*) FROM actions").fetchone()[0] == 0


def test_undo_refuses_when_a_later_batch_touched_the_same_action(register: Register) -> None:
    first = _add_action(register, "KA1-01")
    with register.batch("edit", command="test") as later:
        later.put("actions", {"id": "KA1-01", "activity": "Reworded"})
    with pytest.raises(UndoRefused) as info:
        register.undo(first, command="test")
    assert str(later.id) in str(info.value)
    # an unrelated later batch does not block
    other = _add_action(register, "KA2-01")
    register.undo(later.id, command="test")
    register.undo(first, command="test")
    assert [a.id for a in register.actions()] == ["KA2-01"]
    assert other


def test_undo_of_unknown_batch(register: Register) -> None:
    with pytest.raises(NotFound):
        register.undo(999, command="test")


def _hold_write_lock(path: str, ready, release) -> None:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO cycles (label, seq, state) VALUES ('Held', 99, 'closed')")
    ready.set()
    release.wait(20)
    conn.execute("ROLLBACK")


def test_second_writer_waits_then_fails_clearly(plan_paths: PlanPaths, monkeypatch) -> None:
    monkeypatch.setenv("HWBS_LOCK_TIMEOUT", "0.5")
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_write_lock, args=(str(plan_paths.register), ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        reg = Register.open(plan_paths)
        start = time.monotonic()
        with pytest.raises(RegisterBusy) as info:
            _add_action(reg, "KA1-01")
        assert time.monotonic() - start >= 0.4
        assert "Another coordinator" in str(info.value)
        reg.close()
    finally:
        release.set()
        holder.join(10)
    with Register.open(plan_paths) as reg:
        assert reg.actions() == [] and [c.label for c in reg.cycles()] == []


def _write_forever(path: str, ready) -> None:  # type: ignore[no-untyped-def]
    reg = Register.open(PlanPaths(Path(path).parent))
    with reg.batch("import", command="killed") as b:
        for i in range(1, 200):
            b.put("actions", {"id": f"KA9-{i:02d}", "key_area": "Key Area 9", "activity": "x", "leads": "[]"})
        ready.set()
        time.sleep(60)


def test_writer_killed_mid_batch_leaves_register_unchanged(plan_paths: PlanPaths) -> None:
    with Register.open(plan_paths) as reg:
        _add_action(reg, "KA1-01")
        before = reg.fingerprint()
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=_write_forever, args=(str(plan_paths.register), ready))
    proc.start()
    assert ready.wait(20)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    with Register.open(plan_paths) as reg:  # the hot journal is rolled back on open
        assert reg.fingerprint() == before
        assert [a.id for a in reg.actions()] == ["KA1-01"]


# ---- typed records of issued workbooks and returns; migrations -----------------------------------------

def test_issued_and_returns_read_back_as_the_records_written(register: Register) -> None:
    from hwbs_xl.model import IssuedRecord, ReturnRecord, ReturnState
    from hwbs_xl.register import issued_row, return_row

    issued = [IssuedRecord("April 2024", lead, f"issued/{lead}.xlsx", "ab" * 32, "2024-04-01T09:00:00+00:00", "3",
                           '{"rows": []}') for lead in ("Zed", "Amy")]
    back = ReturnRecord("cd" * 32, "amy.xlsx", ReturnState.QUERIED, "April 2024", "Amy", 1712.5,
                        "returns/evidence/x.xlsx", "2024-04-02T10:00:00+00:00", {"actions": ["KA1-01"], "codes": []})
    with register.batch("edit", command="test") as b:
        for rec in issued:
            b.put("issued", issued_row(rec))
        b.put("returns", return_row(back))
        b.put("cycles", {"label": "April 2024", "seq": 202404, "state": "open"})
    assert register.issued("April 2024") == sorted(issued, key=lambda r: r.lead)  # in the leads' order
    assert register.returns() == [back] == register.returns(cycle="April 2024")
    assert register.returns(cycle="October 2024") == []
    with register.batch("merge", command="test") as b:
        b.mark_return(back.sha256, ReturnState.SUPERSEDED)
    [now] = register.returns()
    assert now.state is ReturnState.SUPERSEDED and now.received_at == back.received_at


def _first_release_register(paths: PlanPaths) -> int:
    """A register as the first release wrote it (schema 1), with one merge batch that recorded a return."""
    from hwbs_xl.schema import MIGRATIONS

    paths.root.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(paths.register)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    row = {"sha256": "ef" * 32, "original_name": "dph.xlsx", "stored_path": "", "received_at": "2024-10-10T09:00:00+00:00",
           "cycle": "October 2024", "lead": "DPH", "state": "merged", "report": json.dumps({"mtime": 1728550000.25})}
    conn.execute("INSERT INTO plan (id, title, created_at) VALUES (1, 'Plan', '2024-01-01')")
    conn.execute("INSERT INTO batches (id, kind, command, who, started_at) VALUES (1, 'merge', 'm', 'me', 'now')")
    conn.execute(f"INSERT INTO returns ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    conn.execute("INSERT INTO changes VALUES (1, 1, 'returns', ?, NULL, ?)",
                 (json.dumps({"sha256": row["sha256"]}), json.dumps(row, sort_keys=True)))
    conn.commit()
    conn.close()
    return 1


def test_an_older_register_is_migrated_on_open_and_its_batches_still_undo(tmp_path: Path) -> None:
    paths = PlanPaths(tmp_path / "old plan")
    batch = _first_release_register(paths)
    with Register.open(paths) as reg:
        assert reg.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        [ret] = reg.returns()
        assert ret.mtime == 1728550000.25 and ret.state == "merged"  # the file time, taken from the report
        reg.undo(batch, command="test undo")  # a column added since is not a change "outside hwbs-xl"
        assert reg.returns() == []
