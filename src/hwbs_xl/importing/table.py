"""From a file's raw rows to the appendix's rows: headers found, titles dropped, cut rows stitched.

General rules, one pass over the rows of a SourceTable:
- A header row is recognised by meaning (columns.py). Each header (the first, and every one repeated on a
  later page) sets the column layout for the rows below it, so a page whose columns shifted by a stray
  leading cell is still read right. A header's second line ("Finish" / "Date") is folded into it.
- A header cell split in two by extraction ("HWBS K" | "ey Area") is joined when the two halves mean more
  together than either alone; the data cells under it are joined too ("Key" | "Area 1").
- A data row with one more cell than its header and an empty first cell has been shifted right: shifted back.
- A short line before a page's header (a page title, "Appendix A") is dropped.
- Rows where no header is active (before a file's first header, or on a new sheet before its own header)
  are not a table: each page's such rows become ONE outside-table note listing them, so a summary page or a
  chart read as a grid is named once, not row by row.
- Every value remembers the cell(s) it came from (SourceRow.cell_where: a PDF box, a workbook's A1), several
  when a row was stitched, so a finding about it can point at the cell on the paper.
- A row with an empty key area and no dates of its own is the rest of the row above, cut by a page break:
  its cells are joined to that row. With its own start date it is a new row under the same key area.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..model import Month
from .clean import Cleaner
from .columns import HeaderMatch, HeaderMatcher, Layout, find_cycle
from .source import SourceRow, SourceTable, sheet_cell

Field = tuple[str, "str | None"]


@dataclass
class Note:
    """Something the assembly did or found, turned into a Finding by the pipeline.

    ``positions`` are the cells it is about (SourceRow.cell_where entries), ``field`` names them ("status")."""

    code: str
    message: str
    where: str
    value: str | None = None
    field: str = ""
    positions: tuple[str, ...] = ()


@dataclass
class ParsedRow:
    """One row of the appendix, possibly stitched from several source rows."""

    table: SourceTable
    where: str
    values: dict[Field, str]
    wheres: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # each field's source cell positions, in reading order (several when the row was stitched)
    positions: dict[Field, list[str]] = field(default_factory=dict)

    def get(self, meaning: str, cycle: str | None = None) -> str:
        for (m, c), v in self.values.items():
            if m == meaning and (cycle is None or c == cycle):
                return v
        return ""

    def position(self, meaning: str, cycle: str | None = None) -> tuple[str, ...]:
        """Where the field's value stands in the file (as ``get`` finds the value)."""
        for (m, c), where in self.positions.items():
            if m == meaning and (cycle is None or c == cycle):
                return tuple(where)
        return ()


@dataclass
class Assembled:
    rows: list[ParsedRow]
    layouts: list[Layout]
    notes: list[Note]
    title: str | None


class TableAssembler:
    def __init__(self, matcher: HeaderMatcher, cleaner: Cleaner, rows_cfg: dict[str, Any], headers_cfg: dict[str, Any],
                 status_labels: list[str]) -> None:
        self.matcher = matcher
        self.cleaner = cleaner
        self.continued = {m.casefold() for m in rows_cfg.get("continued_markers", [])}
        self.appendix_label = re.compile(rows_cfg.get("appendix_label", r"^\s*appendix\s+\w{1,3}\s*$"), re.I)
        self.min_meanings = int(headers_cfg.get("min_meanings", 3))
        self.min_share = float(headers_cfg.get("min_share", 0.6))
        self.status_labels = {" ".join(s.split()).casefold() for s in status_labels}

    # ---- header recognition ---------------------------------------------------------------------------

    def _text(self, cell: str) -> str:
        return self.cleaner.one_line(cell).text

    def _header_cell(self, text: str) -> HeaderMatch | None:
        """A cell that can be a column heading: it means something and holds no data (month, number, status)."""
        if not text or Month.parse(text) is not None or len(text.split()) > 25:
            return None
        if " ".join(text.split()).casefold() in self.status_labels:
            return None
        m = self.matcher.match(text)
        if m is None:
            return None
        _, rest = find_cycle(text)
        if re.search(r"(?<![\w])\d+(?![\w])", rest):
            return None
        return m

    def is_header(self, cells: list[str]) -> bool:
        filled = [c for c in cells if c]
        matches = [self._header_cell(c) for c in filled]
        meanings = {m.meaning for m in matches if m}
        hits = sum(1 for m in matches if m)
        return (len(meanings) >= self.min_meanings and bool(meanings & {"key_area", "activity"})
                and hits >= self.min_share * len(filled))

    def is_header_line2(self, cells: list[str]) -> bool:
        """The second line of a header: only header words (or nothing) in each cell."""
        filled = [c for c in cells if c]
        return bool(filled) and all(self._header_cell(c) or self.matcher.is_header_words(c) for c in filled)

    def layout(self, lines: list[list[str]], where: str,
               cell_where: tuple[str, ...] = ()) -> tuple[Layout, list[Note]]:
        """The layout from a header and its further lines (stacked texts per column); ``cell_where`` are the
        first header line's cell positions."""
        width = max(len(line) for line in lines)
        texts = []
        for j in range(width):
            parts = [line[j] for line in lines if j < len(line) and line[j]]
            texts.append(self._best_text(parts))
        groups: list[tuple[int, ...]] = [(j,) for j in range(width)]
        notes: list[Note] = []
        j = 0
        while j < len(texts) - 1:
            joined = self._join_split(texts[j], texts[j + 1])
            if joined is not None:
                notes.append(Note("cell-split-repaired",
                                  f"Header cells \"{texts[j]}\" | \"{texts[j + 1]}\" were one heading split in two: "
                                  f"read as \"{joined}\".", where, f"{texts[j]} | {texts[j + 1]}", "header",
                                  _at(cell_where, groups[j] + groups[j + 1])))
                texts[j:j + 2] = [joined]
                groups[j:j + 2] = [groups[j] + groups[j + 1]]
            j += 1
        fields: list[Field | None] = []
        seen: set[Field] = set()
        for text in texts:
            m = self._header_cell(text) if text else None
            f = (m.meaning, m.cycle) if m else None
            if f in seen and f[0] != "ignore":
                notes.append(Note("column-ignored", f"A second column headed \"{text}\" was not imported "
                                  "(the first column with that meaning was).", where, text))
                f = None
            if f:
                seen.add(f)
            fields.append(f)
        return Layout(groups=groups, fields=fields, raw_len=width, where=where, titles=texts), notes

    def _best_text(self, parts: list[str]) -> str:
        """Stacked header lines: the reading (one line, or all joined) that names a meaning best."""
        if not parts:
            return ""
        candidates = parts + ([" ".join(parts)] if len(parts) > 1 else [])
        scored = [(self._header_cell(c), i, c) for i, c in enumerate(candidates)]
        good = [(m.score, -len(c), i, c) for m, i, c in scored if m]
        if not good:
            return parts[0]
        return max(good)[3]

    def _join_split(self, left: str, right: str) -> str | None:
        if not left or not right:
            return None
        ml, mr = self._header_cell(left), self._header_cell(right)
        if ml and mr:
            return None
        for joined in (left + right, left + " " + right):
            mj = self._header_cell(joined)
            if mj is None:
                continue
            alone = ml or mr
            if alone is None or (mj.meaning == alone.meaning and mj.score > alone.score):
                return joined
        return None

    # ---- rows ----------------------------------------------------------------------------------------

    def cells(self, layout: Layout, src: SourceRow, notes: list[Note],
              positions: dict[Field, list[str]] | None = None) -> dict[Field, str] | None:
        """The row's values by field under this layout (None when the row cannot be read under it); each
        field's source cell positions go into ``positions``."""
        row, where = list(src.cells), src.where
        cell_where = list(src.cell_where)
        while len(row) > layout.raw_len and not row[-1].strip():
            row.pop()
        if len(row) == layout.raw_len + 1 and not row[0].strip():
            row, cell_where = row[1:], cell_where[1:]
            notes.append(Note("row-shifted", "The row was shifted one column to the right by an empty cell; "
                              "read in its header's columns.", where))
        if len(row) > layout.raw_len:
            return None
        if layout.merged and len(row) == len(layout.groups):
            groups: list[tuple[int, ...]] = [(j,) for j in range(len(row))]
        else:
            groups = layout.groups
            row += [""] * (layout.raw_len - len(row))
        values: dict[Field, str] = {}
        for group, f in zip(groups, layout.fields):
            filled = tuple(j for j in group if row[j].strip())
            parts = [row[j].strip() for j in filled]
            at = _at(cell_where, filled or group[:1])
            name = f[0].replace("_", " ") if f else ""
            if len(parts) > 1:
                notes.append(Note("cell-split-repaired",
                                  f"Cells {' | '.join(repr(p) for p in parts)} were one cell split in two: joined.",
                                  where, " | ".join(parts), name, at))
            text = " ".join(parts)
            if f is not None:
                if f[0] != "ignore":
                    values[f] = text
                    if positions is not None and at:
                        positions[f] = list(at)
            elif text:
                title = layout.titles[layout.groups.index(group)] if group in layout.groups else ""
                notes.append(Note("column-ignored", f"Text under the column \"{title}\" was not imported: "
                                  "hwbs-xl does not know what that heading means. Add the heading to "
                                  "templates/import.toml if it matters.", where, text, title, at))
        return values

    def assemble(self, table: SourceTable) -> Assembled:
        rows: list[ParsedRow] = []
        layouts: list[Layout] = []
        notes: list[Note] = []
        outside = _Outside(notes)
        layout: Layout | None = None
        header_lines: list[list[str]] = []
        header_src: SourceRow | None = None
        first_of_table = 0  # rows before this index belong to an earlier table: nothing carries on from them
        page_top = True
        title = plan_title(table, self.appendix_label)
        for src in table.rows:
            cleaned = [self._text(c) for c in src.cells]
            if src.page_start:
                page_top = True
            if src.table_start:
                if header_lines and header_src is not None:
                    self._finish_header(header_lines, header_src, layouts, notes)
                    header_lines = []
                layout, first_of_table = None, len(rows)
            if not any(cleaned):
                continue
            if header_lines and header_src is not None:
                if src.page == header_src.page and self.is_header_line2(cleaned):
                    header_lines.append(list(cleaned))
                    continue
                layout = self._finish_header(header_lines, header_src, layouts, notes)
                header_lines = []
            if self.is_header(cleaned):
                outside.flush()
                header_lines, header_src = [list(cleaned)], src
                continue
            if layout is None:
                outside.add(src, cleaned, after_table=bool(layouts))
                continue
            if page_top and sum(1 for c in cleaned if c) == 1 and not rows_continue(cleaned):
                self._stray(src, cleaned, notes)
                continue
            row_notes: list[Note] = []
            positions: dict[Field, list[str]] = {}
            values = self.cells(layout, src, row_notes, positions)
            if values is None:
                notes.append(Note("row-unreadable", "The line has more cells than its header; it was not imported.",
                                  src.where, " | ".join(c for c in src.cells if c)))
                continue
            prev = rows[-1] if len(rows) > first_of_table else None
            self._add_row(table, src, values, positions, row_notes, rows, prev)
            page_top = False
        if header_lines and header_src is not None:
            self._finish_header(header_lines, header_src, layouts, notes)
        outside.flush()
        return Assembled(rows=rows, layouts=layouts, notes=notes, title=title)

    def _finish_header(self, lines: list[list[str]], src: SourceRow, layouts: list[Layout],
                       notes: list[Note]) -> Layout:
        """The layout a header's lines set; its notes (only the cell repairs of a repeated header) go to notes."""
        layout, layout_notes = self.layout(lines, src.where, src.cell_where)
        if layouts:
            how = "" if layout.fields == layouts[0].fields else " (its columns were read as it names them)"
            notes.append(Note("header-dropped", f"A repeated header row was dropped{how}.", src.where))
            layout_notes = [n for n in layout_notes if n.code == "cell-split-repaired"]
        layouts.append(layout)
        notes.extend(layout_notes)
        return layout

    def _stray(self, src: SourceRow, cleaned: list[str], notes: list[Note]) -> None:
        """A lone line at a page's top inside the table: a page title is dropped; a long one is reported."""
        filled = [c for c in cleaned if c]
        if len(filled[0].split()) <= 25:
            notes.append(Note("header-dropped", "A page title line was dropped.", src.where, filled[0]))
        else:
            notes.append(Note("row-unreadable", "This line is not under a recognised header row, so it was "
                              "not imported. If it is an action, add the header words it uses to "
                              "templates/import.toml.", src.where, filled[0]))

    def _add_row(self, table: SourceTable, src: SourceRow, values: dict[Field, str],
                 positions: dict[Field, list[str]], row_notes: list[Note], rows: list[ParsedRow],
                 prev: ParsedRow | None) -> None:
        """A new row, or (empty key area, no dates of its own) the rest of ``prev`` cut by a page break."""
        key = values.get(_field(values, "key_area"), "")
        own_dates = any(Month.parse(self._text(v)) for f, v in values.items() if f[0] in ("start", "finish"))
        # a "(continued)" mark may sit in any cell (a printed appendix puts it in the activity)
        marked = {f for f, v in values.items() if " ".join(v.split()).casefold() in self.continued}
        carries_on = (not key or bool(marked)) and prev is not None
        if carries_on and prev is not None and not own_dates:
            joined: list[str] = []
            for f, v in values.items():
                if f[0] == "key_area" or not v or f in marked:
                    continue
                prev.values[f] = (prev.values.get(f, "") + " " + v).strip() if prev.values.get(f) else v
                prev.positions.setdefault(f, []).extend(positions.get(f, ()))
                joined.extend(positions.get(f, ()))
            prev.wheres.append(src.where)
            prev.notes.extend(row_notes)
            prev.notes.append(Note("row-stitched", f"The row at {src.where} carries on the row at {prev.where} "
                                   "(cut by a page break): joined.", src.where, None, "joined", tuple(joined)))
            return
        row = ParsedRow(table=table, where=src.where, values=dict(values), wheres=[src.where], notes=row_notes,
                        positions=positions)
        if carries_on and prev is not None:
            kf = _field(values, "key_area")
            row.values[kf] = prev.values.get(_field(prev.values, "key_area"), "")
            row.notes.append(Note("key-area-carried", "The key area cell is empty (merged with the row above): "
                                  f"the row is under \"{row.values[kf]}\".", src.where, None, "key area",
                                  tuple(positions.get(kf, ()))))
        rows.append(row)


@dataclass
class _Outside:
    """Rows where no header is active, gathered per page into ONE outside-table note that lists their text:
    a summary page or a chart read as a grid is named once (nothing is lost), not row by row."""

    notes: list[Note]
    rows: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    page: int | None = None
    after_table: bool = False

    def add(self, src: SourceRow, cleaned: list[str], after_table: bool) -> None:
        if self.rows and src.page != self.page:
            self.flush()
        if not self.rows:
            self.page, self.after_table = src.page, after_table
        self.rows.append((src.where, " | ".join(c for c in cleaned if c)))

    def flush(self) -> None:
        if not self.rows:
            return
        what = ("under no header row (after a table, before the next one's header)" if self.after_table
                else "before the appendix table's header row")
        self.notes.append(Note(
            "outside-table", f"{len(self.rows)} line(s) here are {what}: a title, cover, summary, chart or "
            "legend, so they were not imported. Their text is shown so nothing is lost; if they are actions, "
            "add the header words their table uses to templates/import.toml.",
            span(self.rows[0][0], self.rows[-1][0]), "\n".join(text for _, text in self.rows)))
        self.rows = []


def span(first: str, last: str) -> str:
    """One position for a run of rows: "page 2, rows 1-8", "lines 3-9", "'Summary'!A1:A61"."""
    if first == last:
        return first
    a, b = sheet_cell(first), sheet_cell(last)
    if a and b and a[0] == b[0]:
        return f"{first}:{b[1]}"
    m1, m2 = _ROW_NO.fullmatch(first), _ROW_NO.fullmatch(last)
    if m1 and m2 and m1[1] == m2[1] and m1[2] == m2[2]:
        return f"{m1[1]}{m1[2]}s {m1[3]}-{m2[3]}"
    return f"{first} to {last}"


_ROW_NO = re.compile(r"(.*?)(row|line) (\d+)")


def _at(cell_where: tuple[str, ...] | list[str], columns: tuple[int, ...]) -> tuple[str, ...]:
    """The positions of these source columns (none when the reader gave no cell positions)."""
    return tuple(cell_where[j] for j in columns if j < len(cell_where))


def _field(values: dict[Field, str], meaning: str) -> Field:
    return next((f for f in values if f[0] == meaning), (meaning, None))


def rows_continue(cleaned: list[str]) -> bool:
    """A lone cell at a page's top that is not in the first column is table text, not a title."""
    return bool(cleaned) and not cleaned[0]


def plan_title(table: SourceTable, appendix_label: re.Pattern[str]) -> str | None:
    """The plan's title: the first text line before the table that is not "Appendix A" or a page number."""
    for text, _where in table.text_lines:
        t = " ".join(text.split()).strip("# *")
        if not t or appendix_label.match(t) or re.fullmatch(r"(page\s*)?\d+(\s*of\s*\d+)?", t, re.I):
            continue
        if len(t.split()) >= 3 and any(ch.isalpha() for ch in t):
            return t
    return None
