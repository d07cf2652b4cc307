"""The appendix workbook's summary sheet: status counts by key area, the chart, movement since the previous
cycle and the actions awaiting an update, in the words of appendix.toml."""

from __future__ import annotations

import math
from typing import Any

from ..sheets import writing as xlsxout
from ..sheets.cells import column_letter
from ..text import first_words
from .measure import fit_scale, page_body_points
from .model import Appendix
from .styles import Styles, print_setup

SUMMARY_WIDTHS = [30.0, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5]  # A..H
DEFAULT_ROW_PT = 12.75  # a row whose height is not set (Arial 10)


class _Sheet:
    """A cursor over the summary sheet: writes rows top to bottom, sizing each to its text."""

    def __init__(self, ws: Any, styles: Styles, page_height: float) -> None:
        self.ws = ws
        self.styles = styles
        self.r = 0
        self.page_height = page_height  # sheet points one printed page holds
        self.used = 0.0                 # on the current page
        self.breaks: list[int] = []     # the ones written: before a heading that would sit alone

    def _advance(self, height: float) -> None:
        if self.used > 0 and self.used + height > self.page_height:  # the program breaks the page here
            self.used = 0.0
        self.used += height
        self.r += 1

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
        if height:
            xlsxout.check(self.ws.set_row(self.r, height or DEFAULT_ROW_PT), what)
        self._advance(height or DEFAULT_ROW_PT)

    def gap(self, height: float = 8.0) -> None:
        xlsxout.check(self.ws.set_row(self.r, height), "a spacing row")
        self._advance(height)


def write_summary(wb: Any, appendix: Appendix, styles: Styles) -> None:
    """The sheet before the table: counts by key area, a chart, movement, awaiting update (as the PDF's first
    page: the status is spelled out in every cell, so no legend is needed)."""
    text = appendix.settings["text"]
    ws = wb.add_worksheet(str(text["summary_sheet"])[:31])
    scale = fit_scale(appendix, SUMMARY_WIDTHS, styles.metrics)
    print_setup(ws, appendix)
    for i, w in enumerate(SUMMARY_WIDTHS):
        xlsxout.check(ws.set_column(i, i, w), "a column width")
    # the program paginates the sheet: keep a margin of two rows for its own sizing
    sheet = _Sheet(ws, styles, page_body_points(appendix, scale) - 2 * DEFAULT_ROW_PT)
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
    if sheet.breaks:
        xlsxout.check(ws.set_h_pagebreaks(sorted(set(sheet.breaks))), "the summary's page breaks")


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
            "values": f"='{name}'!${column_letter(i + 2)}${top + 2}:${column_letter(i + 2)}${top + 1 + areas}",
            "fill": {"color": fill_colour},
            "border": {"color": font_colour},
            # label the non-zero segments only (a "0" label sits on the next colour's edge and confuses)
            "data_labels": {"value": True, "font": {"color": font_colour, "size": 8},
                            "custom": [{"delete": True} if c[key] == 0 else None for c in s.counts.values()]},
            "gap": 60,
        })
    font = {"name": sheet.styles.name, "size": 9}
    chart.set_title({"name": appendix.text("chart_title", "summary"), "name_font": {**font, "size": 11}})
    chart.set_x_axis({"num_font": font, "major_gridlines": {"visible": True, "line": {"color": appendix.settings["colours"]["chart_gridlines"]}},
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


def _short_action(row_or_action: Any) -> str:
    """An action named in the summary, as the PDF names it: its ID and the first words of its activity."""
    action = getattr(row_or_action, "action", row_or_action)
    return f"{action.id}: {first_words(getattr(row_or_action, 'activity', action.activity))}"


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
    summary = appendix.settings["summary"]
    limit = summary.get("movement_list_max")
    change = next((c.title for c in appendix.columns if c.field in ("change", "status")), None)
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
        for heading, rows in appendix.awaiting_groups():  # one list per reason, as the PDF's first page
            sheet.line(heading, st.subtitle_small, height=16)
            sheet.put([(0, 4, appendix.text("col_activity", "summary"), st.header),
                       (5, 7, appendix.text("col_lead", "summary"), st.header)], what="the awaiting header")
            for r in rows:
                sheet.put([(0, 4, f"{r.action.id}: {r.activity}", st.cell),
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
