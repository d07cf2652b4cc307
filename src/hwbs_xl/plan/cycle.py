"""Opening a reporting cycle, and the small edits a coordinator makes to the plan between cycles.

The carry-forward rule (``open_cycle``), applied to every action when a new cycle opens:

1. The previous open cycle closes; the new one opens with its due date.
2. An action whose latest status retires it (a status with ``retires = true`` in statuses.toml:
   Completed, Incorporated) is retired: it leaves the plan and gets no workbook row. A coordinator keeps
   it by naming it with ``--keep`` (or ``hwbs-xl action keep``), for example to show it once more.
3. An action left out of the previous cycle's appendix (it has updates in earlier cycles but none in, and
   was not issued for, the previous cycle) was dropped by the council: it is retired too, unless kept.
4. Every other active action carries forward, including new ones that have no history yet.
5. A revised finish date carries forward: the action's finish becomes the latest revised finish a lead
   gave (the earlier finish stays in the history and in the change log).

Each open and each edit is one register batch, so ``hwbs-xl undo`` reverses it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from .. import templates
from ..errors import NotFound, UsageProblem
from ..ids import ActionIds
from ..manifest import from_record
from ..model import Action, Cycle, Month, StatusVocabulary, Update, cycle_seq, key_area_number
from ..paths import PlanPaths
from ..register import Register, action_row, cycle_row

__all__ = ["CycleOpening", "open_cycle", "add_action", "retire_action", "keep_action", "reassign_action",
           "rename_lead", "lead_names", "parse_leads"]


@dataclass(frozen=True)
class CycleOpening:
    """What opening a cycle did, for the coordinator to read."""

    cycle: Cycle
    closed: tuple[str, ...]                       # cycles closed
    carried: tuple[str, ...]                      # action IDs active in the new cycle
    retired: tuple[tuple[str, str], ...]          # (action ID, why)
    kept: tuple[str, ...]                         # kept although the rule would retire them
    finish_moved: tuple[tuple[str, str, str], ...]  # (action ID, old finish label, new finish label)
    batch_id: int
    titles: dict[str, str] = field(default_factory=dict)  # action ID -> its short title, to name it by
    due_passed: bool = False  # the due date given is already past (today's date)


def _label(m: Month | None) -> str:
    return m.label if m else "none"


def _members(reg: Register, cycle: str) -> set[str]:
    """The actions that were part of a cycle: reported in it, or issued to a lead for it."""
    ids = {u.action_id for u in reg.updates(cycle=cycle)}
    for issued in reg.issued(cycle):
        try:
            manifest, _ = from_record(issued.manifest)
        except (ValueError, KeyError, TypeError):
            continue  # an unreadable record names nobody; the action is simply not counted as a member
        ids.update(r.action_id for r in manifest.rows)
    return ids


def _retire_reason(a: Action, history: list[Update], vocab: StatusVocabulary, prev: Cycle | None,
                   prev_members: set[str]) -> str | None:
    """Why the carry-forward rule retires an action, or None when it carries forward."""
    if history:
        latest = history[-1]
        status = vocab.by_key(latest.status)
        if status is not None and status.retires:
            return f"its latest status ({latest.cycle}) is {status.label!r}"
        if prev is not None and prev_members and a.id not in prev_members:
            return f"it was not in the {prev.label} cycle"
    return None


def open_cycle(paths: PlanPaths, label: str, due: date, *, report_date: date | None = None,
               keep: Sequence[str] = (), command: str, today: date | None = None,
               open_flags: bool = False) -> CycleOpening:
    """Open the next reporting cycle ``label`` (see the module docstring for the rule). ``today`` (default:
    the computer's date) only decides whether to say that ``due`` has already passed."""
    label = " ".join(label.split())
    if not label:
        raise UsageProblem("The cycle needs a name, such as \"October 2024\".")
    vocab = templates.vocabulary(paths.root)
    with Register.open(paths) as reg:
        cycles = reg.cycles()
        if any(c.label.casefold() == label.casefold() for c in cycles):
            raise UsageProblem(f"There is already a cycle called {label!r}.",
                               hint="Choose a new name, or use `hwbs-xl generate` to (re)issue its workbooks.")
        seq = cycle_seq(label, [c.seq for c in cycles])
        prev = cycles[-1] if cycles else None
        if prev is not None and seq <= prev.seq:
            raise UsageProblem(f"{label!r} would come before the latest cycle, {prev.label!r}.",
                               hint="Name the new cycle after the month it reports on, later than the last one.")
        actions = {a.id: a for a in reg.actions()}
        if not open_flags:
            refuse_open_flags(reg, {a.id for a in actions.values() if a.state == "active"}, "open a cycle")
        unknown = [k for k in keep if k not in actions]
        if unknown:
            raise NotFound(f"No action called {', '.join(unknown)}.", hint="Check the IDs with `hwbs-xl export`.")
        history: dict[str, list[Update]] = {}
        for u in reg.updates():  # oldest cycle first, so the last one is the latest
            history.setdefault(u.action_id, []).append(u)
        prev_members = _members(reg, prev.label) if prev else set()

        carried, retired, kept, moved = [], [], [], []
        new_rows = []
        for a in actions.values():
            wanted_keep = a.id in keep or a.keep
            if a.state == "retired" and a.id not in keep:
                continue
            updated = a
            reason = _retire_reason(a, history.get(a.id, []), vocab, prev, prev_members)
            if reason and not wanted_keep:
                retired.append((a.id, reason))
                updated = replace(updated, state="retired")
            else:
                if reason:
                    kept.append(a.id)
                carried.append(a.id)
                updated = replace(updated, state="active", keep=wanted_keep)
                revised = [u.revised_finish for u in history.get(a.id, []) if u.revised_finish]
                if revised and revised[-1] != a.finish:
                    moved.append((a.id, _label(a.finish), revised[-1].label))
                    updated = replace(updated, finish=revised[-1])
            if updated != a:
                new_rows.append(updated)

        new_cycle = Cycle(label=label, seq=seq, report_date=report_date, due_date=due, state="open")
        closed = [c for c in cycles if c.state == "open"]
        summary = (f"opened cycle {label} (due {due.isoformat()}): {len(carried)} actions carried forward, "
                   f"{len(retired)} retired")
        with reg.batch("cycle", command=command, summary=summary) as b:
            for c in closed:
                b.put("cycles", cycle_row(replace(c, state="closed")))
            b.put("cycles", cycle_row(new_cycle))
            for a in new_rows:
                b.put("actions", action_row(a))
        named = {i for i, _ in retired} | set(kept) | {i for i, _, _ in moved}
        return CycleOpening(cycle=new_cycle, closed=tuple(c.label for c in closed), carried=tuple(carried),
                            retired=tuple(retired), kept=tuple(kept), finish_moved=tuple(moved), batch_id=b.id,
                            titles={i: actions[i].title for i in sorted(named)}, due_passed=due < (today or date.today()))


def refuse_open_flags(reg: Register, action_ids: set[str], doing: str, *, history_before: Cycle | None = None) -> None:
    """Stop before ``doing`` when questions about these actions' history are still open (what an import
    could not decide, in the cycles before ``history_before`` when given): leads would otherwise be asked
    about history nobody has confirmed (they see it as "not confirmed"). Questions a merge raised in the
    open cycle itself (two leads' conflicting updates) are the coordinator's, not the history's."""
    open_ones = [f for f in reg.flags(open_only=True) if f.action_id in action_ids
                 and (history_before is None or f.cycle != history_before.label)]
    if not open_ones:
        return
    shown = "; ".join(f"flag {f.id} ({f.field} of {f.action_id}, {f.cycle}: {f.raw!r})" for f in open_ones[:5])
    more = f"; and {len(open_ones) - 5} more" if len(open_ones) > 5 else ""
    raise UsageProblem(
        f"Before you {doing}: {len(open_ones)} question(s) the import could not decide are still open for "
        f"these actions: {shown}{more}. Nothing was changed.", code="open-flags",
        hint="Settle them first (`hwbs-xl flags` lists them with the answers each takes; `hwbs-xl settle ID "
             "VALUE`, or all at once with `hwbs-xl review`), or run again with --open-flags to go on: the leads "
             "then see those statuses as not confirmed.")


# ---- coordinator edits ---------------------------------------------------------------------------------

def parse_leads(text: str | Iterable[str]) -> tuple[str, ...]:
    """Leads as the coordinator types them: several separated by ";" (a lead's title may hold a comma)."""
    parts = text.split(";") if isinstance(text, str) else list(text)
    leads = tuple(dict.fromkeys(" ".join(p.split()) for p in parts if p and p.strip()))
    if not leads:
        raise UsageProblem("Give at least one lead.", hint='Separate several leads with ";".')
    return leads


def _month(text: str | None, what: str) -> Month | None:
    if text is None or not str(text).strip():
        return None
    m = Month.parse(str(text))
    if m is None:
        raise UsageProblem(f"The {what} {text!r} is not a month.", hint='Write it like "Sep-24" or "2024-09".')
    return m


def _used_ids(reg: Register) -> set[str]:
    """Every action ID the plan has ever used, including ones deleted by an undo: IDs are never reused."""
    return reg.action_ids_ever_used()


def _key_area(reg: Register, text: str) -> tuple[str, int]:
    """The key area's name as the plan writes it, and its number ("2" and "KA2" both mean "Key Area 2")."""
    t = " ".join(text.split())
    number = int(t) if t.isdigit() else key_area_number(t)
    if number is None:
        raise UsageProblem(f"Cannot tell the key area's number from {text!r}.",
                           hint='Give it as "Key Area 2" (or just 2).')
    named = [a.key_area for a in reg.actions() if key_area_number(a.key_area) == number]
    return (named[0] if named else (t if not t.isdigit() else f"Key Area {number}")), number


def add_action(paths: PlanPaths, *, key_area: str, activity: str, leads: str | Iterable[str],
               start: str | None = None, finish: str | None = None, command: str) -> Action:
    """Add a new action with the next unused ID in its key area (``KA{area}-{nn}``, never reused)."""
    activity = " ".join(activity.split())
    if not activity:
        raise UsageProblem("The action needs its project activity (what will be done).")
    lead_names = parse_leads(leads)
    start_m, finish_m = _month(start, "start"), _month(finish, "finish")
    if start_m and finish_m and finish_m < start_m:
        raise UsageProblem(f"The finish ({finish_m.label}) is before the start ({start_m.label}).")
    with Register.open(paths) as reg:
        area_name, number = _key_area(reg, key_area)
        ids = ActionIds(templates.plan_settings(paths.root)["action_id_format"], _used_ids(reg))
        action = Action(id=ids.new(number), key_area=area_name, activity=activity, leads=lead_names,
                        start=start_m, finish=finish_m)
        with reg.batch("edit", command=command, summary=f"added action {action.id}: {action.title}") as b:
            b.put("actions", action_row(action))
    return action


def _edit_action(paths: PlanPaths, action_id: str, command: str, summary: str,
                 change: Callable[[Action], Action]) -> Action:
    with Register.open(paths) as reg:
        before = reg.action(action_id.strip())
        after = change(before)
        with reg.batch("edit", command=command, summary=summary.format(id=before.id)) as b:
            b.put("actions", action_row(after))
    return after


def retire_action(paths: PlanPaths, action_id: str, *, command: str) -> Action:
    """Take an action out of the plan: it gets no workbook row from now on (its history stays)."""
    return _edit_action(paths, action_id, command, "retired action {id}",
                        lambda a: replace(a, state="retired", keep=False))


def keep_action(paths: PlanPaths, action_id: str, *, command: str) -> Action:
    """Keep an action in the plan although its status would retire it (brings a retired action back)."""
    return _edit_action(paths, action_id, command, "kept action {id}",
                        lambda a: replace(a, state="active", keep=True))


def reassign_action(paths: PlanPaths, action_id: str, leads: str | Iterable[str], *, command: str) -> Action:
    """Give an action new lead(s), replacing the old ones."""
    names = parse_leads(leads)
    return _edit_action(paths, action_id, command, "reassigned action {id} to " + "; ".join(names),
                        lambda a: replace(a, leads=names))


def rename_lead(paths: PlanPaths, old: str, new: str, *, command: str) -> list[str]:
    """Rename a lead on every action (active and retired). Returns the IDs of the actions changed."""
    old_n, new_n = " ".join(old.split()), " ".join(new.split())
    if not new_n:
        raise UsageProblem("The new lead name is empty.")
    with Register.open(paths) as reg:
        actions = [a for a in reg.actions() if old_n in a.leads]
        if not actions:
            close = [name for name in reg.leads(include_retired=True) if name.casefold() == old_n.casefold()]
            raise NotFound(f"No action has the lead {old!r}.",
                           hint=(f"Did you mean {close[0]!r}? " if close else "")
                           + "Names must match exactly; `hwbs-xl lead list` shows them.")
        with reg.batch("edit", command=command, summary=f"renamed lead {old_n!r} to {new_n!r}") as b:
            for a in actions:
                leads = tuple(dict.fromkeys(new_n if x == old_n else x for x in a.leads))
                b.put("actions", action_row(replace(a, leads=leads)))
    return [a.id for a in actions]


def lead_names(paths: PlanPaths) -> list[tuple[str, int]]:
    """Each lead of an active action, with how many active actions they lead."""
    with Register.open(paths) as reg:
        counts: dict[str, int] = {}
        for a in reg.actions(include_retired=False):
            for lead in a.leads:
                counts[lead] = counts.get(lead, 0) + 1
    return sorted(counts.items(), key=lambda kv: kv[0].casefold())

