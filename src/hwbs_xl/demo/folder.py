"""`hwbs-xl demo`: the whole cycle on the bundled Barnet plan, ending in files a person can open.

The demo is a scripted run of the ordinary commands (so it shows exactly what a coordinator sees); this
module holds only what is demo-specific: the script's fixed answers, and resetting the demo's plan folder.
The answers typed into a few lead workbooks are done by `returns.demofill` and say they are a demonstration.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from ..errors import UsageProblem
from ..paths import PlanPaths

DEMO_CYCLE = "October 2024"
DEMO_DUE = date(2024, 10, 18)
DEMO_HISTORY_CYCLE = "April 2024"
DEMO_RETURNS = 3  # how many lead workbooks the demo fills in itself


def reset_plan_folder(paths: PlanPaths) -> None:
    """The demo rebuilds its plan from scratch. It clears only a folder that is empty or holds a register,
    so pointing --plan at the wrong folder can never delete someone's documents."""
    root = paths.root
    if not root.exists():
        return
    if paths.register.exists() or not any(root.iterdir()):
        shutil.rmtree(root)
        return
    raise UsageProblem(f"{root} is not a plan folder, and the demo will not clear it.",
                       hint="Give the demo an empty folder or an existing plan folder: hwbs-xl demo --plan DIR.")


def issued_workbooks(paths: PlanPaths) -> list[Path]:
    """The lead workbooks issued for the open cycle, as the register records them."""
    from ..register import Register

    with Register.open(paths) as reg:
        cycle = reg.open_cycle()
        if cycle is None:
            return []
        return [_absolute(paths, Path(r.file)) for r in reg.issued(cycle.label)]


def _absolute(paths: PlanPaths, path: Path) -> Path:
    return path if path.is_absolute() else paths.root / path
