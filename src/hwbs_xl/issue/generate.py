"""Generate: every lead's workbook for the open cycle, read back and checked before any is written, then
the distribution list, the e-mail drafts and one register batch recording what was issued.

Choosing the leads (every lead of an active action, or one), the file names (valid on every desktop,
distinct per lead), staging (nothing is replaced until every workbook has passed its check) and recording
are here; the workbook itself is issue/workbook.py, what it promises is manifest.py.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import parallel, templates
from ..errors import InvalidData, NotFound, StorageFailed, UsageProblem
from ..findings import Report
from ..manifest import MANIFEST_SHEET, Manifest, from_cells, from_record, load_key, plan_id, to_record
from ..model import Action, Cycle, IssuedRecord
from ..paths import PlanPaths, distinct_file_names, slug
from ..plan.cycle import refuse_open_flags
from ..register import Register, issued_row
from ..safeio import StagedFiles, check_writable, plan_lock
from ..templates import fill
from ..text import normalise
from .distribution import DistributionEntry, write_distribution
from .drafts import build_eml, render_template
from .workbook import Context, build_workbook, text_values

__all__ = ["generate", "check_issued", "GenerateResult", "IssuedWorkbook"]

# The templates a workbook is made from: their fingerprint is part of its template version.
TEMPLATE_FILES = ["plan.toml", "statuses.toml", "workbook.toml", "instructions.toml"]


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
    no_address: tuple[str, ...] = ()  # leads whose draft has no To: (no entry in contacts.toml)
    unchanged: tuple[str, ...] = ()  # leads whose workbook already issued still matches: kept, not rewritten
    replaced: tuple[str, ...] = ()  # leads whose earlier workbook this run replaced (--reissue)

    @property
    def files(self) -> list[Path]:
        return [w.path for w in self.workbooks]


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
    from ..sheets.cells import a1, column_number
    from ..sheets.reader import read_bytes, sheet_grid
    from ..sheets.values import locked_text

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
    layout = templates.read_settings("workbook.toml", paths.root)
    plan_settings = templates.plan_settings(paths.root)
    n = int(layout["history_cycles"])
    earlier = [c for c in reg.cycles() if c.seq < cycle.seq]
    history = tuple(earlier[-n:]) if n > 0 else ()
    plan = reg.plan()
    version = f"{plan_settings['template_version']}-{templates.fingerprint(TEMPLATE_FILES, paths.root)}"
    return Context(plan_title=plan.title if plan else plan_settings["default_title"], cycle=cycle,
                   history=history, vocab=templates.vocabulary(paths.root), layout=layout,
                   instructions=templates.read_settings("instructions.toml", paths.root),
                   coordinator={k: str(v) for k, v in plan_settings["coordinator"].items()},
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
    pattern = layout["file_name"]
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
             drafts: bool = False, now: datetime | None = None, command: str,
             example_contact: bool = False, reissue: bool = False, open_flags: bool = False) -> GenerateResult:
    """Write one workbook per lead for the open cycle (or only ``lead``'s), the distribution list, and
    with ``drafts`` an .eml per lead; record each issued workbook in the register (one batch).

    Refused (UsageProblem) while plan.toml's coordinator is still the bundled example, whose address every
    workbook and draft would tell leads to return to, unless ``example_contact`` (a trial, the demo).

    A lead may be filling in a workbook already issued this cycle, so a second run never voids one: a lead
    whose issued workbook still shows what the register holds keeps it (nothing rewritten, its record
    stands, returns from it stay valid); one whose workbook the register has moved on from (an action
    reassigned, history corrected) is replaced only with ``reissue``, else the run stops saying which and
    why, before anything is written."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    if not example_contact:
        refuse_example_contact(paths)
    report = Report()
    with Register.open(paths) as reg:
        cyc = _pick_cycle(reg, cycle)
        key = load_key(paths)
        ctx = _context(paths, reg, cyc, key, now)
        groups = _by_lead(reg.actions(include_retired=False), report)
        chosen = _choose_leads(groups, lead)
        if not open_flags:
            refuse_open_flags(reg, {a.id for name in chosen for a in groups[name]}, "issue the workbooks",
                              history_before=cyc)
        out_dir = Path(out) if out is not None else paths.issued(cyc.label)
        names = _file_names(list(groups), ctx.layout, cyc.label, out_dir)
        contacts = {k: str(v) for k, v in templates.read_settings("contacts.toml", paths.root)["leads"].items()}
        issued: list[IssuedWorkbook] = []
        records: list[IssuedRecord] = []
        earlier = {r.lead: r for r in reg.issued(cyc.label)}
        unchanged: list[str] = []
        moved_on: list[tuple[str, str]] = []  # (lead, what changed) for workbooks a reissue would replace
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
                    change = _change_since(paths, earlier.get(name), manifest, values)
                    if change == "":
                        unchanged.append(name)
                        continue
                    if change is not None:
                        moved_on.append((name, change))
                    path = staged.add(out_dir / names[name], data)
                    draft = staged.add(*_draft(paths, ctx, out_dir, name, contacts.get(name, ""), path, data,
                                               len(groups[name]))) if drafts else None
                    sha = hashlib.sha256(data).hexdigest()
                    issued.append(IssuedWorkbook(name, path, tuple(a.id for a in groups[name]), sha, len(data),
                                                 draft))
                    records.append(IssuedRecord(cycle=cyc.label, lead=name, file=_record_path(paths, path), sha256=sha,
                                                generated_at=ctx.generated_at, template_version=ctx.template_version,
                                                manifest=to_record(manifest, values)))
                if moved_on and not reissue:  # leaving the block by raising discards every staged file
                    raise UsageProblem(
                        f"{len(moved_on)} lead(s) already have a workbook for {cyc.label} that the register has "
                        "moved on from: " + "; ".join(f"{lead} ({why})" for lead, why in moved_on) + ". Nothing "
                        "was written.", code="reissue-needed",
                        hint="To replace those workbooks run again with --reissue (returns of the earlier copies "
                             "are then checked against the new one), or --lead NAME for one lead at a time. "
                             f"{len(unchanged)} other workbook(s) still match and would be kept as they are.")
            entries = [DistributionEntry(w.lead, contacts.get(w.lead, ""), w.path.name, w.actions, cyc.due_date)
                       for w in issued]
            entries += _earlier_entries(reg, cyc, groups, {w.lead for w in issued}, contacts)
            dist = write_distribution(out_dir, entries, ctx.layout["distribution"], now=now,
                                      title=fill(ctx.layout["distribution"]["title"],
                                                 {"plan_title": ctx.plan_title, "cycle": cyc.label}))
            summary = f"issued {len(issued)} lead workbook(s) for {cyc.label}"
            with reg.batch("issue", command=command, files=[str(w.path) for w in issued], summary=summary) as b:
                for rec in records:
                    b.put("issued", issued_row(rec))
    return GenerateResult(cycle=cyc, out_dir=out_dir, workbooks=tuple(issued), distribution=dist,
                          drafts=tuple(w.draft for w in issued if w.draft), report=report,
                          batch_id=b.id if b.changes else None,
                          no_address=tuple(w.lead for w in issued if w.draft and not contacts.get(w.lead)),
                          unchanged=tuple(unchanged), replaced=tuple(lead for lead, _ in moved_on))


def _change_since(paths: PlanPaths, earlier: IssuedRecord | None, manifest: Manifest,
                  values: dict[str, dict[str, str]]) -> str | None:
    """How a lead's new workbook differs from the one already issued to them this cycle: None when none
    was issued, "" when the issued one still shows exactly this (same rows, same locked values, same
    template, and its file still as written), else what changed, in a coordinator's words."""
    if earlier is None:
        return None
    before, before_values = from_record(earlier.manifest)
    old_ids, new_ids = [r.action_id for r in before.rows], [r.action_id for r in manifest.rows]
    if old_ids != new_ids:
        added, dropped = sorted(set(new_ids) - set(old_ids)), sorted(set(old_ids) - set(new_ids))
        bits = ([f"now also {', '.join(added)}"] if added else []) + ([f"no longer {', '.join(dropped)}"] if dropped else [])
        return "; ".join(bits) or "its actions are in another order"
    edited = [a for a in new_ids if before_values.get(a) != values.get(a)]
    if edited:
        return f"what it shows of {', '.join(edited)} has changed"
    if (before.template_version, before.columns, before.header_row) != (manifest.template_version, manifest.columns,
                                                                        manifest.header_row):
        return "the templates have changed"
    file = Path(earlier.file) if Path(earlier.file).is_absolute() else paths.root / earlier.file
    try:
        same_file = hashlib.sha256(file.read_bytes()).hexdigest() == earlier.sha256
    except OSError:
        same_file = False
    return "" if same_file else "the issued file is missing or was changed"


def refuse_example_contact(paths: PlanPaths) -> None:
    """Stop before anything is written when the coordinator a lead would return their workbook to is the
    bundled example (or any address at a reserved example domain): it would reach nobody."""
    own = templates.plan_settings(paths.root)["coordinator"]
    example = templates.load_toml("plan.toml")["coordinator"]
    email = str(own.get("email", "")).strip()
    if email.casefold() == str(example["email"]).casefold() or _example_domain(email):
        raise UsageProblem(
            f"The coordinator's contact is still the bundled example ({email}): every workbook, e-mail draft and "
            "reminder would ask leads to return their workbook there.",
            hint=f"Put your name, e-mail and phone in {templates.find('plan.toml', paths.root)} under "
                 "[coordinator], then run again (or add --example-contact for a trial run).",
            code="example-contact")


def _example_domain(email: str) -> bool:
    """Domains reserved for examples (RFC 2606): example.com/.org/.net and anything under .example."""
    domain = email.rpartition("@")[2].casefold()
    return domain in {"example.com", "example.org", "example.net"} or domain.endswith((".example", ".example.com",
                                                                                        ".example.org", ".example.net"))


def _choose_leads(groups: dict[str, list[Action]], lead: str | None) -> list[str]:
    names = sorted(groups, key=str.casefold)
    if lead is None:
        return names
    wanted = " ".join(lead.split())
    match = [n for n in names if n == wanted] or [n for n in names if n.casefold() == wanted.casefold()]
    if not match:
        closest = closest_leads(wanted, names)
        raise NotFound(f"No active action has the lead {lead!r}.",
                       hint=("Did you mean: " + "; ".join(f'"{n}"' for n in closest) + "? Give the whole name, "
                             "in quotes; `hwbs-xl lead list` lists them all.") if closest else
                       "`hwbs-xl lead list` lists the leads; give one whole name, in quotes.")
    return match[:1]


def closest_leads(typed: str, names: Sequence[str], most: int = 5) -> list[str]:
    """The leads a coordinator most likely meant: names containing what was typed (a part such as "Public
    Health"), then names that read alike; never the whole list on one line."""
    folded = typed.casefold()
    containing = [n for n in names if folded and folded in n.casefold()]
    alike = difflib.get_close_matches(typed, names, n=most, cutoff=0.5)
    return list(dict.fromkeys([*containing, *alike]))[:most]


def _earlier_entries(reg: Register, cyc: Cycle, groups: dict[str, list[Action]], done: set[str],
                     contacts: dict[str, str]) -> list[DistributionEntry]:
    """Leads issued earlier in this cycle (a run with --lead still lists everyone who has a workbook)."""
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
    subject, body = render_template("email_issue.txt", {**text_values(ctx, lead, count), "file": workbook.name},
                                    paths.root)
    return out_dir / "drafts" / (workbook.stem + ".eml"), build_eml(lead, email, subject, body, workbook, data=data)
