"""The naive reference: what a competent person would script with openpyxl alone, one file after another.

- ``write_lead_workbooks``: the same job as ``hwbs_xl.issue.workbook.generate``: per lead, an instructions sheet,
  an update sheet (locked history, RAG fill, unlocked shaded new-cycle cells, status drop-down, date
  validation, frozen header, print setup, protection) and a very hidden signed manifest sheet.
- ``read_returns``: open each returned workbook with ``openpyxl.load_workbook`` and read every cell.
- ``write_appendix``: the committee table on one sheet, wrapped, with RAG fills.

No parallelism, no streaming, no cleverness: the point is a fair "plain openpyxl script" baseline. It reads
the register through its public reads only, and signs the manifest with hwbs-xl's manifest module (the
same job includes the same signature; its cost is a few microseconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hwbs_xl import manifest as mf
from hwbs_xl import templates
from hwbs_xl.model import Action, Update
from hwbs_xl.paths import PlanPaths, slug
from hwbs_xl.register import Register

HISTORY = 2
NEW_FIELDS = ("new_status", "new_progress", "revised_finish", "comment")  # the manifest keys generate uses
LOCKED_FIELDS = ("action_id", "key_area", "activity", "start", "finish")
INSTRUCTIONS = [
    "How to update your actions",
    "1. Go to the Update sheet. Each row is one action you lead.",
    "2. Choose this cycle's status from the drop-down in the shaded Status cell.",
    "3. Write what has happened since the last report in the Progress report cell.",
    "4. If the action will finish late, give a revised finish date.",
    "5. Save the workbook and e-mail it back to the coordinator by the due date.",
]


def _plan_data(reg: Register) -> tuple[Any, list[str], dict[str, list[Action]], dict[tuple[str, str], Update]]:
    cycle = reg.open_cycle() or reg.latest_cycle()
    assert cycle is not None, "the plan has no cycle"
    history = [c.label for c in reg.cycles() if c.seq < cycle.seq][-HISTORY:]
    by_lead: dict[str, list[Action]] = {}
    for action in reg.actions(include_retired=False):
        for lead in action.leads:
            by_lead.setdefault(lead, []).append(action)
    updates = {(u.action_id, u.cycle): u for label in history for u in reg.updates(cycle=label)}
    return cycle, history, by_lead, updates


def write_lead_workbooks(paths: PlanPaths, out_dir: Path, *, limit: int | None = None) -> list[Path]:
    """One openpyxl workbook per lead of the open cycle (the first ``limit`` leads, for sampling)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = templates.vocabulary(paths.root)
    key = mf.load_key(paths)
    with Register.open(paths) as reg:
        plan = reg.plan()
        cycle, history, by_lead, updates = _plan_data(reg)
    fills = {s.key: PatternFill("solid", fgColor=s.fill.lstrip("#")) for s in vocab}
    labels = {s.key: s.label for s in vocab}
    shaded = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="top")
    unlocked = Protection(locked=False)
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    written = []
    for lead in sorted(by_lead, key=str.casefold)[:limit]:
        wb = Workbook()
        intro = wb.active
        intro.title = "Instructions"
        for i, line in enumerate(INSTRUCTIONS, start=1):
            intro.cell(i, 1, line).alignment = wrap
        intro.column_dimensions["A"].width = 100
        ws = wb.create_sheet("Update")
        header = ["Action ID", "Key Area", "Project Activity", "Start", "Finish"]
        for label in history:
            header += [f"Status {label}", f"Progress {label}"]
        new_at = len(header) + 1
        header += [f"Status {cycle.label}", f"Progress report {cycle.label}", "Revised finish", "Comment"]
        for col, text in enumerate(header, start=1):
            ws.cell(1, col, text).font = Font(bold=True)
        status_dv = DataValidation(type="list", formula1='"' + ",".join(vocab.labels) + '"', allow_blank=True,
                                   promptTitle="Status", prompt="Choose from the list")
        date_dv = DataValidation(type="date", operator="greaterThan", formula1="36526")
        ws.add_data_validation(status_dv)
        ws.add_data_validation(date_dv)
        rows = []
        for r, action in enumerate(by_lead[lead], start=2):
            issued = {"action_id": action.id, "key_area": action.key_area, "activity": action.activity,
                      "start": action.start.label if action.start else "",
                      "finish": action.finish.label if action.finish else ""}
            values: list[Any] = list(issued.values())
            for label in history:
                u = updates.get((action.id, label))
                values += [labels.get(u.status or "", vocab.unknown_label) if u else "", u.progress if u else ""]
            for col, value in enumerate(values, start=1):
                c = ws.cell(r, col, value)
                c.alignment = wrap
                if col > 5 and (col - 6) % 2 == 0:
                    u = updates.get((action.id, history[(col - 6) // 2]))
                    if u and u.status in fills:
                        c.fill = fills[u.status]
            for col in range(new_at, new_at + len(NEW_FIELDS)):
                c = ws.cell(r, col)
                c.protection, c.fill, c.alignment = unlocked, shaded, wrap
            status_dv.add(ws.cell(r, new_at))
            date_dv.add(ws.cell(r, new_at + 2))
            ws.row_dimensions[r].height = 120
            rows.append(mf.ManifestRow(action.id, r, mf.fingerprint_values(issued)))
        for col, width in zip("ABCDE", (10, 20, 40, 9, 9)):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "B2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
        ws.oddFooter.center.text = "Page &P of &N"
        ws.protection.sheet = True
        ws.protection.sort = ws.protection.autoFilter = ws.protection.formatRows = False
        from openpyxl.utils import get_column_letter
        columns = {f: get_column_letter(new_at + i) for i, f in enumerate(NEW_FIELDS)}
        m = mf.sign(mf.Manifest(plan_id=mf.plan_id(key), plan_title=plan.title if plan else "", cycle=cycle.label,
                                lead=lead, generated_at=now, template_version="naive", sheet="Update",
                                header_row=1, columns=columns, rows=tuple(rows)), key)
        hidden = wb.create_sheet(mf.MANIFEST_SHEET)
        for line in mf.to_cells(m):
            hidden.append(line)
        hidden.sheet_state = "veryHidden"
        target = out_dir / f"{slug(lead)}.xlsx"
        wb.save(target)
        written.append(target)
    return written


def read_returns(files: Iterable[Path]) -> int:
    """Open each workbook with openpyxl and read every cell's value; returns how many cells held something."""
    from openpyxl import load_workbook

    cells = 0
    for path in files:
        wb = load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += sum(1 for v in row if v is not None)
        wb.close()
    return cells


def write_appendix(paths: PlanPaths, target: Path, *, limit: int | None = None) -> Path:
    """The committee table for the latest cycle on one openpyxl sheet (wrapped text, RAG fills).

    ``limit`` keeps only the first actions (to make a small PDF for the PDF-import measurement)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    vocab = templates.vocabulary(paths.root)
    with Register.open(paths) as reg:
        cycles = reg.cycles()
        # the latest cycle that has reports (a freshly opened cycle has none until returns are merged)
        has_reports = {row[0] for row in reg.conn.execute("SELECT DISTINCT cycle FROM updates")}
        reported = [c.label for c in cycles if c.label in has_reports]
        current, previous = reported[-1], (reported[-2] if len(reported) > 1 else None)
        now = {u.action_id: u for u in reg.updates(cycle=current)}
        before = {u.action_id: u for u in reg.updates(cycle=previous)} if previous else {}
        actions = reg.actions(include_retired=False)[:limit]
    fills = {s.key: PatternFill("solid", fgColor=s.fill.lstrip("#")) for s in vocab}
    labels = {s.key: s.label for s in vocab}
    wb = Workbook()
    ws = wb.active
    ws.title = "Appendix A"
    ws.append(["HWBS Key Area", "Project Activity", "Lead", "Start Date", "Finish Date",
               f"Status as of {current}", "Progress Report", f"{previous} notes"])
    for c in ws[1]:
        c.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, a in enumerate(actions, start=2):  # count rows ourselves: ws.max_row scans every cell
        u, p = now.get(a.id), before.get(a.id)
        values = [a.key_area, a.activity, "; ".join(a.leads), a.start.label if a.start else "",
                  a.finish.label if a.finish else "",
                  labels.get(u.status or "", vocab.unknown_label) if u else vocab.unknown_label,
                  u.progress if u else "", p.progress if p else ""]
        for col, value in enumerate(values, start=1):
            ws.cell(row, col, value).alignment = wrap
        if u and u.status in fills:
            ws.cell(row, 6).fill = fills[u.status]
        # openpyxl does not size rows to their text: estimate the lines of the longest cell (409 pt is the most)
        lines = max(_lines(str(v), WIDTHS[i]) for i, v in enumerate(values))
        ws.row_dimensions[row].height = min(409, 13 * lines + 4)
    for i, width in enumerate(WIDTHS):
        ws.column_dimensions["ABCDEFGH"[i]].width = width
    ws.freeze_panes = "A2"
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.save(target)
    return target


WIDTHS = (14, 30, 18, 9, 9, 16, 60, 45)


def _lines(text: str, width: float) -> int:
    return sum(1 + len(part) // int(width * 1.1) for part in text.split("\n"))
