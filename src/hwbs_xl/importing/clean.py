"""Cleaning the text of an imported cell: bullets, stray HTML, glyph noise, and several leads in one cell.

One rule for every source. The text people wrote is kept; only what extraction added is removed: HTML tags
(``<ul><li>``), bullet glyphs of any font (•, ■, Symbol/Wingdings private-use characters such as U+F0B7)
become "•" at the start of their own line, and runs of spaces inside a line become one space.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..text import normalise

_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?/?>")
_GLYPH_NOISE = re.compile(r"\(cid:\d+\)|\ufffd")
_BULLET = "\u2022"
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9&'’]*")


@dataclass(frozen=True)
class Cleaned:
    text: str
    changed: bool  # bullets, HTML or glyphs were normalised (not mere spacing)
    glyph_noise: bool  # (cid:N) or U+FFFD: characters the extraction could not map


class Cleaner:
    def __init__(self, settings: dict[str, Any]) -> None:  # the [clean] section of import.toml
        self.bullets = set(settings.get("bullets", [_BULLET]))
        self.private_use = bool(settings.get("private_use_is_bullet", True))
        self.line_tags = {t.lower() for t in settings.get("line_tags", ["br", "li", "p"])}

    def _is_bullet(self, ch: str) -> bool:
        return ch in self.bullets or (self.private_use and "\ue000" <= ch <= "\uf8ff")

    def clean(self, value: object) -> Cleaned:
        """Multi-line text (a progress report): bullets on their own lines, HTML removed."""
        original = normalise(value)
        text = original
        changed = False
        if _TAG.search(text):
            def tag(m: re.Match[str]) -> str:
                name = m.group(1).lower()
                return ("\n" + _BULLET + " ") if name == "li" and not m.group(0).startswith("</") else \
                    ("\n" if name in self.line_tags else " ")
            text = html.unescape(_TAG.sub(tag, text))
            changed = True
        if any(self._is_bullet(ch) for ch in text):
            text = "".join(_BULLET if self._is_bullet(ch) else ch for ch in text)
            # every bullet starts its own line; repeated bullets ("<li>■ ...") count once
            text = re.sub(rf"(?:\s*{_BULLET})+\s*", "\n" + _BULLET + " ", text)
            changed = changed or text.strip() != original
        lines = [" ".join(line.split()) for line in text.split("\n")]
        lines = [line for line in lines if line]
        # a bullet left alone on its line carries nothing
        lines = [line for line in lines if line != _BULLET]
        return Cleaned("\n".join(lines), changed, bool(_GLYPH_NOISE.search(original)))

    def one_line(self, value: object) -> Cleaned:
        """A one-line field (key area, activity, dates, status): cleaned, lines joined by a space."""
        c = self.clean(value)
        text = " ".join(line[2:] if line.startswith(_BULLET + " ") else line for line in c.text.split("\n"))
        return Cleaned(" ".join(text.split()), c.changed, c.glyph_noise)


def has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def fold(text: str) -> str:
    """For comparing names and headers: lower case, words only."""
    return " ".join(w.lower() for w in _WORD.findall(text))


class LeadSplitter:
    """Several leads in one cell become several leads, by general rules (see import.toml [leads])."""

    def __init__(self, settings: dict[str, Any], known: Iterable[str] = ()) -> None:
        self.separators = list(settings.get("separators", [";", "\n"]))
        self.slash = bool(settings.get("split_on_slash", True))
        self.acronym = bool(settings.get("split_after_acronym", True))
        self.min_words = int(settings.get("split_known_min_words", 2))
        self.known: dict[tuple[str, ...], str] = {}
        self.add_known(known)

    def add_known(self, names: Iterable[str]) -> None:
        for name in names:
            key = tuple(fold(name).split())
            if len(key) >= 2:
                self.known.setdefault(key, name)

    def basic(self, text: str) -> list[str]:
        """Split on separators, bullets, slashes between words and ", ACRONYM Next"; no knowledge needed."""
        parts = [text.replace(_BULLET, "\n")]
        for sep in self.separators:
            parts = [p for part in parts for p in part.split(sep)]
        if self.slash:
            parts = [p for part in parts for p in re.split(r"(?<=[A-Za-z)\]])\s*/\s*(?=[A-Za-z(\[])", part)]
        if self.acronym:
            parts = [p for part in parts for p in _split_after_acronym(part)]
        return [" ".join(p.split()).strip(" ,-") for p in parts if has_letters(p)]

    def split(self, text: str) -> list[str]:
        out: list[str] = []
        for part in self.basic(text):
            out.extend(self._split_known(part))
        seen: dict[str, None] = {}
        for lead in out:
            seen.setdefault(lead, None)
        return list(seen)

    def _split_known(self, part: str) -> list[str]:
        """"Head Known Lead" -> ["Head", "Known Lead"] when "Known Lead" is a lead named alone elsewhere.

        Only where nothing but a space separates them (as when extraction joined two lines of a cell): a
        dash or comma ("Partnership - Working Group") marks one lead's sub-unit, not a second lead."""
        words = list(_WORD.finditer(part))
        folded = tuple(m.group(0).lower() for m in words)
        for size in range(len(folded) - self.min_words, 1, -1):
            tail = folded[-size:]
            cut = words[-size].start()
            if tail in self.known and part[words[-size - 1].end():cut].strip() == "":
                head = part[:cut].strip()
                if self._complete(head):
                    return self._split_known(head) + [self.known[tail]]
        return [part]

    def _complete(self, text: str) -> bool:
        words = _WORD.findall(text)
        return len(words) >= self.min_words and words[-1][:1].isupper() and \
            words[-1].lower() not in {"of", "and", "the", "for", "to", "in", "with"}


def _split_after_acronym(part: str) -> list[str]:
    out, start = [], 0
    for m in re.finditer(r",\s*((?:[A-Z]{2,6}\s)*[A-Z]{2,6})\s+(?=[A-Z][a-z])", part):
        out.append(part[start:m.end(1)])
        start = m.end()
    out.append(part[start:])
    return out
