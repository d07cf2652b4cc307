"""Recognising what a column means from its header text, whatever the council called it.

A header cell is folded to words, a cycle label in it ("Status as of April 2024") is taken out as the
column's cycle, filler words are dropped, and the rest is compared with the synonyms in import.toml
[headers.meanings]. The synonym covering the most words wins. Exact phrases may sit anywhere in the cell;
a phrase with a small extraction slip ("Peport", "Load", "Ney Area") only as the whole cell or at its start
or end, and only for synonyms of four letters or more, so "needs" in a long header never reads as "leads".
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Any

from ..model import Month
from .clean import fold

_MONTHS = "|".join(sorted({m.lower() for m in calendar.month_name if m} | {m.lower() for m in calendar.month_abbr if m}
                          | {"sept"}, key=len, reverse=True))
_CYCLE = re.compile(rf"\b({_MONTHS})\.?[\s\-/]*((?:19|20|21)\d\d)\b", re.I)


def levenshtein(a: str, b: str, limit: int | None = None) -> int:
    """Edit distance; with ``limit``, stops early and returns limit + 1 once it must be more."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def cycle_label(month: Month) -> str:
    """How the register names a cycle: "April 2024"."""
    return f"{calendar.month_name[month.month]} {month.year}"


def find_cycle(text: str) -> tuple[str | None, str]:
    """The cycle a header names, and the header without it."""
    m = _CYCLE.search(text)
    if not m:
        return None, text
    month = Month.parse(f"{m.group(1)} {m.group(2)}")
    if month is None:
        return None, text
    return cycle_label(month), text[: m.start()] + " " + text[m.end():]


@dataclass(frozen=True)
class HeaderMatch:
    meaning: str
    cycle: str | None
    words: int  # how many words of the synonym matched
    edits: int  # 0 for an exact phrase

    @property
    def score(self) -> tuple[int, int]:
        return (self.words, -self.edits)


class HeaderMatcher:
    def __init__(self, headers: dict[str, Any]) -> None:  # the [headers] section of import.toml
        self.filler = {w.lower() for w in headers.get("filler", [])}
        self.chars_per_edit = int(headers.get("chars_per_edit", 9))
        self.synonyms: list[tuple[str, tuple[str, ...]]] = []
        for meaning, phrases in headers.get("meanings", {}).items():
            for phrase in phrases:
                words = self._words(phrase)
                if words:
                    self.synonyms.append((meaning, words))
        self.vocabulary = {w for _, words in self.synonyms for w in words} | {"date"}
        self._cache: dict[str, HeaderMatch | None] = {}

    def _words(self, text: str) -> tuple[str, ...]:
        return tuple(w for w in fold(text).split() if w not in self.filler)

    def match(self, text: str) -> HeaderMatch | None:
        """The meaning of one header cell, or None (unknown, or two meanings equally likely)."""
        if text not in self._cache:
            self._cache[text] = self._match(text)
        return self._cache[text]

    def _match(self, text: str) -> HeaderMatch | None:
        cycle, rest = find_cycle(text)
        words = self._words(rest)
        if not words:
            return None
        best: dict[str, HeaderMatch] = {}
        for meaning, syn in self.synonyms:
            edits = self._phrase_edits(words, syn)
            if edits is None:
                continue
            m = HeaderMatch(meaning, cycle, len(syn), edits)
            if meaning not in best or m.score > best[meaning].score:
                best[meaning] = m
        if not best:
            return None
        ranked = sorted(best.values(), key=lambda m: m.score, reverse=True)
        if len(ranked) > 1 and ranked[0].score == ranked[1].score:
            return None
        return ranked[0]

    def _phrase_edits(self, words: tuple[str, ...], syn: tuple[str, ...]) -> int | None:
        n = len(syn)
        phrase = " ".join(syn)
        if len(phrase) <= 3:  # "id", "ref", "end": only the whole cell
            return 0 if words == syn else None
        for i in range(len(words) - n + 1):
            if words[i:i + n] == syn:
                return 0
        budget = max(1, len(phrase) // self.chars_per_edit)
        best: int | None = None
        windows = {words}
        for size in (n, n + 1):
            if size <= len(words):
                windows |= {words[:size], words[-size:]}
        for window in windows:
            spaced, joined = " ".join(window), "".join(window)
            for a, b in ((spaced, phrase), (joined, phrase.replace(" ", ""))):
                if abs(len(a) - len(b)) > budget:  # the length difference alone is more edits than allowed
                    continue
                d = levenshtein(a, b, budget)
                if d <= budget and (best is None or d < best):
                    best = d
        return best

    def is_header_words(self, text: str) -> bool:
        """True for a cell of a header's second line ("Date" under "Finish"): only header words."""
        _, rest = find_cycle(text)
        words = self._words(rest)
        return bool(words) and all(w in self.vocabulary for w in words)


@dataclass
class Layout:
    """Which source columns hold which (meaning, cycle), learned from one header."""

    groups: list[tuple[int, ...]]  # source column indexes joined into one logical column
    fields: list[tuple[str, str | None] | None]
    raw_len: int
    where: str
    titles: list[str]

    @property
    def merged(self) -> bool:
        return any(len(g) > 1 for g in self.groups)

    def cycles(self) -> list[str]:
        return sorted({f[1] for f in self.fields if f and f[1]})

    def has(self, meaning: str) -> bool:
        return any(f and f[0] == meaning for f in self.fields)
