"""The contract between a file reader and the one shared import pipeline.

A reader (markdown/tab text, PDF, xlsx) only turns a file into a SourceTable: every line or table row of the
file, in order, split into cells, each row knowing where it came from. It does *not* decide what is a
header, a page title, a continuation or a status: the pipeline (columns, cleaning, stitching, status
repair, linking) does that once for every kind of file, so a rule learned on one source helps them all.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..findings import Finding


@dataclass(frozen=True)
class SourceRow:
    """One row of cells as the file holds it (header rows and titles included), with its provenance.

    ``where`` is how a person finds it again: "line 14" for text, "page 3, row 5" for a PDF, "'Sheet1'!A7"
    for a workbook. ``cell_where`` may give a finer position per cell (a PDF's x/y box, a workbook's A1).
    ``page`` is set for paged sources; ``page_start`` is True for the first row read from a new page,
    which is where a row cut by a page break continues. ``table_start`` is True where a new table begins
    that nothing above carries on into (a workbook's sheet): the header above it no longer applies.
    """

    cells: tuple[str, ...]
    where: str
    line: int | None = None
    page: int | None = None
    page_start: bool = False
    cell_where: tuple[str, ...] = ()
    table_start: bool = False


@dataclass
class SourceTable:
    """Everything a reader got from one file."""

    path: Path
    sha256: str
    form: str  # "markdown", "tsv", "pdf", "xlsx"
    rows: list[SourceRow] = field(default_factory=list)
    # Non-table text in reading order (page titles, "Appendix A", the plan title): the pipeline may use it.
    text_lines: list[tuple[str, str]] = field(default_factory=list)  # (text, where)
    findings: list[Finding] = field(default_factory=list)
    pages: int | None = None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_WORKBOOK_CELL = re.compile(r"^'(?P<sheet>.*)'!(?P<cell>[A-Z]{1,3}[0-9]+)$")


def workbook_where(sheet: str, cell: str) -> str:
    """A workbook cell's position as readers write it: "'Appendix A'!F8"."""
    return f"'{sheet}'!{cell}"


def sheet_cell(where: str) -> tuple[str, str] | None:
    """(sheet, A1 cell) of a workbook position written by ``workbook_where``; None for any other position."""
    m = _WORKBOOK_CELL.match(where)
    return (m["sheet"], m["cell"]) if m else None
