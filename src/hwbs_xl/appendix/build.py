"""``build_appendix``: the committee appendix for one cycle written as files (the xlsx and the PDF).

It sits above the views (model, xlsx, typeset, master), so none of them imports it and there is no circle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RendererMissing, UsageProblem
from ..paths import PlanPaths, slug
from ..register import Register
from ..safeio import plan_lock
from . import master, typeset
from . import xlsx as appendix_xlsx
from .model import Appendix, build

FORMATS = ("xlsx", "pdf")


@dataclass
class AppendixResult:
    """What ``build_appendix`` wrote, for the CLI and ``demo`` to show."""

    cycle: str
    files: list[Path] = field(default_factory=list)
    pages: int | None = None           # pages of the PDF (None when no PDF was made)
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # formats asked for and not written (CLI exits 3)
    seconds: dict[str, float] = field(default_factory=dict)  # format -> seconds to build

    @property
    def xlsx(self) -> Path | None:
        return next((p for p in self.files if p.suffix == ".xlsx"), None)

    @property
    def pdf(self) -> Path | None:
        return next((p for p in self.files if p.suffix == ".pdf"), None)


def file_stem(appendix: Appendix) -> str:
    return f"appendix-{slug(appendix.cycle.label)}"


def build_appendix(paths: PlanPaths, *, cycle: str | None = None, formats: tuple[str, ...] | list[str] = FORMATS,
                   out: Path | None = None) -> AppendixResult:
    """Write the committee appendix for ``cycle`` (default: open, else latest) as xlsx and/or PDF.

    Files go to ``out`` (default ``<plan>/appendix/``) named ``appendix-<cycle slug>.xlsx/.pdf``. The PDF
    is typeset in-process by Typst (no LibreOffice); were the typst package missing, the xlsx is still
    written and the result's notes say what to install.
    """
    wanted = _check_formats(formats)
    with Register.open(paths) as reg:
        appendix = build(reg, cycle)
    folder = Path(out) if out is not None else paths.appendix
    stem = file_stem(appendix)
    result = AppendixResult(cycle=appendix.cycle.label)
    _note_unsettled(appendix, result)
    with plan_lock(paths.lock, "write the appendix"):
        if "xlsx" in wanted:
            started = time.perf_counter()
            target = folder / f"{stem}.xlsx"
            result.files.append(master.copy_if_same(paths.private, paths.master, appendix, target)
                                or appendix_xlsx.write(appendix, target))
            result.seconds["xlsx"] = round(time.perf_counter() - started, 3)
        if "pdf" in wanted:
            started = time.perf_counter()
            try:
                pdf, pages = typeset.write(appendix, folder / f"{stem}.pdf", plan_dir=paths.root)
            except RendererMissing as exc:
                result.missing.append("pdf")
                result.notes.append(f"PDF skipped: {exc.message} {exc.hint}".strip())
            else:
                result.files.append(pdf)
                result.pages = pages
                result.seconds["pdf"] = round(time.perf_counter() - started, 3)
    return result


def _check_formats(formats: tuple[str, ...] | list[str]) -> list[str]:
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise UsageProblem(f"Unknown appendix format: {', '.join(unknown) or '(none)'}.",
                           hint="Use --format xlsx, --format pdf or --format xlsx,pdf.")
    return list(dict.fromkeys(wanted))


def _note_unsettled(appendix: Appendix, result: AppendixResult) -> None:
    """Tell the coordinator, before the committee does, what the appendix prints as unknown."""
    s = appendix.summary
    if s.to_confirm:
        ids = ", ".join(r.action.id for r in s.to_confirm)
        result.notes.append(f"{len(s.to_confirm)} action(s) print with a status still to be confirmed: {ids}. "
                            "Settle the flagged statuses, then print again.")
    if s.awaiting:
        result.notes.append(f"{len(s.awaiting)} action(s) print as \"Awaiting update\" (no return received).")


__all__ = ["AppendixResult", "FORMATS", "build_appendix", "file_stem"]
