"""Settling flagged items: what an import (or merge) could not decide, decided by the coordinator.

Two ways, both recorded as one register batch that names who settled and when (undoable like any batch):
- the command form: ``hwbs-xl flags`` lists the open flags with their ids, ``hwbs-xl settle ID VALUE``
  settles one;
- the review workbook: ``hwbs-xl review --out review.xlsx`` writes every open flag with a yellow "Your
  decision" column; ``hwbs-xl review --apply review.xlsx`` settles every row that has a decision, all or
  nothing (one unusable decision and nothing changes; the report names the row).

What a VALUE can be, by the flag's field:
- status: a status label (any case), its number in the list (1 = first), or its key;
- lead: the lead names, separated by ";";
- start / finish: a month ("Mar-25", "March 2025", "2025-03"); revised finish (a merge's): a month, or "keep";
- link: an action ID (the two actions become one, under that ID: its updates, flags and the latest
  wording), or "new" (they stay separate actions);
- activity, progress, key area (a glyph the file could not map): the corrected text, or "keep".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .. import templates
from ..errors import InvalidData, NotFound
from ..findings import Report
from ..model import Flag, Month, StatusVocabulary, cycle_seq
from ..paths import PlanPaths
from ..register import Batch, Register, action_row, coordinator_name, flag_row, now_iso

KEEP = "keep"
NEW = "new"


@dataclass
class SettleResult:
    report: Report
    batch_id: int | None
    settled: list[int]
    by: str = ""  # who the decisions are recorded as made by


@dataclass(frozen=True)
class _Decision:
    flag: Flag
    value: str  # normalised: a status key, a month ISO, "new", an action ID, leads JSON or text
    shown: str  # what is recorded as the settled value (a label, "Mar-25", ...)


def choices(flag: Flag, vocab: StatusVocabulary) -> str:
    """What the coordinator may answer, in words."""
    if flag.field == "status":
        return "; ".join(f"{i}. {s.label}" for i, s in enumerate(vocab, 1))
    if flag.field == "link":
        return "new, or " + ", ".join(c.split(" ")[0] for c in flag.candidates)
    if flag.field == "lead":
        return "lead names, separated by ;"
    if flag.field in ("start", "finish"):
        return "a month, e.g. Mar-25"
    if flag.field == "revised_finish":
        return "a month, e.g. Mar-25, or keep"
    return "the corrected text, or keep"


def _status(value: str, vocab: StatusVocabulary, plan_dir: Path) -> tuple[str, str] | None:
    """A status number, key or label; or words only one status can mean ("on target", "delayed")."""
    from ..importing.status import StatusReader

    text = value.strip()
    if text.isdigit() and 1 <= int(text) <= len(vocab):
        numbered = vocab.statuses[int(text) - 1]
        return numbered.key, numbered.label
    s = vocab.by_label(text) or vocab.by_key(text.strip().lower())
    if s is None:
        cfg = templates.load_toml("import.toml", plan_dir).get("status", {})
        s = vocab.by_key(StatusReader(vocab, cfg).read(text).key)
    return (s.key, s.label) if s else None


def _decide(reg: Register, flag: Flag, raw_value: str, vocab: StatusVocabulary) -> _Decision | str:
    """The decision, or a message saying why the value cannot settle this flag."""
    value = " ".join(str(raw_value).split()) if flag.field != "progress" else str(raw_value).strip()
    if not value:
        return "the decision is empty"
    if flag.field == "status":
        got = _status(value, vocab, reg.paths.root)
        if got is None:
            return f"{value!r} is not a status; use one of: {choices(flag, vocab)}"
        return _Decision(flag, got[0], got[1])
    if flag.field == "revised_finish" and value.lower() == KEEP:
        return _Decision(flag, KEEP, KEEP)
    if flag.field in ("start", "finish", "revised_finish"):
        month = Month.parse(value)
        if month is None:
            return f"{value!r} is not a month (write it like Mar-25)"
        return _Decision(flag, month.iso, month.label)
    if flag.field == "lead":
        leads = [" ".join(x.split()) for x in value.replace("\n", ";").split(";") if x.strip()]
        return _Decision(flag, json.dumps(leads), "; ".join(leads)) if leads else "no lead name given"
    if flag.field == "link":
        if value.lower() == NEW:
            return _Decision(flag, NEW, NEW)
        target = value.split()[0].upper()  # "KA1-04 (0.78)" as the candidates list it
        if target == flag.action_id:
            return f"{target} is this flag's own action; give another action's ID or \"new\""
        try:
            reg.action(target)
        except NotFound:
            return f"there is no action {target}; give one of {choices(flag, vocab)}"
        clash = [u.cycle for u in reg.updates(action_id=flag.action_id) if reg.update(target, u.cycle)]
        if clash:
            return (f"{target} already has an update for {', '.join(clash)}, so it cannot also take "
                    f"{flag.action_id}'s; they look like two actions (settle with \"new\")")
        return _Decision(flag, target, target)
    return _Decision(flag, KEEP if value.lower() == KEEP else value, value)


def settle(paths: PlanPaths, decisions: list[tuple[int, Any]], *, by: str | None = None, command: str,
           kind: str = "settle") -> SettleResult:
    """Settle flags (id, value) in one batch; all or nothing. Bad decisions are findings, not exceptions."""
    with Register.open(paths) as reg:
        return settle_in(reg, decisions, by=by, command=command, kind=kind)


def settle_in(reg: Register, decisions: list[tuple[int, Any]], *, by: str | None = None, command: str,
              kind: str = "settle", where: dict[int, str] | None = None) -> SettleResult:
    vocab = templates.vocabulary(reg.paths.root)
    flags = {f.id: f for f in reg.flags()}
    report = Report()
    chosen: list[_Decision] = []
    for flag_id, value in decisions:
        at = (where or {}).get(flag_id)
        flag = flags.get(int(flag_id))
        if flag is None:
            if where is None:
                raise NotFound(f"There is no flag {flag_id}.", hint="`hwbs-xl flags` lists the open flags.")
            report.add("settle-invalid", f"There is no flag {flag_id}.", where=at)
            continue
        if flag.settled_at is not None:
            msg = f"Flag {flag.id} was already settled ({flag.settled_value!r} by {flag.settled_by}, {flag.settled_at})."
            if where is None:
                raise InvalidData(msg, hint="Undo that settle batch first (`hwbs-xl log`, `hwbs-xl undo`) to change it.",
                                  code="settle-already")
            report.add("settle-already", msg + " Not applied again.", where=at, action_id=flag.action_id)
            continue
        got = _decide(reg, flag, _cell_text(value), vocab)
        if isinstance(got, str):
            report.add("settle-invalid", f"Flag {flag.id} ({flag.field} of {flag.action_id}, {flag.cycle}): {got}.",
                       where=at, action_id=flag.action_id, value=_cell_text(value))
            continue
        chosen.append(got)
    if report.errors or not chosen:
        return SettleResult(report, None, [])
    who = by or coordinator_name()
    when = now_iso()
    with reg.batch(kind, command=command, summary=_settled_summary(chosen)) as b:
        done: set[int] = set()
        for d in chosen:
            _apply(reg, b, d, who, when, vocab)
            done.add(d.flag.id)
            report.add("flag-settled", f"Flag {d.flag.id} ({d.flag.field} of {d.flag.action_id}, {d.flag.cycle}) "
                       f"settled as {d.shown!r} by {who}.", action_id=d.flag.action_id, where=(where or {}).get(d.flag.id))
        touched = {d.flag.action_id for d in chosen if d.flag.action_id}
        touched |= {d.value for d in chosen if d.flag.field == "link" and d.value != NEW}
        _refresh_review_marks(reg, b, {a for a in touched if a})
    return SettleResult(report, b.id, sorted(done), who)


def _settled_summary(chosen: list[_Decision]) -> str:
    """What the log says a settle did: which flag was settled to what (the first few; the log adds who)."""
    shown = "; ".join(f"flag {d.flag.id} ({d.flag.field} of {d.flag.action_id}, {d.flag.cycle}) as {d.shown!r}"
                      for d in chosen[:3])
    more = f"; and {len(chosen) - 3} more" if len(chosen) > 3 else ""
    return f"settled {shown}{more}"


def _cell_text(value: Any) -> str:
    """A decision as typed in a spreadsheet: dates mean months, whole numbers are numbers, not 2.0."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return Month(value.year, value.month).label
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _apply(reg: Register, b: Batch, d: _Decision, who: str, when: str, vocab: StatusVocabulary) -> None:
    f = d.flag
    b.put("flags", {**flag_row(f), "settled_value": d.shown, "settled_by": who, "settled_at": when})
    action_id, cycle = f.action_id, f.cycle
    if action_id is None:
        return
    if f.field == "status" and cycle:
        b.put("updates", {"action_id": action_id, "cycle": cycle, "status": d.value})
    elif f.field in ("start", "finish"):
        b.put("actions", {"id": action_id, f.field: d.value})
    elif f.field == "revised_finish" and cycle and d.value != KEEP:
        b.put("updates", {"action_id": action_id, "cycle": cycle, "revised_finish": d.value})
    elif f.field == "lead":
        leads = json.loads(d.value)
        if cycle and reg.update(action_id, cycle):
            b.put("updates", {"action_id": action_id, "cycle": cycle, "leads_as_reported": json.dumps(leads)})
        if _is_latest(reg, action_id, cycle) or not reg.action(action_id).leads:
            b.put("actions", {"id": action_id, "leads": json.dumps(leads)})
    elif f.field == "link" and d.value != NEW:
        _merge(reg, b, source=action_id, target=d.value)
    elif f.field in ("activity", "key_area", "progress") and d.value != KEEP:
        if f.field == "progress" and cycle:
            b.put("updates", {"action_id": action_id, "cycle": cycle, "progress": d.value})
        elif f.field == "activity":
            if cycle and reg.update(action_id, cycle):
                b.put("updates", {"action_id": action_id, "cycle": cycle, "activity_as_reported": d.value})
            if _is_latest(reg, action_id, cycle):
                b.put("actions", {"id": action_id, "activity": d.value})
        else:
            b.put("actions", {"id": action_id, "key_area": d.value})


def _is_latest(reg: Register, action_id: str, cycle: str | None) -> bool:
    cycles = [u.cycle for u in reg.updates(action_id=action_id)]
    return cycle is None or not cycles or cycles[-1] == cycle


def _merge(reg: Register, b: Batch, *, source: str, target: str) -> None:
    """Make two actions one under ``target``: its updates and flags move; the latest wording wins."""
    src, tgt = reg.action(source), reg.action(target)
    src_updates, tgt_updates = reg.updates(action_id=source), reg.updates(action_id=target)
    seq = {c.label: c.seq for c in reg.cycles()}
    latest_src = max((seq[u.cycle] for u in src_updates), default=0)
    latest_tgt = max((seq[u.cycle] for u in tgt_updates), default=0)
    for u in src_updates:
        row = b.get("updates", {"action_id": source, "cycle": u.cycle})
        assert row is not None
        b.put("updates", {**row, "action_id": target})
        b.delete("updates", {"action_id": source, "cycle": u.cycle})
    for other in reg.flags():
        if other.action_id == source:
            current = b.get("flags", {"id": other.id}) or flag_row(other)
            b.put("flags", {**current, "action_id": target})
    if latest_src > latest_tgt:
        merged = tgt.__class__(id=target, key_area=src.key_area, activity=src.activity, leads=src.leads or tgt.leads,
                               start=src.start or tgt.start, finish=src.finish or tgt.finish, state=tgt.state,
                               keep=tgt.keep)
    else:
        merged = tgt.__class__(id=target, key_area=tgt.key_area, activity=tgt.activity, leads=tgt.leads or src.leads,
                               start=tgt.start or src.start, finish=tgt.finish or src.finish, state=tgt.state,
                               keep=tgt.keep)
    b.put("actions", action_row(merged))
    b.delete("actions", {"id": source})


def _refresh_review_marks(reg: Register, b: Batch, action_ids: set[str]) -> None:
    """An update needs review while any flag on it is open (read inside the batch, after the changes)."""
    open_on = {(f.action_id, f.cycle) for f in reg.flags(open_only=True)}
    for action_id in sorted(action_ids):
        for u in reg.updates(action_id=action_id):
            want = (action_id, u.cycle) in open_on
            if u.needs_review != want:
                b.put("updates", {"action_id": action_id, "cycle": u.cycle, "needs_review": int(want)})


# ---- the review workbook ----------------------------------------------------------------------------------

def write_review(paths: PlanPaths, path: Path) -> tuple[Path, int]:
    """A workbook listing every open flag with a yellow decision column. Returns (path, number of flags)."""
    from ..safeio import atomic_write
    from ..sheets.tables import write_table
    from ..sheets.writing import check, new_workbook, write_number, write_text
    from ..templates import status_list_source

    with Register.open(paths) as reg:
        cfg = templates.read_settings("import.toml", paths.root)["review"]
        vocab = templates.vocabulary(paths.root)
        flags = reg.flags(open_only=True)
        sources = {(u.action_id, u.cycle): u.source for u in reg.updates()}
        rows: list[tuple[int, str, str, str, str, str, str, str]] = []
        for f in flags:
            # a flag about no action or no cycle (e.g. an unplaced row) has no update to point to
            src = sources.get((f.action_id, f.cycle)) if f.action_id and f.cycle else None
            rows.append((f.id, f.action_id or "", f.cycle or "", f.field, f.raw, f.message, choices(f, vocab),
                         f"{src.file}, {src.where}" if src and src.file else ""))

    columns = cfg["columns"]

    def produce(tmp: Path) -> None:
        wb = new_workbook(str(tmp))
        head = wb.add_format({"bold": True, "bg_color": cfg["header_fill"],
                              "font_color": cfg["header_font"], "text_wrap": True, "valign": "top",
                              "border": 1, "locked": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "locked": True})
        decide = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "locked": False,
                                "bg_color": cfg["decision_fill"]})
        title = wb.add_format({"bold": True, "font_size": 12, "text_wrap": True})
        ws = wb.add_worksheet(str(cfg["sheet"])[:31])
        # the statuses on a visible sheet (a hidden sheet's list fails in some spreadsheet programs)
        choices_ws = wb.add_worksheet(str(cfg["choices_sheet"])[:31])
        for j, (name, width) in enumerate(cfg["choices_columns"]):
            write_text(choices_ws, 0, j, name, head)
            check(choices_ws.set_column(j, j, width), "column width")
        for i, status in enumerate(vocab, start=1):
            write_number(choices_ws, i, 0, i, wrap)
            write_text(choices_ws, i, 1, status.label, wrap)
            write_text(choices_ws, i, 2, status.meaning, wrap)
        source = status_list_source(vocab, f"='{choices_ws.name}'!$B$2:$B${len(vocab) + 1}")
        check(ws.merge_range(0, 0, 0, len(columns) - 1, "", title), "title")
        write_text(ws, 0, 0, cfg["title"], title)
        ws.set_row(0, 36)
        last = len(columns) - 1  # the decision column, blank and unlocked
        write_table(ws, 1, [(name, width) for name, width in columns], [(*row, "") for row in rows], head=head,
                    cell=lambda _n, j: decide if j == last else wrap, typed=True)
        for i, row in enumerate(rows, start=2):
            if row[3] == "status":
                check(ws.data_validation(i, last, i, last, {
                    "validate": "list", "source": source, "error_type": "information",
                    "input_title": cfg["status_input_title"], "input_message": cfg["status_input_message"]}), "drop-down")
        ws.protect("", {"autofilter": True, "sort": False, "format_columns": True, "format_rows": True})
        wb.close()

    return atomic_write(Path(path), produce), len(rows)


def read_review(paths: PlanPaths, path: Path) -> tuple[list[tuple[int, Any]], dict[int, str], Report]:
    """The decisions typed into a review workbook: [(flag id, value)], where each came from, findings."""
    import openpyxl

    names = [c[0] for c in templates.read_settings("import.toml", paths.root)["review"]["columns"]]
    report = Report()
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook at all, or damaged: say so plainly
        report.add("review-not-review-workbook", f"{Path(path).name} cannot be opened as a workbook ({type(exc).__name__}).",
                   file=Path(path).name)
        return [], {}, report
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            for r, row in enumerate(rows, start=1):
                cells = ["" if v is None else str(v).strip() for v in row]
                if names and names[0] in cells and names[-1] in cells:
                    col_id, col_decision = cells.index(names[0]), cells.index(names[-1])
                    out, where = [], {}
                    for r2, data in enumerate(rows, start=r + 1):
                        if data is None or len(data) <= max(col_id, col_decision):
                            continue
                        flag_id, decision = data[col_id], data[col_decision]
                        if flag_id is None or _cell_text(decision).strip() == "":
                            continue
                        try:
                            fid = int(float(str(flag_id)))
                        except ValueError:
                            continue
                        out.append((fid, decision))
                        where[fid] = f"'{ws.title}'!row {r2}"
                    return out, where, report
    finally:
        wb.close()
    report.add("review-not-review-workbook", f"{Path(path).name} has no sheet with the columns "
               f"\"{names[0] if names else 'Flag'}\" and \"{names[-1] if names else 'Your decision'}\".",
               file=Path(path).name)
    return [], {}, report


def apply_review(paths: PlanPaths, path: Path, *, by: str | None = None, command: str) -> SettleResult:
    """Settle every decision in a review workbook, in one batch (all or nothing)."""
    decisions, where, report = read_review(paths, path)
    if report.errors:
        return SettleResult(report, None, [])
    with Register.open(paths) as reg:
        result = settle_in(reg, decisions, by=by, command=command, kind="review", where=where)
    for f in result.report:
        report.findings.append(f.__class__(**{**f.to_dict(), "file": Path(path).name}))
    result.report = report
    return result


def open_flags(paths: PlanPaths, *, include_settled: bool = False) -> list[tuple[Flag, str]]:
    """Flags with the choices a coordinator has, newest cycle last."""
    with Register.open(paths) as reg:
        vocab = templates.vocabulary(paths.root)
        flags = reg.flags(open_only=not include_settled)
        seqs = {c.label: c.seq for c in reg.cycles()}
    return [(f, choices(f, vocab)) for f in sorted(flags, key=lambda f: (seqs.get(f.cycle or "", cycle_seq(f.cycle or "")), f.id))]
