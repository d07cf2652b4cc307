"""The import report: a terminal summary, and a workbook the coordinator can open and filter.

The workbook (``<plan>/reports/import-<timestamp>.xlsx``) has a Summary sheet (counts per cycle, links,
flags, what to do next) and a sheet listing every repair, flag and link with its file, its row (line, page
and row, or a workbook row) and, in a column of its own, the cell it is about (a PDF's page and box, a
workbook's cell), so a reviewer can check each flagged item against the paper. Every cell is written as text
through xlsxout (nothing a council wrote can turn into a formula).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..findings import ERROR, WARNING, Finding, Report
from ..safeio import atomic_write
from ..sheets.tables import write_table
from ..sheets.writing import check, new_workbook, row_height, write_text
from .settings import ImportSettings
from .source import workbook_where

# What the detail sheet's columns can show; templates/import.toml [report] columns name them in order.
DETAIL_FIELDS = ("severity", "code", "file", "where", "position", "action", "cycle", "value", "message")
# A plan's own copy of import.toml from before the position column lists [title, width] in this order.
LEGACY_FIELDS = ("severity", "code", "file", "where", "action", "cycle", "value", "message")

LINK_WORDS = {
    "link-same-wording": "linked: same wording",
    "link-similar": "linked: same key area and start, similar wording",
    "link-by-id": "linked: by printed action ID",
    "action-new": "new actions",
    "link-doubtful": "new actions flagged as doubtful links",
}


def summary_items(report: Report, counts: dict[str, Any]) -> list[tuple[str, str]]:
    """The import's outcome as (heading, text) pairs: the terminal and the report workbook show the same."""
    items: list[tuple[str, str]] = []
    items.append(("Files", f"{counts.get('files', 0)} given, {counts.get('files_imported', 0)} imported, "
                           f"{counts.get('already_imported', 0)} already imported before (nothing changed for those)."))
    for name, f in counts.get("by_file", {}).items():
        links = f["links"]
        linked = sum(n for k, n in links.items() if k.startswith("link-") and k != "link-doubtful")
        new = links.get("action-new", 0) + links.get("link-doubtful", 0)
        detail = "; ".join(f"{links[k]} {LINK_WORDS[k]}" for k in LINK_WORDS if links.get(k))
        items.append((name, f"{f['form']}, reports on {f['cycle']}: {f['rows']} rows; {linked} linked to earlier "
                            f"actions, {new} new ({detail})."))
    for cycle, c in counts.get("cycles", {}).items():
        statuses = ", ".join(f"{n} {label}" for label, n in sorted(c["statuses"].items(), key=lambda kv: -kv[1]))
        text = f"{c['actions']} actions"
        if statuses:
            text += f": {statuses}"
        elif not c.get("flagged"):
            text += " (notes only: the paper has no status column for this cycle)"
        if c.get("repaired"):
            text += f"; {c['repaired']} status(es) repaired (only one status fits)"
        if c.get("flagged"):
            text += f"; {c['flagged']} status(es) flagged for review (raw text kept)"
        items.append((cycle, text + "."))
    doubtful = counts.get("links", {}).get("link-doubtful", 0)
    if counts.get("flags"):
        items.append(("Flags to settle", f"{counts['flags']} ({doubtful} doubtful link(s)). List them with "
                      "`hwbs-xl flags`; settle one with `hwbs-xl settle ID VALUE`, or all in a workbook with "
                      "`hwbs-xl review --out review.xlsx`."))
    sev = report.by_severity()
    items.append(("Findings", f"{sev[ERROR]} error(s), {sev[WARNING]} warning(s), {sev['info']} note(s) about "
                              "repairs and links, each with its file and line or page."))
    return items


def summary_lines(report: Report, counts: dict[str, Any], report_file: Path | None = None) -> list[str]:
    """What the terminal shows after an import (the CLI only prints these)."""
    lines = [f"{head}: {text}" for head, text in summary_items(report, counts)]
    for f in report.errors:
        lines.append("  " + f.line())
    if report_file is not None:
        lines.append(f"Report: {report_file}")
    return lines


def write_report(path: Path, report: Report, counts: dict[str, Any], settings: ImportSettings,
                 batch_id: int | None) -> Path:
    cfg = settings.section("report")
    items = summary_items(report, counts)
    columns = detail_columns(cfg.get("columns", []))
    names = [name for name, _, _ in columns]
    findings = _ordered(report)
    rows = [[values.get(name, "") for name in names]
            for values in _detail_rows(findings, separate_position="position" in names)]

    def produce(tmp: Path) -> None:
        wb = new_workbook(str(tmp))
        head = wb.add_format({"bold": True, "font_color": cfg["header_font"],
                              "bg_color": cfg["header_fill"], "text_wrap": True, "valign": "top",
                              "border": 1})
        title = wb.add_format({"bold": True, "font_size": 14})
        label = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "border": 1, "bg_color": cfg["label_fill"]})
        wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
        warn = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "bg_color": cfg["warning_fill"]})
        err = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "bg_color": cfg["error_fill"]})

        summary = wb.add_worksheet(str(cfg.get("summary_sheet", "Summary"))[:31])
        check(summary.set_column(0, 0, 26), "column width")
        check(summary.set_column(1, 1, 90), "column width")
        write_text(summary, 0, 0, cfg.get("title", "Import of past appendices"), title)
        write_text(summary, 1, 0, f"Register batch {batch_id}: `hwbs-xl undo {batch_id}` reverses this import."
                   if batch_id else "Nothing was imported: see the errors on the next sheet.")
        for i, (heading, text) in enumerate(items, start=3):
            write_text(summary, i, 0, heading, label)
            write_text(summary, i, 1, text, wrap)
            check(summary.set_row(i, row_height((heading, text), (26, 90))), "row height")
        summary.fit_to_pages(1, 0)

        detail = wb.add_worksheet(str(cfg.get("detail_sheet", "What was done"))[:31])
        shade = [err if f.severity == ERROR else warn if f.severity == WARNING else wrap for f in findings]
        write_table(detail, 0, [(title, width) for _, title, width in columns], rows, head=head,
                    cell=lambda n, _col: shade[n])
        wb.close()

    return atomic_write(path, produce)


def detail_columns(spec: list[list[Any]]) -> list[tuple[str, str, float]]:
    """(field, title, width) per detail column from [report] columns: [field, title, width] entries, or a
    plan's older [title, width] entries (read in the order they had then)."""
    if spec and all(len(c) == 3 for c in spec):
        return [(str(f), str(t), float(w)) for f, t, w in spec]
    return [(f, str(c[0]), float(c[-1])) for f, c in zip(LEGACY_FIELDS, spec)]


def _ordered(report: Report) -> list[Finding]:
    """Errors first, then warnings; within them by file and by position in the file (page, row)."""
    order = {ERROR: 0, WARNING: 1}
    return sorted(report, key=lambda f: (order.get(f.severity, 2), f.file or "", _numbers(_row_of(f)), f.code))


def _detail_rows(findings: list[Finding], separate_position: bool = True) -> Iterable[dict[str, str]]:
    for f in findings:
        where, position = _row_of(f), _position_of(f)
        if not separate_position and position:
            where = f"{where}; {position}" if where else position
        yield {"severity": f.severity, "code": f.code, "file": f.file or "", "where": where,
               "position": position, "action": f.action_id or "",
               "cycle": str(f.detail.get("cycle") or "") if f.detail else "",
               "value": _fit(f.value or ""), "message": _fit(f.message)}


def _row_of(f: Finding) -> str:
    """The row a finding is about: "page 3, row 5", "line 14", "'Appendix A'!A8" (several when stitched)."""
    return str(f.detail.get("row_where") or f.where or (f"sheet '{f.sheet}'" if f.sheet else ""))


def _position_of(f: Finding) -> str:
    """The cell(s) it is about: a PDF's page and box, a text's line and column, a workbook's 'Sheet'!F8."""
    cells = f.detail.get("cell_where") or ([f.detail["box"]] if f.detail.get("box") else [])
    if cells:
        return " + ".join(str(c) for c in cells)
    if f.sheet and f.cell:
        return workbook_where(f.sheet, f.cell)
    return ""


def _fit(text: str, limit: int = 32_000) -> str:
    """A report cell holds at most a spreadsheet cell's worth; the cut is said, the full text is in the file."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" … [{len(text) - limit} more characters: see the source file]"


def _numbers(where: str) -> tuple[tuple[int, ...], str]:
    """Sort key that puts "page 2, row 10" after "page 2, row 9" and "'S'!A10" after "'S'!A9"."""
    import re

    return tuple(int(n) for n in re.findall(r"\d+", where)), where
