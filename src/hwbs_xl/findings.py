"""Findings are data: every problem an import, validation or merge meets becomes a Finding in a Report.

Every code a user can see is declared once, here, in CODES: its severity, the stage that reports it and a
one-line meaning. That includes the codes of the errors a command stops with (``Error [code]: ...``, see
errors.py), marked STOP. Nothing registers codes at import time, so a Finding never depends on which
modules were imported first. `hwbs-xl codes` prints CODES and docs/findings.md is generated from it (the
tests keep both true: every code used under src/ is declared, and every declared code is used).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

ERROR = "error"      # the value or file was not used
WARNING = "warning"  # used, but someone should look
INFO = "info"        # worth knowing, nothing to do

# Where a user meets a code.
FINDING = "finding"  # a line in a report (import, validate, merge, settle) or a flag
STOP = "stop"        # the error a command stops with: "Error [code]: ..." and an exit code (errors.py)

# The stage that reports a code, in the coordinator's words.
IMPORT = "import"
REVIEW = "review"
ISSUE = "issue"
READING = "reading"  # reading any spreadsheet safely: a return, a review workbook, an .xlsx appendix
RETURNS = "returns"
APPENDIX = "appendix"
IMPORT_RETURNS = "import, returns"
ISSUE_APPENDIX = "issue, appendix"
ANY = "any"


class Code(NamedTuple):
    severity: str
    stage: str
    meaning: str
    kind: str = FINDING


CODES: dict[str, Code] = {
    # importing an appendix (PDF, .xlsx, text)
    "status-repaired": Code(INFO, IMPORT, "A status was mended to the only vocabulary entry it can mean (recorded as a repair)."),
    "status-ambiguous": Code(WARNING, IMPORT, "The status could mean more than one vocabulary entry; kept raw and flagged for review."),
    "status-missing": Code(WARNING, IMPORT_RETURNS, "The status cell is empty; the status is unknown and flagged for review."),
    "status-unrecognised": Code(WARNING, IMPORT, "The status matches no vocabulary entry; kept raw and flagged for review."),
    "lead-unreadable": Code(WARNING, IMPORT, "The lead cell holds no readable name (for example only bullets); flagged for review."),
    "finish-missing": Code(WARNING, IMPORT, "The finish date is empty or not a month; flagged for review."),
    "start-missing": Code(WARNING, IMPORT, "The start date is empty or not a month; flagged for review."),
    "link-same-wording": Code(INFO, IMPORT, "Linked to an existing action with the same wording."),
    "link-similar": Code(INFO, IMPORT, "Linked to an existing action with the same key area and start month and similar wording."),
    "link-doubtful": Code(WARNING, IMPORT, "Similar to an existing action but not clearly the same; imported as a new action and flagged with candidates."),
    "action-new": Code(INFO, IMPORT, "No existing action matches; created as a new action."),
    "row-stitched": Code(INFO, IMPORT, "A row cut by a page break was joined back to the row above."),
    "cell-split-repaired": Code(INFO, IMPORT, "A cell split in two by the extraction (\"Key\" | \"Area 1\") was joined back."),
    "header-dropped": Code(INFO, IMPORT, "A repeated page title or header row was dropped."),
    "text-cleaned": Code(INFO, IMPORT, "Bullets, HTML tags or stray glyphs were normalised in a cell."),
    "row-unreadable": Code(WARNING, IMPORT, "A line inside the table could not be read as a row; shown here so nothing is lost."),
    "already-imported": Code(INFO, IMPORT, "This exact file was imported before; nothing changed."),
    "import-no-table": Code(ERROR, IMPORT, "No appendix table was recognised in the file."),
    "import-no-cycle": Code(ERROR, IMPORT, "The file does not say which cycle it reports on; give --cycle."),
    "pdf-no-text-layer": Code(ERROR, IMPORT, "The PDF has no text layer (a scan); it needs OCR or manual entry."),
    "pdf-glyph-unmapped": Code(WARNING, IMPORT, "The PDF has glyphs with no text ((cid:N) or U+FFFD); flagged for review."),
    "import-cycle-conflict": Code(ERROR, IMPORT, "The file's header names a different cycle from the one given with --cycle."),
    "import-form-unsupported": Code(ERROR, IMPORT, "The file is of a form this installation cannot read (PDF or .xlsx reader missing)."),
    "import-unreadable": Code(ERROR, IMPORT, "The file could not be read as an appendix at all."),
    "outside-table": Code(INFO, IMPORT, "Lines under no header row (a title, cover, summary, chart or legend before the appendix table, or a sheet without its own header) were not imported; one note per page lists them so nothing is lost."),
    "column-ignored": Code(WARNING, IMPORT, "Text under a column whose heading means nothing hwbs-xl knows was not imported; shown here so nothing is lost."),
    "row-shifted": Code(INFO, IMPORT, "A row shifted right by an empty leading cell was read in its header's columns."),
    "key-area-carried": Code(INFO, IMPORT, "An empty key area cell (merged with the row above) was read as the key area above."),
    "lead-split": Code(INFO, IMPORT, "One lead cell named several leads; each is kept as its own lead."),
    "dates-reversed": Code(WARNING, IMPORT, "The start month is after the finish month; both kept as printed."),
    "update-already-recorded": Code(INFO, IMPORT, "The register already holds this action's update for this cycle from another file; kept as it was."),
    "update-differs": Code(WARNING, IMPORT, "The register holds a different update for this action and cycle from another file; the register's was kept and this file's text is shown here."),
    "link-by-id": Code(INFO, IMPORT, "Linked to an existing action by the action ID printed in the file."),
    "plan-titled": Code(INFO, IMPORT, "The plan's title was taken from the appendix's title line."),
    "pdf-read": Code(INFO, IMPORT, "What the PDF reader found: pages, tables (with or without ruling lines), each table's first row and the first text lines; so a file without an appendix table says what it holds."),
    # settling flags from the review workbook
    "flag-settled": Code(INFO, REVIEW, "A flagged item was settled by the coordinator."),
    "settle-invalid": Code(ERROR, REVIEW, "A decision for a flagged item cannot be used (not a status, month, lead or action ID it could be)."),
    "settle-already": Code(INFO, REVIEW, "This flag was settled before; the decision in the review workbook was not applied again."),
    "review-not-review-workbook": Code(ERROR, REVIEW, "The file is not a review workbook written by `hwbs-xl review --out`."),
    # issuing the lead workbooks
    "action-no-lead": Code(WARNING, ISSUE, "An active action has no lead, so no workbook includes it; give it one with `hwbs-xl action reassign`."),
    # reading a spreadsheet safely (returns, review workbooks, .xlsx appendices)
    "file-unreadable": Code(ERROR, READING, "The file could not be opened (missing, or no permission to read it)."),
    "file-not-spreadsheet": Code(ERROR, READING, "The file is not a spreadsheet (decided from its content, not its name)."),
    "file-encrypted": Code(ERROR, READING, "The file has a password to open it; it cannot be read."),
    "file-corrupt": Code(ERROR, READING, "The file is damaged or incomplete (for example a cut-short download); the damaged part is named."),
    "file-unsafe-xml": Code(ERROR, READING, "A part of the file declares a DTD or entities (an XML attack pattern); the file was not parsed."),
    "file-too-large": Code(ERROR, READING, "The file, its unpacked size or its number of cells is over a documented input limit."),
    "file-suspicious-compression": Code(ERROR, READING, "The file packs far more data than its size suggests (too many entries or too high a compression ratio)."),
    "sheet-too-many-rows": Code(ERROR, READING, "A sheet has more rows than the documented limit; the file was not read further."),
    "file-strict-ooxml": Code(INFO, READING, "Saved as 'Strict Open XML' (which openpyxl reads as empty); read with every check."),
    "file-format-xls": Code(WARNING, READING, "An old .xls file; values were read without the protection and formula checks (degraded)."),
    "file-format-ods": Code(INFO, READING, "An OpenDocument (.ods) file; read with every check."),
    "file-format-xlsb": Code(ERROR, READING, "An Excel binary (.xlsb) workbook, which hwbs-xl does not read; it must be saved as .xlsx."),
    "file-structure-unreadable": Code(WARNING, READING, "Values were read, but the workbook's structure (protection, formulas) could not be checked."),
    "file-macros-ignored": Code(INFO, READING, "The workbook contains macros; they were neither run nor kept."),
    "cell-error-value": Code(WARNING, READING, "A cell holds a spreadsheet error value (#N/A, #VALUE!...); kept as text."),
    # a return: whose it is and where its sheet is
    "manifest-missing": Code(ERROR, RETURNS, "The workbook has no hwbs-xl manifest: it was not issued by hwbs-xl, or the hidden sheet was deleted."),
    "manifest-unreadable": Code(ERROR, RETURNS, "The workbook's manifest cannot be read (edited or damaged)."),
    "manifest-signature-invalid": Code(ERROR, RETURNS, "The manifest's signature does not hold: it was edited, or forged."),
    "workbook-other-plan": Code(ERROR, RETURNS, "The workbook was issued by a different plan."),
    "workbook-old-cycle": Code(ERROR, RETURNS, "The workbook was issued for a cycle that is not the open one."),
    "workbook-not-issued": Code(ERROR, RETURNS, "The workbook is not the copy issued to this lead for this cycle (re-issued since, or never issued)."),
    "workbook-identity-mismatch": Code(ERROR, RETURNS, "The rows in the workbook belong to another lead than its manifest names (a copied manifest or a copy returned by someone else)."),
    "workbook-lead-mismatch": Code(ERROR, RETURNS, "The file is named for one lead but its manifest names another: a copy returned by someone else."),
    "sheet-missing": Code(ERROR, RETURNS, "The update sheet (found by the manifest and the action IDs) is not in the workbook."),
    "sheet-renamed": Code(INFO, RETURNS, "The update sheet was renamed or moved; it was found by its action IDs."),
    "sheets-extra-ignored": Code(INFO, RETURNS, "The workbook has sheets hwbs-xl did not issue; they were ignored."),
    "protection-removed": Code(INFO, RETURNS, "Sheet protection was switched off. Nothing depends on it: every locked value is compared with what was issued."),
    # a return: its rows
    "row-missing": Code(WARNING, RETURNS, "An action issued in this workbook is not in the returned sheet; nothing was taken for it."),
    "row-unknown-id": Code(WARNING, RETURNS, "A row has an action ID that was not issued in this workbook; it was ignored."),
    "id-duplicate": Code(ERROR, RETURNS, "An action ID appears on more than one row; none of those rows was taken."),
    "id-changed": Code(ERROR, RETURNS, "An action ID cell was changed; the row was recognised by its other locked cells but not taken."),
    "rows-reordered": Code(INFO, RETURNS, "Rows were sorted, inserted or deleted; they were matched by action ID."),
    "row-not-updated": Code(INFO, RETURNS, "The lead left this action's update cells as issued."),
    "return-empty": Code(WARNING, RETURNS, "The workbook came back with no update typed in; the lead is still outstanding."),
    "action-retired": Code(INFO, RETURNS, "The action was retired after the workbook was issued; the lead's update was still taken and shows in this cycle's appendix."),
    # a return: each row's values
    "status-not-in-list": Code(ERROR, RETURNS, "The status is not one of the allowed values; the row was not taken."),
    "status-completed-future-date": Code(WARNING, RETURNS, "Status Completed, but the revised finish date is still in the future."),
    "status-delayed-no-date": Code(WARNING, RETURNS, "Status Delayed, but no revised finish date was given."),
    "status-incorporated-no-where": Code(WARNING, RETURNS, "Status Incorporated, but the progress report does not say into which work."),
    "date-unparseable": Code(ERROR, RETURNS, "A date cell holds something that is not a date; the raw value is kept in the report."),
    "date-before-start": Code(ERROR, RETURNS, "The revised finish date is before the action's start."),
    "progress-missing": Code(WARNING, RETURNS, "A status was given without a progress report."),
    "progress-too-long": Code(WARNING, RETURNS, "The progress report is longer than the appendix allows; it was taken, please shorten it."),
    "text-truncated": Code(ERROR, RETURNS, "Text is longer than a spreadsheet cell can hold (32,767 characters); kept whole in the report, not taken."),
    "locked-value-changed": Code(WARNING, RETURNS, "A locked cell (history, ID or wording) differs from what was issued; the register keeps the issued value."),
    "formula-in-text-cell": Code(WARNING, RETURNS, "A formula was typed into a text cell; it was kept as the text typed, never calculated."),
    "file-zipped": Code(ERROR, READING, "The file is a zip archive with a workbook inside, not the workbook itself; unzip it and use the workbook."),
    "text-control-chars": Code(WARNING, RETURNS, "Text contains control characters (often pasted from Word); each was replaced by a visible marker."),
    "merged-cells-in-input": Code(WARNING, RETURNS, "Cells in the update area were merged; the value was read from the top-left cell."),
    # merging returns into the register
    "already-merged": Code(INFO, RETURNS, "This exact file was merged before; nothing changed."),
    "return-superseded": Code(INFO, RETURNS, "A newer return from the same lead replaces an earlier one."),
    "return-older-ignored": Code(WARNING, RETURNS, "A newer return from the same lead was already merged; this older one was not."),
    "return-conflict": Code(WARNING, RETURNS, "Two leads returned different updates for the same action; left for the coordinator to settle."),
    "run-interrupted": Code(INFO, RETURNS, "An earlier command on this plan was stopped part way; the register holds none or all of its changes, and what it left behind was removed before this run."),
    "register-changed-since-issue": Code(WARNING, RETURNS, "The register's update changed after the workbook was issued; the lead's value was not applied over it."),
    # the errors a command stops with (exceptions; the exit code is in the README)
    "invalid-data": Code(ERROR, ANY, "A file or value cannot be used as it is; the message says which and what to do (exit 1).", STOP),
    "usage": Code(ERROR, ANY, "The command was asked for something that does not make sense here (exit 2).", STOP),
    "plan-not-found": Code(ERROR, ANY, "There is no plan register in the --plan folder; run `hwbs-xl init` (or `hwbs-xl import FILE`) or point --plan at the plan (exit 2).", STOP),
    "not-found": Code(ERROR, ANY, "An action, cycle, lead or batch named on the command line does not exist (exit 2).", STOP),
    "undo-refused": Code(ERROR, ANY, "The batch cannot be undone (already undone, itself an undo, or later batches depend on it) (exit 2).", STOP),
    "register-busy": Code(ERROR, ANY, "Another coordinator or process is changing the register right now; nothing was changed (exit 3).", STOP),
    "output-locked": Code(ERROR, ANY, "An output file is open in another program, or the plan folder cannot be written; nothing was changed (exit 3).", STOP),
    "io-error": Code(ERROR, ANY, "The disk failed part way (full, read-only, I/O error); everything was rolled back (exit 3).", STOP),
    "renderer-missing": Code(ERROR, ANY, "An optional program (LibreOffice) is needed for this output and is not installed (exit 3).", STOP),
    "internal-error": Code(ERROR, ANY, "hwbs-xl failed unexpectedly (a bug); nothing was half-written. Run again with --debug and report the output (exit 4).", STOP),
    "file-not-found": Code(ERROR, IMPORT, "A file named to import is not a file (the import report shows it as import-unreadable).", STOP),
    "text-too-long": Code(ERROR, ANY, "A text is longer than a spreadsheet cell can hold (32,767 characters); nothing was written (exit 1).", STOP),
    "open-flags": Code(ERROR, ISSUE, "cycle open or generate stopped: questions the import could not decide are still open for the actions concerned; settle them (flags, settle, review) or pass --open-flags to go on, the leads then seeing those statuses as not confirmed (exit 2).", STOP),
    "reissue-needed": Code(ERROR, ISSUE, "generate stopped before writing: some leads already have a workbook for this cycle that the register has moved on from; run again with --reissue to replace them (exit 2).", STOP),
    "example-contact": Code(ERROR, ISSUE, "generate stopped: plan.toml's coordinator is still the bundled example, whose address every workbook and draft would give the leads; set your own, or pass --example-contact for a trial (exit 2).", STOP),
    "output-check-failed": Code(ERROR, ISSUE_APPENDIX, "A workbook was written but did not read back as written; nothing was kept (exit 3).", STOP),
}

def report_json(data: dict[str, Any]) -> str:
    """A report as JSON people can read and diff: one top-level key per line, and each item of a list on a
    line of its own. (``json.dumps(indent=2)`` gives the same data but uses Python's slow pure-Python
    encoder: 4 s for a national merge report; this takes the C encoder for every piece.)"""
    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    def field(value: Any) -> str:
        if isinstance(value, list) and value:
            return "[\n    " + ",\n    ".join(dump(item) for item in value) + "\n  ]"
        return dump(value)

    return "{\n" + ",\n".join(f"  {dump(key)}: {field(value)}" for key, value in data.items()) + "\n}"


@dataclass(frozen=True)
class Finding:
    """One thing found, in the terms the person who made the file uses."""

    code: str
    message: str
    severity: str = ""  # filled from CODES when left empty
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None  # A1 style
    where: str | None = None  # "line 12", "page 3": for files that have no cells
    action_id: str | None = None
    action_title: str | None = None
    value: str | None = None  # what was there (raw), so nothing is lost
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        entry = CODES.get(self.code)
        if entry is None or entry.kind != FINDING:
            raise KeyError(f"finding code {self.code!r} is not declared in findings.CODES")
        if not self.severity:
            object.__setattr__(self, "severity", entry.severity)

    @property
    def location(self) -> str:
        parts = [p for p in (
            self.file,
            f"sheet '{self.sheet}'" if self.sheet else None,
            f"cell {self.cell}" if self.cell else None,
            self.where,
        ) if p]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One human line: severity, code, where, which action, what to do."""
        who = f"{self.action_id} ({self.action_title})" if self.action_id and self.action_title else self.action_id
        bits = [f"{self.severity.upper():7} {self.code}"]
        if self.location:
            bits.append(self.location)
        if who:
            bits.append(f"action {who}")
        return " | ".join(bits) + f"\n        {self.message}"


@dataclass
class Report:
    """An ordered list of findings plus counters; never raises on bad data."""

    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, code: str, message: str, **where: Any) -> Finding:
        f = Finding(code=code, message=message, **where)
        self.findings.append(f)
        return f

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def of(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_severity(self) -> dict[str, int]:
        out = {ERROR: 0, WARNING: 0, INFO: 0}
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": dict(self.counts), "severity": self.by_severity(),
                "findings": [f.to_dict() for f in self.findings]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)


def finding_codes() -> set[str]:
    """The codes a Finding may carry (an error a command stops with is not a finding)."""
    return {code for code, entry in CODES.items() if entry.kind == FINDING}


def catalogue_markdown() -> str:
    """docs/findings.md: the codes table (a test keeps the file equal to this)."""
    lines = ["# Finding codes", "",
             "Every problem hwbs-xl reports has one of these stable codes (`hwbs-xl codes` prints this list).",
             "Severity: **error** — the value or file was not used; **warning** — used, but someone should look;",
             "**info** — worth knowing, nothing to do. Stage: the step of the cycle that reports it (*reading* is the",
             "safe spreadsheet reader every stage uses). Seen as: a *finding* in a report or flag list, or the *stop*",
             "a command ends with (`Error [code]: ...` and an exit code, see the README).",
             "Generated from `src/hwbs_xl/findings.py`; do not edit by hand.",
             "", "| code | severity | stage | seen as | meaning |", "|---|---|---|---|---|"]
    for code, entry in sorted(CODES.items()):
        lines.append(f"| `{code}` | {entry.severity} | {entry.stage} | {entry.kind} | {entry.meaning.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
