"""The shared rules for using every core (parallel.py) and for writing many files at once (safeio)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwbs_xl import parallel, safeio
from hwbs_xl.errors import UsageProblem


def _scaled(factor: int, offset: int, item: int) -> tuple[int, int]:
    if item == 13:
        raise ValueError(f"item {item} is unlucky")
    return item, item * factor + offset


def _pid(item: int) -> int:
    return os.getpid()


def test_results_in_order_and_shared_inputs_reach_every_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWBS_WORKERS", "2")
    items = [n for n in range(60) if n != 13]
    assert parallel.map_shared(_scaled, (3, 7), items) == [(n, n * 3 + 7) for n in items]


def test_work_really_runs_in_other_processes_only_when_there_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWBS_WORKERS", "2")
    many = set(parallel.map_shared(_pid, (), list(range(48))))
    assert os.getpid() not in many and len(many) >= 1
    assert set(parallel.map_shared(_pid, (), list(range(5)))) == {os.getpid()}  # too few to repay a pool
    monkeypatch.setenv("HWBS_WORKERS", "1")
    assert set(parallel.map_shared(_pid, (), list(range(48)))) == {os.getpid()}


def test_an_error_in_a_worker_is_raised_as_the_loop_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWBS_WORKERS", "2")
    with pytest.raises(ValueError, match="item 13 is unlucky"):
        parallel.map_shared(_scaled, (1, 0), list(range(40)))


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_workers_setting_is_a_usage_problem(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HWBS_WORKERS", value)
    with pytest.raises(UsageProblem, match="HWBS_WORKERS"):
        parallel.workers(100)


def test_workers_never_exceed_the_items_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWBS_WORKERS", "8")
    assert parallel.workers(0) == 1
    assert parallel.workers(parallel.MIN_ITEMS_PER_WORKER * 3) == 3
    assert parallel.workers(10_000) == 8


def test_write_all_replaces_every_file_and_clears_what_a_killed_run_left(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"old")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = tmp_path / f"{safeio.TEMP_PREFIX}{dead}-x.xlsx"
    stale.write_bytes(b"half")
    written = safeio.atomic_write_all([(tmp_path / "a.xlsx", b"new a"), (tmp_path / "sub" / "b.xlsx", b"new b")])
    assert written == [tmp_path / "a.xlsx", tmp_path / "sub" / "b.xlsx"]
    assert [p.read_bytes() for p in written] == [b"new a", b"new b"]
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "sub"]


def test_write_all_stops_at_a_file_that_is_open_elsewhere_leaving_it_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "b.xlsx").write_bytes(b"old b")
    safeio.office_lock_file(tmp_path / "b.xlsx").write_text("someone")
    with pytest.raises(safeio.OutputLocked):
        safeio.atomic_write_all([(tmp_path / "b.xlsx", b"new b")])
    assert (tmp_path / "b.xlsx").read_bytes() == b"old b"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(safeio.TEMP_PREFIX)]


def test_many_files_are_put_on_disk_with_one_file_system_sync(tmp_path: Path) -> None:
    files = [(tmp_path / f"w{n:02d}.xlsx", f"workbook {n}".encode()) for n in range(safeio.SYNCFS_FROM + 4)]
    written = safeio.atomic_write_all(files)
    assert written == [p for p, _ in files]
    assert [p.read_bytes() for p in written] == [d for _, d in files]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p, _ in files)
    assert safeio._syncfs({tmp_path}) is sys.platform.startswith("linux")  # Linux has syncfs; others fsync each
