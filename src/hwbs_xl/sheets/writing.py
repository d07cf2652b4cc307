"""Writing cells and CSV rows so that text a person typed stays text.

XlsxWriter's ``write()`` turns strings starting with "=" into formulas and URLs into links, and reports
failures by return code, not exception. Every workbook hwbs-xl writes therefore goes through
``write_text`` (always ``write_string``, return code checked) and ``check``. Text over Excel's cell limit
is never cut silently: the writer raises, so the caller decides (the register keeps the whole text).
CSV cells that a spreadsheet would run as a formula are prefixed with an apostrophe (OWASP advice).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from ..errors import InvalidData, StorageFailed
from ..text import EXCEL_CELL_LIMIT, visible_controls

_RC_MEANING = {
    -1: "row or column out of range",
    -2: "text longer than Excel's 32,767-character cell limit",
    -3: "worksheet name already used",
    -4: "invalid worksheet name",
    -5: "formula or range invalid",
}

LINE_POINTS = 12.75  # height of one wrapped line of 10-point text
MAX_ROW_POINTS = 409.0  # Excel's tallest row


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide (a fair estimate)."""
    per_line = max(1.0, width * 1.3)  # proportional text fits a little more than `width` digits
    return sum(max(1, math.ceil(len(p) / per_line)) for p in text.split("\n"))


def row_height(values: Iterable[object], widths: Iterable[float], *, spare_line: bool = True) -> float:
    """Points for a row of wrapped text cells (xlsxwriter rows do not grow by themselves in every program):
    the tallest cell decides, with a line to spare when asked, within Excel's 409-point limit."""
    lines = max([wrapped_lines(str(v or ""), float(w)) for v, w in zip(values, widths)] or [1])
    return min(MAX_ROW_POINTS, LINE_POINTS * (lines + (spare_line and lines > 1)) + 4)


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Text a spreadsheet turns into an error value when it opens a CSV (Excel does, for these exact words).
ERROR_LITERALS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA",
                            "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!"})


def check(rc: int | None, what: str) -> None:
    """Raise when an XlsxWriter call reported failure (it returns a negative code instead of raising)."""
    if rc is not None and rc < 0:
        meaning = _RC_MEANING.get(rc, f"error code {rc}")
        if rc == -2:
            raise InvalidData(f"Cannot write {what}: {meaning}.",
                              hint="The full text is kept in the register; shorten it to fit a spreadsheet cell.",
                              code="text-too-long")
        raise StorageFailed(f"Writing {what} failed: {meaning}.", hint="This is a bug in hwbs-xl; please report it.")


def cell_text(value: object) -> str:
    """The exact string to put in a cell: controls made visible, never trimmed further."""
    return "" if value is None else visible_controls(str(value))


def write_text(ws: Any, row: int, col: int, value: object, fmt: Any = None, *, what: str = "a cell") -> None:
    """Write ``value`` as a plain string cell (never a formula, link, number or error value)."""
    text = cell_text(value)
    if len(text) > EXCEL_CELL_LIMIT:
        check(-2, what)
    if text == "":
        check(ws.write_blank(row, col, None, fmt), what)
    else:
        check(ws.write_string(row, col, text, fmt), what)


def write_date(ws: Any, row: int, col: int, value: date | datetime | None, fmt: Any, *, what: str = "a date") -> None:
    if value is None:
        check(ws.write_blank(row, col, None, fmt), what)
    else:
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        check(ws.write_datetime(row, col, value, fmt), what)


def write_number(ws: Any, row: int, col: int, value: float | int | None, fmt: Any = None, *, what: str = "a number") -> None:
    if value is None:
        check(ws.write_blank(row, col, None, fmt), what)
    else:
        check(ws.write_number(row, col, value, fmt), what)


def new_workbook(target: Any, **options: Any) -> Any:
    """An XlsxWriter workbook with the options every hwbs-xl output needs."""
    import xlsxwriter

    opts = {
        "strings_to_formulas": False,   # belt and braces: write_text never calls write() anyway
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "in_memory": False,
    }
    opts.update(options)
    return xlsxwriter.Workbook(target, opts)


def csv_safe(value: object) -> str:
    """A CSV cell that no spreadsheet will run or show as an error: a leading =, +, -, @, tab or CR, or an
    error value's text (#N/A...), gets an apostrophe."""
    text = cell_text(value)
    if text.startswith(FORMULA_TRIGGERS) or text.strip().upper() in ERROR_LITERALS:
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 (with BOM, so Excel opens it as UTF-8) CSV with every cell made safe."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
