"""The committee appendix ("Appendix A") as data, computed from the register for one cycle.

The workbook (appendix_xlsx), the PDF (appendix_pdf) and the master workbook (master) are all views over
the ``Appendix`` built here, so what the committee reads, what the summary counts and what the tests check
come from one place. Nothing here writes files or imports heavy libraries.

Which actions a cycle's appendix lists: every action with an update in that cycle; for an open cycle
(returns still coming in) also every active action without one, printed as "Awaiting update" as councils
do. A closed cycle (for example one imported from a past paper) lists exactly what was reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import templates
from ..errors import UsageProblem
from ..model import Action, Cycle, Month, ReturnState, Status, StatusVocabulary, Update
from ..register import Register
from ..templates import fill
from ..text import long_date, squash

TEMPLATE = "appendix.toml"

# Movement categories, in the order the summary lists them.
MOVEMENTS = ("new", "completed", "improved", "slipped", "closed", "unchanged", "first_status", "to_confirm",
             "awaiting", "retired")
# Movements that mark a row as changed since the previous cycle (shaded in the table).
CHANGED = frozenset({"new", "completed", "improved", "slipped", "closed"})
UNKNOWN = "unknown"        # summary column: no return received
TO_CONFIRM = "to_confirm"  # summary column: a status was given but is not in the vocabulary yet


@dataclass(frozen=True)
class Column:
    field: str
    title: str  # with placeholders filled in
    width: float
    back: int = 0  # for history columns: how many cycles back
    cycle: str | None = None  # for history columns: the cycle shown


@dataclass(frozen=True)
class AppendixRow:
    """One action as the appendix prints it for one cycle."""

    action: Action
    update: Update | None
    activity: str
    leads: tuple[str, ...]
    status: Status | None
    status_text: str       # what the status cell says (the label, the raw text, or "Awaiting update")
    progress: str
    history: dict[str, str]  # cycle label -> progress reported then
    movement: str          # one of MOVEMENTS (never "retired": retired actions are not rows)
    state: str             # "known", "to_confirm" or "unknown" (see status_state)
    previous_status: Status | None
    marker: str            # the change column's text
    finish: Month | None
    revised_finish: Month | None  # None when it is the finish itself
    finish_text: str              # what the Finish cell prints (the revised finish with the original)

    @property
    def awaiting(self) -> bool:
        """No return for this cycle: no update, or one with no status and no progress."""
        return self.state == UNKNOWN

    @property
    def changed(self) -> bool:
        return self.movement in CHANGED

    @property
    def summary_key(self) -> str:
        """The summary column this row counts in: a status key, "unknown" or "to_confirm"."""
        return self.status.key if self.status is not None else self.state


@dataclass(frozen=True)
class KeyArea:
    name: str
    rows: tuple[AppendixRow, ...]


@dataclass(frozen=True)
class Summary:
    """What the summary sheet shows; every number is derived from the rows (and retired actions)."""

    status_keys: tuple[str, ...]          # summary columns in order: vocabulary keys, then unknown/to_confirm
    counts: dict[str, dict[str, int]]     # key area -> status key -> count
    totals: dict[str, int]                # status key -> count over all key areas
    movement: dict[str, tuple[str, ...]]  # movement -> action ids (every category present, maybe empty)
    awaiting: tuple[AppendixRow, ...]
    to_confirm: tuple[AppendixRow, ...]
    retired: tuple[Action, ...]


@dataclass(frozen=True)
class Appendix:
    plan_title: str
    appendix_title: str
    cycle: Cycle
    previous: Cycle | None
    columns: tuple[Column, ...]
    key_areas: tuple[KeyArea, ...]
    summary: Summary
    vocabulary: StatusVocabulary
    settings: dict[str, Any]
    batch: int               # the register batch this was built from (footer)
    document_date: datetime  # fixed from the register, never the clock: same register, same output
    returned: Mapping[str, ReturnState] = field(default_factory=dict)  # lead -> MERGED (something taken) or REJECTED

    @property
    def rows(self) -> list[AppendixRow]:
        return [r for ka in self.key_areas for r in ka.rows]

    def words(self) -> dict[str, str]:
        """Values for the template placeholders."""
        return {
            "cycle": self.cycle.label,
            "previous": self.previous.label if self.previous else self.text("no_previous"),
            "title": self.plan_title,
            "appendix": self.appendix_title,
            "batch": str(self.batch),
            "date": long_date(self.document_date),
        }

    def text(self, key: str, section: str = "text", **extra: str) -> str:
        """A wording from the template, placeholders filled."""
        raw = str(self.settings.get(section, {}).get(key, ""))
        return fill(raw, {**(self.words() if key != "no_previous" else {}), **extra})

    def short_label(self, key: str) -> str:
        short = self.settings["short_labels"]
        if key in short:
            return str(short[key])
        status = self.vocabulary.by_key(key)
        return status.label if status else key

    def awaiting_reason(self, row: AppendixRow) -> str:
        """Why an action prints as awaiting an update, in the template's words: a return came back empty,
        none was received (by its due date), or the cycle is closed without one."""
        given = {self.returned.get(lead) for lead in row.leads}
        if row.update is not None:
            key = "why_empty"
        elif ReturnState.MERGED in given:  # the lead's workbook came back without this action's update
            key = "why_returned_without"
        elif ReturnState.REJECTED in given:
            key = "why_refused"
        elif self.cycle.state != "open":
            key = "why_closed"
        else:
            key = "why_not_returned_due" if self.cycle.due_date else "why_not_returned"
        due = long_date(self.cycle.due_date) if self.cycle.due_date else ""
        return self.text(key, "summary", due=due)

    def awaiting_groups(self) -> list[tuple[str, list[AppendixRow]]]:
        """The actions awaiting an update grouped by their reason: (heading with the count, rows)."""
        groups: dict[str, list[AppendixRow]] = {}
        for row in self.summary.awaiting:
            groups.setdefault(self.awaiting_reason(row), []).append(row)
        total = str(sum(self.summary.totals.values()))
        return [(f"{reason}: " + self.text("awaiting_count", "summary", count=str(len(rows)), total=total), rows)
                for reason, rows in groups.items()]

    def movement_label(self, key: str) -> str:
        return fill(str(self.settings["movement"]["labels"].get(key, key)), self.words())


def load_settings(plan_dir: Path | None) -> dict[str, Any]:
    """appendix.toml, the plan's copy over the bundled one (templates.read_settings): every setting has its
    value from a template, so the code here repeats no defaults."""
    return templates.read_settings(TEMPLATE, plan_dir)


def choose_cycle(reg: Register, label: str | None) -> Cycle:
    """The cycle asked for, else the open cycle, else the latest one."""
    if label:
        return reg.cycle(label)
    chosen = reg.open_cycle() or reg.latest_cycle()
    if chosen is None:
        raise UsageProblem("The register has no cycles yet, so there is no appendix to print.",
                           hint="Import a past appendix (`hwbs-xl import FILE`) or open a cycle first.")
    return chosen


def build(reg: Register, cycle: str | None = None) -> Appendix:
    """The appendix for ``cycle`` (default: open, else latest) from the register as it is now."""
    settings = load_settings(reg.paths.root)
    vocab = templates.vocabulary(reg.paths.root)
    chosen = choose_cycle(reg, cycle)
    cycles = reg.cycles()
    before = [c for c in cycles if c.seq < chosen.seq]
    previous = before[-1] if before else None
    plan = reg.plan()
    plan_settings = templates.plan_settings(reg.paths.root)
    appendix_title = str(plan_settings.get("appendix_title", "Appendix A"))
    plan_title = plan.title if plan else str(plan_settings.get("default_title", "Action plan"))

    updates = _updates_by_cycle(reg, [chosen, *before])
    now = updates.get(chosen.label, {})
    prev = updates.get(previous.label, {}) if previous else {}
    actions = reg.actions(include_retired=True)
    collecting = chosen.state == "open"
    listed = [a for a in actions if a.id in now or (collecting and a.state == "active")]
    history_cycles = _history_cycles(settings, before)
    ctx = _RowContext(vocab, settings, previous, history_cycles, updates)
    rows = [_row(a, now.get(a.id), prev.get(a.id), ctx) for a in listed]
    listed_ids = {a.id for a in listed}
    retired = tuple(a for a in actions if a.id in prev and a.id not in listed_ids)
    words = {"cycle": chosen.label, "previous": previous.label if previous else str(
        settings["text"]["no_previous"])}
    columns = _columns(settings, words, history_cycles, any(r.state != UNKNOWN for r in rows))
    key_areas = _group(rows)
    return Appendix(
        plan_title=plan_title, appendix_title=appendix_title, cycle=chosen, previous=previous,
        columns=columns, key_areas=key_areas, summary=_summary(key_areas, vocab, retired),
        vocabulary=vocab, settings=settings, batch=reg.last_batch_id(),
        document_date=_document_date(reg), returned=_returned_by(reg, chosen))


def _returned_by(reg: Register, cycle: Cycle) -> dict[str, ReturnState]:
    """Each lead who sent a return this cycle: MERGED when any of it was taken, else REJECTED; the return
    register's rule (returns/status.py) in the appendix's two words, so "awaiting" says the true reason."""
    out: dict[str, ReturnState] = {}
    for record in reg.returns(cycle=cycle.label):
        if record.lead:
            used = record.state.taken or record.state is ReturnState.SUPERSEDED
            if used or record.lead not in out:
                out[record.lead] = ReturnState.MERGED if used else ReturnState.REJECTED
    return out


@dataclass(frozen=True)
class _RowContext:
    vocab: StatusVocabulary
    settings: dict[str, Any]
    previous: Cycle | None
    history_cycles: dict[int, Cycle]
    updates: dict[str, dict[str, Update]]


def _updates_by_cycle(reg: Register, cycles: list[Cycle]) -> dict[str, dict[str, Update]]:
    wanted = {c.label for c in cycles}
    out: dict[str, dict[str, Update]] = {label: {} for label in wanted}
    for u in reg.updates():
        if u.cycle in wanted:
            out[u.cycle][u.action_id] = u
    return out


def _history_cycles(settings: dict[str, Any], before: list[Cycle]) -> dict[int, Cycle]:
    """back -> the cycle that many steps before the one printed (only those that exist)."""
    backs = {int(c.get("back", 1)) for c in settings["column"] if c.get("field") == "history"}
    return {b: before[-b] for b in sorted(backs) if 0 < b <= len(before)}


def _columns(settings: dict[str, Any], words: dict[str, str], history: dict[int, Cycle],
             reported: bool) -> tuple[Column, ...]:
    """The table's columns from the template. A history column with ``show = "auto"`` prints only while
    nobody has reported for the cycle printed (``reported`` False): then the previous reports are all there is."""
    shown = {int(c.get("back", 1)): c.get("show", True) for c in settings["column"] if c["field"] == "history"}
    shown = {b: (not reported) if v == "auto" else bool(v) for b, v in shown.items()}
    cols: list[Column] = []
    for spec in settings["column"]:
        kind = str(spec["field"])
        width = float(spec.get("width", 12))
        if kind == "history":
            back = int(spec.get("back", 1))
            past = history.get(back)
            if past is None or not shown.get(back, True):
                continue  # no such earlier cycle, or the cycle printed has its own reports: leave it out
            cols.append(Column(kind, fill(str(spec["title"]), {**words, "cycle": past.label}), width, back, past.label))
        elif kind == "change" and words["previous"] == str(settings["text"]["no_previous"]):
            continue  # nothing to compare with
        else:
            cols.append(Column(kind, fill(str(spec.get("title", kind)), words), width))
    return tuple(cols)


def _row(action: Action, update: Update | None, before: Update | None, ctx: _RowContext) -> AppendixRow:
    status = ctx.vocab.by_key(update.status) if update and update.status else None
    prev_status = ctx.vocab.by_key(before.status) if before and before.status else None
    state = status_state(update, status)
    movement = classify(update, before, status, prev_status, ctx.previous is not None, ctx.settings)
    history = {}
    for past in ctx.history_cycles.values():
        old = ctx.updates.get(past.label, {}).get(action.id)
        history[past.label] = old.progress if old else ""
    text = ctx.settings["text"]
    if status is not None:
        status_text = status.label
    elif state == TO_CONFIRM and update is not None:
        status_text = update.status_raw.strip() or str(text["no_status"])
    else:
        status_text = str(text["awaiting_update"])
    revised = update.revised_finish if update else None
    revised = revised if revised != action.finish else None
    return AppendixRow(
        action=action, update=update,
        activity=(update.activity_as_reported if update and update.activity_as_reported else action.activity),
        leads=(update.leads_as_reported if update and update.leads_as_reported else action.leads),
        status=status, status_text=status_text, progress=update.progress if update else "",
        history=history, movement=movement, state=state, previous_status=prev_status,
        marker=_marker(movement, state, update, before, prev_status, revised, ctx),
        finish=action.finish, revised_finish=revised, finish_text=_finish_text(action.finish, revised, text))


def _finish_text(finish: Month | None, revised: Month | None, text: dict[str, Any]) -> str:
    """The Finish cell: the finish, or the revised finish with the original ("Revised: Sep-25" / "(was
    Mar-25)"), so nobody reads a finish in one column and a different revised one in another."""
    if revised is None:
        return finish.label if finish else ""
    shown = fill(str(text["revised_finish"]), {"month": revised.label})
    return shown + ("\n" + fill(str(text["original_finish"]), {"month": finish.label}) if finish else "")


def status_state(update: Update | None, status: Status | None) -> str:
    """"known" (a vocabulary status), "to_confirm" (something was reported, the status is not settled) or
    "unknown" (nothing was returned for this cycle: Awaiting update)."""
    if status is not None:
        return "known"
    if update is None or (not update.status_raw.strip() and not update.progress.strip()):
        return UNKNOWN
    return TO_CONFIRM


def classify(update: Update | None, before: Update | None, status: Status | None, prev_status: Status | None,
             has_previous: bool, settings: dict[str, Any]) -> str:
    """The movement of one listed action since the previous cycle (see MOVEMENTS)."""
    if has_previous and before is None:
        return "new"
    state = status_state(update, status)
    if state == UNKNOWN:
        return "awaiting"
    if state == TO_CONFIRM or status is None:
        return "to_confirm"
    if not has_previous:
        return "first_status"
    move = settings["movement"]
    done = set(move["completed"])
    rank = {str(k): int(v) for k, v in move["rank"].items()}
    if prev_status is None:
        return "completed" if status.key in done else "first_status"
    if status.key == prev_status.key:
        return "unchanged"
    if status.key in done:
        return "completed"
    if status.key not in rank:
        return "closed" if status.retires else "unchanged"
    if prev_status.key not in rank:
        return "first_status"
    return "improved" if rank[status.key] > rank[prev_status.key] else "slipped"


def _marker(movement: str, state: str, update: Update | None, before: Update | None, prev_status: Status | None,
            revised: Month | None, ctx: _RowContext) -> str:
    markers = ctx.settings["movement"]["markers"]
    words = {"previous": ctx.previous.label if ctx.previous else ""}
    was = ""
    if prev_status is not None:
        was = str(ctx.settings["short_labels"].get(prev_status.key, prev_status.label))
    lines = [fill(str(markers.get(movement, "")), {**words, "was": was})]
    if movement == "new" and state != "known":  # new, and its status is not settled or not returned
        lines.append(str(markers.get("to_confirm" if state == TO_CONFIRM else "awaiting", "")))
    if update is not None and before is not None and update.progress.strip() and movement not in ("new", "awaiting"):
        same = squash(update.progress) == squash(before.progress)
        lines.append(fill(str(markers.get("text_same" if same else "text_changed", "")), words))
    if revised is not None and state != UNKNOWN:
        lines.append(fill(str(markers["revised_finish"]), {"month": revised.label}))
    return "\n".join(line for line in lines if line)


def _group(rows: list[AppendixRow]) -> tuple[KeyArea, ...]:
    """Rows grouped by key area, in the register's order (key area number, then action id)."""
    order: dict[str, list[AppendixRow]] = {}
    for row in rows:  # reg.actions() is already sorted by key area number and id
        order.setdefault(row.action.key_area, []).append(row)
    return tuple(KeyArea(name, tuple(group)) for name, group in order.items())


def _summary(key_areas: tuple[KeyArea, ...], vocab: StatusVocabulary, retired: tuple[Action, ...]) -> Summary:
    rows = [r for ka in key_areas for r in ka.rows]
    keys = [s.key for s in vocab]
    used = {r.summary_key for r in rows}
    keys += [k for k in (TO_CONFIRM, UNKNOWN) if k in used]
    counts = {ka.name: {k: sum(1 for r in ka.rows if r.summary_key == k) for k in keys} for ka in key_areas}
    totals = {k: sum(c[k] for c in counts.values()) for k in keys}
    grouped: dict[str, list[str]] = {m: [] for m in MOVEMENTS}
    for r in rows:  # appending to a list, not rebuilding a tuple per action (quadratic at national size)
        grouped[r.movement].append(r.action.id)
    movement = {m: tuple(ids) for m, ids in grouped.items()}
    movement["retired"] = tuple(a.id for a in retired)
    return Summary(
        status_keys=tuple(keys), counts=counts, totals=totals, movement=movement,
        awaiting=tuple(r for r in rows if r.awaiting),
        to_confirm=tuple(r for r in rows if r.state == TO_CONFIRM), retired=retired)


def _document_date(reg: Register) -> datetime:
    """The time of the register's last batch: fixed by the data, so a rebuild gives the same file."""
    started = reg.last_batch_started()
    if started is None:
        return datetime(2000, 1, 1)
    stamp = datetime.fromisoformat(started)
    return stamp.replace(tzinfo=None)


__all__ = ["Appendix", "AppendixRow", "Column", "KeyArea", "Summary", "MOVEMENTS", "build", "choose_cycle",
           "classify", "load_settings"]
