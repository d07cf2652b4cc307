"""Creating a plan folder: the register, and the council's own copy of the templates."""

from __future__ import annotations

from .. import templates
from ..paths import PlanPaths
from ..register import Register
from ..safeio import atomic_write


def init_plan(paths: PlanPaths, title: str | None = None) -> tuple[Register, bool]:
    """Create the plan folder (if needed) with its register and templates. Returns (register, created)."""
    created = not paths.exists()
    settings = templates.plan_settings(None)
    if created:  # templates first: the register (made whole, then renamed in) marks a complete plan folder
        copy_templates(paths)
    reg = Register.open(paths, create=True, title=title or settings["default_title"])
    plan = reg.plan()
    if not created and title and plan and plan.title != title:
        with reg.batch("edit", command="hwbs-xl init --title", summary=f"plan renamed to {title!r}") as b:
            b.put("plan", {"id": 1, "title": title})
    for folder in (paths.inbox, paths.evidence, paths.appendix, paths.reports):
        folder.mkdir(parents=True, exist_ok=True)
    return reg, created


def copy_templates(paths: PlanPaths) -> None:
    """Give the plan its own editable copy of every bundled template (existing files are left alone)."""
    paths.templates.mkdir(parents=True, exist_ok=True)
    for src in sorted(templates.bundled_dir().iterdir()):
        dest = paths.templates / src.name
        if src.is_file() and not dest.exists():
            atomic_write(dest, src.read_bytes())  # never a half-copied template, whatever stops the copy
