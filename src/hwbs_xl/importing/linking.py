"""Cross-cycle linking: is this imported row an action the register already holds?

Evidence, strongest first (thresholds in plan.toml [linking]):
- the same wording (similarity >= ``same_wording``): the same action;
- the same key area and start month, and clearly similar wording (>= ``similar_same_start``): the same action;
- similar wording (>= ``doubtful``) in the same key area: not linked; the row becomes a new action, and the
  later cycle's action of the pair is flagged ``link-doubtful`` with the candidates and their scores, for
  the coordinator to settle (the later one, so the same flag appears whichever paper is imported first).

Similarity of two wordings is the larger of (a) how alike the text is, character by character, and (b)
how much of the subject matter they share: the words that say what the action is about (generic planning
words such as "develop", "deliver", "strategy" are ignored), each weighted by how rare it is in the plan,
so "dementia" counts for more than "health". The measure is symmetric, and links are chosen strongest
first, one action per row, so the same two papers link the same way whichever is imported first.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from ..model import Month, key_area_number
from .clean import fold


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_RAW_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*")
_RUN_SKIP = {"of", "and", "the", "for", "in", "to", "on", "a"}


@dataclass
class _Doc:
    """A wording as linking sees it: its subject words, and what its word runs can also be written as."""

    content: set[str]
    aliases: dict[str, set[str]]  # "highstreet" / "hia" -> the subject words that run covers
    acronyms: set[str]  # subject words printed in capitals ("HIA", "MECC")


def _matcher(a: str, b: str) -> float | SequenceMatcher[str]:
    """The folded texts' comparison, or its result when no comparison is needed (blank 0.0, equal 1.0)."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    if fa == fb:
        return 1.0
    return SequenceMatcher(None, fa, fb, autojunk=False)


class Similarity:
    def __init__(self, generic_words: Iterable[str], corpus: Iterable[str], chars_baseline: float = 0.4) -> None:
        self.generic = {w.lower() for w in generic_words}
        self.baseline = chars_baseline
        self._docs: dict[str, _Doc] = {}
        docs = {fold(t) for t in corpus if t}
        self.n = max(1, len(docs))
        self.df: Counter[str] = Counter()
        for doc in docs:
            self.df.update(self.doc(doc).content)

    def doc(self, text: str) -> _Doc:
        if text not in self._docs:
            self._docs[text] = self._doc(text)
        return self._docs[text]

    def _doc(self, text: str) -> _Doc:
        raw = _RAW_WORD.findall(text)
        words = [w.lower().replace("’", "'") for w in raw]
        content, acronyms = set(), set()
        for original, w in zip(raw, words):
            if w in self.generic:
                continue
            content.add(_stem(w))
            if original.isupper() and len(original) >= 2 and original.isalpha():
                acronyms.add(w)
        aliases: dict[str, set[str]] = {}
        for i in range(len(words) - 1):  # "high street" may be printed "highstreet"
            aliases.setdefault(words[i] + words[i + 1], set()).update(
                _stem(w) for w in words[i:i + 2] if w not in self.generic)
        run = [w for w in words if w not in _RUN_SKIP]
        for size in range(2, 6):  # "Health Impact Assessment" may be printed "HIA"
            for i in range(len(run) - size + 1):
                initials = "".join(w[0] for w in run[i:i + size])
                aliases.setdefault(initials, set()).update(_stem(w) for w in run[i:i + size] if w not in self.generic)
        return _Doc(content, aliases, acronyms)

    def weight(self, word: str) -> float:
        return math.log(1 + self.n / (1 + self.df.get(word, 0)))

    def topic(self, a: str, b: str) -> float:
        """How much subject matter two wordings share (0..1), rare words counting for more."""
        da, db = self.doc(a), self.doc(b)
        if not da.content or not db.content:
            return 0.0
        ma, mb = da.content & db.content, db.content & da.content
        for x, y, mx, my in ((da, db, ma, mb), (db, da, mb, ma)):
            for word in x.content:
                covered = y.aliases.get(word)
                if covered and (word in x.acronyms or len(word) >= 6):
                    mx.add(word)
                    my.update(covered)
        wa, wb = sum(map(self.weight, da.content)), sum(map(self.weight, db.content))
        ca, cb = sum(map(self.weight, ma)), sum(map(self.weight, mb))
        containment = max(ca / wa, cb / wb)
        dice = (ca + cb) / (wa + wb)
        return min(1.0, (containment + dice) / 2)

    def chars(self, a: str, b: str) -> float:
        """How alike the two texts are, character by character (1.0 = the same wording)."""
        m = _matcher(a, b)
        if isinstance(m, float):
            return m
        # the cheap upper bounds first: most pairs are plainly different wordings
        if m.real_quick_ratio() < self.baseline or m.quick_ratio() < self.baseline:
            return m.quick_ratio()
        return m.ratio()

    def chars_bound(self, a: str, b: str, at_least: float) -> float:
        """An upper bound of ``chars(a, b)``, exact enough to tell whether it can reach ``at_least``
        (difflib's length and letter-count bounds only: no matching)."""
        m = _matcher(a, b)
        if isinstance(m, float):
            return m
        bound = m.real_quick_ratio()
        return bound if bound < at_least else m.quick_ratio()

    def score(self, a: str, b: str) -> tuple[float, float]:
        """(wording, similarity): wording is character likeness; similarity also counts shared subject
        matter, with character likeness taken above what any two English sentences share (the baseline)."""
        chars = self.chars(a, b)
        lifted = max(0.0, (chars - self.baseline) / (1 - self.baseline))
        return chars, max(lifted, self.topic(a, b))


@dataclass
class Candidate:
    """An action a row might be: what the register (or an earlier file of this import) knows of it."""

    id: str
    key_area: str
    start: Month | None
    wordings: list[str]
    cycles: set[str] = field(default_factory=set)
    origin: str | None = None  # sha256 of the file of this import that created it (rows never link inside a file)


@dataclass(frozen=True)
class Link:
    action_id: str
    code: str  # link-same-wording, link-similar, link-by-id
    score: float


@dataclass(frozen=True)
class Doubt:
    action_id: str
    score: float


def same_key_area(a: str, b: str) -> bool:
    na, nb = key_area_number(a), key_area_number(b)
    if na is not None and nb is not None:
        return na == nb
    return fold(a).replace(" ", "") == fold(b).replace(" ", "")


@dataclass
class RowEvidence:
    index: int
    key_area: str
    start: Month | None
    activity: str
    cycles: set[str]
    sha256: str


class Linker:
    def __init__(self, thresholds: dict[str, float], similarity: Similarity) -> None:
        self.same_wording = float(thresholds["same_wording"])
        self.similar = float(thresholds["similar_same_start"])
        self.doubtful = float(thresholds["doubtful"])
        self.similarity = similarity

    def best_score(self, row: RowEvidence, cand: Candidate) -> tuple[float, float]:
        scores = [self.similarity.score(row.activity, w) for w in cand.wordings]
        return (max((s[0] for s in scores), default=0.0), max((s[1] for s in scores), default=0.0))

    def _may_be_same_wording(self, row: RowEvidence, cand: Candidate) -> bool:
        """Whether any of the candidate's wordings could score "the same wording" with the row. Only that
        rule links across key areas, so the full comparison (difflib's matching, 85% of an import's time
        at region size) is skipped for the pairs that cannot reach it; the links found are the same."""
        return any(self.similarity.chars_bound(row.activity, w, self.same_wording) >= self.same_wording
                   for w in cand.wordings)

    def link(self, rows: list[RowEvidence], candidates: list[Candidate]
             ) -> tuple[dict[int, Link], dict[int, list[Doubt]]]:
        """Strong links (one action per row, strongest first) and, for the rest, doubtful candidates."""
        pairs: list[tuple[float, int, str, str]] = []
        doubts: dict[int, list[tuple[float, Candidate]]] = {}
        for row in rows:
            for cand in candidates:
                if cand.origin == row.sha256:
                    continue
                ka = same_key_area(row.key_area, cand.key_area)
                if not ka and not self._may_be_same_wording(row, cand):
                    continue  # another key area links only by the same wording, which this cannot reach
                wording, score = self.best_score(row, cand)
                if wording >= self.same_wording:
                    pairs.append((wording, row.index, cand.id, "link-same-wording"))
                elif ka and row.start is not None and row.start == cand.start and score >= self.similar:
                    pairs.append((score, row.index, cand.id, "link-similar"))
                elif ka and score >= self.doubtful and not cand.cycles & row.cycles:
                    doubts.setdefault(row.index, []).append((score, cand))
        links: dict[int, Link] = {}
        taken: set[str] = set()
        for score, index, action_id, code in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
            if index in links or action_id in taken:
                continue
            links[index] = Link(action_id, code, round(score, 3))
            taken.add(action_id)
        doubtful: dict[int, list[Doubt]] = {}
        for index, found in doubts.items():
            if index in links:
                continue
            free = [Doubt(c.id, round(s, 3)) for s, c in sorted(found, key=lambda x: (-x[0], x[1].id))
                    if c.id not in taken]
            if free:
                doubtful[index] = free
        return links, doubtful
