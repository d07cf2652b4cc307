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
from ..sheets.tables import write_table

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
    title_format = wb.add_format({"bold": True, "font_size": 12})
    formats = (wrap, wrap, wrap, num, wrap, datefmt)
    names = ("a lead", "an e-mail address", "a file name", "a count", "action IDs", "a due date")
    rows = [(e.lead, e.email, e.file, len(e.actions), ", ".join(e.actions), e.due)
            for e in sorted(entries, key=lambda e: e.lead.casefold())]
    write_table(ws, 2, [(name, width) for name, width in layout["columns"]], rows, head=bold,
                cell=lambda _row, col: formats[col], titles=[(title, title_format)], typed=True,
                what=lambda _row, col: names[col], heights=False)
    wb.close()
    return buf.getvalue()


def write_distribution(out_dir: Path, entries: Sequence[DistributionEntry], layout: dict[str, Any], *, title: str,
                       now: datetime) -> tuple[Path, Path]:
    """Write ``distribution-list.csv`` and ``.xlsx`` in ``out_dir``; returns their paths."""
    csv_path = atomic_write(out_dir / f"{FILE_STEM}.csv", csv_bytes(entries, layout))
    xlsx_path = atomic_write(out_dir / f"{FILE_STEM}.xlsx", xlsx_bytes(entries, layout, title=title, now=now))
    return csv_path, xlsx_path
