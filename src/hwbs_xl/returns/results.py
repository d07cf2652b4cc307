"""What validating returned files found: each row's update, each file's check, and the run's result.

One ``ReturnCheck`` per file carries it from the check through the reports, validate's memo and merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..findings import ERROR, INFO, WARNING, Finding, Report, report_json
from ..manifest import Manifest
from ..model import Month, ReturnState
from ..sheets.reader import ReadResult


@dataclass
class RowUpdate:
    """One action's update as returned (already normalised), and whether it may be taken."""

    action_id: str
    title: str
    row: int  # the sheet row it came back on
    where: str  # "'Update'!I7" (the status cell), for provenance
    status: str | None = None  # a vocabulary key
    status_raw: str = ""
    progress: str = ""
    revised_finish: Month | None = None
    comment: str = ""
    blocked: bool = False  # an error on this row: nothing from it is taken
    needs_review: bool = False

    @property
    def answered(self) -> bool:
        return bool(self.status_raw or self.progress or self.revised_finish or self.comment)

    def content(self) -> dict[str, Any]:
        """What the lead said, as comparable data (for conflicts and the dry run)."""
        return {"status": self.status, "status_raw": self.status_raw, "progress": self.progress,
                "revised_finish": self.revised_finish.iso if self.revised_finish else None, "comment": self.comment}


@dataclass
class ReturnCheck:
    """Everything validation learned about one returned file."""

    path: Path
    read: ReadResult
    findings: list[Finding] = field(default_factory=list)
    manifest: Manifest | None = None
    cycle: str | None = None
    lead: str | None = None
    sheet: str | None = None
    issued_ids: tuple[str, ...] = ()
    rows: list[RowUpdate] = field(default_factory=list)
    rejected: bool = False
    mtime: float = 0.0
    format: str | None = None  # "xlsx", "ods", ...: None when the file could not be read as a workbook
    bytes_read: bool = False  # the file's bytes were read (so merge keeps them as evidence)

    def slim(self, *, keep_bytes: bool = False) -> ReturnCheck:
        """Forget the parsed sheets (and the file's bytes, unless ``keep_bytes``): what merge and the reports
        need is in the findings and rows, and keeping every file's sheets until the batch is written made
        memory grow with the inbox (891 MB for 6,000 returns). Merge keeps the bytes only until its evidence
        copy of them is staged (``evidence.EvidenceCopies``), so the evidence is the very bytes checked."""
        self.read.book = None
        if not keep_bytes:
            self.read.data = b""
        return self

    @property
    def name(self) -> str:
        return self.read.name

    @property
    def sha256(self) -> str:
        return self.read.sha256

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in (ERROR, WARNING)]

    @property
    def state(self) -> ReturnState:
        """rejected (nothing usable), queried (some of it needs the lead), ok."""
        if self.rejected:
            return ReturnState.REJECTED
        return ReturnState.QUERIED if self.problems else ReturnState.OK

    def usable_rows(self) -> list[RowUpdate]:
        return [r for r in self.rows if not r.blocked and r.answered]

    def summary(self) -> str:
        who = f"{self.lead} ({self.cycle})" if self.lead else "identity unknown"
        sev = Report(self.findings).by_severity()
        if self.rejected:
            return f"REJECTED  {self.name}: {who}; {sev[ERROR]} error(s), nothing can be taken"
        answered = sum(1 for r in self.rows if r.answered)
        usable = len(self.usable_rows())
        mark = "OK       " if self.state is ReturnState.OK else "QUERIED  "
        return (f"{mark} {self.name}: {who}; {answered} of {len(self.issued_ids)} action(s) updated, {usable} usable; "
                f"{sev[ERROR]} error(s), {sev[WARNING]} warning(s)")

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "name": self.name, "sha256": self.sha256, "state": self.state,
                "cycle": self.cycle, "lead": self.lead, "sheet": self.sheet,
                "format": self.format,
                "actions_issued": len(self.issued_ids), "rows": [
                    {"action_id": r.action_id, "row": r.row, "blocked": r.blocked, "answered": r.answered,
                     **r.content()} for r in self.rows],
                "findings": [f.to_dict() for f in self.findings]}


@dataclass
class ValidationResult:
    cycle: str | None
    checks: list[ReturnCheck]
    notes: list[Path] = field(default_factory=list)
    report_file: Path | None = None

    @property
    def report(self) -> Report:
        return Report([f for c in self.checks for f in c.findings],
                      counts={"files": len(self.checks), "rejected": sum(c.rejected for c in self.checks)})

    @property
    def ok(self) -> bool:
        return self.report.ok

    def lines(self, *, details: bool = True) -> list[str]:
        out = [f"Checked {len(self.checks)} returned file(s) for {self.cycle or 'no open cycle'}."]
        for c in self.checks:
            out.append(c.summary())
            if details:
                out += ["  " + line for f in c.findings if f.severity != INFO for line in f.line().splitlines()]
        sev = self.report.by_severity()
        out.append(f"In all: {sev[ERROR]} error(s), {sev[WARNING]} warning(s), {sev[INFO]} note(s).")
        if self.notes:
            out.append(f"'Please fix' notes for {len(self.notes)} lead(s) in {self.notes[0].parent}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"cycle": self.cycle, "ok": self.ok, "severity": self.report.by_severity(),
                "files": [c.to_dict() for c in self.checks], "notes": [str(p) for p in self.notes]}

    def to_json(self) -> str:
        return report_json(self.to_dict())


__all__ = ["RowUpdate", "ReturnCheck", "ValidationResult"]
