"""The workbook reader: an appendix spreadsheet becomes table rows with provenance, nothing more.

For a council's own "Appendix A" workbook, or hwbs-xl's own appendix or export workbook. The file is opened
with the same safe reader as a lead's return (``returns.reader``: magic bytes, zip limits, DTDs refused,
exact values by calamine, for .xlsx, .xlsm, Strict, .ods and .xls alike), and every non-empty row of every
visible sheet is returned in order, cells as the spreadsheet shows their text. What is a header, a title or
a continuation is the shared pipeline's business, as for the other forms.

- ``where`` is "'Sheet'!A7" (the row), ``cell_where`` each cell's "'Sheet'!C7".
- Each sheet counts as a page (``page`` = its position among the sheets read, ``page_start`` and
  ``table_start`` on its first row): a table on another sheet starts afresh, under its own header; it never
  continues the row above.
- A merged cell's text stands in its first cell, the others are empty (as in the file).
- A date is written ISO ("2022-09-01"), which every month reader understands without day/month doubt;
  a whole number without ".0"; an error value as it shows ("#N/A"), so nothing is silently empty.
- Hidden sheets are not read (they hold drop-down lists and hwbs-xl's manifests, not the appendix); each
  one skipped is named in ``text_lines``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidData
from ..findings import ERROR
from ..sheets.reader import Value
from ..sheets.values import value_text
from .source import SourceRow, SourceTable, workbook_where

__all__ = ["read_xlsx", "cell_text"]


def read_xlsx(path: Path) -> SourceTable:
    """Every non-empty row of every visible sheet, in order, with sheet and cell positions.

    Raises InvalidData (with the safe reader's code, e.g. ``file-encrypted``) when the file cannot be read.
    """
    from ..sheets.cells import a1
    from ..sheets.reader import VISIBLE, read_file

    path = Path(path)
    result = read_file(path)
    if result.book is None:
        refusal = next((f for f in result.findings if f.severity == ERROR), result.findings[0])
        raise InvalidData(f"{path.name} could not be read as an appendix workbook: {refusal.message}",
                          hint="Open it in Excel or LibreOffice and save it again as .xlsx, then import that.",
                          code=refusal.code)
    table = SourceTable(path=path, sha256=result.sha256, form="xlsx", findings=list(result.findings))
    page = 0
    for sheet in result.book.sheets:
        if sheet.state != VISIBLE:
            table.text_lines.append((f"(hidden sheet '{sheet.name}' not read)", f"sheet '{sheet.name}'"))
            continue
        page += 1
        first = True
        r0, c0 = sheet.origin
        for i, values in enumerate(sheet.rows):
            row = r0 + i
            cells = [cell_text(v) for v in values]
            for (er, ec), error in sheet.errors.items():
                if er == row and 0 <= ec - c0 < len(cells) and not cells[ec - c0]:
                    cells[ec - c0] = error
            if not any(c.strip() for c in cells):
                continue
            table.rows.append(SourceRow(
                cells=tuple(cells), where=workbook_where(sheet.name, a1(row, c0)), page=page, page_start=first,
                cell_where=tuple(workbook_where(sheet.name, a1(row, c0 + j)) for j in range(len(cells))),
                table_start=first))
            first = False
    table.pages = page
    return table


def cell_text(value: Value) -> str:
    """The text a cell shows: the same rule the returns reader uses (dates as ISO dates, 3.0 as "3")."""
    return value_text(value)
