"""Mapping a printed status to the vocabulary: exact, repaired when only one answer is possible, else flagged.

Never a guess. In order:
1. exact: the label after folding case and spacing;
2. a fragment of exactly one label, in whole words (at least `fragment_min_words` words, or the label's
   start: "On target to be achieved"), or a RAG colour only one status carries ("Green");
3. an extraction slip: the text is within `ocr_max_distance` edits per character of some fragment of one
   label, and closer to it than to any other label by `ocr_margin`;
otherwise: empty -> status-missing; fits several labels ("by target date") -> status-ambiguous (with the
candidates); fits none -> status-unrecognised. The raw text is always kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import StatusVocabulary
from .clean import fold
from .columns import levenshtein

EXACT = "exact"


@dataclass(frozen=True)
class StatusResult:
    key: str | None
    code: str  # "exact", "status-repaired", "status-ambiguous", "status-missing", "status-unrecognised"
    candidates: tuple[str, ...] = ()  # labels it could mean
    reason: str = ""

    @property
    def flagged(self) -> bool:
        return self.key is None


class StatusReader:
    def __init__(self, vocabulary: StatusVocabulary, cfg: dict[str, Any]) -> None:
        self.vocabulary = vocabulary
        self.min_words = int(cfg.get("fragment_min_words", 2))
        self.ocr_max = float(cfg.get("ocr_max_distance", 0.3))
        self.margin = float(cfg.get("ocr_margin", 0.15))
        self.words = {s.key: tuple(fold(s.label).split()) for s in vocabulary}
        self.no_status = {" ".join(t.split()).casefold() for t in [*cfg.get("means_no_status", []),
                                                                   vocabulary.unknown_label]}

    def read(self, raw: str) -> StatusResult:
        text = " ".join(raw.split())
        if not text:
            return StatusResult(None, "status-missing", reason="The status cell is empty.")
        if text.casefold() in self.no_status:
            return StatusResult(None, "status-missing", reason=f"The status cell says \"{text}\": no status was given.")
        exact = self.vocabulary.by_label(text) or self.vocabulary.by_label(text.rstrip(" .;:"))
        if exact:
            return StatusResult(exact.key, EXACT)
        words = tuple(fold(text).split())
        if not words:
            return StatusResult(None, "status-unrecognised", reason="The status cell holds no words.")
        fragment = self._fragment(words, text)
        if fragment is not None:
            return fragment
        rag = [s for s in self.vocabulary if s.rag.casefold() == " ".join(words)]
        if len(rag) == 1:
            return StatusResult(rag[0].key, "status-repaired", (rag[0].label,),
                                f"\"{text}\" is the RAG colour of only \"{rag[0].label}\".")
        return self._slip(text, words)

    def _label(self, key: str) -> str:
        status = self.vocabulary.by_key(key)
        return status.label if status else key

    def _fragment(self, words: tuple[str, ...], text: str) -> StatusResult | None:
        fits, loose = [], []
        for key, label_words in self.words.items():
            for i in range(len(label_words) - len(words) + 1):
                if label_words[i:i + len(words)] == words:
                    if len(words) >= self.min_words or (i == 0 and len("".join(words)) >= 4):
                        fits.append(key)
                    else:
                        loose.append(key)
                    break
        if len(fits) == 1:
            return StatusResult(fits[0], "status-repaired", (self._label(fits[0]),),
                                f"\"{text}\" is part of only one status: \"{self._label(fits[0])}\".")
        if len(fits) > 1:
            labels = tuple(self._label(k) for k in fits)
            return StatusResult(None, "status-ambiguous", labels,
                                f"\"{text}\" fits {len(labels)} statuses: " + "; ".join(f'"{x}"' for x in labels) + ".")
        if loose:
            labels = tuple(self._label(k) for k in dict.fromkeys(loose))
            code = "status-ambiguous" if len(labels) > 1 else "status-unrecognised"
            return StatusResult(None, code, labels, f"\"{text}\" is too short to tell: it appears in "
                                + "; ".join(f'"{x}"' for x in labels) + ".")
        return None

    def _slip(self, text: str, words: tuple[str, ...]) -> StatusResult:
        target = " ".join(words)
        distance: dict[str, tuple[float, str]] = {}
        for key, label_words in self.words.items():
            best = (9.0, "")
            for size in range(max(1, len(words) - 1), len(words) + 2):
                for i in range(len(label_words) - size + 1):
                    frag = " ".join(label_words[i:i + size])
                    d = levenshtein(target, frag) / max(len(target), len(frag))
                    best = min(best, (d, frag))
            distance[key] = best
        ranked = sorted(distance.items(), key=lambda kv: kv[1][0])
        best_key, (best_d, reading) = ranked[0]
        if best_d > self.ocr_max:
            return StatusResult(None, "status-unrecognised",
                                reason=f"\"{text}\" is not close to any status in the list.")
        close = [k for k, (d, _) in ranked if d - best_d < self.margin]
        if len(close) == 1:
            return StatusResult(best_key, "status-repaired", (self._label(best_key),),
                                f"\"{text}\" reads as \"{reading}\" with an extraction slip; only "
                                f"\"{self._label(best_key)}\" fits (next closest is {ranked[1][1][0] - best_d:.2f} further).")
        labels = tuple(self._label(k) for k in close)
        return StatusResult(None, "status-ambiguous", labels,
                            f"\"{text}\" most likely reads \"{reading}\", which fits {len(labels)} statuses: "
                            + "; ".join(f'"{x}"' for x in labels) + ".")
