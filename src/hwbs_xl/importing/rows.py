"""Reading one assembled appendix row into plan terms (before it is linked to the register's actions):
text cleaned, leads split, months read, statuses mapped or repaired only when one answer is possible;
whatever cannot be decided becomes a pending flag with the raw text kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import Month
from .clean import Cleaner, LeadSplitter, fold, has_letters
from .linking import Link
from .settings import ImportSettings
from .source import SourceTable
from .status import EXACT, StatusReader
from .table import ParsedRow


@dataclass
class PendingFlag:
    cycle: str | None
    field: str
    code: str
    raw: str
    message: str
    candidates: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()  # the flagged cell(s) in the file


@dataclass
class RowFinding:
    """A repair or remark about one field of a row, with the cell(s) it is about."""

    code: str
    message: str
    value: str | None
    field: str = ""
    positions: tuple[str, ...] = ()


@dataclass
class CycleData:
    status: str | None
    status_raw: str
    has_status_column: bool
    progress: str
    revised_finish: Month | None
    repaired: bool = False


@dataclass
class RowData:
    """One appendix row read into plan terms, before it is linked."""

    parsed: ParsedRow
    table: SourceTable
    main_cycle: str
    key_area: str
    activity: str
    leads: tuple[str, ...]
    start: Month | None
    finish: Month | None
    printed_id: str
    cycles: dict[str, CycleData]
    findings: list[RowFinding] = field(default_factory=list)
    flags: list[PendingFlag] = field(default_factory=list)
    action_id: str = ""
    link: Link | None = None

    @property
    def where(self) -> str:
        return "; ".join(self.parsed.wheres)


class RowReader:
    def __init__(self, settings: ImportSettings, cleaner: Cleaner, splitter: LeadSplitter) -> None:
        self.settings = settings
        self.cleaner = cleaner
        self.splitter = splitter
        self.statuses = StatusReader(settings.vocabulary, settings.section("status"))

    def read(self, parsed: ParsedRow, main_cycle: str, layout_cycles: dict[str, bool],
             key_areas: dict[str, str]) -> RowData | None:
        one = self.cleaner.one_line
        findings: list[RowFinding] = []
        flags: list[PendingFlag] = []

        def cell(meaning: str, cycle: str | None = None, multiline: bool = False) -> str:
            raw = parsed.get(meaning, cycle)
            c = self.cleaner.clean(raw) if multiline else one(raw)
            name, at = meaning.replace("_", " "), parsed.position(meaning, cycle)
            if c.changed:
                findings.append(RowFinding("text-cleaned", f"Bullets, HTML tags or glyphs normalised in the {name}.",
                                           raw[:200], name, at))
            if c.glyph_noise:
                flags.append(PendingFlag(cycle or main_cycle, meaning, "pdf-glyph-unmapped", raw,
                                         f"The {name} has characters the file did not map to "
                                         "text ((cid:N) or \ufffd): check it against the paper and correct it.",
                                         positions=at))
            return c.text

        activity = cell("activity")
        key_area = self._key_area(cell("key_area"), key_areas)
        if not activity:
            return None
        lead_raw = parsed.get("lead")
        lead_text = cell("lead", multiline=True)
        leads = tuple(self.splitter.split(lead_text)) if has_letters(lead_text) else ()
        lead_at = parsed.position("lead")
        if not leads:
            flags.append(PendingFlag(main_cycle, "lead", "lead-unreadable", lead_raw,
                                     f"The lead cell holds no readable name ({lead_raw!r}): say who leads this action.",
                                     positions=lead_at))
        elif len(leads) > 1:
            findings.append(RowFinding("lead-split", f"Read as {len(leads)} leads: " + "; ".join(leads) + ".",
                                       lead_raw, "lead", lead_at))
        start = self._month(cell("start"), "start", "start-missing", main_cycle, flags, parsed.position("start"))
        finish_text, revised_in_finish = split_revised(cell("finish"))
        finish = self._month(finish_text, "finish", "finish-missing", main_cycle, flags, parsed.position("finish"))
        if start and finish and start > finish:
            findings.append(RowFinding("dates-reversed", f"Start {start.label} is after finish {finish.label}; "
                                       "kept as printed.", f"{start.label} / {finish.label}", "start",
                                       parsed.position("start")))
        cycles: dict[str, CycleData] = {}
        for cycle, has_status in layout_cycles.items():
            progress = cell("progress", cycle, multiline=True)
            status_raw = one(parsed.get("status", cycle)).text if has_status else ""
            revised = Month.parse(one(parsed.get("revised_finish", cycle)).text)
            if revised is None and cycle == main_cycle and revised_in_finish:
                revised = Month.parse(revised_in_finish)
            status_key: str | None = None
            repaired = False
            if has_status:
                result = self.statuses.read(status_raw)
                status_key = result.key
                repaired = result.code == "status-repaired"
                status_at = parsed.position("status", cycle)
                if repaired:
                    findings.append(RowFinding("status-repaired", f"{cycle}: {result.reason} Recorded as "
                                               f"\"{result.candidates[0]}\".", status_raw, "status", status_at))
                elif result.code != EXACT:
                    flags.append(PendingFlag(cycle, "status", result.code, status_raw,
                                             f"{cycle}: {result.reason} Choose the status.", result.candidates,
                                             status_at))
            elif not progress:
                continue  # this row says nothing about that earlier cycle
            cycles[cycle] = CycleData(status_key, status_raw, has_status, progress, revised, repaired)
        return RowData(parsed=parsed, table=parsed.table, main_cycle=main_cycle, key_area=key_area,
                       activity=activity, leads=leads, start=start, finish=finish,
                       printed_id=one(parsed.get("action_id")).text, cycles=cycles, findings=findings, flags=flags)

    @staticmethod
    def _key_area(text: str, known: dict[str, str]) -> str:
        """One spelling per key area: "Key  Area 1" and "KeyArea 1" are the "Key Area 1" seen first."""
        folded = fold(text).replace(" ", "")
        if not folded:
            return text
        return known.setdefault(folded, text)

    @staticmethod
    def _month(text: str, name: str, code: str, cycle: str, flags: list[PendingFlag],
               positions: tuple[str, ...]) -> Month | None:
        month = Month.parse(text)
        if month is None:
            what = "empty" if not text else f"not a month ({text!r})"
            flags.append(PendingFlag(cycle, name, code, text,
                                     f"The {name} date is {what}: give the {name} month (for example Mar-25).",
                                     positions=positions))
        return month


# ---- the pipeline ---------------------------------------------------------------------------------------


# A finish cell giving the revised date with the original, as hwbs-xl's appendix PDF prints it:
# "Revised: Sep-25 (was Mar-25)", on one line or two.
_REVISED_FINISH = re.compile(r"^\s*revised\s*:?\s*(?P<revised>.+?)\s*\(\s*was\s+(?P<finish>.+?)\s*\)\s*$",
                             re.IGNORECASE | re.DOTALL)


def split_revised(finish_cell: str) -> tuple[str, str | None]:
    """(the original finish, the revised finish or None) of a finish cell."""
    m = _REVISED_FINISH.match(finish_cell)
    return (m["finish"], m["revised"]) if m else (finish_cell, None)
