"""The data model: plan, action, cycle, update, status vocabulary, provenance, and the records of
issued workbooks and received returns (with the one list of return states).

Everything else (the register, workbooks, appendix) is a form or a view over these types.
They are plain frozen dataclasses so they can be compared, hashed and serialised without surprises.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from .text import first_words

__all__ = [
    "Month",
    "Status",
    "StatusVocabulary",
    "Plan",
    "Action",
    "Cycle",
    "Provenance",
    "Update",
    "Flag",
    "IssuedRecord",
    "ReturnState",
    "ReturnRecord",
    "key_area_number",
]


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, as plans give start and finish dates ("Sep-22")."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")
        if not 1900 <= self.year <= 2200:
            raise ValueError(f"year out of range: {self.year}")

    _FULL = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}

    @classmethod
    def parse(cls, text: str) -> Month | None:
        """Read the month forms appendices use: "Sep-22", "Sept 2022", "September 2022", "2022-09", "09/2022".

        Returns None for text that is not a month (the caller flags it); never guesses a day-first date.
        """
        t = " ".join(str(text).replace("\u2013", "-").split()).strip().lower()
        if not t:
            return None
        m = re.fullmatch(r"([a-z]+)\.?[\s\-/']*(\d{2}|\d{4})", t)
        if m:
            name, yr = m.group(1), m.group(2)
            # "sep", "sept", "september" all name September; fewer than three letters names nothing.
            mon = next((i for full, i in cls._FULL.items() if len(name) >= 3 and full.startswith(name)), None)
            if mon is None:
                return None
            year = int(yr) + 2000 if len(yr) == 2 else int(yr)
            return cls(year, mon)
        m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", t)
        if m:
            return cls(int(m.group(1)), int(m.group(2))) if 1 <= int(m.group(2)) <= 12 else None
        m = re.fullmatch(r"(\d{1,2})/(\d{4})", t)
        if m:
            return cls(int(m.group(2)), int(m.group(1))) if 1 <= int(m.group(1)) <= 12 else None
        return None

    @classmethod
    def from_iso(cls, text: str | None) -> Month | None:
        if not text:
            return None
        y, m = text.split("-")[:2]
        return cls(int(y), int(m))

    @classmethod
    def of(cls, d: date) -> Month:
        return cls(d.year, d.month)

    @property
    def iso(self) -> str:
        """How the register stores a month: "2022-09"."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """How appendices print a month: "Sep-22"."""
        return f"{calendar.month_abbr[self.month]}-{self.year % 100:02d}"

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Status:
    """One entry of the status vocabulary (read from templates/statuses.toml)."""

    key: str
    label: str
    rag: str
    fill: str
    font: str
    meaning: str
    retires: bool = False
    needs_date: bool = False
    needs_where: bool = False


@dataclass(frozen=True)
class StatusVocabulary:
    statuses: tuple[Status, ...]
    unknown_label: str = "Awaiting update"
    unknown_fill: str = "#FFFFFF"
    unknown_font: str = "#C00000"

    def __iter__(self) -> Iterator[Status]:
        return iter(self.statuses)

    def __len__(self) -> int:
        return len(self.statuses)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.statuses]

    def by_key(self, key: str | None) -> Status | None:
        return next((s for s in self.statuses if s.key == key), None)

    def by_label(self, label: str | None) -> Status | None:
        """Exact match after folding case and whitespace: the only match that needs no review."""
        if label is None:
            return None
        folded = normalise_label(label)
        return next((s for s in self.statuses if normalise_label(s.label) == folded), None)


def normalise_label(text: str) -> str:
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True)
class Plan:
    title: str
    appendix_title: str = "Appendix A"


_KEY_AREA_RE = re.compile(r"(?:key\s*area|ka)\s*(\d+)", re.I)


def key_area_number(key_area: str) -> int | None:
    """"Key Area 2" -> 2; None where the key area carries no number."""
    m = _KEY_AREA_RE.search(key_area or "")
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class Action:
    """One line of the plan. ``id`` is stable for ever: never reused or renumbered."""

    id: str
    key_area: str
    activity: str
    leads: tuple[str, ...]
    start: Month | None = None
    finish: Month | None = None
    state: str = "active"  # "active" or "retired"
    keep: bool = False  # coordinator asked to keep it although its status would retire it

    @property
    def title(self) -> str:
        """A short handle for reports: the first words of the activity."""
        return first_words(self.activity, 12)


@dataclass(frozen=True)
class Cycle:
    """A reporting round, e.g. "April 2024". ``seq`` orders cycles in time."""

    label: str
    seq: int
    report_date: date | None = None
    due_date: date | None = None
    state: str = "closed"  # "open" or "closed"


@dataclass(frozen=True)
class Provenance:
    """Where a value came from, so a reviewer can find it again."""

    file: str | None = None
    sha256: str | None = None
    where: str | None = None  # "line 12", "page 3, row 4", "'Update'!F7"
    returned_by: str | None = None
    recorded_at: str | None = None
    batch: int | None = None


@dataclass(frozen=True)
class Update:
    """One action in one cycle."""

    action_id: str
    cycle: str
    status: str | None  # a Status key, or None when unknown or awaiting review
    status_raw: str = ""
    progress: str = ""
    revised_finish: Month | None = None
    comment: str = ""
    needs_review: bool = False
    # The action as it was worded in this cycle's paper (wording and leads change between cycles).
    activity_as_reported: str = ""
    leads_as_reported: tuple[str, ...] = ()
    source: Provenance = field(default_factory=Provenance)


@dataclass(frozen=True)
class Flag:
    """Something an import or merge could not decide and a coordinator must settle."""

    id: int
    action_id: str | None
    cycle: str | None
    field: str  # "status", "lead", "finish", "link", ...
    code: str
    raw: str
    message: str
    candidates: tuple[str, ...] = ()
    settled_value: str | None = None
    settled_by: str | None = None
    settled_at: str | None = None


@dataclass(frozen=True)
class IssuedRecord:
    """The register's record of the workbook issued to one lead for one cycle: what a return is checked
    against (the workbook that comes back is untrusted; this is not)."""

    cycle: str
    lead: str
    file: str  # where it was written, relative to the plan folder when inside it
    sha256: str
    generated_at: str
    template_version: str
    manifest: str  # JSON (manifest.to_record): the signed manifest and every locked cell's issued value


class ReturnState(StrEnum):
    """What became of a returned file, and where a lead stands in the return register: the one list."""

    MERGED = "merged"  # taken into the register
    QUERIED = "queried"  # taken where it could be; the problems stay with the lead (a please-fix note)
    REJECTED = "rejected"  # nothing in it could be used (unreadable, another plan's, not the issued copy...)
    SUPERSEDED = "superseded"  # replaced by a newer return from the same lead
    ALREADY_MERGED = "already-merged"  # this exact file was merged before (a merge's outcome, never recorded)
    OK = "ok"  # validated and nothing wrong (validate's verdict; merging makes it merged)
    OUTSTANDING = "outstanding"  # a lead with no return yet (the return register's word, never recorded)

    @property
    def taken(self) -> bool:
        """The return's updates are in the register (a later return from the same lead supersedes it)."""
        return self in (ReturnState.MERGED, ReturnState.QUERIED)


@dataclass(frozen=True)
class ReturnRecord:
    """The register's record of one returned file, whatever its fate, keyed by its bytes' SHA-256."""

    sha256: str
    original_name: str
    state: ReturnState
    cycle: str | None = None
    lead: str | None = None
    mtime: float = 0.0  # the file's modification time: which of a lead's returns is the newer
    stored_path: str = ""  # the evidence copy, relative to the plan folder ("" when there is none)
    received_at: str | None = None  # set by the merge that records it
    report: Mapping[str, Any] = field(default_factory=dict)  # the file, its actions, its findings' severities


def leads_text(leads: Iterable[str]) -> str:
    return "; ".join(leads)


def cycle_seq(label: str, existing: Iterable[int] = ()) -> int:
    """Order cycles in time: "April 2024" -> 202404. A label that names no month goes after the latest."""
    month = Month.parse(label)
    if month is not None:
        return month.year * 100 + month.month
    return max([0, *existing]) + 1
