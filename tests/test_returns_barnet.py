"""The returns cycle on the real Barnet plan: generated workbooks filled through openpyxl and LibreOffice,
merged; every typed value arrives exactly; re-merging changes nothing; status lists who is outstanding;
and the functions `hwbs-xl demo` calls (fill, merge, status) work end to end.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hwbs_xl.demo.fill import MARK, fill_for_demo
from hwbs_xl.issue.generate import generate
from hwbs_xl.model import Month
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.cycle import open_cycle
from hwbs_xl.plan.folder import init_plan
from hwbs_xl.register import Register
from hwbs_xl.returns.merge import merge
from hwbs_xl.returns.status import status

from test_returns_support import Cells, fill_openpyxl, read_manifest

pipeline = pytest.importorskip("hwbs_xl.importing.pipeline", reason="the appendix import has not landed yet")

CYCLE = "October 2024"
TODAY = date(2024, 10, 25)  # after the due date: outstanding leads are overdue


@pytest.fixture(scope="module")
def barnet(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanPaths, list[Path]]:
    from hwbs_xl.demo.sample import BARNET_FILES, BARNET_TITLE

    paths = PlanPaths(tmp_path_factory.mktemp("barnet-returns") / "plan")
    reg, _ = init_plan(paths, BARNET_TITLE)
    reg.close()
    pipeline.import_files(paths, list(BARNET_FILES), cycle=None, command="test import")
    open_cycle(paths, CYCLE, date(2024, 10, 18), open_flags=True, command="test")
    result = generate(paths, now=datetime(2024, 9, 20, 9, 0, tzinfo=UTC), example_contact=True, open_flags=True, command="test generate")
    return paths, result.files


@pytest.fixture
def plan(barnet, tmp_path: Path) -> tuple[PlanPaths, list[Path]]:  # type: ignore[no-untyped-def]
    paths, files = barnet
    copy = PlanPaths(tmp_path / "plan")
    shutil.copytree(paths.root, copy.root)
    return copy, [copy.root / f.relative_to(paths.root) for f in files]


def answers(cells: Cells, n: int) -> dict[tuple[str, str], object]:
    """A full answer for every action in a workbook: unicode, line breaks, £ and dates."""
    out: dict[tuple[str, str], object] = {}
    for i, row in enumerate(cells.manifest.rows):
        a = row.action_id
        delayed = (n + i) % 3 == 0
        out[(cells.sheet, cells.of(a, "new_status"))] = ("Delayed achievement by target date" if delayed
                                                        else "On target to be achieved by target date")
        out[(cells.sheet, cells.of(a, "new_progress"))] = (
            f"{a}: £{1200 + i},50 committed – “Café Zoë” sessions.\nSecond line: naïve résumé ✓\n\n• bullet")
        if delayed:
            out[(cells.sheet, cells.of(a, "revised_finish"))] = datetime(2025 + i % 2, 3, 31)
    return out


def biggest(files: list[Path], k: int) -> list[Path]:
    return sorted(files, key=lambda p: (-len(read_manifest(p).rows), p.name))[:k]


def test_filled_barnet_workbooks_arrive_exactly(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths, files = plan
    chosen = biggest(files, 2)
    returned, expected = [], {}
    for n, src in enumerate(chosen):
        cells = Cells(read_manifest(src))
        typed = answers(cells, n)
        returned.append(fill_openpyxl(src, tmp_path / f"returned {n}.xlsx", typed))
        for row in cells.manifest.rows:
            expected[row.action_id] = (typed[(cells.sheet, cells.of(row.action_id, "new_progress"))],
                                       typed.get((cells.sheet, cells.of(row.action_id, "revised_finish"))))
    result = merge(paths, returned, command="pytest", today=TODAY)
    assert not result.report.errors, [f.line() for f in result.report.errors]
    with Register.open(paths) as reg:
        for action_id, (progress, revised) in expected.items():
            u = reg.update(action_id, CYCLE)
            assert u is not None and u.progress == progress, action_id
            assert u.revised_finish == (Month.of(revised) if revised else None)
        before = reg.fingerprint()
    merge(paths, returned, command="pytest again", today=TODAY)
    with Register.open(paths) as reg:
        assert reg.fingerprint() == before


@pytest.mark.libreoffice
def test_a_barnet_workbook_filled_in_libreoffice(plan, tmp_path: Path, soffice: str) -> None:  # type: ignore[no-untyped-def]
    from lo_uno import lo_fill, uno_available

    if not uno_available():
        if os.environ.get("CI"):
            pytest.fail("python3-uno is required in CI")
        pytest.skip("python3-uno is not installed for /usr/bin/python3")
    paths, files = plan
    src = biggest(files, 1)[0]
    cells = Cells(read_manifest(src))
    typed = answers(cells, 0)
    dest = tmp_path / "from LibreOffice.xlsx"
    lo_fill(src, dest, {k: (v.date() if isinstance(v, datetime) else v) for k, v in typed.items()})
    result = merge(paths, [dest], command="pytest", today=TODAY)
    assert not result.report.errors and "locked-value-changed" not in [f.code for f in result.report]
    with Register.open(paths) as reg:
        for row in cells.manifest.rows:
            u = reg.update(row.action_id, CYCLE)
            assert u is not None and u.progress == typed[(cells.sheet, cells.of(row.action_id, "new_progress"))]


def test_status_lists_who_is_outstanding(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths, files = plan
    src = biggest(files, 1)[0]
    cells = Cells(read_manifest(src))
    merge(paths, [fill_openpyxl(src, tmp_path / "one.xlsx", answers(cells, 1))], command="pytest", today=TODAY)
    reg = status(paths, today=TODAY, drafts=True)
    outstanding = {r.lead for r in reg.outstanding}
    assert cells.manifest.lead not in outstanding
    assert len(outstanding) == len(files) - 1 and all(r.overdue for r in reg.outstanding)
    assert len(reg.drafts) == len(outstanding)
    csv = reg.files[0].read_text(encoding="utf-8-sig")
    assert all(lead.split(",")[0] in csv for lead in outstanding)


def test_the_demo_functions(plan) -> None:  # type: ignore[no-untyped-def]
    paths, files = plan
    filled = fill_for_demo(paths, files, count=3)
    assert len(filled) == 3 and all(p.parent == paths.inbox for p in filled)
    result = merge(paths, filled, command="hwbs-xl demo")
    with Register.open(paths) as reg:
        merged = [u for u in reg.updates(cycle=CYCLE) if u.source.sha256]
    assert merged and all(u.progress.startswith(MARK) for u in merged)  # clearly a demonstration
    assert "status-not-in-list" in [f.code for f in result.report]  # the demo shows a problem being caught
    lines = status(paths).lines()
    assert "outstanding" in lines[0] and result.master is not None
