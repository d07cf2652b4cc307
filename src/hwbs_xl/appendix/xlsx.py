"""The print-ready appendix workbook: a summary sheet, then Appendix A as the committee reads it.

Neither Excel nor LibreOffice sizes rows written by a program, so every row's height is computed here from
the column widths and the text (Arial metrics; LibreOffice prints Arial as the metric-identical Liberation
Sans). A row that would be taller than a printed page (or than Excel's 409-point row limit) is split at a
line break into continuation rows marked "(continued)": Calc cannot split one row across pages, and a row
it cannot fit would be cut at the page edge. Joining an action's rows gives back its whole text.

Every string goes through xlsxout.write_text (text stays text; return codes checked).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import safeio
from ..sheets import writing as xlsxout
from .model import Appendix, AppendixRow, Column, fill
from ..errors import StorageFailed

# ---- measuring text ------------------------------------------------------------------------------------

# Advance widths of Arial / Helvetica (1/1000 em) for ASCII 32..126; Liberation Sans has the same metrics.
_ARIAL = [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
          556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778,
          722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
          278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
          556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584]
_OTHER = {"\u2022": 350, "\u2013": 556, "\u2014": 1000, "\u2018": 222, "\u2019": 222, "\u201c": 333,
          "\u201d": 333, "\u00a3": 556, "\u20ac": 556, "\u2026": 1000, "\u00a0": 278, "\u25a0": 604}
_BOLD_FACTOR = 1.08   # Arial Bold is about 8% wider on average
ROW_LIMIT_PT = 409.0  # Excel's tallest row
CELL_PAD_PT = 4.0     # space above and below the text inside a cell


@dataclass(frozen=True)
class Metrics:
    """How a spreadsheet program lays out the workbook, for computing row heights.

    Excel turns a width of N characters into N * 7 + 5 pixels (its default font's digit width, rounded to
    whole pixels) and wraps Arial 9 lines about 10.5 pt apart. LibreOffice uses the unrounded digit width of
    Liberation Sans 10 (5.57 pt) and spaces lines 1.115 em apart, so the same text takes fewer, closer
    lines there. The xlsx is sized for Excel (it shows everything in both); the workbook LibreOffice turns
    into the PDF is sized for LibreOffice, so the committee's pages carry no empty half-rows.
    """

    per_char: float      # points per character of column width
    col_pad: float       # points added to every column
    line_factor: float   # line height / font size
    slack: float         # measure text this much wider: one line too many is fine, one too few cuts text
    # The workbook fixes its own pages: a print scale instead of "fit to width" and a manual break at every
    # page. Calc then prints exactly the pages computed here (the PDF can be printed in parts and numbered
    # before printing) and skips its fit-to-width search, which re-paginates the sheet at every trial scale.
    paginate: bool = False

    def column_points(self, width_chars: float) -> float:
        return width_chars * self.per_char + self.col_pad

    def line_height(self, size: float) -> float:
        return size * self.line_factor

    def row_height(self, line_count: int, size: float) -> float:
        return round(max(1, line_count) * self.line_height(size) + CELL_PAD_PT, 2)

    def wrap(self, text: str, width_pt: float, size: float, bold: bool = False) -> list[tuple[int, int]]:
        return wrap(text, width_pt, size * self.slack, bold)


EXCEL = Metrics(per_char=5.25, col_pad=3.75, line_factor=1.17, slack=1.02)
LIBREOFFICE = Metrics(per_char=5.571, col_pad=3.92, line_factor=1.13, slack=1.01, paginate=True)


def char_width(ch: str) -> int:
    code = ord(ch)
    if 32 <= code <= 126:
        return _ARIAL[code - 32]
    if ch in _OTHER:
        return _OTHER[ch]
    base = unicodedata.normalize("NFD", ch)[0]  # an accented letter is as wide as its letter
    if 32 <= ord(base) <= 126:
        return _ARIAL[ord(base) - 32]
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1000
    return 600


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in points at ``size`` points."""
    w = _units(text) * size / 1000
    return w * _BOLD_FACTOR if bold else w


@lru_cache(maxsize=65536)
def _units(word: str) -> int:
    """Advance width of ``word`` in 1/1000 em. Cached per word: wrapping measures every word of every report
    and reports reuse a small vocabulary, so summing per character each time was 75% of writing a workbook."""
    return sum(map(char_width, word))


def column_points(width_chars: float) -> float:
    """A column's width in points as Excel draws it."""
    return EXCEL.column_points(width_chars)


def wrap(text: str, width_pt: float, size: float, bold: bool = False) -> list[tuple[int, int]]:
    """Where a wrapped cell breaks its lines: (start, end) offsets into ``text``, one pair per line.

    Greedy word wrap like Excel and LibreOffice; a word wider than the cell is broken inside it; every
    "\\n" starts a new line. Joining the pieces with the whitespace between them gives back ``text``.
    """
    lines: list[tuple[int, int]] = []
    usable = max(width_pt - 2 * 1.5, size)  # cell padding left and right
    pos = 0
    for para in text.split("\n"):
        start = pos
        end_para = pos + len(para)
        if not para.strip():
            lines.append((start, end_para))
        else:
            _wrap_paragraph(text, start, end_para, usable, size, bold, lines)
        pos = end_para + 1
    return lines or [(0, 0)]


_WORD = re.compile(r"( *)([^ ]*)")  # the spaces before a word, then the word


def _wrap_paragraph(text: str, start: int, end: int, usable: float, size: float, bold: bool,
                    lines: list[tuple[int, int]]) -> None:
    line_start = start
    line_width = 0.0
    space = text_width(" ", size, bold)
    factor = _BOLD_FACTOR if bold else 1.0
    i = start
    for spaces, text_word in _WORD.findall(text, start, end):
        if i >= end:  # the empty match findall ends with
            break
        j = i + len(spaces)
        k = j + len(text_word)
        gap = (j - i) * space if i > line_start else 0.0
        word = _units(text_word) * size / 1000 * factor  # = text_width(text_word, size, bold), inlined
        if line_width + gap + word <= usable or (line_width == 0.0 and word <= usable):
            line_width += gap + word
        elif word > usable:  # a word wider than the cell: break it by characters
            if line_width > 0:
                lines.append((line_start, i))
                line_start, line_width = j, 0.0
            for c in range(j, k):
                cw = text_width(text[c], size, bold)
                if line_width + cw > usable and line_width > 0:
                    lines.append((line_start, c))
                    line_start, line_width = c, 0.0
                line_width += cw
        else:
            lines.append((line_start, i))
            line_start, line_width = j, word
        i = k
    lines.append((line_start, end))


# ---- the table laid out for print ----------------------------------------------------------------------

@dataclass
class PrintRow:
    """One worksheet row of the table: an action, or a continuation of the action above."""

    row: AppendixRow
    cells: list[str]
    height: float
    continued: bool = False


@dataclass
class TableLayout:
    columns: tuple[Column, ...]
    header_height: float
    rows: list[PrintRow] = field(default_factory=list)
    first_rows: dict[str, int] = field(default_factory=dict)  # key area -> index into rows
    max_row_height: float = ROW_LIMIT_PT
    scale: float = 1.0
    metrics: Metrics = EXCEL
    page_starts: list[int] = field(default_factory=list)  # index into rows of each printed page's first row


@dataclass(frozen=True)
class PrintPart:
    """Some pages of the table printed as a workbook of their own (appendix_pdf prints the parts side by side
    and joins them). Only for metrics that paginate: the pages are ``TableLayout.page_starts``."""

    pages: tuple[int, int]        # table pages [first, end)
    summary: bool                 # the summary sheet and the table's title rows print in this part
    first_page_number: int        # printed on the part's first page
    total_pages: int              # printed as "of M": the whole document's pages, not the part's


PAPER_PT = {"A4": (841.89, 595.28), "A3": (1190.55, 841.89)}
PAPER_CODE = {"A4": 9, "A3": 8}  # Excel's paper size codes


def page(appendix: Appendix) -> dict[str, Any]:
    return dict(appendix.settings.get("page", {}))


def paper(appendix: Appendix) -> str:
    name = str(page(appendix).get("paper", "A4")).upper()
    return name if name in PAPER_PT else "A4"


def fit_scale(appendix: Appendix, widths_chars: list[float], metrics: Metrics = EXCEL) -> float:
    """The scale "fit to one page wide" prints at (whole percent, as the spreadsheet programs round)."""
    p = page(appendix)
    width, _ = PAPER_PT[paper(appendix)]
    printable = width - 72 * (float(p.get("margin_left_in", 0.4)) + float(p.get("margin_right_in", 0.4)))
    total = sum(metrics.column_points(w) for w in widths_chars)
    return min(1.0, math.floor(printable / total * 100) / 100) if total else 1.0


def page_body_points(appendix: Appendix, scale: float) -> float:
    """Sheet points one printed page holds between the margins (the header row included)."""
    p = page(appendix)
    _, height = PAPER_PT[paper(appendix)]
    body = height - 72 * (float(p.get("margin_top_in", 0.75)) + float(p.get("margin_bottom_in", 0.7)))
    return body / scale


def cell_values(appendix: Appendix, row: AppendixRow) -> list[str]:
    """The text of each column for one action (before splitting long text)."""
    sep = str(appendix.settings.get("text", {}).get("lead_separator", "\n"))
    out = []
    for col in appendix.columns:
        out.append({
            "ref": lambda: row.action.id,
            "key_area": lambda: row.action.key_area,
            "activity": lambda: row.activity,
            "lead": lambda: sep.join(row.leads),
            "start": lambda: row.action.start.label if row.action.start else "",
            "finish": lambda: row.finish.label if row.finish else "",
            "status": lambda: row.status_text,
            "progress": lambda: row.progress,
            "history": lambda: row.history.get(col.cycle or "", ""),
            "change": lambda: row.marker,
        }.get(col.field, lambda: "")())
    return [xlsxout.cell_text(v) for v in out]


def layout(appendix: Appendix, metrics: Metrics = EXCEL) -> TableLayout:
    """Every row of the table with its height, long actions split into continuation rows."""
    m = metrics
    font = appendix.settings.get("font", {})
    size = float(font.get("size", 9))
    head_size = float(font.get("header_size", size))
    widths = [c.width for c in appendix.columns]
    points = [m.column_points(w) for w in widths]
    header_lines = max(len(m.wrap(c.title, pt, head_size, bold=True)) for c, pt in zip(appendix.columns, points))
    header_height = m.row_height(header_lines, head_size)
    scale = fit_scale(appendix, widths, m)
    room = page_body_points(appendix, scale) - header_height - 2 * m.line_height(size)  # a margin of safety
    max_height = min(ROW_LIMIT_PT, room)
    max_lines = max(1, int((max_height - CELL_PAD_PT) // m.line_height(size)))
    out = TableLayout(appendix.columns, header_height, max_row_height=max_height, scale=scale, metrics=m)
    marker = str(appendix.settings.get("text", {}).get("continued", "(continued)"))
    for ka in appendix.key_areas:
        out.first_rows[ka.name] = len(out.rows)
        for row in ka.rows:
            out.rows.extend(_split(appendix, row, cell_values(appendix, row), points, size, max_lines, marker, m))
    out.page_starts = _paginate(appendix, out)
    return out


def _paginate(appendix: Appendix, table: TableLayout) -> list[int]:
    """Where each printed page of the table starts: rows fill a page until the next does not fit (the header
    row repeats on every page, the title rows print on the first), and a key area starts a new page when the
    template says so. The page holds what the margins leave (Calc's header and footer take less, so it never
    needs a break of its own between these)."""
    room = page_body_points(appendix, table.scale)
    new_area = set(table.first_rows.values()) if page(appendix).get("key_area_on_new_page", True) else set()
    starts = [0]
    used = sum(TITLE_HEIGHTS) + table.header_height
    for n, pr in enumerate(table.rows):
        if n > 0 and (n in new_area or used + pr.height > room):
            starts.append(n)
            used = table.header_height
        used += pr.height
    return starts


def _split(appendix: Appendix, row: AppendixRow, cells: list[str], points: list[float], size: float,
           max_lines: int, marker: str, m: Metrics) -> list[PrintRow]:
    """One action as one row, or as several when its text is taller than a page.

    Each continuation row's activity cell starts with the "(continued)" marker on a line of its own; an
    activity that is itself taller than a page carries on below the marker, so no text is ever dropped."""
    pieces = [m.wrap(text, pt, size) for text, pt in zip(cells, points)]
    most = max(len(p) for p in pieces)
    if most <= max_lines:
        return [PrintRow(row, cells, m.row_height(most, size))]
    ranges = [_chunks(len(lines), max_lines, max_lines - (col.field == "activity"))
              if len(lines) > max_lines else [(0, len(lines))] for col, lines in zip(appendix.columns, pieces)]
    marker_lines = {pt: len(m.wrap(marker, pt, size)) for col, pt in zip(appendix.columns, points)
                    if col.field == "activity"}
    out: list[PrintRow] = []
    for n in range(max(len(r) for r in ranges)):
        part: list[str] = []
        height = 0
        for col, text, lines, spans, pt in zip(appendix.columns, cells, pieces, ranges, points):
            chunk = lines[spans[n][0]:spans[n][1]] if n < len(spans) else []
            raw = text[chunk[0][0]:chunk[-1][1]] if chunk else ""
            piece = raw.strip()
            # A piece cut at line starts wraps into its own lines again (greedy wrapping from a line start
            # breaks in the same places), so only a piece that lost edge whitespace is measured afresh.
            count = len(chunk) if piece == raw else len(m.wrap(piece, pt, size)) if piece else 0
            if len(spans) == 1:  # short cells print whole on the first row
                piece, count = (text, len(lines)) if n == 0 else ("", 0)
            if n > 0 and col.field == "activity":
                piece = f"{marker}\n{piece}" if piece else marker
                count += marker_lines[pt]
            part.append(piece)
            height = max(height, count)
        out.append(PrintRow(row, part, m.row_height(height, size), continued=n > 0))
    return out


def _chunks(count: int, first: int, rest: int) -> list[tuple[int, int]]:
    """Line ranges of a cell split over rows: ``first`` lines on the first row, ``rest`` on each after."""
    out = [(0, min(count, first))]
    start = first
    while start < count:
        out.append((start, min(count, start + max(1, rest))))
        start += max(1, rest)
    return out


# ---- writing the workbook ------------------------------------------------------------------------------

TITLE_ROWS = 3  # "Appendix A", the plan title, the status line; the header row follows
TITLE_HEIGHTS = (22.0, 18.0, 12.75)  # their row heights (points)


def write(appendix: Appendix, path: Path) -> Path:
    """Write the print-ready appendix workbook to ``path`` (atomically), checked by reading it back first:
    a workbook that does not hold exactly the table is never put in place of the old one. Returns ``path``."""
    def produce(tmp: Path) -> None:
        table = write_workbook(appendix, tmp)
        problem = check_written(appendix, table, tmp)
        if problem:
            raise StorageFailed(f"The appendix workbook was written but failed its check on reading it back: {problem}. "
                                f"The previous {Path(path).name} (if any) was kept.",
                                hint="Run the command again; if it fails again, report it (with --debug).",
                                code="output-check-failed")

    return safeio.atomic_write(Path(path), produce)


def made_from(appendix: Appendix, metrics: Metrics = EXCEL) -> str:
    """SHA-256 of everything the workbook for ``appendix`` is made from: the whole appendix model (its
    texts, settings, batch and date: the model never reads the clock), the metrics and hwbs-xl's version.
    Equal digests mean byte-identical workbooks. (The model is serialised with pickle: a faithful copy of
    every value, 0.4 s at national size against 1.4 s for repr. Were it ever to serialise one model two
    ways, the digests would differ and the workbook would simply be built again.)"""
    import pickle

    from .. import __version__

    digest = hashlib.sha256(f"{__version__}\n{metrics!r}\n".encode())
    digest.update(pickle.dumps(appendix, protocol=5))
    return digest.hexdigest()


def _holds_formula(path: Path) -> bool:
    """Whether any worksheet of the workbook at ``path`` has a formula element (``<f>`` or ``<f ...>``)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                tail = b""
                with z.open(info) as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        chunk = tail + block
                        if b"<f>" in chunk or b"<f " in chunk:
                            return True
                        tail = chunk[-3:]
    return False


def _sheet_text(path: Path, name: str) -> list[list[Any]] | None:
    """The sheet's cells as rows from A1 (calamine's values: text as str, empty as ""), or None if absent."""
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    try:
        if name not in wb.sheet_names:
            return None
        ws = wb.get_sheet_by_name(name)
        rows = ws.to_python(skip_empty_area=False)
        return [list(r) for r in rows]
    finally:
        wb.close()


def check_written(appendix: Appendix, table: TableLayout, path: Path) -> str | None:
    """What is wrong with the workbook at ``path`` (None when nothing): it must open, hold no formula, and its
    table must hold every laid-out row exactly, with an action's continuation rows joining back to its text.

    It is read with python-calamine directly, not through the returns reader: that reader's limits are for
    a lead's return (20,000 rows, 20 MB), and a national appendix is rightly bigger than a return."""
    from ..sheets.reader import a1

    name = str(appendix.settings.get("text", {}).get("table_sheet", "Appendix A"))[:31]
    try:
        if _holds_formula(path):
            return "a cell holds a formula"
        grid = _sheet_text(path, name)
    except Exception as exc:  # noqa: BLE001 - whatever the reader says, the file is not as written
        return f"it cannot be read back ({type(exc).__name__}: {exc})"
    if grid is None:
        return f"the sheet '{name}' is missing"
    first = TITLE_ROWS + 2  # 1-based: the title rows, the header row, then the table
    for n, pr in enumerate(table.rows):
        read_back = grid[first + n - 1] if first + n - 1 < len(grid) else []
        for i, text in enumerate(pr.cells):
            got = read_back[i] if i < len(read_back) else ""
            if ("" if got is None else str(got)) != xlsxout.cell_text(text):
                return f"cell {a1(first + n, i + 1)} (action {pr.row.action.id}) does not hold what was written"
    last = max((r for r, cells in enumerate(grid, 1) if any(c not in ("", None) for c in cells)), default=0)
    if last > first + len(table.rows) - 1:
        return f"the table has rows after its last action (row {last})"
    marker = str(appendix.settings.get("text", {}).get("continued", "(continued)"))
    printed: dict[int, list[PrintRow]] = {}
    for pr in table.rows:
        printed.setdefault(id(pr.row), []).append(pr)
    for row in appendix.rows:  # the long-text split lost nothing: an action's rows join back to its text
        prints = printed.get(id(row), [])
        for i, (col, whole) in enumerate(zip(appendix.columns, cell_values(appendix, row))):
            joined = " ".join(pr.cells[i].removeprefix(marker) if pr.continued and col.field == "activity"
                              else pr.cells[i] for pr in prints)
            if "".join(joined.split()) != "".join(whole.split()):  # spacing at a split may differ; text may not
                return f"the {col.title!r} text of action {row.action.id} is not whole"
    return None


def write_workbook(appendix: Appendix, target: Any, metrics: Metrics = EXCEL, *, part: PrintPart | None = None,
                   table: TableLayout | None = None) -> TableLayout:
    """Write the workbook straight to ``target`` (a path or a binary stream; callers make it atomic). Returns
    the table layout used (``table`` when given: one layout for every part).

    ``metrics`` says which program the row heights are computed for (EXCEL, or LIBREOFFICE for the PDF).
    ``part``: only these pages of the table (and the summary when the part says so), numbered as the part says.
    """
    table = table or layout(appendix, metrics)
    font = appendix.settings.get("font", {})
    # The default font sets the column-width unit in both Excel and LibreOffice: make it the table's font,
    # else LibreOffice measures widths with whatever it substitutes for Calibri and columns come out wider.
    wb = xlsxout.new_workbook(str(target), default_format_properties={
        "font_name": str(font.get("name", "Arial")), "font_size": 10}, default_row_height=17)
    try:
        styles = _Styles(wb, appendix, metrics)
        _properties(wb, appendix)
        if part is None or part.summary:
            write_summary(wb, appendix, styles, part)
        _write_table(wb, appendix, styles, table, part)
    finally:
        wb.close()
    return table


def summary_pages(appendix: Appendix, metrics: Metrics = LIBREOFFICE) -> int:
    """How many pages the summary sheet prints (exact for metrics that paginate: every break is manual).
    Written into memory and thrown away: the page count is only known once every list is laid out."""
    import io

    wb = xlsxout.new_workbook(io.BytesIO(), in_memory=True)
    try:
        return write_summary(wb, appendix, _Styles(wb, appendix, metrics))
    finally:
        wb.close()


def _properties(wb: Any, appendix: Appendix) -> None:
    words = appendix.words()
    text = appendix.settings.get("text", {})
    created = appendix.document_date
    wb.set_properties({
        "title": fill(str(text.get("document_title", "{appendix}: {title}")), words),
        "subject": f"{appendix.appendix_title}, {appendix.cycle.label}",
        "author": appendix.plan_title,
        "comments": fill(str(text.get("footer_left", "")), words),
        "created": created if isinstance(created, datetime) else datetime(2000, 1, 1),
    })
    xlsxout.check(wb.set_custom_property("Register batch", str(appendix.batch)), "a document property")
    xlsxout.check(wb.set_custom_property("Cycle", appendix.cycle.label), "a document property")


class _Styles:
    """The workbook's cell formats, made once (XlsxWriter needs one Format per combination)."""

    def __init__(self, wb: Any, appendix: Appendix, metrics: Metrics) -> None:
        self.metrics = metrics
        font = appendix.settings.get("font", {})
        colours = appendix.settings.get("colours", {})
        self.name = str(font.get("name", "Arial"))
        self.size = float(font.get("size", 9))
        self.colours = colours
        base = {"font_name": self.name, "font_size": self.size, "text_wrap": True, "valign": "top",
                "border": 1, "border_color": colours.get("border", "#7F7F7F")}
        self.base = base
        self.wb = wb
        self.cell = wb.add_format(base)
        self.key_area = wb.add_format({**base, "bg_color": colours.get("key_area_fill", "#F2F2F2"), "bold": True})
        self.centre = wb.add_format({**base, "align": "center"})
        self.header = wb.add_format({**base, "bold": True, "font_size": float(font.get("header_size", self.size)),
                                     "bg_color": colours.get("header_fill", "#1F3864"),
                                     "font_color": colours.get("header_font", "#FFFFFF"), "valign": "vcenter"})
        self.changed = wb.add_format({**base, "bg_color": colours.get("changed_fill", "#FFF2CC"), "bold": True})
        self.continued = wb.add_format({**base, "italic": True,
                                        "font_color": colours.get("continued_font", "#595959")})
        self.title = wb.add_format({"font_name": self.name, "bold": True,
                                    "font_size": float(font.get("title_size", 16)),
                                    "font_color": colours.get("section_font", "#1F3864")})
        self.subtitle = wb.add_format({"font_name": self.name, "bold": True,
                                       "font_size": float(font.get("subtitle_size", 12))})
        self.note = wb.add_format({"font_name": self.name, "font_size": self.size, "italic": True})
        self.section = wb.add_format({"font_name": self.name, "bold": True, "font_size": self.size + 2,
                                      "font_color": colours.get("section_font", "#1F3864"), "bottom": 1})
        self.plain = wb.add_format({"font_name": self.name, "font_size": self.size, "text_wrap": True,
                                    "valign": "top"})
        self.number = wb.add_format({**base, "align": "center"})
        self.total = wb.add_format({**base, "bold": True, "align": "center", "top": 2})
        self.total_label = wb.add_format({**base, "bold": True, "top": 2})
        self._status: dict[str, Any] = {}
        vocab = appendix.vocabulary
        for s in vocab:
            self._status[s.key] = wb.add_format({**base, "bg_color": s.fill, "font_color": s.font, "bold": True})
        self._status["unknown"] = wb.add_format({**base, "bg_color": vocab.unknown_fill,
                                                 "font_color": vocab.unknown_font, "bold": True})
        self._status["to_confirm"] = wb.add_format({**base, "bg_color": vocab.unknown_fill,
                                                    "font_color": vocab.unknown_font, "bold": True,
                                                    "italic": True})

    def status(self, key: str) -> Any:
        return self._status.get(key, self._status["unknown"])

    def status_fill(self, key: str, vocab: Any) -> tuple[str, str]:
        s = vocab.by_key(key)
        if s is not None:
            return s.fill, s.font
        return vocab.unknown_fill, vocab.unknown_font


def header_footer(appendix: Appendix, total_pages: int | None = None) -> tuple[str, str]:
    """The page header and footer in Excel's codes (&L &C &R sections, &P page, &N pages; ``total_pages``
    printed literally instead of &N: a part of the PDF counts the whole document's pages)."""
    text = appendix.settings.get("text", {})
    words = {k: v.replace("&", "&&") for k, v in appendix.words().items()}
    words.update({"page": "&P", "pages": "&N" if total_pages is None else str(total_pages)})
    font = appendix.settings.get("font", {})
    name = str(font.get("name", "Arial"))

    def section(code: str, key: str, bold: bool = False) -> str:
        value = fill(str(text.get(key, "")), words)
        style = f'&"{name},{"Bold" if bold else "Regular"}"&8'
        return f"&{code}{style}{value}" if value else ""

    header = section("L", "header_left", True) + section("C", "header_centre", True) + section("R", "header_right")
    footer = section("L", "footer_left") + section("C", "footer_centre") + section("R", "footer_right")
    if len(header) > 255:  # Excel's limit; the title is printed in full above the table anyway
        header = section("L", "header_left", True) + section("R", "header_right")
    if len(footer) > 255:
        footer = section("C", "footer_centre")
    return header, footer


def print_setup(ws: Any, appendix: Appendix, scale: float | None = None, part: PrintPart | None = None) -> None:
    """Landscape, paper from the template, margins, header and footer, one page wide (at ``scale`` when
    given, else fit to the page width by the program).""" 
    p = page(appendix)
    ws.set_landscape()
    ws.set_paper(PAPER_CODE[paper(appendix)])
    ws.set_margins(left=float(p.get("margin_left_in", 0.4)), right=float(p.get("margin_right_in", 0.4)),
                   top=float(p.get("margin_top_in", 0.75)), bottom=float(p.get("margin_bottom_in", 0.7)))
    header, footer = header_footer(appendix, part.total_pages if part else None)
    ws.set_header(header, {"margin": float(p.get("header_margin_in", 0.3))})
    ws.set_footer(footer, {"margin": float(p.get("footer_margin_in", 0.3))})
    if scale is None:
        ws.fit_to_pages(1, 0)
    else:
        ws.set_print_scale(int(round(scale * 100)))
    ws.hide_gridlines(2)


def _write_table(wb: Any, appendix: Appendix, styles: _Styles, table: TableLayout,
                 part: PrintPart | None = None) -> None:
    """The table sheet: title rows, the header row (repeated on every page), the rows. A part after the
    first holds only its pages' rows under the header row, so its pages print as they do in the whole."""
    text = appendix.settings.get("text", {})
    ws = wb.add_worksheet(str(text.get("table_sheet", "Appendix A"))[:31])
    paginate = table.metrics.paginate
    print_setup(ws, appendix, table.scale if paginate else None, part)
    if part is not None and not part.summary:
        xlsxout.check(ws.set_start_page(part.first_page_number), "the first page number")
    for i, col in enumerate(table.columns):
        xlsxout.check(ws.set_column(i, i, col.width), "a column width")
    head = 0
    if part is None or part.summary:
        words = appendix.words()
        xlsxout.write_text(ws, 0, 0, appendix.appendix_title, styles.title, what="the appendix title")
        xlsxout.write_text(ws, 1, 0, appendix.plan_title, styles.subtitle, what="the plan title")
        xlsxout.write_text(ws, 2, 0, fill(str(appendix.settings.get("summary", {}).get("built_from", "")), words),
                           styles.note, what="the status line")
        for r, height in enumerate(TITLE_HEIGHTS):
            xlsxout.check(ws.set_row(r, height), "a title row height")
        head = TITLE_ROWS
    ws.set_row(head, table.header_height)
    for i, col in enumerate(table.columns):
        xlsxout.write_text(ws, head, i, col.title, styles.header, what=f"the header of column {i + 1}")
    first, end = _part_rows(table, part)
    if paginate:  # every page break is written: Calc prints exactly table.page_starts
        starts = set(table.page_starts)
    elif page(appendix).get("key_area_on_new_page", True):
        starts = set(table.first_rows.values())
    else:
        starts = set()
    breaks = []
    r = head
    for n in range(first, end):
        pr = table.rows[n]
        r = head + 1 + n - first
        if n in starts and n > first:
            breaks.append(r)
        xlsxout.check(ws.set_row(r, pr.height), "a row height")
        for i, (col, value) in enumerate(zip(table.columns, pr.cells)):
            xlsxout.write_text(ws, r, i, value, _cell_style(styles, col, pr),
                               what=f"{col.title} of action {pr.row.action.id}")
    if breaks:
        xlsxout.check(ws.set_h_pagebreaks(breaks), "the page breaks")
    ws.repeat_rows(head)
    ws.freeze_panes(head + 1, 0)
    xlsxout.check(ws.autofilter(head, 0, max(r, head), len(table.columns) - 1), "the filter")
    ws.activate()


def _part_rows(table: TableLayout, part: PrintPart | None) -> tuple[int, int]:
    """The rows [first, end) a part prints (every row without a part)."""
    if part is None:
        return 0, len(table.rows)
    starts = table.page_starts
    first_page, end_page = part.pages
    return starts[first_page], starts[end_page] if end_page < len(starts) else len(table.rows)


def _cell_style(styles: _Styles, col: Column, pr: PrintRow) -> Any:
    if pr.continued and col.field == "activity":
        return styles.continued
    if col.field == "key_area":
        return styles.key_area
    if col.field == "status" and not pr.continued:
        return styles.status(pr.row.summary_key)
    if col.field == "change" and pr.row.changed and not pr.continued:
        return styles.changed
    if col.field in ("start", "finish"):
        return styles.centre
    return styles.cell


# ---- the summary sheet ---------------------------------------------------------------------------------

SUMMARY_WIDTHS = [30.0, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5]  # A..H
DEFAULT_ROW_PT = 12.75  # a row whose height is not set (Arial 10)


class _Sheet:
    """A cursor over the summary sheet: writes rows top to bottom, sizing each to its text."""

    def __init__(self, ws: Any, styles: _Styles, page_height: float) -> None:
        self.ws = ws
        self.styles = styles
        self.r = 0
        self.page_height = page_height  # sheet points one printed page holds
        self.used = 0.0                 # on the current page
        self.breaks: list[int] = []
        self.manual = styles.metrics.paginate  # write every break (else the program adds its own)

    def _advance(self, height: float) -> None:
        if self.used > 0 and self.used + height > self.page_height:  # the page breaks before this row
            if self.manual:
                self.breaks.append(self.r)
            self.used = 0.0
        self.used += height
        self.r += 1

    @property
    def pages(self) -> int:
        return len(set(self.breaks)) + 1

    def keep(self, needed: float) -> None:
        """Start a new page unless ``needed`` points still fit: a heading never sits alone at a page foot."""
        if self.used > 0 and self.used + needed > self.page_height:
            self.breaks.append(self.r)
            self.used = 0.0

    def heading(self, text: str, needed: float = 110.0) -> None:
        self.keep(needed)
        self.line(text, self.styles.section, height=18)

    def span_width(self, first: int, last: int) -> float:
        return sum(self.styles.metrics.column_points(w) for w in SUMMARY_WIDTHS[first:last + 1])

    def put(self, cells: list[tuple[int, int, str, Any]], *, what: str, min_height: float = 0.0) -> None:
        """One row: (first col, last col, text, format) per cell; merged when a cell spans columns."""
        lines = 1
        for first, last, value, fmt in cells:
            if last > first:
                xlsxout.check(self.ws.merge_range(self.r, first, self.r, last, "", fmt), what)
            xlsxout.write_text(self.ws, self.r, first, value, fmt, what=what)
            lines = max(lines, len(self.styles.metrics.wrap(value, self.span_width(first, last), self.styles.size)))
        height = max(min_height, self.styles.metrics.row_height(lines, self.styles.size))
        xlsxout.check(self.ws.set_row(self.r, height), what)
        self._advance(height)

    def line(self, text: str, fmt: Any, *, height: float | None = None, what: str = "the summary") -> None:
        xlsxout.write_text(self.ws, self.r, 0, text, fmt, what=what)
        if height or self.manual:  # paginated: no row is left for the program to size
            xlsxout.check(self.ws.set_row(self.r, height or DEFAULT_ROW_PT), what)
        self._advance(height or DEFAULT_ROW_PT)

    def gap(self, height: float = 8.0) -> None:
        xlsxout.check(self.ws.set_row(self.r, height), "a spacing row")
        self._advance(height)


def write_summary(wb: Any, appendix: Appendix, styles: _Styles, part: PrintPart | None = None) -> int:
    """The sheet before the table: counts by key area, a chart, movement, awaiting update, a legend.
    Returns the pages it prints (exact when the metrics paginate)."""
    text = appendix.settings.get("text", {})
    ws = wb.add_worksheet(str(text.get("summary_sheet", "Summary"))[:31])
    scale = fit_scale(appendix, SUMMARY_WIDTHS, styles.metrics)
    print_setup(ws, appendix, scale if styles.metrics.paginate else None, part)
    for i, w in enumerate(SUMMARY_WIDTHS):
        xlsxout.check(ws.set_column(i, i, w), "a column width")
    # A sheet the program paginates keeps a margin of two rows for its own sizing; a paginated one has every
    # row's height set and the margins' page (Calc's header and footer take less room than the margins give)
    margin = 0.0 if styles.metrics.paginate else 2 * DEFAULT_ROW_PT
    sheet = _Sheet(ws, styles, page_body_points(appendix, scale) - margin)
    sheet.line(appendix.appendix_title, styles.title, height=22)
    sheet.line(appendix.plan_title, styles.subtitle, height=18)
    sheet.line(appendix.text("heading", "summary"), styles.subtitle, height=18)
    sheet.line(appendix.text("built_from", "summary"), styles.note)
    sheet.gap()
    table_top = _counts(sheet, appendix)
    sheet.gap()
    _chart(wb, sheet, appendix, table_top)
    _movement(sheet, appendix)
    _awaiting(sheet, appendix)
    _legend(sheet, appendix)
    if sheet.breaks:
        xlsxout.check(ws.set_h_pagebreaks(sorted(set(sheet.breaks))), "the summary's page breaks")
    return sheet.pages


def _counts(sheet: _Sheet, appendix: Appendix) -> int:
    """Status counts by key area with totals; returns the header row (the chart reads the cells)."""
    s = appendix.summary
    st = sheet.styles
    sheet.heading(appendix.text("counts_heading", "summary"))
    top = sheet.r
    heads = [(0, 0, appendix.text("col_key_area", "summary"), st.header)]
    for i, key in enumerate(s.status_keys):
        heads.append((i + 1, i + 1, appendix.short_label(key), st.status(key)))
    heads.append((len(s.status_keys) + 1, len(s.status_keys) + 1, appendix.text("counts_total", "summary"), st.header))
    sheet.put(heads, what="the summary header")
    for name, counts in s.counts.items():
        ws, r = sheet.ws, sheet.r
        xlsxout.write_text(ws, r, 0, name, st.key_area, what="a key area name")
        for i, key in enumerate(s.status_keys):
            xlsxout.write_number(ws, r, i + 1, counts[key], st.number, what="a count")
        xlsxout.write_number(ws, r, len(s.status_keys) + 1, sum(counts.values()), st.total, what="a count")
        xlsxout.check(ws.set_row(r, st.metrics.row_height(1, st.size) + 2), "a row height")
        sheet._advance(st.metrics.row_height(1, st.size) + 2)
    ws, r = sheet.ws, sheet.r
    xlsxout.write_text(ws, r, 0, appendix.text("counts_total", "summary"), st.total_label, what="the total")
    for i, key in enumerate(s.status_keys):
        xlsxout.write_number(ws, r, i + 1, s.totals[key], st.total, what="a total")
    xlsxout.write_number(ws, r, len(s.status_keys) + 1, sum(s.totals.values()), st.total, what="a total")
    sheet._advance(st.metrics.row_height(1, st.size) + 2)  # not set: a little more than the program gives it
    return top


def _chart(wb: Any, sheet: _Sheet, appendix: Appendix, top: int) -> None:
    """A stacked bar per key area, one colour per status (the counts table above carries the numbers)."""
    s = appendix.summary
    areas = len(s.counts)
    if not areas:
        return
    name = sheet.ws.get_name().replace("'", "''")
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    for i, key in enumerate(s.status_keys):
        fill_colour, font_colour = sheet.styles.status_fill(key, appendix.vocabulary)
        chart.add_series({
            "name": [sheet.ws.get_name(), top, i + 1],
            "categories": f"='{name}'!$A${top + 2}:$A${top + 1 + areas}",
            "values": f"='{name}'!${_col(i + 1)}${top + 2}:${_col(i + 1)}${top + 1 + areas}",
            "fill": {"color": fill_colour},
            "border": {"color": font_colour},
            # label the non-zero segments only (a "0" label sits on the next colour's edge and confuses)
            "data_labels": {"value": True, "font": {"color": font_colour, "size": 8},
                            "custom": [{"delete": True} if c[key] == 0 else None for c in s.counts.values()]},
            "gap": 60,
        })
    font = {"name": sheet.styles.name, "size": 9}
    chart.set_title({"name": appendix.text("chart_title", "summary"), "name_font": {**font, "size": 11}})
    chart.set_x_axis({"num_font": font, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
                      "min": 0})
    chart.set_y_axis({"num_font": font, "reverse": True})
    chart.set_legend({"position": "bottom", "font": font})
    chart.set_size({"width": 760, "height": 70 + 46 * areas + 60})
    height_pt = (70 + 46 * areas + 60) * 0.75 + 12
    sheet.keep(height_pt)
    xlsxout.check(sheet.ws.insert_chart(sheet.r, 0, chart, {"x_offset": 2, "y_offset": 4}), "the chart")
    rows = math.ceil(height_pt / 15)
    for _ in range(rows):
        sheet.gap(15)


def _col(index: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return str(xl_col_to_name(index))


def _short_action(row_or_action: Any) -> str:
    action = getattr(row_or_action, "action", row_or_action)
    activity = getattr(row_or_action, "activity", action.activity)
    words = activity.split()
    title = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
    return f"{action.key_area}: {title}"


def _movement(sheet: _Sheet, appendix: Appendix) -> None:
    """Movement since the previous cycle: one row per category, its actions listed one per row below it
    (a cell never holds the whole list, which at national size passed Excel's 32,767-character limit and,
    long before that, its 409-point row height). A category longer than the template's
    ``movement_list_max`` says so and points to the table's change column, which marks every one of them."""
    st = sheet.styles
    s = appendix.summary
    if appendix.previous is None:
        sheet.heading(appendix.text("movement_heading", "summary"))
        sheet.line(appendix.text("movement_none", "summary"), st.note)
        sheet.gap()
        return
    lines = [(key, ids, _movement_list(appendix, key, ids)) for key, ids in s.movement.items()
             if ids or key in ("completed", "improved", "slipped", "new")]
    first = lines[0][2][0] if lines and lines[0][2] else ""
    first_height = st.metrics.row_height(len(st.metrics.wrap(first, sheet.span_width(2, 7), st.size)), st.size)
    sheet.heading(appendix.text("movement_heading", "summary"), 40.0 + first_height)  # heading stays with a row
    sheet.put([(0, 0, appendix.text("col_movement", "summary"), st.header),
               (1, 1, appendix.text("col_count", "summary"), st.header),
               (2, 7, appendix.text("col_actions", "summary"), st.header)], what="the movement header")
    for key, ids, listed in lines:
        fmt = st.changed if key in ("completed", "improved", "new", "slipped", "closed") and ids else st.cell
        what = f"the movement row {key}"
        sheet.put([(0, 0, appendix.movement_label(key), fmt), (1, 1, str(len(ids)), st.centre),
                   (2, 7, listed[0] if listed else "", st.cell)], what=what)
        for item in listed[1:]:  # the label and count cells stay empty (ruled) under the category's first row
            sheet.put([(0, 0, "", st.cell), (1, 1, "", st.cell), (2, 7, item, st.cell)], what=what)
    sheet.gap()


def _movement_list(appendix: Appendix, key: str, ids: tuple[str, ...]) -> list[str]:
    """The text of the "Which actions" cells of one movement category, one entry per row."""
    if key in ("unchanged", "first_status", "to_confirm", "awaiting"):
        return []  # unchanged ones are most of the plan; unsettled and awaiting ones have their own lists below
    summary = appendix.settings.get("summary", {})
    limit = summary.get("movement_list_max")
    change = next((c.title for c in appendix.columns if c.field == "change"), None)
    many = appendix.text("movement_many", "summary", count=f"{len(ids):,}", column=change or "")
    # retired actions are not rows of the table, so they are always named; an older plan template without
    # the limit or its wording lists everything (one per row, so it still prints)
    if key != "retired" and change and many and isinstance(limit, int) and len(ids) > limit:
        return [many]
    rows = {r.action.id: r for r in appendix.rows}
    retired = {a.id: a for a in appendix.summary.retired}
    return [_short_action(rows.get(i) or retired[i]) for i in ids]


def _awaiting(sheet: _Sheet, appendix: Appendix) -> None:
    """The two chase lists. Their headings avoid the table's own words (key area, activity, status, lead)
    so that a PDF reader importing the appendix back never takes a list for the appendix table."""
    st = sheet.styles
    s = appendix.summary
    sep = "; "
    sheet.heading(appendix.text("awaiting_heading", "summary"), 60.0)
    if not s.awaiting:
        sheet.line(appendix.text("awaiting_none", "summary"), st.note)
    else:
        sheet.put([(0, 4, appendix.text("col_activity", "summary"), st.header),
                   (5, 7, appendix.text("col_lead", "summary"), st.header)], what="the awaiting header")
        for r in s.awaiting:
            sheet.put([(0, 4, f"{r.action.key_area}: {r.activity}", st.cell),
                       (5, 7, sep.join(r.leads), st.cell)], what=f"awaiting update {r.action.id}")
    sheet.gap()
    if s.to_confirm:
        sheet.heading(appendix.text("to_confirm_heading", "summary"))
        sheet.put([(0, 3, appendix.text("col_activity", "summary"), st.header),
                   (4, 5, appendix.text("col_status_given", "summary"), st.header),
                   (6, 7, appendix.text("col_lead", "summary"), st.header)], what="the to-confirm header")
        for r in s.to_confirm:
            sheet.put([(0, 3, f"{r.action.key_area}: {r.activity}", st.cell),
                       (4, 5, r.status_text, st.status("to_confirm")), (6, 7, sep.join(r.leads), st.cell)],
                      what=f"status to confirm {r.action.id}")
        sheet.gap()


def _legend(sheet: _Sheet, appendix: Appendix) -> None:
    st = sheet.styles
    sheet.heading(appendix.text("legend_heading", "summary"), 40.0 + 18.0 * (len(appendix.vocabulary) + 4))
    sheet.put([(0, 7, appendix.text("legend_status", "summary"), st.plain)], what="the legend")
    for s in appendix.vocabulary:
        sheet.put([(0, 2, s.label, st.status(s.key)), (3, 7, s.meaning, st.cell)], what="the legend")
    unknown = str(appendix.settings.get("text", {}).get("awaiting_update", appendix.vocabulary.unknown_label))
    sheet.put([(0, 2, unknown, st.status("unknown")),
               (3, 7, appendix.text("awaiting_heading", "summary"), st.cell)], what="the legend")
    if appendix.previous is not None:
        example = fill(str(appendix.settings.get("movement", {}).get("markers", {}).get("improved", "")),
                       {"was": appendix.short_label("delayed")})
        sheet.put([(0, 2, example, st.changed), (3, 7, appendix.text("legend_change", "summary"), st.cell)],
                  what="the legend")
    marker = str(appendix.settings.get("text", {}).get("continued", "(continued)"))
    sheet.put([(0, 2, marker, st.continued), (3, 7, appendix.text("legend_continued", "summary"), st.cell)],
              what="the legend")
