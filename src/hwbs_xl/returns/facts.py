"""What checking a returned file needs from the plan (read once per command), and its digest.

A check reads the file and these facts, nothing else: ``facts_state`` digests them (with the checking code
itself), so equal digests mean a check gives the same result (validate's memo relies on it).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from .. import templates
from ..manifest import Manifest, from_record, load_key
from ..model import Action, Cycle, IssuedRecord, StatusVocabulary
from ..paths import PlanPaths, slug
from ..register import Register

STATE_VERSION = 1  # change it when what a check depends on changes in a way the digest would not see


@dataclass
class PlanFacts:
    """What validation needs from the plan, read once."""

    paths: PlanPaths
    key: bytes | None
    cycle: Cycle | None
    issued: dict[str, IssuedRecord]  # lead -> what was issued to them for the open cycle
    actions: dict[str, Action]
    vocab: StatusVocabulary
    progress_max: int
    today: date
    layout: dict[str, Any] = field(default_factory=dict)  # templates/workbook.toml, as read once per command
    state: str = ""  # digest of all of the above (facts_state): equal means a check gives the same result

    @classmethod
    def load(cls, paths: PlanPaths, reg: Register, today: date | None = None) -> PlanFacts:
        key = load_key(paths) if paths.manifest_key.is_file() else None  # never make a key while validating
        cycle = reg.open_cycle()
        issued = {r.lead: r for r in reg.issued(cycle.label)} if cycle is not None else {}
        layout = templates.load_toml("workbook.toml", paths.root)
        facts = cls(paths, key, cycle, issued, {a.id: a for a in reg.actions()}, templates.vocabulary(paths.root),
                    int(layout.get("progress_max_chars", 3000)), today or date.today(), layout)
        if key is not None:  # without a key every file is refused, and there is nothing worth remembering
            facts.state = facts_state(facts)
        return facts

    @cached_property
    def stems(self) -> dict[str, str]:
        """Issued workbook file stem (casefolded) -> lead."""
        return {Path(row.file).stem.casefold(): lead for lead, row in self.issued.items()}

    # Built once per command, not per returned file: rebuilt per file they made validate and merge cost
    # O(returns x leads) (70% of validate at national size, 6,000 leads).
    @cached_property
    def stem_order(self) -> dict[str, int]:
        return {stem: n for n, stem in enumerate(self.stems)}

    @cached_property
    def _stem_lengths(self) -> tuple[int, ...]:
        return tuple(sorted({len(stem) for stem in self.stems}))

    @cached_property
    def own_stems(self) -> dict[str, str]:
        """Lead -> the stem of their issued workbook (casefolded)."""
        out: dict[str, str] = {}
        for stem, lead in self.stems.items():
            out.setdefault(lead, stem)
        return out

    @cached_property
    def leads_by_slug(self) -> dict[str, str]:
        """slug(lead), casefolded -> lead: a folder of returns named after its lead."""
        return {slug(who).casefold(): who for who in self.issued}

    @cached_property
    def action_ids(self) -> dict[str, str]:
        """Every action ID of the plan, upper-cased -> the ID as the plan has it."""
        out: dict[str, str] = {}
        for a in self.actions:
            out.setdefault(a.upper(), a)
        return out

    def stems_in(self, name: str) -> list[str]:
        """The issued stems that occur in ``name``, in issue order: a look-up of ``name``'s substrings of each
        stem length, so the cost depends on the name, not on how many leads the plan has."""
        found = {name[p:p + n] for n in self._stem_lengths for p in range(len(name) - n + 1)} & self.stems.keys()
        return sorted(found, key=self.stem_order.__getitem__)

    @cached_property
    def _records(self) -> dict[str, tuple[Manifest, dict[str, dict[str, str]]]]:
        return {}

    def record(self, lead: str) -> tuple[Manifest, dict[str, dict[str, str]]]:
        """The issued manifest and locked values for ``lead`` (parsed once per file, not per look-up: the JSON
        holds all history text; only the last few are kept, so memory does not grow with the inbox)."""
        if lead not in self._records:
            if len(self._records) >= 32:
                self._records.clear()
            self._records[lead] = from_record(self.issued[lead].manifest)
        return self._records[lead]


def facts_state(facts: PlanFacts) -> str:
    """SHA-256 of everything a check reads besides the file, taken from the facts the checks use (not read
    again, so a register change in between cannot slip past): equal means a check gives the same result."""
    h = hashlib.sha256()

    def add(*values: Any) -> None:
        for value in values:
            text = str(value).encode("utf-8", "surrogatepass")
            h.update(b"%d:" % len(text) + text)

    add(STATE_VERSION, _code_digest(), facts.paths.root, facts.today.isoformat(), facts.progress_max, repr(facts.vocab))
    add(hashlib.sha256(facts.key).hexdigest() if facts.key is not None else "no key")
    add(json.dumps(facts.layout, sort_keys=True, default=str), repr(facts.cycle))
    add("issued", len(facts.issued))
    for lead in sorted(facts.issued):
        add(lead, repr(facts.issued[lead]))  # a dataclass: every field, in order
    add("actions", len(facts.actions))
    for action_id in sorted(facts.actions):
        add(repr(facts.actions[action_id]))
    return h.hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """hwbs-xl's own sources and the versions of what reads the files: new code may check differently."""
    from importlib import metadata

    h = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parent.parent
    for source in sorted(package.rglob("*.py")):
        h.update(str(source.relative_to(package)).encode() + b"\0" + source.read_bytes() + b"\0")
    for dist in ("python-calamine", "openpyxl", "xlsxwriter"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}=none".encode())
    return h.hexdigest()


__all__ = ["PlanFacts", "facts_state"]
