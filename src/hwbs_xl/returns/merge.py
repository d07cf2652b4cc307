"""Merge validated returns into the register: all or nothing, evidence kept, conflicts left to a person.

For each returned file, in the order the leads saved them (file modification time, then name):

- The file is kept byte for byte in ``returns/evidence/<sha256><suffix>`` (the exact bytes that were
  validated; never re-saved) and recorded in the ``returns`` table, whatever its fate.
- The same file merged before: ``already-merged``, nothing changes.
- Each usable row (no error on it, something typed) is a three-way merge of the value issued (empty: the
  update columns are issued blank), the value returned, and the register's update now:
    * no update yet -> taken;                     * the same as now -> nothing to do;
    * now from an earlier return by the same lead -> replaced: the newer return supersedes, explicitly;
    * now from another lead (a joint action) and different -> a CONFLICT: both kept side by side in a
      flag for the coordinator to settle, the register's value stays (never last-writer-wins);
    * now from anywhere else (a coordinator's edit, an import) -> ``register-changed-since-issue``:
      shown and flagged, the register's value stays.
- Everything is one register batch (``hwbs-xl undo`` reverses it). ``dry_run`` plans the same changes and
  writes nothing at all.

Safety: outputs are checked writable before any work (a master.xlsx open in LibreOffice or Excel, a
read-only folder), the whole merge holds the plan lock (a second coordinator gets "another command is
running"), and SQLite's rollback journal means a crash, kill -9 or full disk leaves the register as it
was or fully merged. The master appendix workbook is regenerated after the commit.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import HwbsError, UsageProblem
from ..findings import ERROR, INFO, Finding, Report, report_json
from ..model import Flag, Provenance, ReturnRecord, ReturnState, Update
from ..paths import PlanPaths
from ..register import Batch, Register, flag_row, now_iso, return_row, update_row
from ..safeio import TEMP_PREFIX, check_writable, clean_stale_temps, plan_lock
from ..text import clip, squash
from . import memo
from .evidence import EvidenceCopies, evidence_path
from .facts import PlanFacts
from .notes import write_validation_reports
from .results import ReturnCheck, RowUpdate, ValidationResult
from .validate import check_files, expand_inputs

MERGED, QUERIED, REJECTED, SUPERSEDED = (ReturnState.MERGED, ReturnState.QUERIED, ReturnState.REJECTED,
                                         ReturnState.SUPERSEDED)


@dataclass
class ActionChange:
    """What merging one returned row does (or, in a dry run, would do) to one action's update."""

    action_id: str
    title: str
    lead: str
    file: str
    kind: str  # new, replaced, same, conflict, register-changed
    now: dict[str, Any] | None  # the register's update before (content), with "by"
    returned: dict[str, Any]  # the lead's update (content)

    def line(self) -> str:
        what = {"new": "takes the update", "replaced": "replaces this lead's earlier update",
                "same": "no change (the register already says this)",
                "conflict": "CONFLICT with another lead's update: flagged, register unchanged",
                "register-changed": "the register changed since issue: flagged, register unchanged"}[self.kind]
        head = f"{self.action_id} ({self.title}) from {self.lead}: {what}"
        if self.kind in ("conflict", "register-changed", "replaced") and self.now is not None:
            return head + "\n" + side_by_side(self.now, self.returned, self.now.get("by") or "register", self.lead)
        return head + "\n      " + describe(self.returned)


@dataclass
class FileOutcome:
    check: ReturnCheck
    state: ReturnState  # merged, queried, rejected, superseded, already-merged
    evidence: Path | None = None
    changes: list[ActionChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def line(self) -> str:
        c = self.check
        taken = sum(1 for ch in self.changes if ch.kind in ("new", "replaced"))
        flagged = sum(1 for ch in self.changes if ch.kind in ("conflict", "register-changed"))
        who = f"{c.lead}" if c.lead else "identity unknown"
        return f"{self.state.upper():14} {c.name} ({who}): {taken} update(s) taken, {flagged} flagged"


@dataclass
class MergeResult:
    cycle: str | None
    dry_run: bool
    files: list[FileOutcome]
    validation: ValidationResult
    batch_id: int | None = None
    master: Path | None = None
    master_problem: str | None = None
    written: list[Path] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)  # about the plan folder, not one file

    @property
    def report(self) -> Report:
        return Report([*self.notices, *self.validation.report.findings, *(f for o in self.files for f in o.findings)])

    @property
    def changes(self) -> list[ActionChange]:
        return [ch for o in self.files for ch in o.changes]

    @property
    def ok(self) -> bool:
        return self.report.ok

    def refused(self) -> tuple[int, int]:
        """(files refused whole, rows refused in the other files): what makes merge exit 1."""
        files = sum(1 for o in self.files if o.state == REJECTED)
        rows = {(o.check.name, f.action_id) for o in self.files if o.state != REJECTED
                for f in [*o.check.problems, *o.findings] if f.severity == ERROR and f.action_id}
        return files, len(rows)

    def lines(self, *, details: bool = False) -> list[str]:
        verb = "Would merge (dry run, nothing written)" if self.dry_run else "Merged"
        taken = sum(1 for ch in self.changes if ch.kind in ("new", "replaced"))
        flagged = sum(1 for ch in self.changes if ch.kind in ("conflict", "register-changed"))
        out = [f.message for f in self.notices]
        out += [f"{verb}: {len(self.files)} returned file(s) for {self.cycle or 'no open cycle'}; "
                f"{taken} action update(s) {'would be ' if self.dry_run else ''}taken, {flagged} flagged for you to settle."]
        for o in self.files:
            out.append(o.line())
            out += ["  " + line for f in [*o.check.problems, *(f for f in o.findings if f.severity != INFO)]
                    for line in f.line().splitlines()]
            out += comment_lines(o.changes)
        shown = self.changes if (details or self.dry_run) else [c for c in self.changes if c.kind in ("conflict", "register-changed")]
        out += ["  " + line for ch in shown for line in ch.line().splitlines()]
        problems = [o for o in self.files if o.check.problems]
        if problems:
            out.append(f"{sum(len(o.check.problems) for o in problems)} problem(s) in {len(problems)} file(s) stay "
                       "with the leads: see the please-fix notes" + ("." if self.dry_run else
                                                                       f" in {self.validation.notes[0].parent}."
                                                                       if self.validation.notes else "."))
        if self.batch_id:
            out.append(f"Register batch {self.batch_id} (undo with: hwbs-xl undo {self.batch_id}).")
        if self.master:
            out.append(f"Master appendix workbook regenerated: {self.master}")
        if self.master_problem:
            out.append("The merge is saved, but the master appendix workbook was not regenerated: "
                       f"{self.master_problem} (hwbs-xl merge on the same files regenerates it).")
        if not self.ok:  # the last line says why the exit code is 1
            files, rows = self.refused()
            kept = "nothing was written" if self.dry_run else ("everything else is merged" if self.batch_id
                                                               else "nothing else was there to take")
            out.append(f"Not everything was taken: {files} file(s) and {rows} row(s) refused; {kept} (exit 1).")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"cycle": self.cycle, "dry_run": self.dry_run, "batch": self.batch_id,
                "master": str(self.master) if self.master else None, "files": [
                    {"name": o.check.name, "sha256": o.check.sha256, "lead": o.check.lead, "state": o.state,
                     "evidence": str(o.evidence) if o.evidence else None,
                     "changes": [{"action_id": c.action_id, "kind": c.kind, "now": c.now, "returned": c.returned}
                                 for c in o.changes],
                     "findings": [f.to_dict() for f in [*o.check.findings, *o.findings]]} for o in self.files]}

    def to_json(self) -> str:
        return report_json(self.to_dict())


def comment_lines(changes: Sequence[ActionChange]) -> list[str]:
    """Every "Comment to the coordinator" a lead wrote in these rows, in full, under its file: the one
    place a lead talks to the coordinator, so never left for --details to show (or cut)."""
    out = []
    for ch in changes:
        comment = str(ch.returned.get("comment") or "").strip()
        if comment:
            out.append(f"  Comment from {ch.lead} on {ch.action_id} ({ch.title}):")
            out += [f"    {line}" for line in comment.splitlines()]
    return out


def describe(content: dict[str, Any]) -> str:
    bits = [f"status: {content.get('status_raw') or '(none)'}"]
    if content.get("revised_finish"):
        bits.append(f"revised finish: {content['revised_finish']}")
    progress = content.get("progress") or ""
    bits.append("progress: " + (repr(clip(progress, 71)) if progress else "(none)"))
    if content.get("comment"):  # the lead's words to the coordinator: shown whole, never cut
        bits.append(f"comment: {squash(content['comment'])!r}")
    return "; ".join(bits)


def side_by_side(left: dict[str, Any], right: dict[str, Any], left_name: str, right_name: str) -> str:
    """The two versions of an update, field by field, for the coordinator to compare."""
    rows = [("", left_name, right_name)]
    for key, label in (("status_raw", "status"), ("revised_finish", "revised finish"), ("progress", "progress"),
                       ("comment", "comment")):
        a, b = str(left.get(key) or ""), str(right.get(key) or "")
        if a or b:
            mark = " " if a == b else "≠"
            rows.append((f"{mark} {label}", clip(a, 48), clip(b, 48)))
    return "\n".join(f"      {k:<18} {a:<48} | {b}" for k, a, b in rows)


# ---- merge ----------------------------------------------------------------------------------------------

def merge(paths: PlanPaths, inputs: Sequence[Path], *, dry_run: bool = False, command: str,
          sender: str | None = None, today: date | None = None) -> MergeResult:
    """Validate and merge every returned file in ``inputs`` (files or folders) as one register batch."""
    files = expand_inputs(inputs)
    if not files:
        raise UsageProblem("No returned files were found in " + ", ".join(str(p) for p in inputs) + ".",
                           hint=f"Save the returned workbooks into {paths.inbox} (or name them) and run again.")
    if dry_run:
        with Register.open(paths) as reg:
            return _run(paths, reg, files, dry_run=True, command=command, sender=sender, today=today)
    preflight(paths)
    with plan_lock(paths.lock, "merge returns"), _running(paths) as interrupted:
        with Register.open(paths) as reg:
            result = _run(paths, reg, files, dry_run=False, command=command, sender=sender, today=today)
        if interrupted:
            result.notices.append(Finding(
                "run-interrupted", "An earlier command on this plan was stopped part way (killed, crashed or cut off "
                "by a full disk). The register holds none or all of its changes, never a part, and what it left "
                "behind was removed. This run started from the register as it is; nothing to do.",
                where=str(paths.root), detail={"left_behind": interrupted}))
        write_validation_reports(paths, result.validation, kind="merge", payload=result.to_json)
        result.written += [p for p in [result.validation.report_file, *result.validation.notes] if p]
        try:
            result.master = regenerate_master(paths, only_if_stale=result.batch_id is None)
        except HwbsError as exc:  # the merge is committed; say plainly what is left to do
            result.master_problem = f"{exc.message} {exc.hint}".strip()
    return result


@contextlib.contextmanager
def _running(paths: PlanPaths) -> Iterator[int]:
    """While a merge runs, a marker named like a temporary file of this process: a merge that is killed
    leaves it, so the next one (which clears what dead processes left) knows and says so. Yields how many
    such left-overs were cleared."""
    left = clean_stale_temps(paths.root)
    marker = paths.lock.parent / f"{TEMP_PREFIX}{os.getpid()}-merge-running"
    with contextlib.suppress(OSError):  # no room even for this: the merge itself will say so plainly
        marker.write_text(now_iso(), encoding="utf-8")
    try:
        yield left
    finally:
        marker.unlink(missing_ok=True)


def preflight(paths: PlanPaths) -> None:
    """Fail before any work when an output cannot be written (file open elsewhere, folder read-only)."""
    for folder in (paths.evidence, paths.reports):
        if not folder.exists() and os.access(folder.parent, os.W_OK):
            folder.mkdir(parents=True, exist_ok=True)
    for target in (paths.master, paths.register, paths.evidence / "probe", paths.reports / "probe"):
        check_writable(target)


def _run(paths: PlanPaths, reg: Register, files: list[Path], *, dry_run: bool, command: str,
         sender: str | None, today: date | None) -> MergeResult:
    facts = PlanFacts.load(paths, reg, today)
    with EvidenceCopies(paths, write=not dry_run) as evidence:  # in place before the batch that records them
        checks = [evidence.keep(c) for c in check_files(facts, files, sender=sender, keep_bytes=not dry_run,
                                                        memo=memo.load(paths, facts))]  # validate's, where it holds
        validation = ValidationResult(facts.cycle.label if facts.cycle else None, checks)
        planner = _Planner(reg, facts)
        outcomes = planner.plan(checks)
        result = MergeResult(validation.cycle, dry_run, outcomes, validation)
        if dry_run:
            return result
        for o in outcomes:
            o.evidence = evidence.path(o.check)
    summary = _summary(outcomes, validation.cycle)
    with reg.batch("merge", command=command, files=[str(p) for p in files], summary=summary) as b:
        planner.apply(b, outcomes, paths)
    result.batch_id = b.id if b.changes else None
    return result


def _summary(outcomes: list[FileOutcome], cycle: str | None) -> str:
    taken = sum(1 for o in outcomes for ch in o.changes if ch.kind in ("new", "replaced"))
    flagged = sum(1 for o in outcomes for ch in o.changes if ch.kind in ("conflict", "register-changed"))
    return f"merged {len(outcomes)} return(s) for {cycle}: {taken} update(s), {flagged} flagged"


def regenerate_master(paths: PlanPaths, *, only_if_stale: bool = False) -> Path | None:
    """Rebuild <plan>/master.xlsx from the register (the committee-appendix stage's writer). With
    ``only_if_stale`` (a merge that recorded nothing) only when it is missing or out of date, say after a
    merge killed between its commit and the rebuild; returns the path only when it was written."""
    from ..appendix.master import refresh_master, write_master

    with Register.open(paths) as reg:
        return refresh_master(reg) if only_if_stale else write_master(reg)


# ---- planning the three-way merge ----------------------------------------------------------------------

class _Planner:
    """Decides every change before anything is written, so a dry run and a real run agree exactly."""

    def __init__(self, reg: Register, facts: PlanFacts) -> None:
        self.facts = facts
        self.cycle = facts.cycle.label if facts.cycle else None
        self.stored: dict[str, ReturnRecord] = {}  # the register's returns before this merge
        self.returns: dict[str, ReturnRecord] = {}  # those, and the ones this merge takes
        # (lead, cycle) -> their returns: looked up per file, so a scan of every return made merge quadratic
        self.by_lead: dict[tuple[str | None, str | None], list[ReturnRecord]] = {}
        for r in reg.returns():
            self.stored[r.sha256] = r
            self._remember(r)
        self.recorded: set[str] = set()  # returns recorded by this merge
        self.current: dict[str, Update] = {u.action_id: u for u in reg.updates(cycle=self.cycle)} if self.cycle else {}
        self.puts: list[Update | ReturnRecord] = []  # in the order they are written
        self.flags: list[Flag] = []  # their ids are given when they are written
        self.superseded: dict[str, str] = {}  # sha -> by sha

    def plan(self, checks: list[ReturnCheck]) -> list[FileOutcome]:
        outcomes: list[FileOutcome] = []
        seen: set[str] = set()
        for check in sorted(checks, key=lambda c: (c.rejected, c.lead or "", c.mtime, c.name)):
            if not check.sha256:  # refused before a byte was read (unreadable, too large): no content to
                outcomes.append(FileOutcome(check, REJECTED))  # record or compare; its findings say why
                continue
            if check.sha256 in seen or (check.sha256 in self.returns and self.returns[check.sha256].state != REJECTED):
                outcomes.append(self._already(check))
            elif check.rejected:
                outcomes.append(self._rejected(check))
            else:
                outcomes.append(self._merge(check))
            seen.add(check.sha256)
        return outcomes

    def _already(self, check: ReturnCheck) -> FileOutcome:
        earlier = self.returns.get(check.sha256)
        when = f" on {earlier.received_at}" if earlier else " (the same file was given twice)"
        f = Finding("already-merged", f"{check.name} was merged before{when}; nothing changed.", file=check.name)
        return FileOutcome(check, ReturnState.ALREADY_MERGED, findings=[f])

    def _rejected(self, check: ReturnCheck) -> FileOutcome:
        self._record_return(check, REJECTED, [])
        return FileOutcome(check, REJECTED)

    def _merge(self, check: ReturnCheck) -> FileOutcome:
        outcome = FileOutcome(check, QUERIED if check.problems else MERGED)
        newer = self._newer_merged(check)
        if newer is not None:
            outcome.state = SUPERSEDED
            outcome.findings.append(Finding(
                "return-older-ignored", f"{check.name} is older than {newer.original_name}, which {check.lead} "
                "returned and which was already merged; this older copy was not taken.", file=check.name))
            self._record_return(check, SUPERSEDED, [])
            return outcome
        for earlier in self._earlier_taken(check):
            self.superseded[earlier.sha256] = check.sha256
            outcome.findings.append(Finding(
                "return-superseded", f"{check.name} is a newer return from {check.lead}; it replaces "
                f"{earlier.original_name} (received {earlier.received_at}) for the actions it answers.",
                file=check.name, detail={"superseded": earlier.sha256}))
        for row in check.usable_rows():
            outcome.changes.append(self._row(check, row))
        for ch in outcome.changes:
            if ch.kind == "conflict":
                outcome.findings.append(Finding(
                    "return-conflict", f"Action {ch.action_id} was returned by {ch.now and ch.now.get('by')} and by "
                    f"{ch.lead} with different updates. The register keeps the first for now, and the action is "
                    "flagged for you to settle.", file=check.name, action_id=ch.action_id, action_title=ch.title,
                    detail={"register": ch.now, "returned": ch.returned}))
            elif ch.kind == "register-changed":
                outcome.findings.append(Finding(
                    "register-changed-since-issue", f"Action {ch.action_id}'s update in the register changed after the "
                    f"workbook was issued ({ch.now and ch.now.get('by') or 'not from a return'}); {ch.lead}'s "
                    "update was not applied over it and is flagged for you to settle.", file=check.name,
                    action_id=ch.action_id, action_title=ch.title, detail={"register": ch.now, "returned": ch.returned}))
        self._record_return(check, outcome.state, [ch.action_id for ch in outcome.changes])
        return outcome

    def _newer_merged(self, check: ReturnCheck) -> ReturnRecord | None:
        newer = [r for r in self._lead_returns(check) if r.mtime > check.mtime]
        return max(newer, key=lambda r: r.mtime) if newer else None

    def _earlier_taken(self, check: ReturnCheck) -> list[ReturnRecord]:
        return [r for r in self._lead_returns(check) if r.sha256 not in self.superseded]

    def _lead_returns(self, check: ReturnCheck) -> list[ReturnRecord]:
        return [r for r in self.by_lead.get((check.lead, check.cycle), []) if r.state.taken and r.sha256 != check.sha256]

    def _remember(self, record: ReturnRecord) -> None:
        self.returns[record.sha256] = record
        self.by_lead.setdefault((record.lead, record.cycle), []).append(record)

    def _row(self, check: ReturnCheck, row: RowUpdate) -> ActionChange:
        assert check.lead is not None
        cur = self.current.get(row.action_id)
        now = _content(cur) if cur else None
        kind = "new"
        if cur is not None:
            if _same(cur, row):
                kind = "same"
            elif cur.source.returned_by == check.lead and self._from_return(cur):
                kind = "replaced"
            elif cur.source.returned_by and self._from_return(cur):
                kind = "conflict"
            else:
                kind = "register-changed"
        change = ActionChange(row.action_id, row.title, check.lead, check.name, kind, now, row.content())
        if kind in ("new", "replaced"):
            update = self._update(check, row)
            self.current[row.action_id] = update
            self.puts.append(update)
        elif kind in ("conflict", "register-changed"):
            self._flag(check, row, change, cur)
        return change

    def _from_return(self, cur: Update) -> bool:
        sha = cur.source.sha256
        return bool(sha) and (sha in self.returns or sha in self.recorded)

    def _update(self, check: ReturnCheck, row: RowUpdate) -> Update:
        """The lead's update as the register keeps it (recorded when, and by which batch: when it is written)."""
        assert self.cycle is not None  # a workbook of no open cycle is refused before it is merged
        action = self.facts.actions.get(row.action_id)
        return Update(action_id=row.action_id, cycle=self.cycle, status=row.status, status_raw=row.status_raw,
                      progress=row.progress, revised_finish=row.revised_finish, comment=row.comment,
                      needs_review=row.needs_review, activity_as_reported=action.activity if action else "",
                      leads_as_reported=action.leads if action else (),
                      source=Provenance(file=check.name, sha256=check.sha256, where=row.where, returned_by=check.lead))

    def _flag(self, check: ReturnCheck, row: RowUpdate, change: ActionChange, cur: Update | None) -> None:
        """One flag per field the two versions disagree on, in the form `hwbs-xl settle` / `review` settle:
        status (answer a status), progress (answer the text to keep, or "keep"), revised finish (a month).
        Each flag's ``raw`` holds both whole versions side by side."""
        now = change.now or {}
        mine = {**change.returned, "by": check.lead, "file": check.name}
        code = "return-conflict" if change.kind == "conflict" else "register-changed-since-issue"
        first = now.get("by") or "the register"
        raw = json.dumps({"register": now, "returned": mine}, ensure_ascii=False)
        for what, key in (("status", "status_raw"), ("progress", "progress"), ("revised_finish", "revised_finish")):
            a, b = now.get(key) or "", change.returned.get(key) or ""
            if a == b:
                continue
            message = (f"{row.action_id}, {what.replace('_', ' ')} for {self.cycle}: {first} says {_short(a)}, "
                       f"{check.lead} says {_short(b)}. The register keeps the first until you settle it "
                       f"(give the value to keep{', or keep' if what == 'progress' else ''}).")
            self.flags.append(Flag(id=0, action_id=row.action_id, cycle=self.cycle, field=what, code=code, raw=raw,
                                   message=message, candidates=(a, b)))
        if cur is not None and not cur.needs_review:
            flagged = replace(cur, needs_review=True)
            self.current[row.action_id] = flagged
            self.puts.append(flagged)

    def _record_return(self, check: ReturnCheck, state: ReturnState, actions: list[str]) -> None:
        report = {"file": str(check.path), "actions": actions, "severity": Report(check.findings).by_severity(),
                  "codes": sorted({f.code for f in check.findings if f.severity != INFO})}
        record = ReturnRecord(sha256=check.sha256, original_name=check.name, state=state, cycle=check.cycle,
                              lead=check.lead, mtime=check.mtime, report=report)
        self.puts.append(record)
        self.recorded.add(check.sha256)
        if state.taken and check.sha256 not in self.returns:
            self._remember(replace(record, received_at="this merge"))  # a later file this run supersedes it

    def apply(self, b: Batch, outcomes: list[FileOutcome], paths: PlanPaths) -> None:
        """Write the planned changes into batch ``b`` (the caller's transaction), through the register's rows."""
        stamp = now_iso()
        # every evidence file is in one folder (evidence_path): resolve it once, not once per file (a resolve
        # is a system call per folder on the path; 6,000 of them were 2% of a national merge)
        folder = _relative(paths, paths.evidence)
        evidence = {o.check.sha256: f"{folder}/{o.evidence.name}" for o in outcomes if o.evidence}
        for item in self.puts:
            if isinstance(item, Update):
                source = replace(item.source, recorded_at=item.source.recorded_at or stamp,
                                 batch=item.source.batch or b.id)
                b.put("updates", update_row(replace(item, source=source)))
            else:
                earlier = self.stored.get(item.sha256)
                b.put("returns", return_row(replace(item, stored_path=evidence.get(item.sha256) or "",
                                                    received_at=earlier.received_at if earlier else stamp)))
        for sha in self.superseded:
            b.mark_return(sha, SUPERSEDED)
        for flag in self.flags:
            b.put("flags", flag_row(replace(flag, id=b.new_flag_id())))


def _short(text: str, width: int = 60) -> str:
    one = clip(str(text), width)
    return repr(one) if one else "(nothing)"


def _same(now: Update, row: RowUpdate) -> bool:
    """The register already says what the lead returned."""
    return (now.status, now.status_raw, now.progress, now.revised_finish, now.comment) == \
        (row.status, row.status_raw, row.progress, row.revised_finish, row.comment)


def _content(u: Update) -> dict[str, Any]:
    """An update as comparable data, with who returned it (for conflicts and the dry run)."""
    return {"status": u.status, "status_raw": u.status_raw, "progress": u.progress,
            "revised_finish": u.revised_finish.iso if u.revised_finish else None, "comment": u.comment,
            "by": u.source.returned_by}


def _relative(paths: PlanPaths, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.root.resolve()))
    except ValueError:
        return str(path)


__all__ = ["merge", "MergeResult", "FileOutcome", "ActionChange", "evidence_path", "preflight",
           "regenerate_master", "side_by_side"]
