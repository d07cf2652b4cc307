"""`hwbs-xl demo`: the whole cycle on the bundled Barnet plan, ending in files a person can open.

Each step calls the same library function the matching command calls; the demo adds nothing of its own
except the demonstration answers it types into a few lead workbooks (clearly marked as such).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from .paths import PlanPaths

DEMO_CYCLE = "October 2024"
DEMO_DUE = date(2024, 10, 18)
DEMO_RETURNS = 3  # how many lead workbooks the demo fills in itself


@dataclass
class DemoStep:
    title: str
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


@dataclass
class DemoResult:
    plan: PlanPaths
    steps: list[DemoStep] = field(default_factory=list)


def run_demo(paths: PlanPaths, *, fresh: bool = True, say: Callable[[DemoStep], None] = lambda s: None) -> DemoResult:
    """Build the Barnet plan from the bundled appendices and run every stage of the cycle on it."""
    from .errors import RendererMissing
    from .importing.pipeline import import_files
    from .sample import BARNET_FILES

    if fresh and paths.root.exists():
        _clear_plan_folder(paths)
    result = DemoResult(paths)
    command = "hwbs-xl demo"

    def step(s: DemoStep) -> None:
        result.steps.append(s)
        say(s)

    imported = import_files(paths, list(BARNET_FILES), cycle=None, command=command)
    step(DemoStep("1. Imported the two Barnet appendices into the register",
                  _import_lines(imported), [p for p in [imported.report_file] if p]))

    from .appendix import build_appendix

    history = _latest_closed_cycle(paths)
    try:
        app = build_appendix(paths, cycle=history, formats=("xlsx", "pdf"))
        step(DemoStep(f"2. Printed the committee appendix for {history} from the imported history",
                      list(app.notes), list(app.files)))
    except RendererMissing as exc:
        step(DemoStep("2. Appendix PDF skipped", [str(exc)]))

    from .cycle import open_cycle
    from .leadbook import generate

    opened = open_cycle(paths, DEMO_CYCLE, DEMO_DUE, command=command)
    gen = generate(paths, drafts=True, now=datetime(2024, 9, 20, 9, 0, tzinfo=timezone.utc), command=command)
    step(DemoStep(f"3. Opened the {DEMO_CYCLE} cycle and wrote one workbook per lead",
                  [*opened.lines(), *gen.lines()], [*gen.files[:3], *gen.lists]))

    from .returns.demofill import fill_for_demo
    from .returns.merge import merge
    from .returns.status import status as return_status

    filled = fill_for_demo(paths, gen.files, count=DEMO_RETURNS)
    merged = merge(paths, filled, command=command)
    chase = return_status(paths)
    step(DemoStep(f"4. Filled {len(filled)} workbooks as a DEMONSTRATION and merged them",
                  [*merged.lines(), *chase.lines()], [paths.master, *chase.files]))

    try:
        final = build_appendix(paths, cycle=DEMO_CYCLE, formats=("xlsx", "pdf"))
        step(DemoStep(f"5. Printed the committee appendix for {DEMO_CYCLE}", list(final.notes), list(final.files)))
    except RendererMissing as exc:
        step(DemoStep("5. Appendix PDF skipped", [str(exc)]))
    return result


def _clear_plan_folder(paths: PlanPaths) -> None:
    """The demo rebuilds its plan from scratch; it only ever clears a folder that holds a register."""
    if paths.register.exists():
        shutil.rmtree(paths.root)


def _latest_closed_cycle(paths: PlanPaths) -> str:
    from .register import Register

    with Register.open(paths) as reg:
        latest = reg.latest_cycle()
    assert latest is not None
    return latest.label


def _import_lines(imported: object) -> list[str]:
    lines = getattr(imported, "lines", None)
    return list(lines()) if callable(lines) else [str(getattr(imported, "counts", ""))]
