"""Open any returned file safely and read it exactly.

Two readers, each for what it does well (measured; figures in the README, "Reading returned workbooks"):

- **Values** come from python-calamine for every format (xlsx, xlsm, Strict xlsx, xls, ods). It decodes
  Excel's ``_xHHHH_`` escapes exactly once and keeps an escaped ``_x005F_`` literal (openpyxl returns
  ``_x000D_`` raw and turns the text ``_x005F_`` into ``_``), applies the 1904 date system, reads
  the formats openpyxl cannot, and is about 10-20x faster.
- **Structure** comes from openpyxl (xlsx/xlsm only): whether sheet protection is on, which cells hold a
  formula (a lead who types ``=1+1`` gets a formula; we keep the text typed, not the result), which hold an
  error value (calamine shows those as empty), and merged ranges. openpyxl parses XML through defusedxml,
  which is checked before first use. Where it cannot read a file (Strict OOXML, broken styles, odd part
  names), values are still read and the result says "degraded": no protection or formula checks.

Every file first goes through ``sniff`` (magic bytes, zip directory limits, DTD refusal, row/cell meters).
``read_file`` never raises on bad data: a refused file is a ``ReadResult`` with ``book=None`` and a finding.
"""

from __future__ import annotations

import hashlib
import io
import traceback
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Iterator

from ..findings import Finding
from . import codes as _codes  # noqa: F401  (registers the finding codes)
from . import limits
from .sniff import sniff

Value = str | float | int | bool | date | datetime | time | timedelta | None

VISIBLE, HIDDEN, VERY_HIDDEN = "visible", "hidden", "veryHidden"
DEGRADED_CODES = {"xls": "file-format-xls", "ods": "file-format-ods", "xlsx-strict": "file-strict-ooxml"}
_FORMAT_NAMES = {"xls": "an old Excel 97-2003 (.xls) workbook", "ods": "an OpenDocument (.ods) spreadsheet",
                 "xlsx-strict": "a 'Strict Open XML' workbook"}


def col_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """(7, 5) -> "E7" (both 1-based)."""
    return f"{col_letter(col)}{row}"


@dataclass
class Sheet:
    """One worksheet: its values (exact, as typed), and what is known of its structure.

    Coordinates are 1-based (row 1 = the spreadsheet's row 1). ``protected`` is None when the structure
    could not be read (a degraded read).
    """

    name: str
    index: int
    state: str = VISIBLE
    origin: tuple[int, int] = (1, 1)  # the spreadsheet cell of rows[0][0]
    rows: list[list[Value]] = field(default_factory=list)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: tuple[tuple[int, int, int, int], ...] = ()  # (first row, first col, last row, last col)
    protected: bool | None = None

    def value(self, row: int, col: int) -> Value:
        r, c = row - self.origin[0], col - self.origin[1]
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            return self.rows[r][c]
        return None

    @property
    def last_row(self) -> int:
        return self.origin[0] + len(self.rows) - 1 if self.rows else 0

    @property
    def last_col(self) -> int:
        return self.origin[1] + max((len(r) for r in self.rows), default=0) - 1

    def filled_rows(self) -> int:
        """Rows with at least one value or formula (what "no row lost" is measured by)."""
        rows = {self.origin[0] + i for i, r in enumerate(self.rows) if any(v is not None for v in r)}
        rows |= {r for r, _ in self.formulas} | {r for r, _ in self.errors}
        return len(rows)

    def cells(self) -> Iterator[tuple[int, int, Value]]:
        """Every filled cell as (row, col, value)."""
        r0, c0 = self.origin
        for i, row in enumerate(self.rows):
            for j, v in enumerate(row):
                if v is not None:
                    yield r0 + i, c0 + j, v

    def merged_range_at(self, row: int, col: int) -> str | None:
        for r1, c1, r2, c2 in self.merged:
            if r1 <= row <= r2 and c1 <= col <= c2:
                return f"{a1(r1, c1)}:{a1(r2, c2)}"
        return None


@dataclass
class ReturnedBook:
    """A readable returned workbook."""

    format: str  # "xlsx", "xlsm", "xlsx-strict", "xls", "ods"
    date1904: bool
    sheets: list[Sheet]
    structure_checked: bool  # False on a degraded read: protection, formulas and errors unknown

    def sheet(self, name: str) -> Sheet | None:
        return next((s for s in self.sheets if s.name == name), None)


@dataclass
class ReadResult:
    """The outcome of reading one file: the book (None when refused) and what was found on the way."""

    name: str  # how the file is named in messages (its file name)
    path: Path | None
    sha256: str
    size: int
    data: bytes = field(repr=False, default=b"")  # exactly the bytes read, so evidence is what was checked
    book: ReturnedBook | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.book is not None


def read_file(path: Path, *, name: str | None = None) -> ReadResult:
    """Read a returned file from disk. The size limit is checked before a byte is read."""
    path = Path(path)
    shown = name or path.name
    try:
        size = path.stat().st_size
        if size > limits.MAX_FILE_BYTES:
            return _refused(shown, path, "", size, "file-too-large",
                            f"{shown} is {size / limits.MB:,.1f} MB (limit {limits.MAX_FILE_BYTES // limits.MB} MB); a lead's "
                            "return is usually under 100 KB. It was not opened. Ask the lead to send the issued workbook "
                            "with only their updates typed in.", limit="MAX_FILE_BYTES", value=size)
        data = path.read_bytes()
    except OSError as exc:
        return _refused(shown, path, "", 0, "file-unreadable",
                        f"{shown} could not be opened ({exc.strerror or exc}). Check that the file exists and that "
                        "you may read it, then run again.")
    return read_bytes(data, shown, path=path)


def read_bytes(data: bytes, name: str, *, path: Path | None = None) -> ReadResult:
    """Read a returned file held in memory (the same checks as ``read_file``)."""
    digest = hashlib.sha256(data).hexdigest()
    result = ReadResult(name, path, digest, len(data), data)
    if len(data) > limits.MAX_FILE_BYTES:
        return _refused(name, path, digest, len(data), "file-too-large",
                        f"{name} is over the {limits.MAX_FILE_BYTES // limits.MB} MB limit; it was not opened.",
                        limit="MAX_FILE_BYTES", value=len(data))
    sniffed = sniff(data, name)
    result.findings.extend(sniffed.findings)
    if sniffed.refused:
        return result
    assert sniffed.kind is not None
    sheets, refusal = _read_values(data, name)
    if refusal is not None:
        result.findings.append(refusal)
        return result
    book = ReturnedBook(sniffed.kind, sniffed.date1904, sheets, structure_checked=False)
    if sniffed.kind in ("xlsx", "xlsm"):
        problem = _read_structure(data, book)
        if problem is not None:
            result.findings.append(_degraded(problem[0], name, problem[1]))
    else:
        result.findings.append(_degraded(DEGRADED_CODES[sniffed.kind], name, _FORMAT_NAMES[sniffed.kind]))
    if sniffed.macros:
        result.findings.append(Finding("file-macros-ignored",
                                       f"{name} contains macros. They were not run and are not kept; only cell values "
                                       "were read. Nothing to do.", file=name))
    result.book = book
    return result


def _refused(name: str, path: Path | None, digest: str, size: int, code: str, message: str, **detail: Any) -> ReadResult:
    return ReadResult(name, path, digest, size, b"", None, [Finding(code, message, file=name, detail=detail)])


def _degraded(code: str, name: str, what: str) -> Finding:
    return Finding(code, f"{name} is {what}. Its values were read, but sheet protection and formulas typed into "
                   "cells cannot be checked (degraded). To have every check, ask the lead to save it as "
                   "'Excel Workbook (.xlsx)' next time.", file=name)


# ---- values: python-calamine --------------------------------------------------------------------------

def _read_values(data: bytes, name: str) -> tuple[list[Sheet], Finding | None]:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets: list[Sheet] = []
        total = 0
        for index, meta in enumerate(wb.sheets_metadata):
            if meta.typ != pc.SheetTypeEnum.WorkSheet:
                continue  # chart and dialog sheets hold no cells
            ws = wb.get_sheet_by_index(index)
            refusal = _check_extent(ws, name, total)
            if refusal is not None:
                return [], refusal
            total += ws.height * ws.width
            sheets.append(_sheet_values(ws, index, _state(meta.visible, pc)))
        return sheets, None
    except pc.PasswordError:
        return [], Finding("file-encrypted", f"{name} is password-protected and cannot be read. Ask the lead to re-save "
                           "it without 'Password to open' and send it again.", file=name)
    except BaseException as exc:  # calamine raises its own errors, and a Rust panic is a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        text = str(exc)
        if "limit" in text.lower():
            return [], Finding("file-too-large", f"{name} asks for more cells than hwbs-xl reads ({_short(text)}). "
                               "It was not read.", file=name, detail={"limit": "MAX_CELLS"})
        return [], Finding("file-corrupt", f"{name} is damaged and its cells cannot be read ({type(exc).__name__}: "
                           f"{_short(text)}). Ask the lead to save it again and re-send it.", file=name,
                           detail={"part": _part_named(text)})


def _check_extent(ws: Any, name: str, so_far: int) -> Finding | None:
    """The meters in sniff cover xlsx and ods; this is the same limit for .xls, checked before conversion."""
    if ws.height > limits.MAX_ROWS:
        return Finding("sheet-too-many-rows", f"{name}: sheet '{ws.name}' has {ws.height:,} rows (limit "
                       f"{limits.MAX_ROWS:,}). It was not read further.", file=name, sheet=ws.name,
                       detail={"limit": "MAX_ROWS", "value": ws.height})
    if so_far + ws.height * ws.width > limits.MAX_CELLS:
        return Finding("file-too-large", f"{name}: sheet '{ws.name}' spans {ws.height:,} x {ws.width:,} cells "
                       f"(limit {limits.MAX_CELLS:,} cells in a workbook). It was not read.", file=name, sheet=ws.name,
                       detail={"limit": "MAX_CELLS", "value": ws.height * ws.width})
    return None


def _state(visible: Any, pc: Any) -> str:
    if visible == pc.SheetVisibleEnum.VeryHidden:
        return VERY_HIDDEN
    if visible == pc.SheetVisibleEnum.Hidden:
        return HIDDEN
    return VISIBLE


def _sheet_values(ws: Any, index: int, state: str) -> Sheet:
    rows = [[None if v == "" else v for v in row] for row in ws.to_python(skip_empty_area=True)]
    start = ws.start or (0, 0)
    merged = tuple((r1 + 1, c1 + 1, r2 + 1, c2 + 1) for (r1, c1), (r2, c2) in (ws.merged_cell_ranges or []))
    return Sheet(name=ws.name, index=index, state=state, origin=(start[0] + 1, start[1] + 1), rows=rows, merged=merged)


# ---- structure: openpyxl ------------------------------------------------------------------------------

def require_safe_xml() -> None:
    """openpyxl parses XML with entity expansion off only when defusedxml is installed: insist on it."""
    import openpyxl

    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise RuntimeError("defusedxml is not installed, so openpyxl would expand XML entities in returned files. "
                           "Reinstall hwbs-xl (pip install hwbs-xl) to get it.")


def _read_structure(data: bytes, book: ReturnedBook) -> tuple[str, str] | None:
    """Fill protection, formulas, errors and merged ranges from openpyxl. Returns (code, what) on failure."""
    require_safe_xml()
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "extension not supported" and similar: about features we never read
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False, keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises KeyError, TypeError, ValueError... on files calamine reads fine
        if _raised_in(exc, "openpyxl/styles"):
            return "file-styles-unreadable", f"a workbook whose styles part is broken ({type(exc).__name__})"
        return "file-structure-unreadable", f"a workbook openpyxl cannot open ({type(exc).__name__}: {_short(str(exc))})"
    try:
        for ws in wb.worksheets:
            sheet = book.sheet(ws.title)
            if sheet is None:
                continue
            sheet.protected = bool(ws.protection.sheet)
            sheet.merged = tuple((m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges)
            for (row, col), cell in _cells(ws):
                if cell.data_type == "f":
                    sheet.formulas[(row, col)] = _formula_text(cell.value)
                elif cell.data_type == "e":
                    sheet.errors[(row, col)] = str(cell.value)
    finally:
        wb.close()
    book.structure_checked = True
    return None


def _cells(ws: Any) -> Iterator[tuple[tuple[int, int], Any]]:
    """The cells openpyxl holds (only those in the file: never the 1,048,576-row rectangle a <dimension> claims)."""
    cells = getattr(ws, "_cells", None)
    if isinstance(cells, dict):
        yield from cells.items()
        return
    for row in ws.iter_rows():  # pragma: no cover - only if openpyxl changes its internals
        for cell in row:
            yield (cell.row, cell.column), cell


def _formula_text(value: object) -> str:
    """The formula as typed; array and data-table formulas are objects in openpyxl, never their repr."""
    if isinstance(value, str):
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text if text.startswith("=") else "=" + text
    return "=" + type(value).__name__


def _raised_in(exc: BaseException, module_path: str) -> bool:
    return any(module_path in frame.filename.replace("\\", "/") for frame in traceback.extract_tb(exc.__traceback__))


def _part_named(text: str) -> str | None:
    for token in text.replace("'", " ").replace('"', " ").split():
        if token.endswith((".xml", ".rels", ".bin")):
            return token
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) < 160 else text[:157] + "..."
