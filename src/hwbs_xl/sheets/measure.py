"""Measuring a worksheet while its XML streams (sniff's single pass): rows, cells and the span a reader
would allocate, refused at the limit rather than after a parse; and on the way the sheet's structure
(protection, formulas as typed, error values, merged ranges), so no second XML parser is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import limits
from .cells import GRID_COLS, GRID_ROWS, parse_a1


@dataclass
class SheetStructure:
    """What a sheet's XML says beyond its values (1-based (row, col) keys)."""

    protected: bool = False
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # the text typed, "=..."
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # "#N/A", "#VALUE!"...
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # first row, col, last row, col


class Refused(Exception):
    """A file refused before any parse: its finding code, message and detail (becomes the Finding)."""

    def __init__(self, code: str, message: str, **detail: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


class SheetMeter:
    """Counts a worksheet's rows and cells while it streams, and refuses at the limit (not after)."""

    def __init__(self, name: str, part: str) -> None:
        self.name, self.part = name, part
        self.row = 0
        self.col = 0
        self.value_rows: set[int] = set()
        self.value_cells = 0
        self.elements = 0
        self.min_row = self.min_col = 1 << 30
        self.max_row = self.max_col = 0
        self._cell: tuple[int, int] | None = None
        self._cell_ref: str | None = None
        self._in_cell = False
        self._cell_has_value = False
        self._cell_type = ""
        self.structure = SheetStructure()
        self._text: list[str] | None = None  # collecting a formula's or an error value's text
        self._shared: dict[str, str] = {}  # shared formula index -> the text its first cell holds
        self._shared_index = ""
        self._parser: Any = None

    def bind(self, parser: Any) -> None:
        self._parser = parser

    def _collect(self, on: bool) -> None:
        """Text is gathered only inside a formula or an error value (a handler per text run costs time)."""
        self._text = [] if on else None
        if self._parser is not None:
            self._parser.CharacterDataHandler = self._text.append if on else None  # type: ignore[union-attr]

    def _position(self) -> tuple[int, int]:
        """The current cell's (row, col), parsed from its reference only when it matters (a filled cell):
        most cells of a formatted sheet are empty, and parsing every reference is the slow part."""
        if self._cell is None:
            row, col = parse_a1(self._cell_ref) if self._cell_ref else (0, 0)
            self._cell = (row or self.row, col or self.col + 1)
            if not (1 <= self._cell[0] <= GRID_ROWS and 1 <= self._cell[1] <= GRID_COLS) or (self._cell_ref and not row):
                # A reader sizes its grid from such a reference: one of ZZZZ99999999 asked calamine for 1.5 PB
                # of memory, and an allocation failure in Rust aborts the whole process, past any except.
                where = repr(self._cell_ref) if self._cell_ref else f"row {self._cell[0]:,}"
                raise Refused("file-corrupt", f"{self.name} is damaged: the part {self.part} has a cell at {where}, "
                              "which is not a cell of a spreadsheet (they run from A1 to XFD1048576). Ask the lead to "
                              "save the workbook again and re-send it.", part=self.part)
        return self._cell

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag if ":" not in tag else tag.rsplit(":", 1)[-1]
        if local == "c":
            self._in_cell = True
            ref = attrs.get("r")
            if ref:
                self._cell_ref, self._cell = ref, None
            else:  # no reference: the cell after the previous one
                self.col = self._position()[1] if self._cell_ref else self.col
                self._cell_ref, self._cell = None, (self.row, self.col + 1)
            self._cell_type = attrs.get("t", "")
            self._cell_has_value = self._cell_type == "inlineStr"
            self._count()
        elif local == "row":
            self.row = _int(attrs.get("r"), self.row + 1)
            self.col = 0
            self._cell_ref, self._cell = None, (self.row, 0)
            self._count()
        elif local in ("v", "f", "is") and self._in_cell:
            self._cell_has_value = True
            if local == "f":
                self._shared_index = attrs.get("si", "") if attrs.get("t") == "shared" else ""
                self._collect(True)
            elif local == "v" and self._cell_type == "e":
                self._collect(True)
        elif local == "sheetProtection":
            self.structure.protected = attrs.get("sheet", "").lower() in ("1", "true")
        elif local == "mergeCell" and ":" in attrs.get("ref", ""):
            first, last = attrs["ref"].split(":", 1)
            (r1, c1), (r2, c2) = parse_a1(first), parse_a1(last)
            if r1 and c1 and r2 and c2:
                self.structure.merged.append((r1, c1, r2, c2))

    def end(self, tag: str) -> None:
        local = tag if ":" not in tag else tag.rsplit(":", 1)[-1]
        if local == "c":
            if self._cell_has_value:
                self._value(*self._position())
            self._in_cell = False
        elif local == "f" and self._text is not None and self._in_cell:
            formula = "".join(self._text)
            if self._shared_index:  # a formula filled down: only its first cell holds the text
                formula = self._shared.setdefault(self._shared_index, formula) if formula else \
                    self._shared.get(self._shared_index, "")
            self.structure.formulas[self._position()] = formula if formula.startswith("=") else "=" + formula
            self._collect(False)
        elif local == "v" and self._text is not None and self._in_cell:
            self.structure.errors[self._position()] = "".join(self._text)
            self._collect(False)

    def _count(self) -> None:
        self.elements += 1
        if self.elements > 2 * limits.MAX_CELLS:
            raise Refused("file-too-large", f"{self.name}: the sheet part {self.part} holds more than "
                          f"{2 * limits.MAX_CELLS:,} rows and cells (formatted or filled). It was not read.",
                          limit="MAX_CELLS", part=self.part, value=self.elements)

    def _value(self, row: int, col: int) -> None:
        self.value_cells += 1
        self.value_rows.add(row)
        if len(self.value_rows) > limits.MAX_ROWS:
            raise Refused("sheet-too-many-rows", f"{self.name}: the sheet part {self.part} has more than "
                          f"{limits.MAX_ROWS:,} filled rows (a return has one row per action). It was not read further.",
                          limit="MAX_ROWS", part=self.part, value=len(self.value_rows))
        self.min_row, self.max_row = min(self.min_row, row), max(self.max_row, row)
        self.min_col, self.max_col = min(self.min_col, col), max(self.max_col, col)
        _check_span(self.name, self.part, self.max_row - self.min_row + 1, self.max_col - self.min_col + 1)


class OdsMeter:
    """The same for ODS content.xml, where rows and cells carry repeat counts (the "repeat bomb")."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.value_cells = 0
        self.structure: dict[str, SheetStructure] = {}
        self._sheet = SheetStructure()
        self._reset()

    def _reset(self) -> None:
        self.row = 0  # 1-based index of the current row's first repetition
        self.rows_rep = 1
        self.col = 0
        self.min_row = self.min_col = 1 << 40
        self.max_row = self.max_col = 0
        self.filled_rows = 0
        self._row_counted = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(":", 1)[-1]
        if local == "table":
            self._reset()
            self._sheet = self.structure.setdefault(attrs.get("table:name", ""), SheetStructure())
            self._sheet.protected = attrs.get("table:protected") == "true"
        elif local == "table-row":
            self.row += self.rows_rep
            self.rows_rep = _int(attrs.get("table:number-rows-repeated"), 1)
            self.col = 0
            self._row_counted = False
        elif local in ("table-cell", "covered-table-cell"):
            reps = _int(attrs.get("table:number-columns-repeated"), 1)
            first = self.col + 1
            self.col += reps
            if "office:value-type" in attrs:
                self._value(first, self.col, reps)
            self._cell_structure(attrs, first, reps)

    def _cell_structure(self, attrs: dict[str, str], first: int, reps: int) -> None:
        formula = attrs.get("table:formula")
        if formula and reps * self.rows_rep <= 1000:  # repeated formulas are bounded by the cell meter
            # "of:=SUM([.A1])", "oooc:=...", "msoxl:=...": the namespace prefix is not part of what was typed
            text = formula.split(":", 1)[1] if ":=" in formula[:8] else formula
            for r in range(self.row, self.row + self.rows_rep):
                for c in range(first, first + reps):
                    self._sheet.formulas[(r, c)] = text if text.startswith("=") else "=" + text
        spans = (_int(attrs.get("table:number-rows-spanned"), 1), _int(attrs.get("table:number-columns-spanned"), 1))
        if spans != (1, 1):
            self._sheet.merged.append((self.row, first, self.row + spans[0] - 1, first + spans[1] - 1))

    def bind(self, parser: Any) -> None:
        return None

    def end(self, tag: str) -> None:
        return None

    def _value(self, first_col: int, last_col: int, reps: int) -> None:
        self.value_cells += reps * self.rows_rep
        if self.value_cells > limits.MAX_CELLS:
            raise Refused("file-too-large", f"{self.name} asks for more than {limits.MAX_CELLS:,} filled cells "
                          "(counting repeated cells, an ODS 'repeat bomb' pattern). It was not read.",
                          limit="MAX_CELLS", value=self.value_cells)
        if not self._row_counted:
            self._row_counted = True
            self.filled_rows += self.rows_rep
            if self.filled_rows > limits.MAX_ROWS:
                raise Refused("sheet-too-many-rows", f"{self.name}: a sheet has more than {limits.MAX_ROWS:,} filled rows "
                              "(counting repeated rows). It was not read further.", limit="MAX_ROWS", value=self.filled_rows)
        self.min_row, self.max_row = min(self.min_row, self.row), max(self.max_row, self.row + self.rows_rep - 1)
        self.min_col, self.max_col = min(self.min_col, first_col), max(self.max_col, last_col)
        _check_span(self.name, "content.xml", self.max_row - self.min_row + 1, self.max_col - self.min_col + 1)


def _check_span(name: str, part: str, rows: int, cols: int) -> None:
    """A reader allocates the rectangle from the first to the last filled cell: refuse a far-away cell."""
    if rows > limits.MAX_ROWS:
        raise Refused("sheet-too-many-rows", f"{name}: a sheet ({part}) has filled cells {rows:,} rows apart "
                      f"(limit {limits.MAX_ROWS:,}). It was not read further. Ask the lead to delete what they typed "
                      "far below the table.", limit="MAX_ROWS", part=part, value=rows)
    if rows * cols > limits.MAX_CELLS:
        raise Refused("file-too-large", f"{name}: a sheet ({part}) spans {rows:,} rows by {cols:,} columns of cells "
                      f"(limit {limits.MAX_CELLS:,} cells). It was not read. Ask the lead to delete what they typed far "
                      "to the right of or below the table.", limit="MAX_CELLS", part=part, value=rows * cols)


def _int(text: str | None, default: int) -> int:
    try:
        return max(int(text), 1) if text else default
    except ValueError:
        return default


__all__ = ["SheetStructure", "Refused", "SheetMeter", "OdsMeter"]
