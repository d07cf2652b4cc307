"""Cell addresses, the one place they are spelled: column letters and numbers, "E7" references.

Everything here is 1-based, as a spreadsheet shows it (column 1 is A, row 1 is the first row); a caller
counting from 0 adds 1 where it calls, so no second convention exists.
"""

from __future__ import annotations

import re
from functools import lru_cache

GRID_ROWS, GRID_COLS = 1_048_576, 16_384  # a spreadsheet's grid (Excel, LibreOffice): A1 to XFD1048576

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def column_letter(col: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """(7, 5) -> "E7"."""
    return f"{column_letter(col)}{row}"


@lru_cache(maxsize=1 << 16)  # every return repeats the same few hundred references; a pure function
def parse_a1(ref: str) -> tuple[int, int]:
    """"$B$7" -> (7, 2); (0, 0) for anything that is not a cell reference."""
    m = _REF.match(ref)
    if not m:
        return 0, 0
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def column_number(letters: str) -> int:
    """"B" -> 2 (a manifest's column letters); 1 for what is not a column."""
    return parse_a1(letters.strip() + "1")[1] or 1


__all__ = ["GRID_ROWS", "GRID_COLS", "column_letter", "a1", "parse_a1", "column_number"]
