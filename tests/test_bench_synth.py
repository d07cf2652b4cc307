"""The benchmark's own parts: the synthetic plan is a valid, deterministic plan, and run.py runs end to end.

No timing assertions here (speed is what bench/ reports, not what tests check).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hwbs_xl import templates
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import synth  # noqa: E402


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanPaths, synth.SynthSummary]:
    root = tmp_path_factory.mktemp("synth") / "plan"
    return PlanPaths(root), synth.build_plan(root, "tiny")


def test_synthetic_plan_has_the_size_asked_for(tiny_plan: tuple[PlanPaths, synth.SynthSummary]) -> None:
    paths, summary = tiny_plan
    size = synth.SIZES["tiny"]
    with Register.open(paths) as reg:
        actions = reg.actions()
        cycles = reg.cycles()
        updates = reg.updates()
        assert len(actions) == size.actions == summary.actions
        assert len(reg.leads()) == size.leads, "every lead must own at least one action"
        assert [c.label for c in cycles] == synth.history_labels(size.cycles)
        assert all(c.state == "closed" for c in cycles)
        assert len(updates) == summary.updates
        # the whole plan arrived in one batch after the init batch: one undoable import
        kinds = [b.kind for b in reg.log()]
    assert kinds == ["init", "import"]
    ids = [a.id for a in actions]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"KA\d+-\d{2,}", i) for i in ids)
    assert all(a.start and a.finish and a.start < a.finish for a in actions)


def test_synthetic_reports_are_realistic_text(tiny_plan: tuple[PlanPaths, synth.SynthSummary]) -> None:
    paths, _ = tiny_plan
    vocab_keys = {s.key for s in templates.vocabulary(paths.root)}
    with Register.open(paths) as reg:
        updates = reg.updates()
    for u in updates:
        words = len(u.progress.split())
        assert 50 <= words <= 400, (u.action_id, u.cycle, words)
        assert u.status is None or u.status in vocab_keys
        assert u.needs_review == (u.status is None)
        assert u.revised_finish is None or u.status == "delayed"
    text = "\n".join(u.progress for u in updates)
    for needed in ("£", "é", "–", "“", "”", "\n"):
        assert needed in text, f"no {needed!r} in the synthetic progress reports"


def test_synthetic_plan_is_deterministic(tmp_path: Path, tiny_plan: tuple[PlanPaths, synth.SynthSummary]) -> None:
    first, _ = tiny_plan
    again = tmp_path / "again"
    synth.build_plan(again, "tiny")
    other = tmp_path / "other-seed"
    synth.build_plan(other, "tiny", seed=7)

    def content(root: Path) -> list[tuple[str, str, str]]:
        with Register.open(PlanPaths(root)) as reg:
            return [(u.action_id, u.cycle, u.progress) for u in reg.updates()]

    assert content(first.root) == content(again)
    assert content(first.root) != content(other)


def test_run_quick_end_to_end(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    proc = subprocess.run([sys.executable, str(BENCH / "run.py"), "--sizes", "tiny", "--quick",
                           "--work", str(tmp_path / "work"), "--results", str(results)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = results.read_text(encoding="utf-8")
    for heading in ("## Machine", "## tiny", "## Start-up", "## Targets", "<!-- analysis -->"):
        assert heading in text
    # every step has a row, and each row either has figures or says plainly why not
    table = text.split("## tiny", 1)[1].split("##", 1)[0]
    for step, label in [("synth", "synthetic plan"), ("generate", "generate"), ("naive_write", "naive openpyxl writer"),
                        ("naive_read", "naive openpyxl reader"), ("zip_floor", "zipfile floor"),
                        ("validate", "validate"), ("merge", "merge"), ("appendix", "appendix PDF"),
                        ("pdf", "PDF read")]:
        row = next((line for line in table.splitlines() if label in line), None)
        assert row is not None, f"no row for {step}"
        # every stage is built now: "not built yet" means the bench lost track of a module (a rename)
        assert re.search(r"\| [\d,]+ +\| [\d.,]+ +\|", row) or "skipped" in row, row
        assert "not built yet" not in row, row
    # the set-up and the references need nothing from the stages, so they always give figures
    for label in ("synthetic plan", "naive openpyxl writer", "zipfile floor"):
        row = next(line for line in table.splitlines() if label in line)
        assert "failed" not in row and "not built yet" not in row, row
    assert "failed" not in table and "timed out" not in table, table
