"""One rule for the text people type, used by every import, return and output.

- Line endings: CRLF and lone CR become LF (Excel stores CRLF, LibreOffice LF: the same text either way);
  so does a vertical tab, the line break Word's Shift+Enter leaves in text pasted from a document.
- A cell's text is trimmed at both ends; inside it, the lead's spacing and line breaks are kept.
- Blank means empty after trimming: "", "   " and a missing cell are all blank, so none looks "changed".
- Control characters (other than tab and LF) cannot be stored in xlsx: each is replaced by its visible
  Unicode "control picture" (U+0001 -> U+2401), so nothing is dropped silently and the caller can flag it.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_CONTROL_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_XML_INVALID_CHARS = "\ud800-\udfff\ufffe\uffff"
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
_XML_INVALID = re.compile(f"[{_XML_INVALID_CHARS}]")
_ANY_UNSTORABLE = re.compile(f"[{_CONTROL_CHARS}{_XML_INVALID_CHARS}]")  # either kind, in one scan
EXCEL_CELL_LIMIT = 32_767


def normalise(value: object) -> str:
    """The canonical form of a cell's text (see module docstring). None becomes ""."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = visible_controls(text)
    return text.strip()


def has_controls(text: str) -> bool:
    return bool(_CONTROL.search(text))


def visible_controls(text: str) -> str:
    """Replace control characters with their visible pictures (\\x01 -> U+2401), a vertical tab with a line
    break; surrogates with U+FFFD."""
    if _ANY_UNSTORABLE.search(text) is None:  # nearly every text: one scan, no copy (half a million a merge)
        return text
    # Word's Shift+Enter pastes a vertical tab: to the person who typed it, a line break like Alt+Enter.
    text = text.replace("\x0b", "\n")
    text = _CONTROL.sub(lambda m: chr(0x2400 + ord(m.group()) if ord(m.group()) < 0x20 else 0x2421), text)
    return _XML_INVALID.sub("\ufffd", text)


def squash(text: str) -> str:
    """All whitespace runs to one space: for comparing wording, never for storing what someone wrote."""
    return " ".join(text.split())


def clip(text: str, width: int, *, mark: str = "…") -> str:
    """Text shown on one line of at most ``width`` characters (whitespace runs to one space); when cut it
    ends in ``mark``, so nobody takes it for the whole. For messages and reports, never for storing."""
    one = squash(text)
    return one if len(one) <= width else one[: width - len(mark)] + mark


def long_date(moment: date) -> str:
    """"15 November 2024", as a council's papers write dates (no leading zero, whatever the platform:
    strftime's %-d is not on Windows)."""
    return f"{moment.day} {moment:%B %Y}"


def short_moment(stamp: str | None) -> str:
    """A register time stamp as a coordinator reads it: "2024-10-20T09:15:00+00:00" -> "20 Oct 2024 09:15"
    ("" for none; a stamp that is not one is shown as it is)."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return f"{moment.day} {moment:%b %Y %H:%M}"


def first_words(text: str, count: int = 12) -> str:
    """The first ``count`` words of a text (a short handle for an action in reports), " …" when cut."""
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")
