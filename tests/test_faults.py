"""Fault injection on merge and import: crashes, failing writes, a full disk, a read-only plan folder, two
coordinators at once, and outputs that fail their check after writing.

The faults are real or injected into real I/O, never faked results: ``kill -9`` of a real merge or import
process after a random delay; an ``os.replace``/``os.fsync`` call or a register (SQLite) statement that
raises at its Nth call (the rest of the run is the real code on the real disk); a real small tmpfs filled to
a chosen free space; a read-only bind mount; real concurrent processes. After every fault:

- the register is exactly as before or exactly as after an undisturbed run (``content``: every table,
  clock times and batch numbers aside), never in between;
- the input files are untouched, and every evidence file is named by the SHA-256 of its bytes;
- the master appendix is absent, the old one, or a complete workbook: never half-written;
- running the same command again completes, with the register as after an undisturbed run, and no
  temporary file (``.hwbs-tmp-*``, a SQLite journal) is left in the plan folder.

CI runs a bounded sample; HWBS_FAULT_RUNS (kills per command, default 12 for merge and 8 for import),
HWBS_FAULT_POINTS (failing-write points per kind, default 6) and HWBS_FAULT_SEED (default 7) make the runs
longer or different; HWBS_FAULT_POINTS=all tries every call. See docs/testing.md.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path
from typing import Any

import pytest

from hwbs_xl.demo.sample import BARNET_2024
from hwbs_xl.errors import HwbsError, OutputLocked, StorageFailed
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register
from hwbs_xl.returns.merge import merge
from hwbs_xl.sheets.reader import read_file
from test_import_rules import EASTFORD_TSV, NORTHSHIRE_MD
from test_merge import dph_return, fill

import figures
from badfiles import content, fingerprint, sha, shas, temps
from conftest import hwbs_command
from test_returns_support import CHILDREN, CYCLE, HOUSING, issued_files, plan_copy

SEED = int(os.environ.get("HWBS_FAULT_SEED", "7"))
RUNS = int(os.environ.get("HWBS_FAULT_RUNS", "0"))
POINTS = os.environ.get("HWBS_FAULT_POINTS", "6")
TODAY = date(2024, 10, 10)
ON_TARGET = "On target to be achieved by target date"


# ---- the scene: a plan, the returned files, and what an undisturbed run leaves ---------------------------

@dataclass
class Scene:
    """A plan folder (the template every run copies), the returned files, and the register's content
    before and after an undisturbed merge of them."""

    root: Path
    template: PlanPaths
    returns: list[Path]
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    input_shas: dict[Path, str] = field(default_factory=dict)

    @classmethod
    def build(cls, root: Path) -> Scene:
        root.mkdir(parents=True, exist_ok=True)
        template = plan_copy(root, "template")
        inbox = root / "received"
        files = [
            dph_return(template, inbox / "dph.xlsx"),
            fill(template, CHILDREN, inbox / "children.xlsx", {  # conflicts with DPH on the joint KA1-02
                ("KA1-02", "new_status"): ON_TARGET, ("KA1-02", "new_progress"): "Training booked for January.",
                ("KA1-01", "new_status"): ON_TARGET, ("KA1-01", "new_progress"): "Hubs open in 20 of 24 wards."}),
            fill(template, HOUSING, inbox / "housing.xlsx", {
                ("KA2-01", "new_status"): ON_TARGET, ("KA2-01", "new_progress"): "Standards drafted. " * 40}),
        ]
        junk = inbox / "scan.xlsx"
        junk.write_bytes(b"%PDF-1.4 not a workbook")
        scene = cls(root, template, [*files, junk])
        scene.input_shas = shas(scene.returns)
        scene.before = content(template)
        reference = scene.copy("reference")
        run(reference, scene.returns)
        scene.after = content(reference)
        assert scene.after != scene.before
        return scene

    def copy(self, name: str, where: Path | None = None) -> PlanPaths:
        dest = (where or self.root) / name
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(self.template.root, dest)
        return PlanPaths(dest)


def run(paths: PlanPaths, files: list[Path]) -> Any:
    return merge(paths, files, command="pytest fault", today=TODAY)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    return Scene.build(tmp_path_factory.mktemp("faults"))


def state_of(paths: PlanPaths, scene: Scene) -> str:
    """'before' or 'after' (anything else fails): the register is never left in between."""
    now = content(paths)
    if now == scene.before:
        return "before"
    assert now == scene.after, "the register is neither as before nor as after the merge"
    return "after"


def assert_outputs_whole(paths: PlanPaths) -> None:
    """Every evidence file is named by its bytes' SHA-256; master.xlsx is absent or a complete workbook."""
    for p in paths.evidence.glob("*"):
        if not p.name.startswith(".hwbs-tmp-"):
            assert p.name.split(".")[0] == sha(p), p
    if paths.master.exists():
        book = read_file(paths.master).book
        assert book is not None and book.sheet("Appendix A") is not None, "master.xlsx is half-written"


def assert_recovers(paths: PlanPaths, scene: Scene, *, one_batch: bool = True) -> None:
    """Running the same merge again completes; the register is as after an undisturbed run (in one batch,
    unless the scenario merged some files before the fault); no temp file is left."""
    result = run(paths, scene.returns)
    assert result.master_problem is None, result.master_problem
    now, after = content(paths), dict(scene.after)
    if not one_batch:
        now.pop("batches")
        after.pop("batches")
    assert now == after
    assert temps(paths.root) == [], temps(paths.root)
    assert_outputs_whole(paths)
    assert paths.master.is_file()
    assert shas(scene.returns) == scene.input_shas


def survived(kind: str) -> None:
    figures.add("faults_injected")
    figures.add("faults_survived")
    figures.add("loss_checks")


# ---- kill -9 at random points ----------------------------------------------------------------------------

CHILD = r"""
import sys
from datetime import date
from pathlib import Path
from hwbs_xl.paths import PlanPaths
from hwbs_xl.returns.merge import merge
from hwbs_xl.importing.pipeline import import_files
import hwbs_xl.appendix.master, hwbs_xl.appendix.xlsx, hwbs_xl.returns.validate, xlsxwriter, python_calamine  # noqa
what, plan, *files = sys.argv[1:]
print("ready", flush=True)   # the clock starts here, at the work (not at Python's start-up)
if what == "merge":
    merge(PlanPaths(Path(plan)), [Path(f) for f in files], command="pytest fault", today=date(2024, 10, 10))
else:
    import_files(PlanPaths(Path(plan)), [Path(f) for f in files], command="pytest fault")
print("done", flush=True)
"""


def child(tmp: Path, what: str, plan: Path, files: list[Path], kill_after: float | None) -> tuple[int, float]:
    """Run a merge or import in its own process; kill -9 it ``kill_after`` seconds into its work (None: let
    it finish). Returns (exit code, seconds of work before it ended or was killed)."""
    script = tmp / "child.py"
    if not script.exists():
        script.write_text(CHILD, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), what, str(plan), *map(str, files)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        start = time.monotonic()
        try:
            proc.wait(timeout=120 if kill_after is None else kill_after)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        return proc.returncode, time.monotonic() - start
    finally:
        reap(proc)


def reap(proc: subprocess.Popen[str]) -> None:
    """A child process ended (killed if still running) and its pipes closed."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def kill_delays(tmp: Path, what: str, plan: Path, files: list[Path], runs: int) -> list[float]:
    """Random kill points over the work of an undisturbed run of the same command (measured here)."""
    code, work = child(tmp, what, plan, files, None)
    assert code == 0
    rng = random.Random(SEED)
    return [round(rng.uniform(0, work), 4) for _ in range(runs)]


def test_merge_killed_at_random_points(scene: Scene, tmp_path: Path) -> None:
    runs = RUNS or 12
    delays = kill_delays(tmp_path, "merge", scene.copy("timing", tmp_path).root, scene.returns, runs)
    seen = {"before": 0, "after": 0}
    for delay in delays:
        paths = scene.copy("killed", tmp_path)
        code, _ = child(tmp_path, "merge", paths.root, scene.returns, delay)
        assert code in (0, -signal.SIGKILL), code
        state = state_of(paths, scene)
        seen[state] += 1
        assert shas(scene.returns) == scene.input_shas
        assert_outputs_whole(paths)
        assert_recovers(paths, scene)
        survived("kill")
    assert sum(seen.values()) == runs, (seen, delays)


def appendices(tmp: Path) -> list[Path]:
    """Two small appendices of another council (the import-rules suite's): markdown, then a PDF-style TSV."""
    out = []
    for name, text in (("northshire.md", NORTHSHIRE_MD), ("eastford.txt", EASTFORD_TSV)):
        (tmp / name).write_text(text, encoding="utf-8")
        out.append(tmp / name)
    return out


def test_import_killed_at_random_points(tmp_path: Path) -> None:
    """Importing two appendices into a new plan folder, killed at random points: afterwards the folder holds
    no plan, an empty plan, or the whole import; importing again completes."""
    from hwbs_xl.importing.pipeline import import_files

    files = appendices(tmp_path)
    before = shas(files)
    reference = PlanPaths(tmp_path / "reference")
    assert import_files(reference, files, command="pytest fault").changed
    after = _import_content(reference)
    runs = RUNS or 8
    delays = kill_delays(tmp_path, "import", tmp_path / "timing", files, runs)
    for delay in delays:
        paths = PlanPaths(tmp_path / "killed")
        shutil.rmtree(paths.root, ignore_errors=True)
        code, _ = child(tmp_path, "import", paths.root, files, delay)
        assert code in (0, -signal.SIGKILL), code
        if paths.register.exists():
            now = _import_content(paths)
            assert now == after or not (now["actions"] or now["updates"] or now["cycles"]), "a half import"
        assert shas(files) == before
        result = import_files(paths, files, command="pytest fault")
        assert not result.report.errors
        assert _import_content(paths) == after and temps(paths.root) == []
        survived("kill")


def _import_content(paths: PlanPaths) -> dict[str, Any]:
    out = content(paths)
    out["plan"] = [{k: v for k, v in r.items() if k != "created_at"} for r in out["plan"]]
    out.pop("batches")  # the killed run's empty-plan batch may or may not be there; the data decides
    return out


# ---- a write that fails part way ----------------------------------------------------------------------------

class Injector:
    """Counts calls of one kind of I/O and makes the Nth raise (once, or from then on: a dead disk)."""

    def __init__(self, fail_at: int | None = None, sticky: bool = False) -> None:
        self.calls = 0
        self.fail_at = fail_at
        self.sticky = sticky
        self.fired = False

    def tick(self, error: Callable[[], BaseException]) -> None:
        self.calls += 1
        if self.fail_at is not None and (self.calls == self.fail_at or (self.sticky and self.calls > self.fail_at)):
            self.fired = True
            raise error()


class _Connection:
    """The register's SQLite connection with its statements counted (and failed) by an Injector."""

    def __init__(self, conn: sqlite3.Connection, injector: Injector) -> None:
        self._conn, self._injector = conn, injector

    def execute(self, *args: Any) -> Any:
        self._injector.tick(lambda: sqlite3.OperationalError("disk I/O error"))
        return self._conn.execute(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@contextlib.contextmanager
def injected(kind: str, injector: Injector) -> Iterator[None]:
    """Make ``kind`` of real I/O go through ``injector``: os.replace, os.fsync or register statements."""
    import hwbs_xl.register as register

    with pytest.MonkeyPatch.context() as mp:
        if kind == "sqlite":
            real_connect = register._connect
            mp.setattr(register, "_connect", lambda path: _Connection(real_connect(path), injector))
        else:
            real = getattr(os, kind)

            def failing(*args: Any, **kw: Any) -> Any:
                injector.tick(lambda: OSError(5, "Input/output error"))
                return real(*args, **kw)
            mp.setattr(os, kind, failing)
        yield


def points(total: int, rng: random.Random) -> list[int]:
    """Which calls to fail: all of them with HWBS_FAULT_POINTS=all, else a spread sample (first and last in)."""
    if POINTS == "all" or total <= int(POINTS):
        return list(range(1, total + 1))
    inner = rng.sample(range(2, total), max(0, int(POINTS) - 2)) if total > 2 else []
    return sorted({1, total, *inner})


WRITE_FAULTS = [("replace", False), ("fsync", False), ("sqlite", False), ("sqlite", True)]


@pytest.mark.parametrize("kind, sticky", WRITE_FAULTS, ids=["os.replace", "os.fsync", "sqlite-once", "sqlite-dead-disk"])
def test_merge_with_a_write_that_fails_part_way(scene: Scene, tmp_path: Path, kind: str, sticky: bool) -> None:
    counter = Injector()
    with injected(kind, counter):
        run(scene.copy("count", tmp_path), scene.returns)
    assert counter.calls > 0
    for n in points(counter.calls, random.Random(f"{SEED}{kind}{sticky}")):
        paths = scene.copy("faulty", tmp_path)
        injector = Injector(n, sticky)
        try:
            with injected(kind, injector):
                result = run(paths, scene.returns)
        except HwbsError as exc:
            assert exc.exit_code == 3, (n, exc)  # could not finish: a clear I/O or busy error
        else:  # after the commit (master.xlsx not rebuilt: said so), or a folder fsync (best effort)
            assert result.master_problem or kind == "fsync", (kind, n)
        assert injector.fired, (kind, n)
        state_of(paths, scene)
        assert shas(scene.returns) == scene.input_shas
        assert_outputs_whole(paths)
        if not sticky:
            assert not [t for t in temps(paths.root) if t.name.startswith(".hwbs-tmp-")], (kind, n)
        assert_recovers(paths, scene)
        survived(kind)


@pytest.mark.parametrize("kind", ["replace", "fsync", "sqlite"])
def test_generate_with_a_write_that_fails_part_way(scene: Scene, tmp_path: Path, kind: str) -> None:
    """Issuing the lead workbooks again (their issued folder was lost, so every one is replaced), with a
    write failing at a chosen point: the register is as before or as after, every workbook in the issued
    folder opens, no temporary file is left, and running again completes."""
    from datetime import datetime

    from hwbs_xl.issue.generate import generate

    now = datetime(2024, 10, 1, 9, 0, tzinfo=UTC)
    reference = scene.copy("gen-reference", tmp_path)
    shutil.rmtree(reference.root / "issued")
    before = content(reference)
    counter = Injector()
    with injected(kind, counter):
        generate(reference, now=now, drafts=True, example_contact=True, reissue=True, command="pytest fault")
    after = content(reference)
    assert after != before and counter.calls > 0
    for n in points(counter.calls, random.Random(f"{SEED}generate{kind}")):
        paths = scene.copy("gen-faulty", tmp_path)
        shutil.rmtree(paths.root / "issued")
        injector = Injector(n)
        try:
            with injected(kind, injector):
                generate(paths, now=now, drafts=True, example_contact=True, reissue=True, command="pytest fault")
        except HwbsError as exc:
            assert exc.exit_code == 3, (n, exc)
        assert injector.fired, (kind, n)
        assert content(paths) in (before, after), (kind, n)
        assert temps(paths.root) == [], (kind, n)
        for workbook in issued_files(paths).values():
            assert not workbook.exists() or read_file(workbook).book is not None, (kind, n, workbook)
        generate(paths, now=now, drafts=True, example_contact=True, reissue=True, command="pytest fault")
        assert content(paths) == after and temps(paths.root) == []
        survived(kind)


@pytest.mark.parametrize("kind", ["replace", "sqlite"])
def test_import_with_a_write_that_fails_part_way(tmp_path: Path, kind: str) -> None:
    from hwbs_xl.importing.pipeline import import_files

    first, second = appendices(tmp_path)
    seeded = PlanPaths(tmp_path / "seeded")
    assert import_files(seeded, [first], command="pytest fault").changed
    before = _import_content(seeded)
    reference = PlanPaths(tmp_path / "reference")
    shutil.copytree(seeded.root, reference.root)
    counter = Injector()
    with injected(kind, counter):
        assert import_files(reference, [second], command="pytest fault").changed
    after = _import_content(reference)
    for n in points(counter.calls, random.Random(f"{SEED}import{kind}")):
        paths = PlanPaths(tmp_path / "faulty")
        shutil.rmtree(paths.root, ignore_errors=True)
        shutil.copytree(seeded.root, paths.root)
        injector = Injector(n)
        try:
            with injected(kind, injector):
                import_files(paths, [second], command="pytest fault")
        except HwbsError as exc:
            assert exc.exit_code == 3, (n, exc)
        assert injector.fired
        assert _import_content(paths) in (before, after), (kind, n)
        assert not [t for t in temps(paths.root) if t.name.startswith(".hwbs-tmp-")], (kind, n)
        assert import_files(paths, [second], command="pytest fault").report.ok
        assert _import_content(paths) == after
        survived(kind)


# ---- a full disk ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def small_disk(where: Path, megabytes: int = 24) -> Iterator[Path | None]:
    """A real tmpfs of ``megabytes`` mounted at ``where`` (None when this machine cannot mount one)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        yield None
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=755", "tmpfs", str(where)],
                          capture_output=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def fill_disk(folder: Path, leave: int) -> Path:
    """Take all the free space but ``leave`` bytes (in whole pages)."""
    filler = folder / "filler.bin"
    with open(filler, "wb") as fh:
        chunk = b"\0" * (1 << 20)
        while free_bytes(folder) - leave >= len(chunk):
            fh.write(chunk)
            fh.flush()
        rest = free_bytes(folder) - leave
        if rest > 0:
            fh.write(b"\0" * rest)
        fh.flush()
        os.fsync(fh.fileno())
    return filler


def scenario_disk_full(tmp: Path, scene: Scene | None = None) -> int:
    """Merge on a real small disk filled to several levels of free space, from none to enough. Falls back to
    a file-size limit (RLIMIT_FSIZE, EFBIG as on a full disk) where tmpfs cannot be mounted. Returns runs."""
    scene = scene or Scene.build(tmp / "scene")
    with small_disk(tmp / "disk") as disk:
        if disk is None:
            return _disk_full_by_rlimit(tmp, scene)
        probe = scene.copy("probe", disk)
        start = free_bytes(disk)
        run(probe, scene.returns)
        needed = start - free_bytes(disk)
        shutil.rmtree(probe.root)
        page = 4096
        levels = sorted({0, page, 3 * page, needed // 8, needed // 4, needed // 2, needed - page, needed + 64 * page})
        for leave in levels:
            paths = scene.copy("plan", disk)
            filler = fill_disk(disk, leave)
            try:
                run(paths, scene.returns)
            except HwbsError as exc:
                assert isinstance(exc, (StorageFailed, OutputLocked)) and exc.exit_code == 3, exc
            state_of(paths, scene)
            assert_outputs_whole(paths)
            assert not [t for t in temps(paths.root) if t.name.startswith(".hwbs-tmp-")], leave
            filler.unlink()
            assert_recovers(paths, scene)
            shutil.rmtree(paths.root)
            survived("disk-full")
        return len(levels)


DISK_FULL_CHILD = r"""
import resource, signal, sys
from datetime import date
from pathlib import Path
from hwbs_xl.errors import HwbsError
from hwbs_xl.paths import PlanPaths
from hwbs_xl.returns.merge import merge
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    merge(PlanPaths(Path(sys.argv[1])), [Path(p) for p in sys.argv[3:]], command="pytest fault", today=date(2024, 10, 10))
except HwbsError as exc:
    sys.exit(exc.exit_code)
"""


def _disk_full_by_rlimit(tmp: Path, scene: Scene) -> int:
    script = tmp / "full.py"
    script.write_text(DISK_FULL_CHILD, encoding="utf-8")
    size = scene.template.register.stat().st_size
    levels = [size, size + 4096, size + 32768]
    for limit in levels:
        paths = scene.copy("plan", tmp)
        proc = subprocess.run([sys.executable, str(script), str(paths.root), str(limit), *map(str, scene.returns)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 3) and "Traceback" not in proc.stderr, proc.stderr
        state_of(paths, scene)
        assert not [t for t in temps(paths.root) if t.name.startswith(".hwbs-tmp-")]
        assert_recovers(paths, scene)
        survived("disk-full")
    return len(levels)


def test_merge_on_a_full_disk(scene: Scene, tmp_path: Path) -> None:
    assert scenario_disk_full(tmp_path, scene) >= 3


def test_import_on_a_full_disk(tmp_path: Path) -> None:
    from hwbs_xl.importing.pipeline import import_files

    with small_disk(tmp_path / "disk") as disk:
        if disk is None:
            pytest.skip("cannot mount a tmpfs here (needs root); the merge test covers a full disk by RLIMIT_FSIZE")
        first, second = appendices(tmp_path)
        seeded = PlanPaths(disk / "seeded")
        assert import_files(seeded, [first], command="pytest fault").changed
        before = _import_content(seeded)
        start = free_bytes(disk)
        probe = PlanPaths(disk / "probe")
        shutil.copytree(seeded.root, probe.root)
        import_files(probe, [second], command="pytest fault")
        after = _import_content(probe)
        needed = start - free_bytes(disk) - sum(p.stat().st_size for p in seeded.root.rglob("*") if p.is_file())
        shutil.rmtree(probe.root)
        for leave in sorted({0, 4096, max(0, needed // 3), max(0, needed // 2)}):
            paths = PlanPaths(disk / "plan")
            shutil.copytree(seeded.root, paths.root)
            filler = fill_disk(disk, leave)
            try:
                import_files(paths, [second], command="pytest fault")
            except HwbsError as exc:
                assert exc.exit_code == 3, exc
            assert _import_content(paths) in (before, after), leave
            filler.unlink()
            import_files(paths, [second], command="pytest fault")
            assert _import_content(paths) == after and temps(paths.root) == []
            shutil.rmtree(paths.root)
            survived("disk-full")


# ---- a read-only plan folder -----------------------------------------------------------------------------

@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """The folder made read-only for real: a read-only bind mount as root (root ignores permission bits,
    so chmod would prove nothing), else the permission bits."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    bind = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip("cannot make a read-only bind mount here (root without CAP_SYS_ADMIN)")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


READ_ONLY_COMMANDS = [["merge", "{returns}"], ["validate", "{returns}"], ["generate", "--example-contact"], ["status"],
                      ["appendix", "--format", "xlsx"], ["import", str(BARNET_2024)],
                      ["cycle", "open", "April 2025", "--due", "2025-04-18"]]


def scenario_read_only_plan_folder(tmp: Path, scene: Scene | None = None) -> int:
    """Every command that writes the plan folder, on a read-only one: exit 3 before any work, a message
    saying the folder cannot be written, no traceback; afterwards the same merge completes."""
    scene = scene or Scene.build(tmp / "scene")
    paths = scene.copy("read-only", tmp)
    before = fingerprint(paths)
    files = sorted(paths.root.rglob("*"))
    with read_only(paths.root):
        for args in READ_ONLY_COMMANDS:
            args = [a.format(returns=scene.returns[0]) for a in args]
            proc = subprocess.run([*hwbs_command(), "--plan", str(paths.root), *args], capture_output=True, text=True,
                                  timeout=120)
            assert proc.returncode == 3, (args, proc.returncode, proc.stdout, proc.stderr)
            assert "Traceback" not in proc.stderr and "internal-error" not in proc.stderr, proc.stderr
            assert any(w in proc.stderr for w in ("cannot be written", "read-only")), proc.stderr
            figures.add("faults_injected")
    assert fingerprint(paths) == before and sorted(paths.root.rglob("*")) == files
    assert shas(scene.returns) == scene.input_shas
    assert_recovers(paths, scene)
    figures.add("faults_survived", len(READ_ONLY_COMMANDS))
    figures.add("loss_checks")
    return len(READ_ONLY_COMMANDS)


def test_read_only_plan_folder(scene: Scene, tmp_path: Path) -> None:
    scenario_read_only_plan_folder(tmp_path, scene)


# ---- two coordinators at once --------------------------------------------------------------------------------

SLOW_CHILD = r"""
import sys, time
from datetime import date
from pathlib import Path
import hwbs_xl.returns.merge as m
real = m.clean_stale_temps
def slow(folder):                  # runs right after the plan lock is taken
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    return real(folder)
m.clean_stale_temps = slow
m.merge(m.PlanPaths(Path(sys.argv[1])), [Path(p) for p in sys.argv[3:]], command="pytest fault", today=date(2024, 10, 10))
"""


def scenario_second_merge_told_busy(tmp: Path, scene: Scene | None = None) -> None:
    """A second merge while the first holds the plan: exit 3 'another coordinator', nothing changed by it;
    the first completes; the second, run again, completes."""
    scene = scene or Scene.build(tmp / "scene")
    paths = scene.copy("busy", tmp)
    script = tmp / "slow.py"
    script.write_text(SLOW_CHILD, encoding="utf-8")
    first = subprocess.Popen([sys.executable, str(script), str(paths.root), "1.5", *map(str, scene.returns[:2])],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "locked"
        second = subprocess.run([*hwbs_command(), "--plan", str(paths.root), "merge", *map(str, scene.returns[2:])],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, "HWBS_LOCK_TIMEOUT": "0.3"})
        assert second.returncode == 3 and "register-busy" in second.stderr and "Traceback" not in second.stderr
        assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    finally:
        reap(first)
    with Register.open(paths) as reg:
        names = {r["original_name"] for r in reg.conn.execute("SELECT original_name FROM returns")}
    assert names == {p.name for p in scene.returns[:2]}  # only the first merge's files
    assert_recovers(paths, scene, one_batch=False)  # the second, run again (the first's files already merged)
    figures.add("faults_injected")
    figures.add("faults_survived")
    figures.add("loss_checks")


def test_a_second_merge_is_told_another_is_running(scene: Scene, tmp_path: Path) -> None:
    scenario_second_merge_told_busy(tmp_path, scene)


def test_merges_started_together_all_complete_and_lose_nothing(scene: Scene, tmp_path: Path) -> None:
    """Four coordinators merging one file each at the same moment: the plan lock serialises them; every
    file is recorded, every update typed is in the register (or flagged as a conflict), none is lost."""
    paths = scene.copy("race", tmp_path)
    env = {**os.environ, "HWBS_LOCK_TIMEOUT": "120"}
    procs = [subprocess.Popen([*hwbs_command(), "--plan", str(paths.root), "merge", str(f)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for f in scene.returns]
    outcomes = [p.communicate(timeout=300) for p in procs]
    codes = {f.name: p.returncode for f, p in zip(scene.returns, procs)}
    assert codes == {"dph.xlsx": 0, "children.xlsx": 0, "housing.xlsx": 0, "scan.xlsx": 1}, outcomes  # scan: refused
    with Register.open(paths) as reg:
        states = {r["original_name"]: r["state"] for r in reg.conn.execute("SELECT original_name, state FROM returns")}
        ka1_02 = reg.update("KA1-02", CYCLE)
        flags = {(f.action_id, f.field) for f in reg.flags(open_only=True)}
        kept = {a: reg.update(a, CYCLE) for a in ("KA1-01", "KA2-01", "KA2-03")}
    assert states == {"dph.xlsx": "merged", "children.xlsx": "merged", "housing.xlsx": "merged", "scan.xlsx": "rejected"}
    assert ka1_02 is not None and ka1_02.needs_review and ("KA1-02", "progress") in flags  # both kept, flagged
    assert all(u is not None and u.progress for u in kept.values())
    assert temps(paths.root) == []
    figures.add("faults_injected", 4)
    figures.add("faults_survived", 4)
    figures.add("loss_checks")


def scenario_merge_killed_inside_the_batch(tmp: Path, scene: Scene | None = None) -> None:
    """The merge process killed while its register transaction is open (the test_merge killer, at its
    third change): the register is as before; the same merge then completes."""
    from test_merge import KILLER

    scene = scene or Scene.build(tmp / "scene")
    paths = scene.copy("killed", tmp)
    script, marker = tmp / "killer.py", tmp / "inside"
    script.write_text(KILLER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(paths.root), str(scene.returns[0]), "3", str(marker)])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert list(paths.root.glob("*-journal"))  # the hot journal SQLite rolls back on the next open
    probe = PlanPaths(tmp / "probe")  # a copy (journal and all) to look at without recovering the real one
    shutil.copytree(paths.root, probe.root)
    assert state_of(probe, scene) == "before"
    result = run(paths, scene.returns)  # restarted: the report says the killed run was not committed
    notice = next(f for f in result.report if f.code == "run-interrupted")
    assert notice.detail["left_behind"] >= 1 and notice.severity == "info"
    assert content(paths) == scene.after and temps(paths.root) == []
    survived("kill")


# ---- a written output that fails its check ------------------------------------------------------------------

@contextlib.contextmanager
def writer_dropping(what: str) -> Iterator[None]:
    """Make the workbook writer silently skip every cell whose description contains ``what`` (a bug that
    drops a row), for the check after writing to catch."""
    import hwbs_xl.sheets.writing as xlsxout

    real = xlsxout.write_text

    def dropping(ws: Any, row: int, col: int, value: object, fmt: Any = None, *, what: str = "a cell") -> None:
        if needle in what:
            return
        real(ws, row, col, value, fmt, what=what)
    needle = what
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xlsxout, "write_text", dropping)
        yield


def scenario_written_workbook_fails_its_check(tmp: Path, scene: Scene | None = None) -> None:
    """Row 38: the master appendix loses an action's row in the writer: the merge is saved, the old
    master.xlsx stays, the result says which check failed; the next run rebuilds it. The same for the lead
    workbooks: generate writes nothing and says which cell failed."""
    from hwbs_xl.issue.generate import generate

    scene = scene or Scene.build(tmp / "scene")
    paths = scene.copy("verify", tmp)
    run(paths, scene.returns[2:3])  # Housing's return first (it conflicts with nobody: same end state)
    old_master = paths.master.read_bytes()
    with writer_dropping("of action KA2-01"):
        result = run(paths, scene.returns)
    assert result.master_problem and "failed its check" in result.master_problem and "KA2-01" in result.master_problem
    assert paths.master.read_bytes() == old_master and temps(paths.root) == []
    assert_recovers(paths, scene, one_batch=False)
    issued = shas(issued_files(paths).values())
    before = fingerprint(paths)
    with writer_dropping("KA2-02 action_id"), pytest.raises(StorageFailed, match="failed its check") as failed:
        generate(paths, example_contact=True, command="pytest fault")
    assert failed.value.code == "output-check-failed" and "KA2-02" in str(failed.value)
    assert shas(issued) == issued and fingerprint(paths) == before and temps(paths.root) == []
    generate(paths, example_contact=True, command="pytest fault")  # the writer mended: issuing completes
    figures.add("faults_injected", 2)
    figures.add("faults_survived", 2)
    figures.add("loss_checks")


def test_a_written_workbook_that_fails_its_check_is_never_put_in_place(scene: Scene, tmp_path: Path) -> None:
    scenario_written_workbook_fails_its_check(tmp_path, scene)


def test_killed_inside_the_batch(scene: Scene, tmp_path: Path) -> None:
    scenario_merge_killed_inside_the_batch(tmp_path, scene)
