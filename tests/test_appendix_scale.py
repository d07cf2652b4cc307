"""The appendix summary at a size where one movement category holds hundreds of actions.

Naming every action of a category in ONE cell passed Excel's 32,767-character limit at national size
(10,000 actions), so neither the appendix nor master.xlsx could be written. The plan here is built through
the register's batch API (as an import makes it) and is just big enough to overflow that old cell: 420
actions that all move from Delayed to Completed, and 400 that retired after the previous cycle.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hwbs_xl import templates
from hwbs_xl.appendix import model as ap
from hwbs_xl.appendix import xlsx as ax
from hwbs_xl.appendix.master import write_master
from hwbs_xl.model import Action, Cycle, Month, Provenance, Update
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register, action_row, cycle_row, update_row
from hwbs_xl.text import EXCEL_CELL_LIMIT

OCT23, APR24 = "October 2023", "April 2024"
COMPLETED, RETIRED = 420, 400
ACTIVITY = "Work with the voluntary sector and primary care networks to widen access to the {n} community programme"


def _action(n: int, state: str = "active") -> Action:
    area = f"Key Area {n % 3 + 1}"
    return Action(f"KA{n % 3 + 1}-{n:04d}", area, ACTIVITY.format(n=n), (f"Programme Lead {n % 7}",),
                  Month(2023, 4), Month(2025, 3), state=state)


def build_big_plan(paths: PlanPaths) -> None:
    """Two cycles: every active action Delayed in October 2023 and Completed in April 2024 (open), and
    the retired ones reported in October 2023 only. One batch, as an import writes it."""
    src = Provenance(file="test-scale.md", sha256="0" * 64, where="line 1")
    with Register.open(paths) as reg, reg.batch("import", command="test build_big_plan") as b:
        b.put("plan", {"id": 1, "title": "A national plan"})
        b.put("cycles", cycle_row(Cycle(OCT23, 202310, Month(2023, 10).first_day(), None, "closed")))
        b.put("cycles", cycle_row(Cycle(APR24, 202404, Month(2024, 4).first_day(), None, "open")))
        for n in range(COMPLETED + RETIRED):
            retired = n >= COMPLETED
            a = _action(n, "retired" if retired else "active")
            b.put("actions", action_row(a))
            b.put("updates", update_row(Update(a.id, OCT23, "delayed", status_raw="Delayed",
                                               progress=f"Slower start than planned for {a.id}.", source=src)))
            if not retired:
                b.put("updates", update_row(Update(a.id, APR24, "completed", status_raw="Completed",
                                                   progress=f"Delivered in full ({a.id}).", source=src)))


@pytest.fixture(scope="module")
def big_plan(tmp_path_factory: pytest.TempPathFactory) -> PlanPaths:
    from hwbs_xl.plan.folder import init_plan

    paths = PlanPaths(tmp_path_factory.mktemp("scale") / "plan")
    reg, _ = init_plan(paths, "A national plan")
    reg.close()
    build_big_plan(paths)
    return paths


def _summary_rows(path: Path) -> list[list[str]]:
    ws = openpyxl.load_workbook(path)["Summary"]
    return [["" if c is None else str(c) for c in row] for row in ws.iter_rows(values_only=True)]


def _category(rows: list[list[str]], label: str) -> list[list[str]]:
    """The summary rows of one movement category: its own row and the list rows under it."""
    start = next(i for i, r in enumerate(rows) if r[0] == label)
    end = next(i for i in range(start + 1, len(rows)) if rows[i][0] or not rows[i][2])
    return rows[start:end]


def test_old_single_cell_would_overflow(big_plan: PlanPaths) -> None:
    with Register.open(big_plan) as reg:
        model = ap.build(reg)
    assert len(model.summary.movement["completed"]) == COMPLETED
    assert len(model.summary.movement["retired"]) == RETIRED
    for key in ("completed", "retired"):
        rows = {r.action.id: r for r in model.rows}
        old = "\n".join(ax._short_action(rows.get(i) or next(a for a in model.summary.retired if a.id == i))
                        for i in model.summary.movement[key])
        assert len(old) > EXCEL_CELL_LIMIT, "the plan must be big enough to break the old one-cell list"


def test_appendix_and_master_print_a_long_movement(big_plan: PlanPaths, tmp_path: Path) -> None:
    with Register.open(big_plan) as reg:
        model = ap.build(reg)
        path = ax.write(model, tmp_path / "appendix.xlsx")
        master = write_master(reg)
    for book in (path, master):
        rows = _summary_rows(book)
        assert all(len(c) <= EXCEL_CELL_LIMIT for r in rows for c in r)
        completed = _category(rows, "Completed")
        # too many to name: the row gives the count and points to the table's status column
        assert completed == [["Completed", str(COMPLETED),
                              f"{COMPLETED} actions: too many to list here. The \"Status as of {APR24}\" "
                              "column of the table gives each one.", "", "", "", "", ""]]
        # retired actions are not in the table, so every one is named, one per row
        retired = _category(rows, f"Retired since {OCT23} (not reported in {APR24})")
        assert retired[0][1] == str(RETIRED) and len(retired) == RETIRED
        assert [r[2] for r in retired] == [ax._short_action(a) for a in model.summary.retired]
    table = openpyxl.load_workbook(path)["Appendix A"]
    statuses = [r[5] for r in table.iter_rows(min_row=ax.TITLE_ROWS + 2, values_only=True)]
    assert statuses.count("Completed") == COMPLETED  # the column the summary points to gives each one


def test_a_plan_template_without_the_limit_takes_the_bundled_one(big_plan: PlanPaths, tmp_path: Path) -> None:
    """A plan's own appendix.toml made by an older version lacks newer keys: the bundled template gives them
    (the code repeats no defaults), so the long movement still prints as a count."""
    own = big_plan.templates / "appendix.toml"  # the plan's own copy, as an older version of init made it
    text = (templates.bundled_dir() / "appendix.toml").read_text(encoding="utf-8")
    own.write_text("\n".join(line for line in text.splitlines() if not line.startswith("movement_list_max")),
                   encoding="utf-8")
    try:
        with Register.open(big_plan) as reg:
            model = ap.build(reg)
        rows = _summary_rows(ax.write(model, tmp_path / "appendix.xlsx"))
    finally:
        own.write_text(text, encoding="utf-8")
    assert model.settings["summary"]["movement_list_max"] == 40
    completed = _category(rows, "Completed")
    assert len(completed) == 1 and completed[0][1] == str(COMPLETED) and "too many to list" in completed[0][2]
