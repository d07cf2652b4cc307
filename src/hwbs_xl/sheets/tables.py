"""The one writer of a titled table sheet: the sheets people filter and print (import report, export, review,
chase list, distribution list).

Optional title lines at the top, a heading row, one sheet row per table row, each as tall as its wrapped
text; then the heading row frozen, filtered and repeated on every printed page, landscape, one page wide.
The caller makes the formats (so each output keeps its own look from its template) and anything the table
does not cover (a merged title, drop-downs, protection). Every cell goes through sheets.writing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from .writing import check, row_height, write_date, write_number, write_text

CellFormat = Callable[[int, int], Any]  # (table row from 0, column) -> format


def write_table(ws: Any, top: int, columns: Sequence[tuple[str, float]], rows: Sequence[Sequence[object]], *,
                head: Any, cell: Any | CellFormat, titles: Sequence[tuple[object, Any]] = (), typed: bool = False,
                what: Callable[[int, int], str] | None = None, spare_line: bool = True, heights: bool = True,
                freeze_col: int = 0) -> None:
    """Write ``titles`` from row 0, the headings in row ``top`` and ``rows`` under them.

    ``cell`` is one format or a function of (row, column); ``typed`` writes numbers and dates as such (else
    every value is written as its text); ``what`` names a cell for the error an over-long text raises;
    ``heights`` sets each row's height from its wrapped text (``spare_line``: with a line to spare)."""
    for r, (text, fmt) in enumerate(titles):
        write_text(ws, r, 0, text, fmt, what="the title")
    widths = [float(width) for _, width in columns]
    for j, (heading, width) in enumerate(columns):
        write_text(ws, top, j, heading, head, what="a heading")
        check(ws.set_column(j, j, width), "column width")
    for n, row in enumerate(rows):
        for j, value in enumerate(row):
            fmt = cell(n, j) if callable(cell) else cell
            _write(ws, top + 1 + n, j, value, fmt, typed, what(n, j) if what else "a cell")
        if heights:
            check(ws.set_row(top + 1 + n, row_height(row, widths, spare_line=spare_line)), "row height")
    check(ws.freeze_panes(top + 1, freeze_col), "the frozen header")
    check(ws.autofilter(top, 0, top + max(1, len(rows)), len(columns) - 1), "filter")
    ws.set_landscape()
    check(ws.repeat_rows(top), "repeated header")
    ws.fit_to_pages(1, 0)


def _write(ws: Any, row: int, col: int, value: object, fmt: Any, typed: bool, what: str) -> None:
    if typed and isinstance(value, (int, float)) and not isinstance(value, bool):
        write_number(ws, row, col, value, fmt, what=what)
    elif typed and isinstance(value, date):
        write_date(ws, row, col, value, fmt, what=what)
    else:
        write_text(ws, row, col, value, fmt, what=what)


__all__ = ["write_table"]
