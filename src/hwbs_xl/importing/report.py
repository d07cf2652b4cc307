"""The import report: a terminal summary, and a workbook the coordinator can open and filter.

The workbook (``<plan>/reports/import-<timestamp>.xlsx``) has a Summary sheet (counts per cycle, links,
flags, what to do next) and a sheet listing every repair, flag and link with its file and line or page.
Every cell is written as text through xlsxout (nothing a council wrote can turn into a formula).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..findings import ERROR, WARNING, Report
from ..safeio import atomic_write
from ..xlsxout import check, new_workbook, write_text
from .settings import ImportSettings

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
    columns = cfg.get("columns", [])
    widths = [float(w) for _, w in columns]
    rows = list(_detail_rows(report))

    def produce(tmp: Path) -> None:
        wb = new_workbook(str(tmp))
        head = wb.add_format({"bold": True, "font_color": cfg.get("header_font", "#FFFFFF"),
                              "bg_color": cfg.get("header_fill", "#1F3864"), "text_wrap": True, "valign": "top",
                              "border": 1})
        title = wb.add_format({"bold": True, "font_size": 14})
        label = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "border": 1, "bg_color": "#F2F2F2"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
        warn = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "bg_color": cfg.get("warning_fill", "#FFEB9C")})
        err = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "bg_color": cfg.get("error_fill", "#FFC7CE")})

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
        for j, (name, width) in enumerate(columns):
            write_text(detail, 0, j, name, head)
            check(detail.set_column(j, j, width), "column width")
        for i, row in enumerate(rows, start=1):
            fmt = err if row[0] == ERROR else warn if row[0] == WARNING else wrap
            for j, value in enumerate(row):
                write_text(detail, i, j, value, fmt)
            check(detail.set_row(i, row_height(row, widths)), "row height")
        check(detail.autofilter(0, 0, max(1, len(rows)), len(columns) - 1), "filter")
        detail.freeze_panes(1, 0)
        detail.set_landscape()
        check(detail.repeat_rows(0), "repeated header")
        detail.fit_to_pages(1, 0)
        wb.close()

    return atomic_write(path, produce)


def row_height(values: Iterable[object], widths: Iterable[float]) -> float:
    """Points for a row of wrapped text cells (rows do not grow by themselves in every program), with a
    line to spare and within Excel's 409-point limit."""
    from ..leadbook import LINE_POINTS, wrapped_lines

    lines = max([wrapped_lines(str(v or ""), float(w)) for v, w in zip(values, widths)] or [1])
    return min(409.0, LINE_POINTS * (lines + (lines > 1)) + 4)


def _detail_rows(report: Report) -> Iterable[list[str]]:
    order = {ERROR: 0, WARNING: 1}
    for f in sorted(report, key=lambda f: (order.get(f.severity, 2), f.file or "", _line_no(f.where), f.code)):
        action = f.action_id or ""
        cycle = str(f.detail.get("cycle") or "") if f.detail else ""
        yield [f.severity, f.code, f.file or "", f.where or "", action, cycle, _fit(f.value or ""), _fit(f.message)]


def _fit(text: str, limit: int = 32_000) -> str:
    """A report cell holds at most a spreadsheet cell's worth; the cut is said, the full text is in the file."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" … [{len(text) - limit} more characters: see the source file]"


def _line_no(where: str | None) -> tuple[int, str]:
    import re

    m = re.search(r"(\d+)", where or "")
    return (int(m.group(1)) if m else 0, where or "")
