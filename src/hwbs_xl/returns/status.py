"""The return register for the open cycle: who was issued a workbook, who returned it, what became of it.

Per lead: issued, returned, merged, queried, outstanding, overdue (outstanding after the cycle's due
date). It doubles as the chase list, written as CSV and xlsx to ``<plan>/reports/<cycle>/``; with
``drafts=True`` a reminder ``.eml`` (the issued workbook attached again) is written per outstanding lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from .. import templates
from ..errors import UsageProblem
from ..findings import report_json
from ..issue.drafts import build_eml, render_template
from ..manifest import from_record
from ..model import Cycle, ReturnRecord, ReturnState
from ..paths import PlanPaths, distinct_file_names, slug
from ..register import Register
from ..safeio import atomic_write
from ..sheets import writing as xlsxout
from ..sheets.tables import write_table
from ..templates import fill
from ..text import long_date, short_moment
from .notes import reports_dir

MERGED, QUERIED, REJECTED, OUTSTANDING = (ReturnState.MERGED, ReturnState.QUERIED, ReturnState.REJECTED,
                                          ReturnState.OUTSTANDING)


@dataclass(frozen=True)
class LeadReturn:
    """One lead's position in the cycle."""

    lead: str
    email: str
    actions: int
    file: str  # the issued workbook (relative to the plan folder)
    issued_at: str
    received: int  # returned files, whatever their fate
    last_received: str | None
    state: ReturnState  # merged, queried, rejected (returned but unusable), outstanding
    overdue: bool
    updated: int  # actions with an update from this lead in the register
    comments: tuple[tuple[str, str], ...] = ()  # (action ID, the lead's comment to the coordinator), in full
    missing: tuple[str, ...] = ()  # the lead's actions with no update from them yet (all of them when none came)
    blank: bool = False  # their latest usable return came back with nothing typed in (return-empty)

    @property
    def returned(self) -> bool:
        return self.received > 0

    @property
    def merged(self) -> bool:
        return self.state == MERGED

    @property
    def queried(self) -> bool:
        return self.state == QUERIED

    @property
    def chase(self) -> str:
        """Why this lead is still to be chased, in returns.toml [reminder] terms, or "" when they are not:
        not_returned, refused (nothing in their file could be used), empty (returned with nothing typed
        in), partial (some of their actions still have no update)."""
        if self.state == OUTSTANDING:
            return "not_returned"
        if self.state == REJECTED:
            return "refused"
        if not self.missing:
            return ""
        if self.blank:
            return "empty"
        return "queried" if self.state == QUERIED else "partial"

    @property
    def outstanding(self) -> bool:
        """Nothing usable from this lead yet: not returned, refused, returned with nothing typed in, or
        every row of their return still waiting on a correction."""
        return bool(self.chase) and len(self.missing) >= self.actions

    @property
    def position(self) -> str:
        """The returns.toml [states] word for this lead's position."""
        return self.chase if self.chase in ("empty", "partial") else self.state.value


@dataclass
class ReturnRegister:
    cycle: Cycle
    plan_title: str
    leads: list[LeadReturn]
    today: date
    words: dict[str, str]
    files: list[Path] = field(default_factory=list)
    drafts: list[Path] = field(default_factory=list)

    def count(self, what: str) -> int:
        return sum(1 for r in self.leads if getattr(r, what))

    @property
    def outstanding(self) -> list[LeadReturn]:
        return [r for r in self.leads if r.outstanding]

    @property
    def chased(self) -> list[LeadReturn]:
        """Everyone a reminder goes to: the outstanding, and those who returned only part of their update."""
        return [r for r in self.leads if r.chase]

    def lines(self) -> list[str]:
        due = self.cycle.due_date.isoformat() if self.cycle.due_date else "no due date"
        out = [f"Returns for {self.cycle.label} (due {due}): {len(self.leads)} issued, {self.count('returned')} "
               f"returned, {self.count('merged')} merged, {self.count('queried')} queried, "
               f"{self.count('outstanding')} outstanding, {self.count('overdue')} overdue."]
        for r in sorted(self.leads, key=lambda r: (not r.overdue, not r.outstanding, r.lead.casefold())):
            flag = f"  {self.words.get('overdue', 'OVERDUE')}" if r.overdue else ""
            out.append(f"  {self.words.get(r.position, r.position):<40} {r.lead} ({r.actions} action(s), "
                       f"{r.updated} updated){flag}")
        said = [(r.lead, action, text) for r in sorted(self.leads, key=lambda r: r.lead.casefold())
                for action, text in r.comments]
        if said:
            out.append(f"Comments to you from the leads ({len(said)}):")
            for lead, action, text in said:
                out.append(f"  {lead} on {action}:")
                out += [f"    {line}" for line in text.splitlines()]
        if self.files:
            out.append(f"Chase list: {', '.join(str(p) for p in self.files)}")
        if self.drafts:
            out.append(f"{len(self.drafts)} reminder draft(s) in {self.drafts[0].parent}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"cycle": self.cycle.label, "due": self.cycle.due_date, "today": self.today,
                "leads": [{**r.__dict__, "outstanding": r.outstanding} for r in self.leads],
                "files": [str(p) for p in self.files], "drafts": [str(p) for p in self.drafts]}

    def to_json(self) -> str:
        return report_json(self.to_dict())


def status(paths: PlanPaths, *, drafts: bool = False, today: date | None = None, write: bool = True) -> ReturnRegister:
    """The return register of the open cycle; writes the chase list (and reminder drafts) unless ``write=False``."""
    today = today or date.today()
    settings = templates.read_settings("returns.toml", paths.root)
    with Register.open(paths) as reg:
        cycle = reg.open_cycle()
        if cycle is None:
            raise UsageProblem("No cycle is open, so there is no return register.",
                               hint='Open one first: hwbs-xl cycle open "October 2024" --due 2024-11-15')
        plan = reg.plan()
        leads = _positions(paths, reg, cycle, today)
    result = ReturnRegister(cycle, plan.title if plan else "", leads, today, dict(settings.get("states", {})))
    if write:
        result.files = write_chase_list(paths, result, settings)
        if drafts:
            result.drafts = write_reminders(paths, result, settings)
    return result


def _positions(paths: PlanPaths, reg: Register, cycle: Cycle, today: date) -> list[LeadReturn]:
    contacts = {k: str(v) for k, v in templates.load_toml("contacts.toml", paths.root).get("leads", {}).items()}
    returns: dict[str | None, list[ReturnRecord]] = {}
    for record in sorted(reg.returns(cycle=cycle.label), key=lambda r: r.received_at or ""):
        returns.setdefault(record.lead, []).append(record)
    updated: dict[str, int] = {}
    updated_ids: dict[str, set[str]] = {}
    comments: dict[str, list[tuple[str, str]]] = {}
    for u in reg.updates(cycle=cycle.label):
        if u.source.returned_by:
            updated[u.source.returned_by] = updated.get(u.source.returned_by, 0) + 1
            updated_ids.setdefault(u.source.returned_by, set()).add(u.action_id)
            if u.comment.strip():
                comments.setdefault(u.source.returned_by, []).append((u.action_id, u.comment.strip()))
    overdue_now = cycle.due_date is not None and today > cycle.due_date
    out = []
    for issued in reg.issued(cycle.label):
        lead = issued.lead
        manifest, _ = from_record(issued.manifest)
        mine = returns.get(lead, [])
        state = _state(mine)
        mine_ids = updated_ids.get(lead, set())
        usable = [r for r in mine if r.state.taken]
        position = LeadReturn(lead=lead, email=contacts.get(lead, ""), actions=len(manifest.rows), file=issued.file,
                              issued_at=issued.generated_at, received=len(mine),
                              last_received=mine[-1].received_at if mine else None, state=state,
                              overdue=False, updated=updated.get(lead, 0), comments=tuple(comments.get(lead, ())),
                              missing=tuple(r.action_id for r in manifest.rows if r.action_id not in mine_ids),
                              blank=bool(usable) and "return-empty" in usable[-1].report.get("codes", ()))
        out.append(replace(position, overdue=overdue_now and position.outstanding))
    return out


def _state(returns: list[ReturnRecord]) -> ReturnState:
    """A lead's position from their returns: the latest usable return decides; only rejected ones count as none."""
    taken = [r for r in returns if r.state.taken or r.state is ReturnState.SUPERSEDED]
    current = [r for r in taken if r.state is not ReturnState.SUPERSEDED]
    if current:
        return current[-1].state
    if taken:
        return MERGED
    return REJECTED if returns else OUTSTANDING


# ---- the chase list files -------------------------------------------------------------------------------

def _cells(r: LeadReturn, words: dict[str, str]) -> dict[str, object]:
    return {"lead": r.lead, "email": r.email, "actions": r.actions, "state": words.get(r.position, r.position),
            "overdue": words.get("overdue", "OVERDUE") if r.overdue else words.get("not_overdue", ""),
            "updated": r.updated, "last_received": short_moment(r.last_received), "file": Path(r.file).name}


def write_chase_list(paths: PlanPaths, reg: ReturnRegister, settings: dict[str, Any]) -> list[Path]:
    spec = settings["chase_list"]
    folder = reports_dir(paths, reg.cycle.label)
    stem = spec.get("file_stem", "chase-list")
    cols = spec["columns"]
    rows = [_cells(r, reg.words) for r in _ordered(reg.leads)]
    csv = atomic_write(folder / f"{stem}.csv", xlsxout.csv_bytes([c["heading"] for c in cols],
                                                                  [[row[c["key"]] for c in cols] for row in rows]))
    xlsx = atomic_write(folder / f"{stem}.xlsx", lambda tmp: _chase_xlsx(tmp, reg, settings, rows))
    return [csv, xlsx]


def _ordered(leads: list[LeadReturn]) -> list[LeadReturn]:
    return sorted(leads, key=lambda r: (not r.overdue, not r.outstanding, r.lead.casefold()))


def _title_values(reg: ReturnRegister) -> dict[str, object]:
    due = reg.cycle.due_date
    return {"plan_title": reg.plan_title, "cycle": reg.cycle.label, "today": long_date(reg.today),
            "due": long_date(due) if due else "no due date set"}


def _chase_xlsx(target: Path, reg: ReturnRegister, settings: dict[str, Any], rows: list[dict[str, object]]) -> None:
    spec, colours = settings["chase_list"], settings["colours"]
    cols = spec["columns"]
    wb = xlsxout.new_workbook(str(target))
    ws = wb.add_worksheet(spec.get("sheet", "Chase list")[:31])
    base = {"font_name": colours["font"], "font_size": colours["font_size"], "valign": "top", "text_wrap": True}
    border = {"border": 1, "border_color": colours["border"]}
    values = _title_values(reg)
    title = wb.add_format({**base, "bold": True, "font_size": 14, "text_wrap": False, "font_color": colours["title_font"]})
    subtitle = wb.add_format({**base, "text_wrap": False})
    head = wb.add_format({**base, **border, "bold": True, "bg_color": colours["header_fill"],
                          "font_color": colours["header_font"]})
    fills = {state: wb.add_format({**base, **border, "bg_color": colours[f"{state}_fill"]})
             for state in (MERGED, QUERIED, OUTSTANDING, "overdue")}
    leads = _ordered(reg.leads)
    line_fill = [fills["overdue" if r.overdue else
                       r.state if r.state in (MERGED, QUERIED) and not r.outstanding else OUTSTANDING] for r in leads]
    columns = [(c["heading"], float(c["width"])) for c in cols]
    write_table(ws, 3, columns, [[row[c["key"]] for c in cols] for row in rows], head=head,
                cell=lambda n, _col: line_fill[n], titles=[(fill(spec["title"], values), title),
                                                         (fill(spec.get("subtitle", ""), values), subtitle)],
                typed=True, what=lambda _n, col: str(cols[col]["key"]), spare_line=False, freeze_col=1)
    ws.set_row(3, xlsxout.row_height([c["heading"] for c in cols], [w for _, w in columns], spare_line=False))
    ws.set_paper(9)  # A4: the chase list goes on the coordinator's office printer
    wb.close()


def write_reminders(paths: PlanPaths, reg: ReturnRegister, settings: dict[str, Any]) -> list[Path]:
    """A reminder draft per lead still to chase (not returned, refused, empty or partial), saying which,
    with the issued workbook attached again when it is still there."""
    spec = settings["chase_list"]
    folder = reports_dir(paths, reg.cycle.label) / spec.get("reminder_folder", "reminders")
    coordinator = templates.plan_settings(paths.root).get("coordinator", {})
    values = _title_values(reg)
    out = []
    reasons = settings["reminder"]
    names = distinct_file_names({r.lead: f"{slug(r.lead)}.eml" for r in reg.chased}, folder)
    for r in reg.chased:
        workbook = paths.root / r.file
        due_phrase = ("was due on " if r.overdue else "is due on ") + str(values["due"])
        received = short_moment(r.last_received).rsplit(" ", 1)[0]
        reason = fill(str(reasons[r.chase]), {"received": received, "missing": ", ".join(r.missing),
                                               "count": str(len(r.missing)), "actions": str(r.actions)})
        subject, body = render_template(spec.get("reminder_template", "email_reminder.txt"), {
            **values, "lead": r.lead, "count": r.actions, "file": workbook.name, "due_phrase": due_phrase,
            "reason": reason, "coordinator_name": coordinator.get("name", ""),
            "coordinator_email": coordinator.get("email", "")}, paths.root)
        eml = build_eml(r.lead, r.email, subject, body, workbook if workbook.is_file() else None)
        out.append(atomic_write(folder / names[r.lead], eml))
    return out


__all__ = ["status", "ReturnRegister", "LeadReturn", "write_chase_list", "write_reminders"]
