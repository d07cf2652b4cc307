"""What validating leaves in the plan folder: the JSON report and one "please fix" note per lead (or file)
with problems, under ``<plan>/reports/<cycle>/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .. import templates
from ..issue.drafts import render_template
from ..paths import PlanPaths, distinct_file_names, folder_name, slug
from ..safeio import atomic_write, atomic_write_all
from .results import ReturnCheck, ValidationResult


def reports_dir(paths: PlanPaths, cycle: str | None) -> Path:
    return paths.reports / folder_name(cycle or "no-cycle")


def write_validation_reports(paths: PlanPaths, result: ValidationResult, *, kind: str = "validation",
                             payload: Callable[[], str] | None = None) -> None:
    """The JSON report (``payload()``, default the validation result) and a 'please fix' note per lead (or
    file) with problems, under reports/<cycle>/."""
    folder = reports_dir(paths, result.cycle)

    to_fix = [check for check in result.checks if check.problems]
    names = distinct_file_names({str(i): f"please-fix - {slug(check.lead or Path(check.name).stem)}.txt"
                                 for i, check in enumerate(to_fix)}, folder)

    def notes() -> Iterable[tuple[Path, bytes]]:  # one at a time; the folder synced once, not once per note
        for i, check in enumerate(to_fix):
            subject, body = please_fix_text(paths, check)
            yield folder / names[str(i)], f"Subject: {subject}\n\n{body}".encode()

    result.notes = atomic_write_all(notes())
    result.report_file = atomic_write(folder / f"{kind}-report.json", (payload or result.to_json)().encode("utf-8"))


def please_fix_text(paths: PlanPaths, check: ReturnCheck) -> tuple[str, str]:
    """(subject, body) of the note asking a lead to fix their return, listing every problem by cell."""
    settings = templates.plan_settings(paths.root).get("coordinator", {})
    lines = []
    for f in check.problems:
        where = f"cell {f.cell}" if f.cell else (f"sheet '{f.sheet}'" if f.sheet else "the file")
        about = f", action {f.action_id}" + (f" ({f.action_title})" if f.action_title else "") if f.action_id else ""
        lines.append(f"- {where}{about}: {f.message}")
    values = {"lead": check.lead or "colleague", "cycle": check.cycle or "", "file": check.name,
              "problems": "\n".join(lines), "count": len(lines),
              "coordinator_name": settings.get("name", ""), "coordinator_email": settings.get("email", "")}
    return render_template("returns_please_fix.txt", values, paths.root)


__all__ = ["reports_dir", "write_validation_reports", "please_fix_text"]
