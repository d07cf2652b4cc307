"""Shared set-up for the returns tests: a small real plan with issued lead workbooks, and fillers.

A plan is built the way a real one is: ``init_plan``, one register batch holding actions and a closed
history cycle, ``cycle.open_cycle`` and ``leadbook.generate``, so the workbooks are the tool's own. Filling
is done by openpyxl here (``fill_openpyxl``) and by LibreOffice in the tests that say so (tests/lo_uno.py).
The cells to type into are found through the workbook's manifest, as a lead's spreadsheet would show them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hwbs_xl.manifest import MANIFEST_SHEET, Manifest, from_cells
from hwbs_xl.model import Action, Cycle, Month, Provenance, Update, cycle_seq
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.folder import init_plan
from hwbs_xl.register import Register, action_row, cycle_row, update_row

CYCLE = "October 2024"
DUE = date(2024, 10, 18)
NOW = datetime(2024, 9, 20, 9, 0, tzinfo=UTC)
HISTORY = "April 2024"

DPH = "Director of Public Health"
HOUSING = "Head of Housing – Strategy & Partnerships"
CHILDREN = "Assistant Director, Children’s Services"

ACTIONS = [
    Action("KA1-01", "Key Area 1: Best start in life", "Expand the family hubs offer to every ward, with £250k of funding.",
           (CHILDREN,), Month(2022, 9), Month(2025, 3)),
    Action("KA1-02", "Key Area 1: Best start in life", "Deliver “healthy weight” training for early-years staff.",
           (CHILDREN, DPH), Month(2023, 1), Month(2024, 12)),
    Action("KA2-01", "Key Area 2: Healthy places", "Review damp and mould standards in social housing.",
           (HOUSING,), Month(2023, 4), Month(2025, 6)),
    Action("KA2-02", "Key Area 2: Healthy places", "Pilot air-quality monitors near schools (Café Network).",
           (DPH,), Month(2023, 6), Month(2024, 11)),
    Action("KA2-03", "Key Area 2: Healthy places", "Map green spaces used for social prescribing.",
           (DPH, HOUSING), Month(2022, 11), Month(2025, 9)),
]


def build_plan(root: Path) -> PlanPaths:
    """A plan folder with history, the October 2024 cycle open and one workbook issued per lead."""
    from hwbs_xl.issue.generate import generate
    from hwbs_xl.plan.cycle import open_cycle

    paths = PlanPaths(root)
    reg, _ = init_plan(paths, "Test Health and Wellbeing Strategy")
    with reg.batch("import", command="test set-up", summary="test plan") as b:
        b.put("cycles", cycle_row(Cycle(HISTORY, cycle_seq(HISTORY), report_date=date(2024, 4, 1), state="closed")))
        for i, a in enumerate(ACTIONS):
            b.put("actions", action_row(a))
            b.put("updates", update_row(Update(
                a.id, HISTORY, "on_target" if i % 2 else "delayed",
                "On target to be achieved by target date" if i % 2 else "Delayed achievement by target date",
                progress=f"Line one for {a.id}: £1,200 spent.\nLine two – “quoted”, naïve café.",
                revised_finish=None if i % 2 else a.finish, activity_as_reported=a.activity, leads_as_reported=a.leads,
                source=Provenance(file="test", where="set-up"))))
    reg.close()
    open_cycle(paths, CYCLE, DUE, command="test")
    generate(paths, now=NOW, example_contact=True, command="test")
    return paths


_TEMPLATE_CACHE: dict[str, Path] = {}


def plan_copy(tmp: Path, name: str = "plan") -> PlanPaths:
    """A fresh copy of a built plan (built once per test session: generating is the slow part)."""
    if "plan" not in _TEMPLATE_CACHE:
        import tempfile

        base = Path(tempfile.mkdtemp(prefix="hwbs-returns-plan-"))
        build_plan(base / "plan")
        _TEMPLATE_CACHE["plan"] = base / "plan"
    dest = tmp / name
    shutil.copytree(_TEMPLATE_CACHE["plan"], dest)
    return PlanPaths(dest)


def issued_files(paths: PlanPaths) -> dict[str, Path]:
    """Lead -> issued workbook path, from the register."""
    with Register.open(paths) as reg:
        rows = reg.conn.execute("SELECT lead, file FROM issued WHERE cycle = ?", (CYCLE,)).fetchall()
    return {r["lead"]: paths.root / r["file"] for r in rows}


def read_manifest(path: Path) -> Manifest:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return from_cells([list(r) for r in wb[MANIFEST_SHEET].iter_rows(values_only=True)])


@dataclass(frozen=True)
class Cells:
    """Where a lead types, per action: A1 references from the manifest."""

    manifest: Manifest

    def of(self, action_id: str, key: str) -> str:
        row = self.manifest.row_for(action_id)
        assert row is not None, action_id
        return f"{self.manifest.columns[key]}{row.row}"

    @property
    def sheet(self) -> str:
        return self.manifest.sheet


def fill_openpyxl(src: Path, dest: Path, edits: dict[tuple[str, str], Any], *, unprotect: bool = False) -> Path:
    """Type values into (sheet, A1) cells with openpyxl and save (what a script or Google Sheets export does)."""
    from openpyxl import load_workbook

    wb = load_workbook(src)
    if unprotect:
        for ws in wb.worksheets:
            ws.protection.sheet = False
    for (sheet, ref), value in edits.items():
        wb[sheet][ref] = value
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


def test_build_plan_issues_one_workbook_per_lead(tmp_path: Path) -> None:
    paths = plan_copy(tmp_path)
    files = issued_files(paths)
    assert set(files) == {DPH, HOUSING, CHILDREN}
    m = read_manifest(files[DPH])
    assert [r.action_id for r in m.rows] == ["KA1-02", "KA2-02", "KA2-03"]
