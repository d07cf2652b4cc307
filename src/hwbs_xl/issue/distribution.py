"""The distribution list: who gets which workbook, for how many actions, by when (CSV and xlsx).

The coordinator uses it to send the workbooks and to tick them off; the CSV opens in any spreadsheet or
mail-merge tool. Both are written atomically; every text cell goes through xlsxout (never a formula).
Headings, widths and the sheet's name are workbook.toml's ``[distribution]`` table (``layout`` below).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..safeio import atomic_write
from ..sheets import writing as xlsxout

FILE_STEM = "distribution-list"


@dataclass(frozen=True)
class DistributionEntry:
    lead: str
    email: str
    file: str  # the workbook's file name
    actions: tuple[str, ...]
    due: date | None


def _rows(entries: Sequence[DistributionEntry]) -> list[list[object]]:
    return [[e.lead, e.email, e.file, len(e.actions), ", ".join(e.actions), e.due.isoformat() if e.due else ""]
            for e in sorted(entries, key=lambda e: e.lead.casefold())]


def csv_bytes(entries: Sequence[DistributionEntry], layout: dict[str, Any]) -> bytes:
    return xlsxout.csv_bytes([heading for heading, _ in layout["columns"]], _rows(entries))


def xlsx_bytes(entries: Sequence[DistributionEntry], layout: dict[str, Any], *, title: str, now: datetime) -> bytes:
    buf = io.BytesIO()
    wb = xlsxout.new_workbook(buf, in_memory=True)
    wb.set_properties({"title": title, "created": now})
    ws = wb.add_worksheet(layout["sheet"])
    bold = wb.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    num = wb.add_format({"valign": "top"})
    datefmt = wb.add_format({"num_format": layout["date_format"], "valign": "top"})
    xlsxout.write_text(ws, 0, 0, title, wb.add_format({"bold": True, "font_size": 12}), what="the title")
    for col, (name, width) in enumerate(layout["columns"]):
        xlsxout.write_text(ws, 2, col, name, bold, what="a heading")
        xlsxout.check(ws.set_column(col, col, width), "a column width")
    for r, e in enumerate(sorted(entries, key=lambda e: e.lead.casefold()), start=3):
        xlsxout.write_text(ws, r, 0, e.lead, wrap, what="a lead")
        xlsxout.write_text(ws, r, 1, e.email, wrap, what="an e-mail address")
        xlsxout.write_text(ws, r, 2, e.file, wrap, what="a file name")
        xlsxout.write_number(ws, r, 3, len(e.actions), num, what="a count")
        xlsxout.write_text(ws, r, 4, ", ".join(e.actions), wrap, what="action IDs")
        xlsxout.write_date(ws, r, 5, e.due, datefmt, what="a due date")
    last = 2 + len(entries)
    xlsxout.check(ws.autofilter(2, 0, last, len(layout["columns"]) - 1), "the filter")
    xlsxout.check(ws.freeze_panes(3, 0), "the frozen header")
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    xlsxout.check(ws.repeat_rows(2), "the repeated header")
    wb.close()
    return buf.getvalue()


def write_distribution(out_dir: Path, entries: Sequence[DistributionEntry], layout: dict[str, Any], *, title: str,
                       now: datetime) -> tuple[Path, Path]:
    """Write ``distribution-list.csv`` and ``.xlsx`` in ``out_dir``; returns their paths."""
    csv_path = atomic_write(out_dir / f"{FILE_STEM}.csv", csv_bytes(entries, layout))
    xlsx_path = atomic_write(out_dir / f"{FILE_STEM}.xlsx", xlsx_bytes(entries, layout, title=title, now=now))
    return csv_path, xlsx_path
