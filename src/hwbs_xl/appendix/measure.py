"""The appendix table measured and laid out for the workbook: text widths (Arial metrics), line wrapping,
row heights, the page the table prints on, and long actions split into continuation rows.

Neither Excel nor LibreOffice sizes rows written by a program, so every row's height is computed here from
the column widths and the text. A row that would be taller than a printed page (or than Excel's 409-point
row limit) is split at a line break into continuation rows marked "(continued)": a spreadsheet cannot split
one row across pages, and a row it cannot fit would be cut at the page edge. Joining an action's rows gives
back its whole text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..sheets import writing as xlsxout
from .model import Appendix, AppendixRow, Column

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
    lines there. The xlsx is sized for Excel: it then shows everything in both.
    """

    per_char: float      # points per character of column width
    col_pad: float       # points added to every column
    line_factor: float   # line height / font size
    slack: float         # measure text this much wider: one line too many is fine, one too few cuts text
    def column_points(self, width_chars: float) -> float:
        return width_chars * self.per_char + self.col_pad

    def line_height(self, size: float) -> float:
        return size * self.line_factor

    def row_height(self, line_count: int, size: float) -> float:
        return round(max(1, line_count) * self.line_height(size) + CELL_PAD_PT, 2)

    def wrap(self, text: str, width_pt: float, size: float, bold: bool = False) -> list[tuple[int, int]]:
        return wrap(text, width_pt, size * self.slack, bold)


EXCEL = Metrics(per_char=5.25, col_pad=3.75, line_factor=1.17, slack=1.02)


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


PAPER_PT = {"A4": (841.89, 595.28), "A3": (1190.55, 841.89)}
PAPER_CODE = {"A4": 9, "A3": 8}  # Excel's paper size codes


def page(appendix: Appendix) -> dict[str, Any]:
    return dict(appendix.settings["page"])


def paper(appendix: Appendix) -> str:
    name = str(page(appendix)["paper"]).upper()
    return name if name in PAPER_PT else "A4"


def fit_scale(appendix: Appendix, widths_chars: list[float], metrics: Metrics = EXCEL) -> float:
    """The scale "fit to one page wide" prints at (whole percent, as the spreadsheet programs round)."""
    p = page(appendix)
    width, _ = PAPER_PT[paper(appendix)]
    printable = width - 72 * (float(p["margin_left_in"]) + float(p["margin_right_in"]))
    total = sum(metrics.column_points(w) for w in widths_chars)
    return min(1.0, math.floor(printable / total * 100) / 100) if total else 1.0


def page_body_points(appendix: Appendix, scale: float) -> float:
    """Sheet points one printed page holds between the margins (the header row included)."""
    p = page(appendix)
    _, height = PAPER_PT[paper(appendix)]
    body = height - 72 * (float(p["margin_top_in"]) + float(p["margin_bottom_in"]))
    return body / scale


def cell_values(appendix: Appendix, row: AppendixRow) -> list[str]:
    """The text of each column for one action (before splitting long text)."""
    sep = str(appendix.settings["text"]["lead_separator"])
    return [xlsxout.cell_text(cell_text(row, col, sep)) for col in appendix.columns]


def cell_text(row: AppendixRow, col: Column, lead_separator: str) -> str:
    """What column ``col`` shows for one action (the workbook's words; the PDF prints the same fields)."""
    a = row.action
    match col.field:
        case "ref":
            return a.id
        case "key_area":
            return a.key_area
        case "activity":
            return row.activity
        case "lead":
            return lead_separator.join(row.leads)
        case "start":
            return a.start.label if a.start else ""
        case "finish":
            return row.finish_text
        case "status":
            return row.status_text
        case "progress":
            return row.progress
        case "history":
            return row.history.get(col.cycle or "", "")
        case "change":
            return row.marker
    return ""


def layout(appendix: Appendix, metrics: Metrics = EXCEL) -> TableLayout:
    """Every row of the table with its height, long actions split into continuation rows."""
    m = metrics
    font = appendix.settings["font"]
    size = float(font["size"])
    head_size = float(font["header_size"])
    widths = [c.width for c in appendix.columns]
    points = [m.column_points(w) for w in widths]
    header_lines = max(len(m.wrap(c.title, pt, head_size, bold=True)) for c, pt in zip(appendix.columns, points))
    header_height = m.row_height(header_lines, head_size)
    scale = fit_scale(appendix, widths, m)
    room = page_body_points(appendix, scale) - header_height - 2 * m.line_height(size)  # a margin of safety
    max_height = min(ROW_LIMIT_PT, room)
    max_lines = max(1, int((max_height - CELL_PAD_PT) // m.line_height(size)))
    out = TableLayout(appendix.columns, header_height, max_row_height=max_height, scale=scale, metrics=m)
    marker = str(appendix.settings["text"]["continued"])
    for ka in appendix.key_areas:
        out.first_rows[ka.name] = len(out.rows)
        for row in ka.rows:
            out.rows.extend(_split(appendix, row, cell_values(appendix, row), points, size, max_lines, marker, m))
    return out


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
