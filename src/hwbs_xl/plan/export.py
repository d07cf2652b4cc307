"""Exporting the register as JSON (for other programs) or as a workbook (for people).

The JSON export (``hwbs-xl export --format json``) has this shape; every key is always present::

    {
      "format": "hwbs-xl register export", "version": 1,
      "plan": {"title": "Barnet Health and Wellbeing Strategy - Phase 2 Implementation Plan",
               "appendix_title": "Appendix A"},
      "statuses": [{"key": "on_target", "label": "On target to be achieved by target date", "rag": "green"}, ...],
      "cycles": [{"label": "April 2024", "seq": 202404, "state": "closed",       # oldest first
                  "report_date": null, "due_date": null}, ...],
      "actions": [{
          "id": "KA1-02", "key_area": "Key Area 1",
          "activity": "...",                   # the latest wording (from the latest cycle that reported it)
          "leads": ["Senior Public Health Strategist, LBB"],
          "start": "2021-09", "finish": "2024-03",    # months as YYYY-MM, or null
          "state": "active",                   # or "retired"
          "updates": [{                        # one per cycle the action was reported in, oldest first
              "cycle": "April 2024",
              "status": "Completed",           # the vocabulary LABEL; null when unknown or flagged
              "status_key": "completed",       # the stable key (null likewise)
              "status_raw": "Completed",       # exactly what the paper or return said
              "needs_review": false,           # true while a flag on this update is open
              "progress": "...", "revised_finish": null, "comment": "",
              "activity_as_reported": "...", "leads_as_reported": ["..."],
              "source": {"file": "barnet-2024-04.txt", "sha256": "...", "where": "line 4",
                         "returned_by": null, "recorded_at": "2024-...", "batch": 3}
          }, ...]
      }, ...],
      "flags": [{"id": 7, "action_id": "KA1-16", "cycle": "April 2024", "field": "lead",
                 "code": "lead-unreadable", "raw": "• •", "message": "...", "candidates": [],
                 "open": true, "settled_value": null, "settled_by": null, "settled_at": null}, ...]
    }
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import templates
from ..model import Month
from ..register import Register
from ..safeio import atomic_write
from ..sheets.tables import write_table
from ..sheets.writing import new_workbook

EXPORT_FORMAT = "hwbs-xl register export"
EXPORT_VERSION = 1


def _month(m: Month | None) -> str | None:
    return m.iso if m else None


def export_json(reg: Register) -> dict[str, Any]:
    """The whole register as one JSON-ready dict (shape in the module docstring)."""
    vocab = templates.vocabulary(reg.paths.root)
    plan = reg.plan()
    updates_by_action: dict[str, list[dict[str, Any]]] = {}
    for u in reg.updates():
        status = vocab.by_key(u.status)
        updates_by_action.setdefault(u.action_id, []).append({
            "cycle": u.cycle,
            "status": status.label if status else None,
            "status_key": status.key if status else None,
            "status_raw": u.status_raw,
            "needs_review": u.needs_review,
            "progress": u.progress,
            "revised_finish": _month(u.revised_finish),
            "comment": u.comment,
            "activity_as_reported": u.activity_as_reported,
            "leads_as_reported": list(u.leads_as_reported),
            "source": {"file": u.source.file, "sha256": u.source.sha256, "where": u.source.where,
                       "returned_by": u.source.returned_by, "recorded_at": u.source.recorded_at,
                       "batch": u.source.batch},
        })
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "plan": {"title": plan.title if plan else None, "appendix_title": plan.appendix_title if plan else None},
        "statuses": [{"key": s.key, "label": s.label, "rag": s.rag} for s in vocab],
        "cycles": [{"label": c.label, "seq": c.seq, "state": c.state,
                    "report_date": c.report_date.isoformat() if c.report_date else None,
                    "due_date": c.due_date.isoformat() if c.due_date else None} for c in reg.cycles()],
        "actions": [{"id": a.id, "key_area": a.key_area, "activity": a.activity, "leads": list(a.leads),
                     "start": _month(a.start), "finish": _month(a.finish), "state": a.state,
                     "updates": updates_by_action.get(a.id, [])} for a in reg.actions()],
        "flags": [{"id": f.id, "action_id": f.action_id, "cycle": f.cycle, "field": f.field, "code": f.code,
                   "raw": f.raw, "message": f.message, "candidates": list(f.candidates),
                   "open": f.settled_at is None, "settled_value": f.settled_value, "settled_by": f.settled_by,
                   "settled_at": f.settled_at} for f in reg.flags()],
    }


def export_xlsx(reg: Register, path: Path) -> Path:
    """The register as a workbook (sheets, titles and widths from import.toml [export]); all cells text."""
    cfg = templates.read_settings("import.toml", reg.paths.root)["export"]
    data = export_json(reg)
    rows: dict[str, list[dict[str, Any]]] = {"Actions": [], "Updates": [], "Cycles": [], "Flags": []}
    for a in data["actions"]:
        latest = a["updates"][-1] if a["updates"] else {}
        rows["Actions"].append({**a, "leads": "\n".join(a["leads"]), "start": _label(a["start"]),
                                "finish": _label(a["finish"]), "latest_cycle": latest.get("cycle"),
                                "latest_status": latest.get("status"),
                                "needs_review": "yes" if latest.get("needs_review") else ""})
        for u in a["updates"]:
            rows["Updates"].append({**u, **u["source"], "id": a["id"], "needs_review": "yes" if u["needs_review"] else "",
                                    "leads_as_reported": "\n".join(u["leads_as_reported"])})
    rows["Cycles"] = list(data["cycles"])
    rows["Flags"] = [{**f, "candidates": "\n".join(f["candidates"])} for f in data["flags"]]

    def produce(tmp: Path) -> None:
        wb = new_workbook(str(tmp))
        head = wb.add_format({"bold": True, "bg_color": cfg["header_fill"],
                              "font_color": cfg["header_font"], "text_wrap": True, "valign": "top",
                              "border": 1})
        wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
        for sheet in cfg.get("sheet", []):
            name = str(sheet["name"])
            ws = wb.add_worksheet(name[:31])
            columns = sheet["columns"]
            records = rows.get(name, [])
            values = [["" if row.get(key) is None else row.get(key) for key, _t, _w in columns] for row in records]
            write_table(ws, 0, [(title, width) for _k, title, width in columns], values, head=head, cell=wrap,
                        what=_cell_names(columns, records, name))
        wb.close()

    return atomic_write(Path(path), produce)


def _cell_names(columns: list[Any], records: list[dict[str, Any]], sheet: str) -> Callable[[int, int], str]:
    """Name each cell by its row and field, so an over-long text says which action and column to shorten."""
    def what(n: int, j: int) -> str:
        row = records[n]
        return f"{columns[j][1]} of {row.get('id') or row.get('label') or f'row {n + 1}'} ({sheet})"

    return what


def _label(iso: str | None) -> str:
    m = Month.from_iso(iso)
    return m.label if m else ""
