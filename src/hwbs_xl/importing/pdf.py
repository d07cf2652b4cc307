"""The PDF reader: a committee-pack PDF becomes table rows with provenance, nothing more.

It finds the appendix table on every page, drawn with ruling lines or without, and returns every table
row in reading order (the repeated header rows included) with the page and box each cell came from.
Deciding what is a header, a page title, a continuation or a status is the shared pipeline's job
(``importing/pipeline.py``), exactly as for the text forms.

How a page is read:
- Ruled tables: pdfplumber's "lines" strategy (cell borders drawn as lines or rectangles).
- Tables without ruling lines: columns are the vertical white gutters that no word of the table crosses,
  rows the white bands between text lines that are taller than the usual line gap (so rows need some
  padding or spacing between them, or a rule); the grid found that way is handed to pdfplumber as
  explicit lines, so both kinds of table are cut into cells the same way. A page is read as ruled when
  the lines strategy finds a table of at least two rows and two columns on it.
- A cell's lines are joined with a space, except before a bullet or numbered list item (the line break is
  kept) and where the line broke inside a word: after its own hyphen or slash ("co-" + "produced"), or a
  word too long for the column. The space glyph LibreOffice and Word write at a wrap tells which is which.
- Glyphs the PDF gives no text for ("(cid:N)", U+FFFD) are kept as they read and reported as
  ``pdf-glyph-unmapped`` with page and position, so a reviewer checks them against the page.
- A PDF with no text layer (a scan) is refused: it needs OCR or manual entry.
Many pages are read by a pool of processes over page ranges, and put back in page order.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import parallel
from ..errors import InvalidData
from ..findings import Finding
from ..text import clip
from .source import SourceRow, SourceTable, sha256_of

# Pages per worker below which a second process costs more than it saves (start-up ~0.3 s).
PAGES_PER_WORKER = 6

RULED = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 3,
         "join_tolerance": 3, "intersection_tolerance": 3, "edge_min_length": 3}
# Word grouping: a gap wider than 0.15 em between glyphs is a space (a space is ~0.25 em, kerning ~0).
WORDS: dict[str, Any] = {"x_tolerance_ratio": 0.15, "y_tolerance": 3, "keep_blank_chars": False, "use_text_flow": False}

# A line starting with one of these is a list item: its line break is kept ("\uf0b7", "\uf0a7" and friends
# are Wingdings/Symbol bullets in the private-use area; "(cid:" is a bullet whose font has no text map).
LIST_ITEM = re.compile(r"^(?:[•■▪●◦○□➢►▶✓✔\-–—*\uf0a7\uf0b7\uf0d8\uf076\uf0fc\uf06e\uf0a8]\s|"
                       r"[•■▪●◦○□➢►▶✓✔\uf0a7\uf0b7\uf0d8\uf076\uf0fc\uf06e\uf0a8]|\(cid:\d+\)|\d{1,2}[.)]\s)")
# A line ending in a word broken at its own hyphen or slash ("co-", "Strategist/").
JOINED_BREAK = re.compile(r"\w[-/–]$")
UNMAPPED = re.compile(r"\(cid:\d+\)|\ufffd")
MODE_WORDS = {"ruled": "with ruling lines", "plain": "without ruling lines"}

@dataclass
class PageResult:
    """What one page gave, in plain data (it crosses process boundaries)."""

    number: int
    chars: int = 0
    scanned: bool = False  # no text, but a picture covering most of the page
    mode: str = ""  # "ruled", "plain" or "" (no table)
    tables: int = 0
    rows: list[SourceRow] = field(default_factory=list)
    text_lines: list[tuple[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- public

def read_pdf(path: Path, *, workers: int | None = None) -> SourceTable:
    """Every table row of the PDF in reading order, with page, row and cell positions.

    ``workers``: processes to read pages with (default: one per core when there are enough pages).
    Raises InvalidData ``pdf-no-text-layer`` for a scan (no text on any page, or a scanned page amid text).
    """
    path = Path(path)
    count = page_count(path)
    pages = _read_pages(path, page_ranges(count, workers))
    _refuse_scans(path, pages)
    found = summary(pages)
    if not any(p.rows for p in pages):
        raise InvalidData(f"No appendix table was recognised in {path.name}: it has text but no table ({found}).",
                          hint="Import the committee paper that holds the appendix table itself (often a "
                               "separate PDF in the pack); nothing was changed.", code="import-no-table")
    table = SourceTable(path=path, sha256=sha256_of(path), form="pdf", pages=count)
    table.findings.append(Finding(code="pdf-read", file=path.name, message=f"Read {found}.",
                                  detail={"pages": count, "tables": sum(p.tables for p in pages),
                                          "modes": sorted({p.mode for p in pages if p.mode})}))
    for page in pages:
        table.rows.extend(page.rows)
        table.text_lines.extend(page.text_lines)
        table.findings.extend(page.findings)
    return table


def page_count(path: Path) -> int:
    pdfplumber = _pdfplumber()
    try:
        with pdfplumber.open(path) as pdf:
            return len(pdf.pages)
    except Exception as exc:  # pdfminer raises many kinds for a damaged or locked file
        cause = " ".join(type(e).__name__ for e in (exc, *exc.args, exc.__context__) if e is not None)
        if "Password" in cause or "Encrypt" in cause:
            raise InvalidData(f"{path.name} is password-protected, so its text cannot be read.",
                              hint="Open it with its password and print or save it to PDF without one, then "
                                   "import that copy. Nothing was changed.", code="import-unreadable") from exc
        raise InvalidData(f"{path.name} could not be read as a PDF ({type(exc).__name__}: {exc}).",
                          hint="Check the file opens in a PDF viewer; save or print it to PDF again. "
                               "Nothing was changed.", code="import-unreadable") from exc


def page_ranges(count: int, workers: int | None = None) -> list[tuple[int, int]]:
    """Contiguous page ranges, one per worker process, in order (0-based, end exclusive)."""
    if workers is None:  # the cycle's one rule (parallel.workers: every core, HWBS_WORKERS caps it)
        workers = parallel.workers(count, min_per_worker=PAGES_PER_WORKER)
    workers = max(1, min(workers, count))
    step, extra = divmod(count, workers)
    ranges, start = [], 0
    for i in range(workers):
        stop = start + step + (1 if i < extra else 0)
        ranges.append((start, stop))
        start = stop
    return ranges


def summary(pages: Sequence[PageResult]) -> str:
    """What was found, in a reader's words: pages, tables (ruled or not), each table's first row, text."""
    tables = sum(p.tables for p in pages)
    modes = sorted({p.mode for p in pages if p.mode})
    kind = f" ({' and '.join(MODE_WORDS[m] for m in modes)})" if modes else ""
    bits = [f"{len(pages)} page(s)", f"{tables} table(s){kind}"]
    firsts = [f"page {p.number}: " + " | ".join(_short(c) for c in p.rows[0].cells if c.strip())
              for p in pages if p.rows]
    if firsts:
        unique = list(dict.fromkeys(f.split(": ", 1)[1] for f in firsts))
        bits.append("first rows: " + "; ".join(f'"{u}"' for u in unique[:4]))
    text = [t for p in pages for t, _ in p.text_lines][:3]
    if text:
        bits.append("text: " + " / ".join(f'"{_short(t)}"' for t in text))
    return ", ".join(bits)


# ---------------------------------------------------------------------------------------------- pages

def _pdfplumber() -> Any:
    import pdfplumber  # heavy: only when a PDF is read

    return pdfplumber


def _read_pages(path: Path, ranges: list[tuple[int, int]]) -> list[PageResult]:
    """Read the page ranges, one worker process per range when there are several (parallel.py's pool, with
    its in-process fallback); results in page order. Each worker opens the file itself: parsed pages
    cannot cross processes."""
    parts = parallel.map_shared(_read_part, (str(path),), ranges, min_per_worker=1)
    return [page for part in parts for page in part]


def _read_part(path: str, pages: tuple[int, int]) -> list[PageResult]:
    return _read_range(path, *pages)


def _read_range(path: str, start: int, stop: int) -> list[PageResult]:
    pdfplumber = _pdfplumber()
    name = Path(path).name
    with pdfplumber.open(path) as pdf:
        out = []
        for index in range(start, stop):
            page = pdf.pages[index]
            try:
                out.append(read_page(page, index + 1, name))
            except Exception as exc:  # one damaged page: name it rather than fail with a traceback
                raise InvalidData(f"{name}: page {index + 1} could not be read ({type(exc).__name__}: {exc}).",
                                  hint="Print or save the file to PDF again and import that copy. "
                                       "Nothing was changed.", code="import-unreadable") from exc
            page.close()  # frees the page's parsed objects: memory stays flat on long packs
        return out


def read_page(page: Any, number: int, file: str = "") -> PageResult:
    chars = dedupe(page.chars)
    result = PageResult(number=number, chars=len(chars))
    if not chars:
        result.scanned = _mostly_picture(page)
        return result
    tables, result.mode = _find_tables(page, chars)
    result.tables = len(tables)
    inside: set[int] = set()
    for table in tables:
        for row in table.rows:
            cells, boxes = [], []
            in_row = _chars_in(chars, row.bbox)
            for box in row.cells:
                mine = _chars_in(in_row, box) if box else []
                inside.update(id(c) for c in mine)
                cells.append(cell_text(mine))
                boxes.append(_box_where(number, box) if box else f"page {number} (merged cell)")
            if not any(c.strip() for c in cells):
                continue
            where = f"page {number}, row {len(result.rows) + 1}"
            result.rows.append(SourceRow(cells=tuple(cells), where=where, page=number,
                                         page_start=not result.rows, cell_where=tuple(boxes)))
            result.findings.extend(_glyph_findings(cells, boxes, where, file))
    rest = [c for c in chars if id(c) not in inside]
    for i, line in enumerate(_lines_of(rest)):
        where = f"page {number}, text line {i + 1} (y {line.top:.0f})"
        result.text_lines.append((line.text, where))
        result.findings.extend(_glyph_findings([line.text], [where], where, file))
    return result


def dedupe(chars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop glyphs printed twice at (almost) the same place, as fake-bold text is."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for c in chars:
        key = (c["text"], round(c["x0"]), round(c["top"]))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _find_tables(page: Any, chars: list[dict[str, Any]]) -> tuple[list[Any], str]:
    """Ruled tables when the page has a real grid, else the grid read from the white space."""
    ruled = [t for t in page.find_tables(RULED) if _columns(t) >= 2]
    if any(len(t.rows) >= 2 for t in ruled):
        return ruled, "ruled"
    grid = plain_grid(page, chars)
    if grid is None:
        return [], ""
    xs, ys = grid
    settings = {"vertical_strategy": "explicit", "horizontal_strategy": "explicit",
                "explicit_vertical_lines": xs, "explicit_horizontal_lines": ys}
    return page.find_tables(settings), "plain"


def _columns(table: Any) -> int:
    return max((len(r.cells) for r in table.rows), default=0)


def _mostly_picture(page: Any) -> bool:
    area = float(page.width * page.height) or 1.0
    covered = sum(float((i["x1"] - i["x0"]) * (i["bottom"] - i["top"])) for i in page.images)
    return covered / area >= 0.3


# ---------------------------------------------------------------------------------------------- cells

def _chars_in(chars: Iterable[dict[str, Any]], box: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    """Glyphs whose centre is in the box; a space belongs where it starts (a wrapped line's trailing space
    may stick out past the cell border, and it is what tells a wrap at a space from a break inside a word)."""
    x0, top, x1, bottom = box
    return [c for c in chars
            if x0 <= (c["x0"] if c["text"].isspace() else (c["x0"] + c["x1"]) / 2) <= x1
            and top <= (c["top"] + c["bottom"]) / 2 <= bottom]


@dataclass
class _TextLine:
    text: str  # words joined by single spaces
    top: float
    x1: float  # right end of the last glyph that is not a space
    trailing_space: bool  # the producer put a space glyph at the end: the line wrapped at a space


def _lines_of(chars: list[dict[str, Any]]) -> list[_TextLine]:
    """The text lines of some glyphs, top to bottom."""
    from pdfplumber.utils import cluster_objects, extract_words

    ink = [c for c in chars if not c["text"].isspace()]
    if not ink:
        return []
    tolerance = 0.4 * statistics.median(c["bottom"] - c["top"] for c in ink)
    lines = []
    for group in cluster_objects(chars, lambda c: (c["top"] + c["bottom"]) / 2, tolerance):
        words = extract_words(group, **WORDS)
        if not words:
            continue
        last = max(group, key=lambda c: c["x1"])
        lines.append(_TextLine(" ".join(w["text"] for w in sorted(words, key=lambda w: w["x0"])),
                               min(w["top"] for w in words), max(w["x1"] for w in words),
                               last["text"].isspace()))
    return sorted(lines, key=lambda ln: ln.top)


def cell_text(chars: list[dict[str, Any]]) -> str:
    """One cell's text as the author typed it (see ``joiner``)."""
    lines = _lines_of(chars)
    if not lines:
        return ""
    spaces = [c["x1"] - c["x0"] for c in chars if c["text"] == " "]
    space = statistics.median(spaces) if spaces else None
    edge = max(ln.x1 for ln in lines)
    out = lines[0].text
    for line, after in zip(lines, lines[1:]):
        out += joiner(line, after, edge, space) + after.text
    return out


def join_lines(lines: Sequence[str]) -> str:
    """Lines of text from a producer that writes no space glyphs, joined by the rules of ``joiner``."""
    text = [_TextLine(ln.strip(), 0.0, 0.0, False) for ln in lines if ln.strip()]
    out = text[0].text if text else ""
    for line, after in zip(text, text[1:]):
        out += joiner(line, after, 0.0, None) + after.text
    return out


def joiner(line: _TextLine, after: _TextLine, edge: float, space: float | None) -> str:
    """What stood where the line wrapped: "\n" before a list item, "" inside a word, else " ".

    ``space`` is the width of the producer's space glyph, None when it writes none. LibreOffice and Word
    write a space at the end of a line that wrapped at one, unless it would stick out past the text edge.
    So a line that ends without a space although one would fit broke where there was none: after a hyphen
    or slash ("co-" + "produced", "(2019 -" + "2021)") or at the end of a paragraph (a space). A line
    that fills the width with a single word was cut inside a word too long for the column
    ("Strategist/Engageme" + "nt"). Without space glyphs, only a hyphen or slash after a letter glues.
    """
    if LIST_ITEM.match(after.text):
        return "\n"
    if space is None or line.trailing_space:
        return "" if space is None and JOINED_BREAK.search(line.text) else " "
    room = line.x1 + space <= edge
    if line.text[-1:] in "-/–":
        return "" if room or JOINED_BREAK.search(line.text) else " "
    cut = not room and " " not in line.text and (after.text[:1].islower() or after.text[:1].isdigit())
    return "" if cut else " "


def _box_where(page: int, box: tuple[float, float, float, float]) -> str:
    x0, top, x1, bottom = box
    return f"page {page} (x {x0:.0f}-{x1:.0f}, y {top:.0f}-{bottom:.0f} pt from top left)"


def _glyph_findings(cells: Sequence[str], boxes: Sequence[str], where: str, file: str) -> list[Finding]:
    found = []
    for column, (text, box) in enumerate(zip(cells, boxes), start=1):
        glyphs = UNMAPPED.findall(text)
        if not glyphs:
            continue
        shown = ", ".join(sorted(set(glyphs)))
        found.append(Finding(
            code="pdf-glyph-unmapped", file=file or None, where=f"{where}, column {column}", value=text,
            message=(f"{len(glyphs)} character(s) in this cell have no text in the PDF ({shown}): the font "
                     f"carries no character map. The cell was read as it stands; check it against the PDF at "
                     f"{box} and correct the register where it matters."),
            detail={"row_where": where, "column": column, "box": box, "glyphs": glyphs}))
    return found


# ---------------------------------------------------------------------------------------------- no grid

@dataclass
class _Line:
    top: float
    bottom: float
    words: list[dict[str, Any]]

    @property
    def x0(self) -> float:
        return float(min(w["x0"] for w in self.words))

    @property
    def x1(self) -> float:
        return float(max(w["x1"] for w in self.words))


def plain_grid(page: Any, chars: list[dict[str, Any]]) -> tuple[list[float], list[float]] | None:
    """Column and row lines of a table drawn without ruling lines, or None when the page has no table.

    Columns: white vertical gutters (wider than ~half an em) that the multi-part text lines leave
    uncovered. Table lines: consecutive lines that cross no gutter. Rows: a white band taller than the
    usual line gap, before a line that starts a fresh row (text in two or more columns, or in a column that
    had already ended), or a drawn horizontal rule.
    """
    from pdfplumber.utils import extract_words

    words = extract_words(chars, **WORDS, extra_attrs=["fontname"])
    if len(words) < 4:
        return None
    em = statistics.median(w["bottom"] - w["top"] for w in words)
    lines = _physical_lines(words, 0.4 * em)
    gap_min = 0.45 * em
    multi = [ln for ln in lines if len(_segments(ln.words, gap_min)) >= 2]
    if len(multi) < 2:
        return None
    # A stray title or footnote line may cross a gutter: find the gutters allowing for a few such lines,
    # set aside the lines that bridge one, then find them again exactly from the lines that are left.
    rough = _gutters(multi, gap_min, allowed=len(multi) // 10)
    multi = [ln for ln in multi if not _crosses(ln, rough)]
    gutters = _gutters(multi, gap_min, allowed=0) if len(multi) >= 2 else []
    if not gutters:
        return None
    body = _table_lines(lines, multi, gutters, em)
    if len(body) < 2:
        return None
    left = min(ln.x0 for ln in body) - 1
    right = max(ln.x1 for ln in body) + 1
    xs = [left] + [(a + b) / 2 for a, b in gutters if left < a and b < right] + [right]
    if len(xs) < 3:
        return None
    ys = [body[0].top - 1]
    rules = [e for e in page.horizontal_edges if e["x1"] - e["x0"] >= 0.5 * (right - left)]
    normal_gap = statistics.median([b.top - a.bottom for a, b in zip(body, body[1:])])
    for above, below in zip(body, body[1:]):
        if _row_break(above, below, xs, normal_gap, em, rules):
            ys.append((above.bottom + below.top) / 2)
    ys.append(body[-1].bottom + 1)
    return xs, ys


def _physical_lines(words: list[dict[str, Any]], tolerance: float) -> list[_Line]:
    from pdfplumber.utils import cluster_objects

    lines = [_Line(min(w["top"] for w in ws), max(w["bottom"] for w in ws), sorted(ws, key=lambda w: w["x0"]))
             for ws in cluster_objects(words, lambda w: (w["top"] + w["bottom"]) / 2, tolerance)]
    return sorted(lines, key=lambda ln: ln.top)


def _segments(words: list[dict[str, Any]], gap_min: float) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    for w in words:
        if spans and w["x0"] - spans[-1][1] <= gap_min:
            spans[-1] = (spans[-1][0], max(spans[-1][1], w["x1"]))
        else:
            spans.append((w["x0"], w["x1"]))
    return spans


def _gutters(lines: list[_Line], gap_min: float, allowed: int) -> list[tuple[float, float]]:
    """x-ranges at least ``gap_min`` wide covered by at most ``allowed`` words of the lines."""
    left = int(min(ln.x0 for ln in lines))
    right = int(max(ln.x1 for ln in lines)) + 1
    votes = [0] * (right - left + 1)
    for ln in lines:
        for w in ln.words:
            for x in range(int(w["x0"]) - left, min(int(w["x1"]) - left + 1, len(votes))):
                votes[x] += 1
    gutters, start = [], None
    for x, v in enumerate(votes):
        if v <= allowed and start is None:
            start = x
        elif v > allowed and start is not None:
            if x - start >= gap_min:
                gutters.append((float(left + start), float(left + x)))
            start = None
    return gutters


def _crosses(line: _Line, gutters: list[tuple[float, float]]) -> bool:
    """The line bridges a gutter with one word (a title, a paragraph): it is not part of the table."""
    return any(w["x0"] < a and w["x1"] > b for w in line.words for a, b in gutters)


def _table_lines(lines: list[_Line], multi: list[_Line], gutters: list[tuple[float, float]],
                 em: float) -> list[_Line]:
    """The run of lines that make the table: from the first multi-part line, extended up and down over
    lines that cross no gutter and sit close to the table (a row carried over from the page before has
    only one column, above the first multi-part line when the header is not repeated)."""
    first, last = lines.index(multi[0]), lines.index(multi[-1])
    starts = _column_starts(multi, gutters)
    close = 3.0 * em

    def belongs(line: _Line, neighbour: _Line) -> bool:
        # Close to the table, bridging no gutter, and starting where a column's text starts (a page
        # number or a right-aligned running title does not).
        return (not _crosses(line, gutters) and abs(line.top - neighbour.top) < close
                and any(abs(line.x0 - s) <= 1.0 for s in starts))

    top, bottom = first, last
    while top > 0 and belongs(lines[top - 1], lines[top]):
        top -= 1
    while bottom + 1 < len(lines) and belongs(lines[bottom + 1], lines[bottom]):
        bottom += 1
    return [ln for ln in lines[top:bottom + 1] if not _crosses(ln, gutters)]


def _column_starts(lines: list[_Line], gutters: list[tuple[float, float]]) -> list[float]:
    bounds = [-1e9] + [b for _, b in gutters] + [1e9]
    starts = []
    for lo, hi in zip(bounds, bounds[1:]):
        xs = [w["x0"] for ln in lines for w in ln.words if lo <= w["x0"] < hi]
        if xs:
            starts.append(min(xs))
    return starts


def _columns_of(line: _Line, xs: list[float]) -> set[int]:
    return {next((i for i, x in enumerate(xs[1:]) if w["x0"] < x), len(xs) - 2) for w in line.words}


def _row_break(above: _Line, below: _Line, xs: list[float], normal_gap: float, em: float,
               rules: list[dict[str, Any]]) -> bool:
    if any(above.bottom - 1 <= r["top"] <= below.top + 1 for r in rules):
        return True
    if below.top - above.bottom <= normal_gap + 0.25 * em:
        return False
    cols = _columns_of(below, xs)
    if len(cols) >= 2 or not cols <= _columns_of(above, xs):
        return True
    # Text in one column that had text on the line above: paragraph spacing inside a cell, so the cell
    # carries on, unless the type changes there (a bold header cell above body text starts a new row).
    return any(not _fonts(above, xs, c) & _fonts(below, xs, c) for c in cols)


def _fonts(line: _Line, xs: list[float], column: int) -> set[str]:
    return {w["fontname"] for w in line.words if _columns_of(_Line(0, 0, [w]), xs) == {column}}


# ---------------------------------------------------------------------------------------------- scans

def _refuse_scans(path: Path, pages: list[PageResult]) -> None:
    if all(p.chars == 0 for p in pages):
        raise InvalidData(
            f"{path.name} has no text layer on any of its {len(pages)} page(s): it is a scan or a picture of "
            f"the appendix, so there is no text to import.",
            hint="It needs OCR or manual entry: run it through OCR (for example `ocrmypdf in.pdf out.pdf`) and "
                 "import the result, or ask the council for the original Word/Excel file. Nothing was changed.",
            code="pdf-no-text-layer")
    scans = [p.number for p in pages if p.scanned]
    if scans:
        raise InvalidData(
            f"{path.name}: page(s) {', '.join(map(str, scans))} have no text layer (scanned pages) while the "
            f"rest of the file has text, so part of the appendix cannot be read.",
            hint="Those pages need OCR or manual entry: OCR the file (for example `ocrmypdf --skip-text in.pdf "
                 "out.pdf`) and import the result. Nothing was changed.",
            code="pdf-no-text-layer")


def _short(text: str) -> str:
    return clip(text, 40)
