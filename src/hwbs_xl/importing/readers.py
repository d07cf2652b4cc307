"""Turn an appendix file into a SourceTable, whatever form it came in.

The form is decided by the file's content, never its name: ``%PDF`` is a PDF, a zip is a workbook, and text
is a markdown table (``| a | b |`` lines with a ``|---|`` rule) or tab-separated text as PDF extraction
gives it. The readers here only split lines into cells and note where each came from; what is a header, a
title or a continuation is the pipeline's business (one set of rules for every form).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ..errors import InvalidData
from .source import SourceRow, SourceTable, sha256_of

__all__ = ["read_source", "detect_form", "read_markdown", "read_tsv"]

_MD_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_PAGE_BREAK = "\f"


def read_source(path: Path) -> SourceTable:
    """Read one appendix file of any supported form (decided by content)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidData(f"{path} is not a file.", hint="Check the path and run again.", code="file-not-found")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"%PDF"):
        return _lazy_reader("pdf", "read_pdf", "PDF")(path)
    if head.startswith(b"PK\x03\x04"):
        return _lazy_reader("xlsx", "read_xlsx", "Excel workbook (.xlsx)")(path)
    text = _decode(path)
    form = detect_form(text)
    if form == "markdown":
        return read_markdown(path, text)
    if form == "tsv":
        return read_tsv(path, text)
    raise InvalidData(
        f"{path.name}: no appendix table was recognised (neither a markdown table nor tab-separated text).",
        hint="Import the committee paper as PDF, .xlsx, a markdown table or tab-separated text.",
        code="import-no-table")


def _lazy_reader(module: str, func: str, what: str) -> Callable[[Path], SourceTable]:
    """Readers for PDF and workbooks live in their own modules (heavy libraries load only when needed)."""
    import importlib

    name = f"{__package__}.{module}"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise InvalidData(f"This version of hwbs-xl cannot read a {what} appendix yet.",
                          hint="Export the appendix table as text (markdown or tab-separated) and import that.",
                          code="import-form-unsupported") from exc
    reader: Callable[[Path], SourceTable] = getattr(mod, func)
    return reader


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise InvalidData(f"{path.name} is not a text, PDF or .xlsx appendix.",
                          hint="Import the committee paper as PDF, .xlsx or text.", code="import-no-table")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def detect_form(text: str) -> str | None:
    """ "markdown", "tsv" or None, from the text itself."""
    lines = text.splitlines()
    md_rows = sum(1 for line in lines if _MD_ROW.match(line) and line.count("|") >= 3)
    md_rules = sum(1 for line in lines if _MD_RULE.match(line) and "|" in line)
    tab_rows = sum(1 for line in lines if line.count("\t") >= 2)
    if md_rows >= 2 and md_rules >= 1 and md_rows >= tab_rows:
        return "markdown"
    if tab_rows >= 2:
        return "tsv"
    return None


def _split_markdown(line: str) -> tuple[str, ...]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells = re.split(r"(?<!\\)\|", body)
    return tuple(c.replace("\\|", "|").strip() for c in cells)


def _columns(line: int, count: int) -> tuple[str, ...]:
    """Each cell's position in a text line: "line 14, column 6" (columns counted from 1, as a reader counts)."""
    return tuple(f"line {line}, column {j}" for j in range(1, count + 1))


def read_markdown(path: Path, text: str | None = None) -> SourceTable:
    """Markdown tables: each table's rows (rule lines dropped); text between tables kept as text lines.

    A table that starts after other text is a new page of the printed appendix (page_start on its first row).
    """
    text = _decode(path) if text is None else text
    table = SourceTable(path=path, sha256=sha256_of(path), form="markdown")
    page, in_table = 0, False
    for number, line in enumerate(text.splitlines(), start=1):
        if _MD_ROW.match(line) and line.count("|") >= 2:
            if _MD_RULE.match(line):
                continue
            start = not in_table
            if start:
                page += 1
            in_table = True
            cells = _split_markdown(line)
            table.rows.append(SourceRow(cells=cells, where=f"line {number}", line=number, page=page,
                                        page_start=start, cell_where=_columns(number, len(cells))))
        else:
            in_table = False
            if line.strip():
                table.text_lines.append((line.strip(), f"line {number}"))
    table.pages = page or None
    return table


def read_tsv(path: Path, text: str | None = None) -> SourceTable:
    """Tab-separated text (as PDF extraction gives it). A form feed or blank line is a page break."""
    text = _decode(path) if text is None else text
    table = SourceTable(path=path, sha256=sha256_of(path), form="tsv")
    page, new_page = 1, True
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if _PAGE_BREAK in line:
            page, new_page = page + 1, True
            line = line.replace(_PAGE_BREAK, "")
        if not line.strip():
            if not new_page and table.rows:
                page, new_page = page + 1, True
            continue
        if "\t" not in line:
            table.text_lines.append((line.strip(), f"line {number}"))
            continue
        cells = tuple(c.strip() for c in line.split("\t"))
        table.rows.append(SourceRow(cells=cells, where=f"line {number}", line=number, page=page,
                                    page_start=new_page, cell_where=_columns(number, len(cells))))
        new_page = False
    table.pages = page
    return table
