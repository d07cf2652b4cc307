"""Open any returned file safely and read it exactly.

How, and why (measured; figures in the README, "Reading returned workbooks"):

- **Values** come from python-calamine for every format (xlsx, xlsm, Strict xlsx, ods, xls). It decodes
  Excel's ``_xHHHH_`` escapes exactly once and keeps an escaped ``_x005F_`` literal (openpyxl returns
  ``_x000D_`` raw and turns the text ``_x005F_`` into ``_``), applies the 1904 date system, reads the
  formats openpyxl cannot (ods, xls, and Strict, where openpyxl silently finds no sheets), and takes about
  1 ms for a lead's workbook where openpyxl takes about 60 ms.
- **Structure** comes from the safety pass ``sniff`` already makes over every XML part (expat, DTDs
  refused): whether a sheet is protected, which cells hold a formula (a lead who types ``=1+1`` gets a
  formula; we keep the text typed, never the result), which hold an error value (calamine shows those as
  empty), and merged ranges. For .xls (binary) none of that is known: the read says "degraded".

Every file first goes through ``sniff`` (magic bytes, zip directory limits, DTD refusal, row/cell meters).
``read_file`` never raises on bad data: a refused file is a ``ReadResult`` with ``book=None`` and a finding.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..findings import WARNING, Finding
from ..safeio import O_BINARY
from ..text import clip
from . import limits
from .cells import a1
from .sniff import malformed_part, sniff

Value = str | float | int | bool | date | datetime | time | timedelta | None

VISIBLE, HIDDEN, VERY_HIDDEN = "visible", "hidden", "veryHidden"
FORMAT_NOTES = {  # format -> (finding code, what it is); only .xls loses the structure checks
    "xls": ("file-format-xls", "an old Excel 97-2003 (.xls) workbook"),
    "ods": ("file-format-ods", "an OpenDocument (.ods) spreadsheet"),
    "xlsx-strict": ("file-strict-ooxml", "a 'Strict Open XML' workbook"),
}


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


def sheet_grid(sheet: Sheet) -> list[list[object]]:
    """The sheet's values as rows from A1 (a manifest is read as whole lines)."""
    return [[sheet.value(r, c) for c in range(1, sheet.last_col + 1)] for r in range(1, sheet.last_row + 1)]


def read_file(path: Path, *, name: str | None = None) -> ReadResult:
    """Read a returned file from disk. The size limit is checked before a byte is read."""
    path = Path(path)
    got = file_bytes(path, name=name)
    return got if isinstance(got, ReadResult) else read_bytes(got, name or path.name, path=path)


def file_bytes(path: Path, *, name: str | None = None) -> bytes | ReadResult:
    """A returned file's bytes, or the refusal (a ``ReadResult`` without a book) when it cannot be read.

    Only a regular file is read: a named pipe would block the command forever and a device such as
    /dev/zero never ends (either can sit in an inbox folder or behind a symbolic link). The file is opened
    without blocking, checked on the open handle, and read no further than the size limit."""
    path = Path(path)
    shown = name or path.name
    try:
        # O_NONBLOCK (POSIX only; Windows has no named pipes in folders) keeps a FIFO from blocking the open.
        fd = os.open(path, os.O_RDONLY | O_BINARY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return _refused(shown, path, "", 0, "file-unreadable",
                        f"{shown} could not be opened ({exc.strerror or exc}). Check that the file exists and that "
                        "you may read it, then run again.")
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return _refused(shown, path, "", 0, "file-unreadable",
                            f"{shown} is not a file but {_kind(info.st_mode)}, so it was not read. Save the returned "
                            "workbook itself into the folder and run again.")
        size = info.st_size
        if size > limits.MAX_FILE_BYTES:
            return _refused(shown, path, "", size, "file-too-large",
                            f"{shown} is {size / limits.MB:,.1f} MB (limit {limits.MAX_FILE_BYTES // limits.MB} MB); a lead's "
                            "return is usually under 100 KB. It was not opened. Ask the lead to send the issued workbook "
                            "with only their updates typed in.", limit="MAX_FILE_BYTES", value=size)
        try:
            return fh.read(limits.MAX_FILE_BYTES + 1)  # read_bytes refuses it if it grew past the limit meanwhile
        except OSError as exc:
            return _refused(shown, path, "", 0, "file-unreadable",
                            f"{shown} could not be read ({exc.strerror or exc}). Check the disk and run again.")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def read_bytes(data: bytes, name: str, *, path: Path | None = None) -> ReadResult:
    """Read a returned file held in memory (the same checks as ``read_file``)."""
    _safe_xml_checked()
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
    if sniffed.kind != "xls":
        missing = _apply_structure(book, sniffed.structure)
        if missing:
            result.findings.append(_degraded("file-structure-unreadable", name, "a workbook whose sheet parts for "
                                             f"{', '.join(repr(m) for m in missing)} could not be matched to their names"))
    if sniffed.kind in FORMAT_NOTES:
        code, what = FORMAT_NOTES[sniffed.kind]
        result.findings.append(_degraded(code, name, what) if not book.structure_checked else
                               Finding(code, f"{name} is {what}; it was read with every check. Nothing to do.",
                                       file=name))
    if sniffed.macros:
        result.findings.append(Finding("file-macros-ignored",
                                       f"{name} contains macros. They were not run and are not kept; only cell values "
                                       "were read. Nothing to do.", file=name))
    result.book = book
    return result


@lru_cache(maxsize=1)
def _safe_xml_checked() -> bool:
    require_safe_xml()
    return True


def _refused(name: str, path: Path | None, digest: str, size: int, code: str, message: str, **detail: Any) -> ReadResult:
    return ReadResult(name, path, digest, size, b"", None, [Finding(code, message, file=name, detail=detail)])


def _apply_structure(book: ReturnedBook, structure: dict[str, Any]) -> list[str]:
    """Give each sheet what sniff learned of its structure; returns the sheets it has nothing for."""
    missing = []
    for sheet in book.sheets:
        found = structure.get(sheet.name)
        if found is None:
            missing.append(sheet.name)
            continue
        sheet.protected = found.protected
        sheet.formulas, sheet.errors = dict(found.formulas), dict(found.errors)
        sheet.merged = tuple(found.merged) or sheet.merged
    book.structure_checked = not missing
    return missing


def _degraded(code: str, name: str, what: str) -> Finding:
    return Finding(code, f"{name} is {what}. Its values were read, but sheet protection and formulas typed into "
                   "cells cannot be checked (degraded). To have every check, ask the lead to save it as "
                   "'Excel Workbook (.xlsx)' next time.", severity=WARNING, file=name)


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
        part = _part_named(text) or malformed_part(data)
        where = f"the part {part} is damaged" if part else "it is damaged"
        return [], Finding("file-corrupt", f"{name} cannot be read: {where} ({type(exc).__name__}: {_short(text)}). "
                           "Ask the lead to save it again and re-send it.", file=name, detail={"part": part})


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


# ---- the XML parser others use -----------------------------------------------------------------------

def require_safe_xml() -> None:
    """openpyxl parses XML with entity expansion off only when defusedxml is installed: insist on it.

    The reader itself never hands a returned file to openpyxl; other code (tests, the demo filler, scripts)
    does open workbooks with it. This applies openpyxl's own rule (``openpyxl.DEFUSEDXML``: defusedxml
    importable and OPENPYXL_DEFUSEDXML not switched off) without importing openpyxl, which costs a third
    of a second at start-up; tests assert the two agree."""
    import importlib.util
    import os

    if importlib.util.find_spec("defusedxml") is None or os.environ.get("OPENPYXL_DEFUSEDXML", "True") != "True":
        raise RuntimeError("defusedxml is not installed (or OPENPYXL_DEFUSEDXML is off), so openpyxl would expand "
                           "XML entities in returned files. Reinstall hwbs-xl (pip install hwbs-xl) to get it.")


def _part_named(text: str) -> str | None:
    for token in text.replace("'", " ").replace('"', " ").split():
        if token.endswith((".xml", ".rels", ".bin")):
            return token
    return None


def _short(text: str) -> str:
    return clip(text, 160, mark="...")
