"""Findings are data: every problem an import, validation or merge meets becomes a Finding in a Report.

Each kind of problem has one stable code, registered in CODES with its severity and a one-line meaning;
the README's finding table is checked against CODES by the tests, so a new code must be documented.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator

ERROR = "error"      # the value or file was not used
WARNING = "warning"  # used, but someone should look
INFO = "info"        # worth knowing, nothing to do

# code -> (severity, what it means). Stage modules add their codes here, not in their own files,
# so that the catalogue stays in one place.
CODES: dict[str, tuple[str, str]] = {
    # import of appendices
    "status-repaired": (INFO, "A status was mended to the only vocabulary entry it can mean (recorded as a repair)."),
    "status-ambiguous": (WARNING, "The status could mean more than one vocabulary entry; kept raw and flagged for review."),
    "status-missing": (WARNING, "The status cell is empty; the status is unknown and flagged for review."),
    "status-unrecognised": (WARNING, "The status matches no vocabulary entry; kept raw and flagged for review."),
    "lead-unreadable": (WARNING, "The lead cell holds no readable name (for example only bullets); flagged for review."),
    "finish-missing": (WARNING, "The finish date is empty or not a month; flagged for review."),
    "start-missing": (WARNING, "The start date is empty or not a month; flagged for review."),
    "link-same-wording": (INFO, "Linked to an existing action with the same wording."),
    "link-similar": (INFO, "Linked to an existing action with the same key area and start month and similar wording."),
    "link-doubtful": (WARNING, "Similar to an existing action but not clearly the same; imported as a new action and flagged with candidates."),
    "action-new": (INFO, "No existing action matches; created as a new action."),
    "row-stitched": (INFO, "A row cut by a page break was joined back to the row above."),
    "cell-split-repaired": (INFO, "A cell split in two by the extraction (\"Key\" | \"Area 1\") was joined back."),
    "header-dropped": (INFO, "A repeated page title or header row was dropped."),
    "text-cleaned": (INFO, "Bullets, HTML tags or stray glyphs were normalised in a cell."),
    "row-unreadable": (WARNING, "A line inside the table could not be read as a row; shown here so nothing is lost."),
    "already-imported": (INFO, "This exact file was imported before; nothing changed."),
    "import-no-table": (ERROR, "No appendix table was recognised in the file."),
    "import-no-cycle": (ERROR, "The file does not say which cycle it reports on; give --cycle."),
    "pdf-no-text-layer": (ERROR, "The PDF has no text layer (a scan); it needs OCR or manual entry."),
    "pdf-glyph-unmapped": (WARNING, "The PDF has glyphs with no text ((cid:N) or U+FFFD); flagged for review."),
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


def register_codes(codes: dict[str, tuple[str, str]]) -> None:
    """Stage modules call this at import time with their own codes (kept in this one catalogue)."""
    for code, value in codes.items():
        if code in CODES and CODES[code] != value:
            raise ValueError(f"finding code {code!r} registered twice with different meanings")
        CODES[code] = value


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
        if self.code not in CODES:
            raise KeyError(f"unregistered finding code {self.code!r}")
        if not self.severity:
            object.__setattr__(self, "severity", CODES[self.code][0])

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


# The modules that register finding codes. Listed here (not discovered) so that `codes` imports only these.
CODE_MODULES = ("hwbs_xl.importing.codes", "hwbs_xl.importing.pdf", "hwbs_xl.returns.codes", "hwbs_xl.issue.workbook")


def all_codes() -> dict[str, tuple[str, str]]:
    """Every finding code hwbs-xl can report, after loading the stage modules that register theirs."""
    import importlib

    for name in CODE_MODULES:
        importlib.import_module(name)
    return dict(CODES)


def catalogue_markdown() -> str:
    """docs/findings.md: the finding codes table (a test keeps the file equal to this)."""
    lines = ["# Finding codes", "",
             "Every problem hwbs-xl reports has one of these stable codes (`hwbs-xl codes` prints this list).",
             "Severity: **error** — the value or file was not used; **warning** — used, but someone should look;",
             "**info** — worth knowing, nothing to do. Generated from `src/hwbs_xl/findings.py`; do not edit by hand.",
             "", "| code | severity | meaning |", "|---|---|---|"]
    for code, (severity, meaning) in sorted(all_codes().items()):
        lines.append(f"| `{code}` | {severity} | {meaning.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
