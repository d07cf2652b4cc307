"""The print-ready appendix workbook: a summary sheet (summary.py), then Appendix A as the committee reads it,
laid out by measure.py in the formats of styles.py, checked by reading it back before it is put in place.

Every string goes through sheets.writing.write_text (text stays text; return codes checked).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import safeio
from ..errors import StorageFailed
from ..sheets import writing as xlsxout
from ..templates import fill
from .measure import EXCEL, ROW_LIMIT_PT, Metrics, PrintRow, TableLayout, cell_values, layout, page
from .model import Appendix, Column
from .styles import Styles, print_setup
from .summary import _short_action, write_summary

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
    from ..sheets.cells import a1

    name = str(appendix.settings["text"]["table_sheet"])[:31]
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
    marker = str(appendix.settings["text"]["continued"])
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


def write_workbook(appendix: Appendix, target: Any, metrics: Metrics = EXCEL) -> TableLayout:
    """Write the workbook straight to ``target`` (a path or a binary stream; callers make it atomic). Returns
    the table layout used."""
    table = layout(appendix, metrics)
    font = appendix.settings["font"]
    # The default font sets the column-width unit in both Excel and LibreOffice: make it the table's font,
    # else LibreOffice measures widths with whatever it substitutes for Calibri and columns come out wider.
    wb = xlsxout.new_workbook(str(target), default_format_properties={
        "font_name": str(font["name"]), "font_size": 10}, default_row_height=17)
    try:
        styles = Styles(wb, appendix, metrics)
        _properties(wb, appendix)
        write_summary(wb, appendix, styles)
        _write_table(wb, appendix, styles, table)
    finally:
        wb.close()
    return table


def _properties(wb: Any, appendix: Appendix) -> None:
    words = appendix.words()
    text = appendix.settings["text"]
    created = appendix.document_date
    wb.set_properties({
        "title": fill(str(text["document_title"]), words),
        "subject": f"{appendix.appendix_title}, {appendix.cycle.label}",
        "author": appendix.plan_title,
        "created": created if isinstance(created, datetime) else datetime(2000, 1, 1),
    })
    xlsxout.check(wb.set_custom_property("Cycle", appendix.cycle.label), "a document property")


def _write_table(wb: Any, appendix: Appendix, styles: Styles, table: TableLayout) -> None:
    """The table sheet: title rows, the header row (repeated on every page), the rows."""
    text = appendix.settings["text"]
    ws = wb.add_worksheet(str(text["table_sheet"])[:31])
    print_setup(ws, appendix)
    for i, col in enumerate(table.columns):
        xlsxout.check(ws.set_column(i, i, col.width), "a column width")
    xlsxout.write_text(ws, 0, 0, appendix.appendix_title, styles.title, what="the appendix title")
    xlsxout.write_text(ws, 1, 0, appendix.plan_title, styles.subtitle, what="the plan title")
    xlsxout.write_text(ws, 2, 0, appendix.text("built_from", "summary"), styles.note, what="the status line")
    for r, height in enumerate(TITLE_HEIGHTS):
        xlsxout.check(ws.set_row(r, height), "a title row height")
    head = TITLE_ROWS
    ws.set_row(head, table.header_height)
    for i, col in enumerate(table.columns):
        xlsxout.write_text(ws, head, i, col.title, styles.header, what=f"the header of column {i + 1}")
    starts = set(table.first_rows.values()) if page(appendix)["key_area_on_new_page"] else set()
    breaks = []
    r = head
    for n, pr in enumerate(table.rows):
        r = head + 1 + n
        if n in starts and n > 0:
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


def _cell_style(styles: Styles, col: Column, pr: PrintRow) -> Any:
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


__all__ = ["EXCEL", "ROW_LIMIT_PT", "TITLE_ROWS", "check_written", "made_from", "write", "write_workbook",
           "_short_action"]
