"""Fill a few issued lead workbooks with DEMONSTRATION answers, for `hwbs-xl demo` only.

Every text typed starts with a marker saying it is a demonstration, so a demo workbook or appendix can
never be mistaken for a real lead's update. The answers are deterministic and chosen to show what a
merge does: most rows are good, one delayed action gives its revised date, one forgets it (a warning the
lead is asked to fix) and one status is typed free-hand (an error: that row is not taken).
The cells are found through each workbook's manifest, as a lead sees them; openpyxl does the typing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from .. import templates
from ..manifest import MANIFEST_SHEET, from_cells
from ..paths import PlanPaths

MARK = "DEMONSTRATION (typed by hwbs-xl demo, not a real update):"

_PROGRESS = [
    "The working group met three times; £12,500 was agreed for the next phase.\nNext: a progress review in March.",
    "Two of the four sessions ran, with 46 residents taking part – feedback was positive.\nThe rest follow in spring.",
    "Recruitment took longer than planned, so the pilot starts later.\nThe partners have agreed the revised timetable.",
    "Work now continues within the Family Hubs programme (Children’s Services).",
]


def fill_for_demo(paths: PlanPaths, files: Sequence[Path], *, count: int = 3) -> list[Path]:
    """Fill ``count`` of the workbooks in ``files`` (those with the most actions, so the demonstration has
    something to show); save the copies in the plan's returns inbox."""
    vocab = templates.vocabulary(paths.root)
    by_key = {s.key: s.label for s in vocab}
    sizes = _issued_sizes(paths)
    chosen = sorted(files, key=lambda p: (-sizes.get(p.name, 0), p.name))[:count]
    out = []
    for n, source in enumerate(chosen):
        target = paths.inbox / f"{source.stem} - DEMONSTRATION.xlsx"
        out.append(_fill_one(source, target, n, by_key))
    return out


def _fill_one(source: Path, target: Path, n: int, labels: dict[str, str]) -> Path:
    from openpyxl import load_workbook

    from ..safeio import atomic_write

    wb = load_workbook(source)
    manifest = from_cells([list(r) for r in wb[MANIFEST_SHEET].iter_rows(values_only=True)])
    ws = wb[manifest.sheet]
    col = manifest.columns
    for i, row in enumerate(manifest.rows):
        kind = _choice(n, i)
        status = labels.get(kind, "Finished") if kind != "free-hand" else "Finished"
        ws[f"{col['new_status']}{row.row}"] = status
        ws[f"{col['new_progress']}{row.row}"] = f"{MARK} {_PROGRESS[(n + i) % len(_PROGRESS)]}"
        if kind == "delayed" and (n + i) % 2 == 0:
            ws[f"{col['revised_finish']}{row.row}"] = datetime(2025, 6, 30)
        if kind == "incorporated":
            ws[f"{col['new_progress']}{row.row}"] = f"{MARK} {_PROGRESS[3]}"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda tmp: wb.save(tmp))
    return target


def _issued_sizes(paths: PlanPaths) -> dict[str, int]:
    """Issued workbook file name -> number of actions, from the register's record of the open cycle."""
    from ..manifest import from_record
    from ..register import Register

    with Register.open(paths) as reg:
        cycle = reg.open_cycle()
        issued = reg.issued(cycle.label) if cycle else []
    return {Path(r.file).name: len(from_record(r.manifest)[0].rows) for r in issued}


def _choice(workbook: int, row: int) -> str:
    """Which status a demonstration row gets: mostly on target, some delayed, one typed free-hand."""
    if workbook == 1 and row == 0:
        return "free-hand"
    return ("on_target", "delayed", "on_target", "completed", "incorporated")[(workbook + row) % 5]


__all__ = ["fill_for_demo", "MARK"]
