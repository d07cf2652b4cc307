"""Lead workbooks: one formatted update workbook per lead for the open cycle.

Each workbook has three sheets:

- **Instructions** (first, active): plain English from templates/instructions.toml: what to do, by when,
  what each status means (a table that is also the drop-down's list when the list cannot be inline), how
  to return it, who to contact.
- **Update**: one row per action. Locked and grey: the action (ID, key area, activity, leads, start,
  finish) and the last N cycles' status (spelled out, RAG colour) and progress report. Unlocked and yellow:
  the new status (strict drop-down), progress report (length limit), revised finish date (a date not
  before the start) and a comment. Protected without a password, as a courtesy: sorting, filtering and
  resizing rows and columns stay allowed. Everything that matters is checked again on return.
- **_hwbs_manifest** (very hidden): the signed manifest (see manifest.py).

The status drop-down: a list that points at a hidden sheet has failed in Google Sheets, so the list is
either written inline (``"a,b,c"``, which works in Excel, LibreOffice and Google Sheets) when the labels
fit Excel's 255-character limit and hold no comma or double quote, or else points at the status table on
the visible Instructions sheet. The Barnet labels (about 170 characters, no commas) use the inline form.

Determinism: the same register, templates and ``now`` give byte-identical workbooks (the creation date
is ``now``; XlsxWriter fixes the zip timestamps).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from .. import parallel, templates
from ..templates import fill
from ..sheets import writing as xlsxout
from .distribution import DistributionEntry, write_distribution
from .drafts import build_eml, render_template
from ..errors import InvalidData, NotFound, StorageFailed, UsageProblem
from ..findings import Report
from ..manifest import (MANIFEST_SHEET, Manifest, ManifestRow, fingerprint_values, from_cells, load_key, plan_id,
                       sign, to_cells, to_record)
from ..model import Action, Cycle, Month, StatusVocabulary, Update, leads_text
from ..paths import PlanPaths, distinct_file_names, slug
from ..register import Register
from ..safeio import StagedFiles, check_writable, plan_lock
from ..text import normalise
from ..sheets.writing import LINE_POINTS, wrapped_lines

__all__ = ["generate", "open_and_issue", "check_issued", "GenerateResult", "IssuedWorkbook", "LOCKED_FIELDS", "INPUT_FIELDS", "MONTH_FIELDS",
           "build_workbook", "status_list_source"]

# Field keys (the manifest's column keys). History fields are "status@<cycle>" and "progress@<cycle>".
LOCKED_FIELDS = ("action_id", "key_area", "activity", "leads", "start", "finish")
INPUT_FIELDS = ("new_status", "new_progress", "revised_finish", "comment")
# Issued values of these fields are "YYYY-MM"; the cells hold the first day of that month as a date.
MONTH_FIELDS = ("start", "finish")
TEMPLATE_FILES = ["plan.toml", "statuses.toml", "workbook.toml", "instructions.toml"]
HEADER_ROW = 4  # 1-based: title, subtitle, band row, then the column headings


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    width: float
    band: str  # "action", "history" or "update"


@dataclass(frozen=True)
class IssuedWorkbook:
    lead: str
    path: Path
    actions: tuple[str, ...]
    sha256: str
    size: int
    draft: Path | None = None


@dataclass(frozen=True)
class GenerateResult:
    cycle: Cycle
    out_dir: Path
    workbooks: tuple[IssuedWorkbook, ...]
    distribution: tuple[Path, Path]  # CSV, xlsx
    drafts: tuple[Path, ...]
    report: Report = field(default_factory=Report)
    batch_id: int | None = None

    @property
    def files(self) -> list[Path]:
        return [w.path for w in self.workbooks]


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

def long_date(d: date | None) -> str:
    return f"{d.day} {d:%B %Y}" if d else "the date the coordinator gives"


def _text_values(ctx: Context, lead: str, count: int) -> dict[str, object]:
    phone = ctx.coordinator.get("phone", "")
    return {"plan_title": ctx.plan_title, "cycle": ctx.cycle.label, "lead": lead,
            "due": long_date(ctx.cycle.due_date), "count": count,
            "update_sheet": ctx.layout["sheets"]["update"],
            "coordinator_name": ctx.coordinator.get("name", ""),
            "coordinator_email": ctx.coordinator.get("email", ""),
            "coordinator_phone": f", {phone}" if phone else "",
            "limit": ctx.layout.get("progress_max_chars", 3000)}


def columns(layout: dict[str, Any], history: Sequence[Cycle]) -> list[Column]:
    """The Update sheet's columns: the template's list with the history pair repeated per earlier cycle."""
    out: list[Column] = []
    spec = layout["columns"]
    hist = [c for c in spec if c["key"].endswith("@")]
    for c in spec:
        if c["key"].endswith("@"):
            if c is hist[0]:
                for cyc in history:
                    out += [Column(h["key"] + cyc.label, fill(h["heading"], {"cycle": cyc.label}), h["width"],
                                   "history") for h in hist]
            continue
        band = "update" if c["key"] in INPUT_FIELDS else "action"
        out.append(Column(c["key"], c["heading"], c["width"], band))
    return out


def col_letter(index: int) -> str:
    """0 -> A, 26 -> AA."""
    s = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        s = chr(65 + rem) + s
    return s


def status_list_source(vocab: StatusVocabulary, table_ref: str) -> list[str] | str:
    """The drop-down's source: the labels inline when Excel's inline form can hold them (255 characters,
    no comma or double quote in a label), else a reference to the status table on the visible
    Instructions sheet (a hidden sheet's list fails in Google Sheets)."""
    labels = vocab.labels
    if len(",".join(labels)) <= 255 and not any("," in s or '"' in s for s in labels):
        return labels
    return table_ref


def issued_status_text(u: Update | None, vocab: StatusVocabulary, not_in_cycle: str) -> str:
    if u is None:
        return not_in_cycle
    status = vocab.by_key(u.status)
    if status is not None:
        return status.label
    return u.status_raw.strip() or vocab.unknown_label


def issued_values(a: Action, cols: Sequence[Column], ctx: Context) -> dict[str, str]:
    """The text of every locked cell of one action's row, as issued (months as "YYYY-MM")."""
    not_in = ctx.layout.get("history", {}).get("not_in_cycle", "")
    values: dict[str, str] = {}
    for c in cols:
        if c.key == "action_id":
            values[c.key] = a.id
        elif c.key == "key_area":
            values[c.key] = a.key_area
        elif c.key == "activity":
            values[c.key] = a.activity
        elif c.key == "leads":
            values[c.key] = leads_text(a.leads)
        elif c.key in MONTH_FIELDS:
            m = a.start if c.key == "start" else a.finish
            values[c.key] = m.iso if m else ""
        elif c.key.startswith("status@"):
            values[c.key] = issued_status_text(ctx.updates.get((a.id, c.key[7:])), ctx.vocab, not_in)
        elif c.key.startswith("progress@"):
            u = ctx.updates.get((a.id, c.key[9:]))
            values[c.key] = u.progress if u else ""
    return values


# ---- the workbook ---------------------------------------------------------------------------------------

class Formats:
    """XlsxWriter formats, made once per workbook and shared by every cell that looks the same."""

    def __init__(self, wb: Any, layout: dict[str, Any]) -> None:
        self.wb = wb
        self.colours = layout["colours"]
        self.base = {"font_name": layout.get("font", "Arial"), "font_size": layout.get("font_size", 10),
                     "valign": "top"}
        self.date_format = layout.get("date_format", "d mmm yyyy")
        self.month_format = layout.get("month_format", "mmm-yy")
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
    spec = ctx.layout.get("validation", {}).get(kind, {})
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
    values = _text_values(ctx, lead, count)
    ws = _add_sheet(wb, ctx.layout["sheets"]["instructions"])
    ws.set_landscape()
    ws.set_paper(ctx.layout.get("paper", 9))
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(2)
    ws.set_footer("&R" + ctx.layout["title"].get("print_footer", "Page &P of &N"))
    xlsxout.check(ws.set_column(0, 0, 34), "a column width")
    xlsxout.check(ws.set_column(1, 1, 100), "a column width")
    colour = ctx.layout["colours"]["title_font"]
    xlsxout.write_text(ws, 0, 0, fill(ins["title"], values), fmt.get(bold=True, font_size=14, font_color=colour),
                       what="the title")
    xlsxout.write_text(ws, 1, 0, fill(ins["subtitle"], values), fmt.get(bold=True, font_size=12), what="the subtitle")
    row = 3
    facts = [("For", lead), ("Cycle", ctx.cycle.label), ("Please return by", long_date(ctx.cycle.due_date)),
             ("Number of actions", str(count)),
             ("Return to", f"{values['coordinator_name']} ({values['coordinator_email']})")]
    for label, value in facts:
        xlsxout.write_text(ws, row, 0, label, fmt.get(bold=True), what="a label")
        xlsxout.write_text(ws, row, 1, value, fmt.get(text_wrap=True), what="a value")
        row += 1
    table_ref = ""
    for section in ins.get("section", []):
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
    head = ctx.instructions.get("status_table", {})
    border = {"border": 1, "border_color": ctx.layout["colours"]["border"]}
    xlsxout.write_text(ws, row, 0, head.get("heading_label", "Status"), fmt.get(bold=True, **border), what="a heading")
    xlsxout.write_text(ws, row, 1, head.get("heading_meaning", "What it means"), fmt.get(bold=True, **border),
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
    values = _text_values(ctx, lead, len(actions))
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
        text = fill(bands.get(c.band, ""), values) if first_of_band else ""
        band_fill = colours["band_update_fill"] if c.band == "update" else colours["band_fill"]
        xlsxout.write_text(ws, HEADER_ROW - 2, i, text, fmt.get(bold=True, bg_color=band_fill), what="a band title")


def _action_row(ws: Any, fmt: Formats, ctx: Context, cols: Sequence[Column], row: int, a: Action) -> dict[str, str]:
    values = issued_values(a, cols, ctx)
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
    lo, hi = ctx.layout.get("row_height_min", 110), ctx.layout.get("row_height_max", 400)
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
            "validate": "length", "criteria": "<=", "value": int(ctx.layout.get("progress_max_chars", 3000)),
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


def _sheet_setup(ws: Any, ctx: Context, cols: Sequence[Column], count: int, values: dict[str, object]) -> None:
    layout = ctx.layout
    head = HEADER_ROW - 1
    last_row = head + max(count, 1)
    freeze = next((i + 1 for i, c in enumerate(cols) if c.key == layout.get("freeze_through", "activity")), 0)
    xlsxout.check(ws.freeze_panes(head + 1, freeze), "the frozen header")
    xlsxout.check(ws.autofilter(head, 0, last_row, len(cols) - 1), "the filter")
    ws.set_landscape()
    ws.set_paper(layout.get("paper", 9))
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    xlsxout.check(ws.repeat_rows(head - 1, head), "the repeated header rows")
    xlsxout.check(ws.print_area(0, 0, last_row, len(cols) - 1), "the print area")
    header = _escape_header(fill(layout["title"]["print_header"], values))[:200]
    ws.set_header(f"&L&\"{layout.get('font', 'Arial')},Bold\"{header}")
    ws.set_footer("&R" + layout["title"].get("print_footer", "Page &P of &N"))
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
    wb.set_properties({"title": fill(ctx.layout["title"]["print_header"], _text_values(ctx, lead, len(actions))),
                       "subject": f"Update for {ctx.cycle.label}", "author": ctx.coordinator.get("name", ""),
                       "comments": "Made by hwbs-xl. Please fill in the yellow columns of the Update sheet.",
                       "created": ctx.now})
    fmt = Formats(wb, ctx.layout)
    table_ref = write_instructions(wb, fmt, ctx, lead, len(actions))
    cols, issued = write_update_sheet(wb, fmt, ctx, lead, actions, table_ref)
    rows = tuple(ManifestRow(a.id, HEADER_ROW + 1 + n, fingerprint_values(issued[a.id])) for n, a in enumerate(actions))
    manifest = sign(Manifest(plan_id=ctx.plan_id, plan_title=ctx.plan_title, cycle=ctx.cycle.label, lead=lead,
                             generated_at=ctx.generated_at, template_version=ctx.template_version,
                             sheet=ctx.layout["sheets"]["update"], header_row=HEADER_ROW,
                             columns={c.key: col_letter(i) for i, c in enumerate(cols)}, rows=rows), key)
    write_manifest(wb, manifest)
    wb.close()
    return buf.getvalue(), manifest, issued


def _build_checked(ctx: Context, key: bytes, item: tuple[str, Sequence[Action], str]
                   ) -> tuple[str, bytes, Manifest, dict[str, dict[str, str]], str | None]:
    """One lead's workbook and the problem found reading it back (None when it reads back as issued);
    a module-level function so that worker processes can run it."""
    lead, actions, file_name = item
    data, manifest, values = build_workbook(ctx, lead, actions, key)
    return lead, data, manifest, values, check_issued(data, file_name, manifest, values)


def check_issued(data: bytes, name: str, manifest: Manifest, issued: dict[str, dict[str, str]]) -> str | None:
    """What is wrong with a lead workbook as built (None when nothing). It is read back the way its return
    will be: it must open, hold no formula, carry the manifest exactly as signed, and hold every action's
    locked values where the manifest says, as issued."""
    from ..sheets.reader import a1, read_bytes
    from ..returns.checker import column_number, locked_text, sheet_grid

    read = read_bytes(data, name)
    if read.book is None:
        return read.findings[0].message if read.findings else "it cannot be opened"
    book = read.book
    hidden, sheet = book.sheet(MANIFEST_SHEET), book.sheet(manifest.sheet)
    if hidden is None or sheet is None:
        return f"the sheet '{MANIFEST_SHEET if hidden is None else manifest.sheet}' is missing"
    if any(s.formulas for s in book.sheets):
        return "a cell holds a formula"
    try:
        if from_cells(sheet_grid(hidden)) != manifest:
            return "the manifest does not read back as it was signed"
    except InvalidData as exc:
        return exc.message
    for mrow in manifest.rows:
        for field_key, value in issued[mrow.action_id].items():
            col = column_number(manifest.columns[field_key])
            if locked_text(sheet, mrow.row, col, field_key, book.date1904) != normalise(value):
                return f"cell {a1(mrow.row, col)} ({field_key} of action {mrow.action_id}) does not hold what was issued"
    return None


# ---- generate: every lead's workbook, the distribution list, drafts, the issued record -------------------

def _pick_cycle(reg: Register, label: str | None) -> Cycle:
    cycle = reg.cycle(label) if label else reg.open_cycle()
    if cycle is None:
        raise UsageProblem("No cycle is open.", hint='Open one first: hwbs-xl cycle open "October 2024" --due 2024-11-15')
    if cycle.state != "open":
        raise UsageProblem(f"The cycle {cycle.label!r} is closed; workbooks are issued for the open cycle only.",
                           hint="Open a new cycle with `hwbs-xl cycle open`.")
    return cycle


def _context(paths: PlanPaths, reg: Register, cycle: Cycle, key: bytes, now: datetime) -> Context:
    layout = templates.load_toml("workbook.toml", paths.root)
    plan_settings = templates.plan_settings(paths.root)
    n = int(layout.get("history_cycles", 2))
    earlier = [c for c in reg.cycles() if c.seq < cycle.seq]
    history = tuple(earlier[-n:]) if n > 0 else ()
    plan = reg.plan()
    version = f"{plan_settings.get('template_version', '1')}-{templates.fingerprint(TEMPLATE_FILES, paths.root)}"
    return Context(plan_title=plan.title if plan else plan_settings.get("default_title", ""), cycle=cycle,
                   history=history, vocab=templates.vocabulary(paths.root), layout=layout,
                   instructions=templates.load_toml("instructions.toml", paths.root),
                   coordinator={k: str(v) for k, v in plan_settings.get("coordinator", {}).items()},
                   template_version=version, plan_id=plan_id(key), generated_at=now.isoformat(), now=now,
                   updates={(u.action_id, u.cycle): u for c in history for u in reg.updates(cycle=c.label)})


def _by_lead(actions: Sequence[Action], report: Report) -> dict[str, list[Action]]:
    groups: dict[str, list[Action]] = {}
    for a in actions:
        if not a.leads:
            report.add("action-no-lead", f"Action {a.id} has no lead, so no workbook includes it. "
                       f"Give it one: hwbs-xl action reassign {a.id} \"LEAD\"", action_id=a.id, action_title=a.title)
        for lead in a.leads:
            groups.setdefault(lead, []).append(a)
    return groups


def _file_names(leads: Sequence[str], layout: dict[str, Any], cycle: str, folder: Path) -> dict[str, str]:
    """A distinct name per lead, valid on every desktop (two leads that slug alike get -2, -3...)."""
    pattern = layout.get("file_name", "{cycle} - {lead}.xlsx")
    wanted = {}
    for lead in leads:
        base = fill(pattern, {"cycle": slug(cycle), "lead": slug(lead)})
        wanted[lead] = base if "." in base else f"{base}.xlsx"
    return distinct_file_names(wanted, folder)


def _record_path(paths: PlanPaths, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.root))
    except ValueError:
        return str(path.resolve())


def generate(paths: PlanPaths, *, cycle: str | None = None, out: Path | None = None, lead: str | None = None,
             drafts: bool = False, now: datetime | None = None, command: str) -> GenerateResult:
    """Write one workbook per lead for the open cycle (or only ``lead``'s), the distribution list, and
    with ``drafts`` an .eml per lead; record each issued workbook in the register (one batch)."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    report = Report()
    with Register.open(paths) as reg:
        cyc = _pick_cycle(reg, cycle)
        key = load_key(paths)
        ctx = _context(paths, reg, cyc, key, now)
        groups = _by_lead(reg.actions(include_retired=False), report)
        chosen = _choose_leads(groups, lead)
        out_dir = Path(out) if out is not None else paths.issued(cyc.label)
        names = _file_names(list(groups), ctx.layout, cyc.label, out_dir)
        contacts = {k: str(v) for k, v in templates.load_toml("contacts.toml", paths.root).get("leads", {}).items()}
        issued: list[IssuedWorkbook] = []
        records: list[dict[str, Any]] = []
        with plan_lock(paths.lock, "write the lead workbooks"):
            # Refuse before writing anything when one target is open in Excel or read-only.
            for name in chosen:
                check_writable(out_dir / names[name])
            # Every workbook is built and read back (on every core) and written beside its target before
            # any file is replaced; one that fails its check stops the run with nothing replaced.
            with StagedFiles() as staged:
                for name, data, manifest, values, problem in parallel.imap_shared(
                        _build_checked, (ctx, key), [(name, groups[name], names[name]) for name in chosen]):
                    if problem:
                        raise StorageFailed(f"The workbook for {name} was built but failed its check on reading "
                                            f"it back: {problem}. No workbook was written; those issued before "
                                            "are as they were.", hint="Run the command again; if it fails again, "
                                            "report it (with --debug).", code="output-check-failed")
                    path = staged.add(out_dir / names[name], data)
                    draft = staged.add(*_draft(paths, ctx, out_dir, name, contacts.get(name, ""), path, data,
                                               len(groups[name]))) if drafts else None
                    sha = hashlib.sha256(data).hexdigest()
                    issued.append(IssuedWorkbook(name, path, tuple(a.id for a in groups[name]), sha, len(data),
                                                 draft))
                    records.append({"cycle": cyc.label, "lead": name, "file": _record_path(paths, path),
                                    "sha256": sha, "generated_at": ctx.generated_at,
                                    "template_version": ctx.template_version,
                                    "manifest": to_record(manifest, values)})
            entries = [DistributionEntry(w.lead, contacts.get(w.lead, ""), w.path.name, w.actions, cyc.due_date)
                       for w in issued]
            entries += _earlier_entries(reg, cyc, groups, {w.lead for w in issued}, contacts)
            dist = write_distribution(out_dir, entries, title=f"{ctx.plan_title}: workbooks for {cyc.label}", now=now)
            summary = f"issued {len(issued)} lead workbook(s) for {cyc.label}"
            with reg.batch("issue", command=command, files=[str(w.path) for w in issued], summary=summary) as b:
                for rec in records:
                    b.put("issued", rec)
    return GenerateResult(cycle=cyc, out_dir=out_dir, workbooks=tuple(issued), distribution=dist,
                          drafts=tuple(w.draft for w in issued if w.draft), report=report,
                          batch_id=b.id if b.changes else None)


def _choose_leads(groups: dict[str, list[Action]], lead: str | None) -> list[str]:
    names = sorted(groups, key=str.casefold)
    if lead is None:
        return names
    wanted = " ".join(lead.split())
    match = [n for n in names if n == wanted] or [n for n in names if n.casefold() == wanted.casefold()]
    if not match:
        raise NotFound(f"No active action has the lead {lead!r}.",
                       hint="Leads are: " + "; ".join(names) if names else "The plan has no active actions.")
    return match[:1]


def _earlier_entries(reg: Register, cyc: Cycle, groups: dict[str, list[Action]], done: set[str],
                     contacts: dict[str, str]) -> list[DistributionEntry]:
    """Leads issued earlier in this cycle (a run with --lead still lists everyone who has a workbook)."""
    from ..manifest import from_record

    entries = []
    for row in reg.issued(cyc.label):
        if row.lead in done or row.lead not in groups:
            continue
        manifest, _ = from_record(row.manifest)
        entries.append(DistributionEntry(row.lead, contacts.get(row.lead, ""), Path(row.file).name,
                                         tuple(r.action_id for r in manifest.rows), cyc.due_date))
    return entries


def _draft(paths: PlanPaths, ctx: Context, out_dir: Path, lead: str, email: str, workbook: Path, data: bytes,
           count: int) -> tuple[Path, bytes]:
    """Where the lead's draft e-mail goes and its bytes (the workbook ``data`` attached as ``workbook``)."""
    subject, body = render_template("email_issue.txt", {**_text_values(ctx, lead, count), "file": workbook.name},
                                    paths.root)
    return out_dir / "drafts" / (workbook.stem + ".eml"), build_eml(lead, email, subject, body, workbook, data=data)


def open_and_issue(paths: PlanPaths, label: str, due: date, *, keep: Sequence[str] = (), drafts: bool = True,
                   now: datetime | None = None, command: str) -> tuple[Any, GenerateResult]:
    """Open the cycle ``label`` (due ``due``) and issue every lead's workbook, distribution list and drafts:
    the two steps `demo` runs. Returns (CycleOpening, GenerateResult)."""
    from ..plan.cycle import open_cycle

    opening = open_cycle(paths, label, due, keep=keep, command=command)
    return opening, generate(paths, drafts=drafts, now=now, command=command)
