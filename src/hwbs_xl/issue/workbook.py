"""The lead workbook: one lead's formatted update workbook for the open cycle, built in memory.

Each workbook has three sheets:

- **Instructions** (first, active): plain English from templates/instructions.toml: what to do, by when,
  what each status means (a table that is also the drop-down's list when the list cannot be inline), how
  to return it, who to contact.
- **Update**: one row per action. Locked and grey: the action (ID, key area, activity, leads, start,
  finish) and the last N cycles' status (spelled out, RAG colour) and progress report. Unlocked and yellow:
  the new status (strict drop-down), progress report (length limit), revised finish date (a date not
  before the start) and a comment. Protected without a password, as a courtesy: sorting, filtering and
  resizing rows and columns stay allowed. Everything that matters is checked again on return.
- **_hwbs_manifest** (very hidden): the signed manifest (see manifest.py, which also holds the columns
  and issued values a workbook promises). issue/generate.py builds, checks and writes every lead's.

The status drop-down: a list that points at a hidden sheet has failed in Google Sheets, so the list is
either written inline (``"a,b,c"``, which works in Excel, LibreOffice and Google Sheets) when the labels
fit Excel's 255-character limit and hold no comma or double quote, or else points at the status table on
the visible Instructions sheet. The Barnet labels (about 170 characters, no commas) use the inline form.

Determinism: the same register, templates and ``now`` give byte-identical workbooks (the creation date
is ``now``; XlsxWriter fixes the zip timestamps).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..errors import InvalidData
from ..manifest import (
    HEADER_ROW,
    INPUT_FIELDS,
    LOCKED_FIELDS,
    MANIFEST_SHEET,
    MONTH_FIELDS,
    Column,
    Manifest,
    columns,
    issued_manifest,
    issued_values,
    to_cells,
)
from ..model import Action, Cycle, Month, StatusVocabulary, Update
from ..sheets import writing as xlsxout
from ..sheets.writing import LINE_POINTS, wrapped_lines
from ..templates import fill, status_list_source
from ..text import long_date as text_long_date

__all__ = ["Context", "build_workbook", "text_values", "long_date", "HEADER_ROW", "LOCKED_FIELDS", "INPUT_FIELDS",
           "MONTH_FIELDS"]


@dataclass(frozen=True)
class Context:
    """Everything one lead's workbook is built from (all read before any file is written)."""

    plan_title: str
    cycle: Cycle
    history: tuple[Cycle, ...]
    vocab: StatusVocabulary
    layout: dict[str, Any]
    instructions: dict[str, Any]
    coordinator: dict[str, str]
    template_version: str
    plan_id: str
    generated_at: str
    now: datetime
    updates: dict[tuple[str, str], Update]


# ---- small helpers --------------------------------------------------------------------------------------


def long_date(d: date | None, unknown: str) -> str:
    """"15 November 2024", or ``unknown`` (the Instructions template's wording) when there is no date."""
    return text_long_date(d) if d else unknown


def text_values(ctx: Context, lead: str, count: int) -> dict[str, object]:
    phone = ctx.coordinator["phone"]
    return {"plan_title": ctx.plan_title, "cycle": ctx.cycle.label, "lead": lead,
            "due": long_date(ctx.cycle.due_date, ctx.instructions["due_unknown"]), "count": count,
            "update_sheet": ctx.layout["sheets"]["update"],
            "coordinator_name": ctx.coordinator["name"],
            "coordinator_email": ctx.coordinator["email"],
            "coordinator_phone": f", {phone}" if phone else "",
            "limit": ctx.layout["progress_max_chars"]}


# ---- the workbook ---------------------------------------------------------------------------------------


class Formats:
    """XlsxWriter formats, made once per workbook and shared by every cell that looks the same."""

    def __init__(self, wb: Any, layout: dict[str, Any]) -> None:
        self.wb = wb
        self.colours = layout["colours"]
        self.base = {"font_name": layout["font"], "font_size": layout["font_size"],
                     "valign": "top"}
        self.date_format = layout["date_format"]
        self.month_format = layout["month_format"]
        self._cache: dict[tuple[tuple[str, Any], ...], Any] = {}

    def get(self, **props: Any) -> Any:
        key = tuple(sorted({**self.base, **props}.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format(dict(key))
        return self._cache[key]

    def cell(self, locked: bool, **props: Any) -> Any:
        fill_colour = self.colours["locked_fill"] if locked else self.colours["input_fill"]
        return self.get(locked=locked, bg_color=props.pop("bg_color", fill_colour), border=1,
                        border_color=self.colours["border"], text_wrap=True, **props)


def _dv(ws: Any, first_row: int, col: int, last_row: int, options: dict[str, Any], what: str) -> None:
    """A data validation, with Excel's length limits checked first so a template typo gets a clear message."""
    for name, limit in (("input_title", 32), ("error_title", 32), ("input_message", 255), ("error_message", 255)):
        if len(options.get(name, "")) > limit:
            raise InvalidData(f"workbook.toml: the {what} {name.replace('_', ' ')} is {len(options[name])} "
                              f"characters; Excel allows {limit}.", hint="Shorten it in the plan's templates.")
    xlsxout.check(ws.data_validation(first_row, col, last_row, col, options), f"the {what} validation")


def _validation_text(ctx: Context, kind: str, values: dict[str, object]) -> dict[str, str]:
    spec = ctx.layout["validation"][kind]
    return {k: fill(v, values) for k, v in spec.items()}


def _add_sheet(wb: Any, name: str) -> Any:
    """A worksheet named from the template; a name Excel refuses is the template's problem, said plainly."""
    from xlsxwriter.exceptions import XlsxWriterException

    try:
        return wb.add_worksheet(name)
    except XlsxWriterException as exc:
        raise InvalidData(f"workbook.toml: the sheet name {name!r} cannot be used: {exc}.",
                          hint="Sheet names must be 1-31 characters without [ ] : * ? / \\ and all different.") from exc


def write_instructions(wb: Any, fmt: Formats, ctx: Context, lead: str, count: int) -> str:
    """The Instructions sheet; returns the absolute reference of its status-label cells."""
    ins = ctx.instructions
    values = text_values(ctx, lead, count)
    ws = _add_sheet(wb, ctx.layout["sheets"]["instructions"])
    ws.set_landscape()
    ws.set_paper(ctx.layout["paper"])
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(2)
    ws.set_footer("&R" + ctx.layout["title"]["print_footer"])
    xlsxout.check(ws.set_column(0, 0, 34), "a column width")
    xlsxout.check(ws.set_column(1, 1, 100), "a column width")
    colour = ctx.layout["colours"]["title_font"]
    xlsxout.write_text(ws, 0, 0, fill(ins["title"], values), fmt.get(bold=True, font_size=14, font_color=colour),
                       what="the title")
    xlsxout.write_text(ws, 1, 0, fill(ins["subtitle"], values), fmt.get(bold=True, font_size=12), what="the subtitle")
    row = 3
    for label, value in ins["facts"]:
        xlsxout.write_text(ws, row, 0, fill(label, values), fmt.get(bold=True), what="a label")
        xlsxout.write_text(ws, row, 1, fill(value, values), fmt.get(text_wrap=True), what="a value")
        row += 1
    table_ref = ""
    for section in ins["section"]:
        row += 1
        xlsxout.write_text(ws, row, 0, fill(section["heading"], values),
                           fmt.get(bold=True, font_size=11, font_color=colour), what="a heading")
        paragraphs = [fill(p, values) for p in section.get("paragraphs", [])]
        for p in paragraphs:
            xlsxout.write_text(ws, row, 1, p, fmt.get(text_wrap=True), what="a paragraph")
            xlsxout.check(ws.set_row(row, LINE_POINTS * wrapped_lines(p, 100) + 3), "a row height")
            row += 1
        if section.get("statuses"):
            table_ref, row = _status_table(ws, fmt, ctx, row)
    ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True})
    ws.activate()
    return table_ref


def _status_table(ws: Any, fmt: Formats, ctx: Context, row: int) -> tuple[str, int]:
    head = ctx.instructions["status_table"]
    border = {"border": 1, "border_color": ctx.layout["colours"]["border"]}
    xlsxout.write_text(ws, row, 0, head["heading_label"], fmt.get(bold=True, **border), what="a heading")
    xlsxout.write_text(ws, row, 1, head["heading_meaning"], fmt.get(bold=True, **border),
                       what="a heading")
    first = row + 1
    for i, s in enumerate(ctx.vocab.statuses):
        r = first + i
        xlsxout.write_text(ws, r, 0, s.label, fmt.get(bg_color=s.fill, font_color=s.font, text_wrap=True, bold=True,
                                                      **border), what="a status")
        xlsxout.write_text(ws, r, 1, s.meaning, fmt.get(text_wrap=True, **border), what="a status meaning")
        lines = max(wrapped_lines(s.label, 34), wrapped_lines(s.meaning, 100))
        xlsxout.check(ws.set_row(r, LINE_POINTS * lines + 4), "a row height")
    last = first + len(ctx.vocab.statuses) - 1
    sheet = ctx.layout["sheets"]["instructions"].replace("'", "''")
    return f"='{sheet}'!$A${first + 1}:$A${last + 1}", last + 1


def write_update_sheet(wb: Any, fmt: Formats, ctx: Context, lead: str, actions: Sequence[Action],
                       table_ref: str) -> tuple[list[Column], dict[str, dict[str, str]]]:
    """The Update sheet; returns its columns and, per action, the issued values of its locked cells."""
    layout = ctx.layout
    cols = columns(layout, ctx.history)
    values = text_values(ctx, lead, len(actions))
    ws = _add_sheet(wb, layout["sheets"]["update"])
    ws.set_tab_color(layout["colours"]["band_update_fill"])
    _title_rows(ws, fmt, ctx, cols, values)
    head = HEADER_ROW - 1
    header_fmt = fmt.get(bold=True, text_wrap=True, bg_color=layout["colours"]["header_fill"],
                         font_color=layout["colours"]["header_font"], border=1,
                         border_color=layout["colours"]["border"])
    for i, c in enumerate(cols):
        xlsxout.write_text(ws, head, i, fill(c.heading, values), header_fmt, what="a column heading")
        xlsxout.check(ws.set_column(i, i, c.width), "a column width")
    lines = max(wrapped_lines(fill(c.heading, values), c.width) for c in cols)
    xlsxout.check(ws.set_row(head, LINE_POINTS * lines + 4), "a row height")
    issued: dict[str, dict[str, str]] = {}
    for n, a in enumerate(actions):
        issued[a.id] = _action_row(ws, fmt, ctx, cols, head + 1 + n, a)
    _validations(ws, ctx, cols, actions, table_ref, values)
    _sheet_setup(ws, ctx, cols, len(actions), values)
    return cols, issued


def _title_rows(ws: Any, fmt: Formats, ctx: Context, cols: Sequence[Column], values: dict[str, object]) -> None:
    colours = ctx.layout["colours"]
    title = ctx.layout["title"]
    xlsxout.write_text(ws, 0, 0, fill(title["text"], values),
                       fmt.get(bold=True, font_size=14, font_color=colours["title_font"]), what="the title")
    xlsxout.write_text(ws, 1, 0, fill(title["subtitle"], values), fmt.get(bold=True), what="the subtitle")
    xlsxout.check(ws.set_row(0, 20), "a row height")
    bands = ctx.layout["bands"]
    for i, c in enumerate(cols):
        first_of_band = i == 0 or cols[i - 1].band != c.band
        text = fill(bands[c.band], values) if first_of_band else ""
        band_fill = colours["band_update_fill"] if c.band == "update" else colours["band_fill"]
        xlsxout.write_text(ws, HEADER_ROW - 2, i, text, fmt.get(bold=True, bg_color=band_fill), what="a band title")


def _action_row(ws: Any, fmt: Formats, ctx: Context, cols: Sequence[Column], row: int, a: Action) -> dict[str, str]:
    values = issued_values(a, cols, ctx.updates, ctx.vocab, ctx.layout["history"])
    height = 0.0
    for i, c in enumerate(cols):
        if c.key in MONTH_FIELDS:
            m = Month.from_iso(values[c.key])
            xlsxout.write_date(ws, row, i, m.first_day() if m else None,
                               fmt.cell(True, num_format=fmt.month_format, align="center"), what=f"{a.id} {c.key}")
        elif c.key.startswith("status@"):
            xlsxout.write_text(ws, row, i, values[c.key], _status_format(fmt, ctx, a, c), what=f"{a.id} {c.key}")
        elif c.key in values:
            xlsxout.write_text(ws, row, i, values[c.key], fmt.cell(True, bold=c.key == "action_id"),
                               what=f"{a.id} {c.key}")
        elif c.key == "revised_finish":
            xlsxout.write_date(ws, row, i, None, fmt.cell(False, num_format=fmt.date_format), what=f"{a.id} {c.key}")
        else:
            xlsxout.write_text(ws, row, i, "", fmt.cell(False), what=f"{a.id} {c.key}")
        height = max(height, LINE_POINTS * wrapped_lines(values.get(c.key, ""), c.width) + 6)
    lo, hi = ctx.layout["row_height_min"], ctx.layout["row_height_max"]
    xlsxout.check(ws.set_row(row, min(hi, max(lo, height))), "a row height")
    return values


def _status_format(fmt: Formats, ctx: Context, a: Action, c: Column) -> Any:
    u = ctx.updates.get((a.id, c.key[7:]))
    status = ctx.vocab.by_key(u.status) if u else None
    if status is not None:
        return fmt.cell(True, bg_color=status.fill, font_color=status.font, bold=True)
    if u is None:
        return fmt.cell(True, italic=True)
    return fmt.cell(True, bg_color=ctx.vocab.unknown_fill, font_color=ctx.vocab.unknown_font, bold=True)


def _validations(ws: Any, ctx: Context, cols: Sequence[Column], actions: Sequence[Action], table_ref: str,
                 values: dict[str, object]) -> None:
    if not actions:
        return
    first, last = HEADER_ROW, HEADER_ROW + len(actions) - 1
    index = {c.key: i for i, c in enumerate(cols)}
    if "new_status" in index:
        _dv(ws, first, index["new_status"], last, {
            "validate": "list", "source": status_list_source(ctx.vocab, table_ref), "ignore_blank": True,
            "error_type": "stop", **_validation_text(ctx, "status", values)}, "status")
    if "new_progress" in index:
        _dv(ws, first, index["new_progress"], last, {
            "validate": "length", "criteria": "<=", "value": int(ctx.layout["progress_max_chars"]),
            "ignore_blank": True, "error_type": "stop", **_validation_text(ctx, "progress", values)}, "progress")
    if "revised_finish" in index:
        # One validation per row: each action has its own start, and a lower bound per row works in
        # every spreadsheet program (a relative formula bound is not understood everywhere).
        for n, a in enumerate(actions):
            start = a.start.first_day() if a.start else date(2000, 1, 1)
            _dv(ws, first + n, index["revised_finish"], first + n, {
                "validate": "date", "criteria": "between", "minimum": start, "maximum": date(2099, 12, 31),
                "ignore_blank": True, "error_type": "stop", **_validation_text(ctx, "revised_finish", values)},
                "revised finish date")
    if "comment" in index:
        _dv(ws, first, index["comment"], last, {"validate": "any", **_validation_text(ctx, "comment", values)},
            "comment")


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")


def column_pixels(width: float) -> int:
    """A column's width on screen at 100 % zoom, in pixels (Excel's rule for its default font: 7 pixels a
    character plus 5 of padding)."""
    return int(width * 7 + 5)


def first_scrolled_column(cols: Sequence[Column], frozen: int, layout: dict[str, Any]) -> int:
    """The column the scrolling pane opens at: the frozen columns, then as much history as fits before the
    first input column, so a lead on a small laptop sees where to type without scrolling (they scroll left
    for the rest of the history)."""
    first_input = next((i for i, c in enumerate(cols) if c.band == "update"), frozen)
    room = int(layout["screen_width_px"]) - int(layout["screen_chrome_px"])
    room -= sum(column_pixels(c.width) for c in cols[:frozen]) + column_pixels(cols[first_input].width)
    start = first_input
    while start > frozen and column_pixels(cols[start - 1].width) <= room:
        room -= column_pixels(cols[start - 1].width)
        start -= 1
    return start


def _sheet_setup(ws: Any, ctx: Context, cols: Sequence[Column], count: int, values: dict[str, object]) -> None:
    layout = ctx.layout
    head = HEADER_ROW - 1
    last_row = head + max(count, 1)
    freeze = next((i + 1 for i, c in enumerate(cols) if c.key == layout["freeze_through"]), 0)
    xlsxout.check(ws.freeze_panes(head + 1, freeze, head + 1, first_scrolled_column(cols, freeze, layout)),
                  "the frozen header")
    xlsxout.check(ws.autofilter(head, 0, last_row, len(cols) - 1), "the filter")
    ws.set_landscape()
    ws.set_paper(layout["paper"])
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    xlsxout.check(ws.repeat_rows(head - 1, head), "the repeated header rows")
    xlsxout.check(ws.print_area(0, 0, last_row, len(cols) - 1), "the print area")
    header = _escape_header(fill(layout["title"]["print_header"], values))[:200]
    ws.set_header(f"&L&\"{layout['font']},Bold\"{header}")
    ws.set_footer("&R" + layout["title"]["print_footer"])
    ws.protect("", {"sort": True, "autofilter": True, "format_cells": True, "format_columns": True,
                    "format_rows": True, "select_locked_cells": True, "select_unlocked_cells": True})


def write_manifest(wb: Any, m: Manifest) -> None:
    ws = wb.add_worksheet(MANIFEST_SHEET)
    for r, line in enumerate(to_cells(m)):
        for c, value in enumerate(line):
            xlsxout.write_text(ws, r, c, value, what="the manifest")
    ws.protect("")
    ws.very_hidden()


def build_workbook(ctx: Context, lead: str, actions: Sequence[Action],
                   key: bytes) -> tuple[bytes, Manifest, dict[str, dict[str, str]]]:
    """One lead's workbook as bytes, its signed manifest, and the issued values per action."""
    buf = io.BytesIO()
    wb = xlsxout.new_workbook(buf, in_memory=True)
    values = text_values(ctx, lead, len(actions))
    properties = ctx.layout["properties"]
    wb.set_properties({"title": fill(ctx.layout["title"]["print_header"], values),
                       "subject": fill(properties["subject"], values), "author": ctx.coordinator["name"],
                       "comments": fill(properties["comments"], values), "created": ctx.now})
    fmt = Formats(wb, ctx.layout)
    table_ref = write_instructions(wb, fmt, ctx, lead, len(actions))
    cols, issued = write_update_sheet(wb, fmt, ctx, lead, actions, table_ref)
    manifest = issued_manifest(plan_id=ctx.plan_id, plan_title=ctx.plan_title, cycle=ctx.cycle.label, lead=lead,
                               generated_at=ctx.generated_at, template_version=ctx.template_version,
                               sheet=ctx.layout["sheets"]["update"], cols=cols, issued=issued, key=key)
    write_manifest(wb, manifest)
    wb.close()
    return buf.getvalue(), manifest, issued
