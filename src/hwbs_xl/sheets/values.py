"""Turning one returned cell into what the register stores: text exactly as typed, a month, a status.

Each function returns the value and the finding codes it met, so the caller (validate) can say where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ..model import Month
from ..text import has_controls, normalise
from .reader import Sheet, Value

# Excel counts days from 1899-12-30 (with its fictional 29 Feb 1900 absorbed for serials over 60),
# or from 1904-01-01 in the 1904 date system (old Mac workbooks).
EPOCH_1900 = date(1899, 12, 30)
EPOCH_1904 = date(1904, 1, 1)
PLAUSIBLE_YEARS = (1990, 2100)  # a revised finish outside these years is a typing slip, not a plan date


@dataclass
class CellText:
    """A cell read as text, with what was noticed on the way."""

    text: str
    raw: str  # before normalisation (what the lead's cell held), for the report
    notes: list[str] = field(default_factory=list)  # finding codes: formula-in-text-cell, cell-error-value, ...


def number_text(value: float | int) -> str:
    """A number as a person reads it: 2024.0 -> "2024", 0.1 -> "0.1"."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def value_text(value: Value) -> str:
    """Any cell value as the text a person would see typed (dates as ISO dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def cell_text(sheet: Sheet, row: int, col: int) -> CellText:
    """The text of a cell. A formula is kept as the text typed (never its result); an error value as its text."""
    notes: list[str] = []
    formula = sheet.formulas.get((row, col))
    if formula is not None:
        raw = formula
        notes.append("formula-in-text-cell")
    elif (row, col) in sheet.errors:
        raw = sheet.errors[(row, col)]
        notes.append("cell-error-value")
    else:
        raw = value_text(sheet.value(row, col))
    if has_controls(raw.replace("\r", "").replace("\x0b", "")):  # a vertical tab is a line break, not a control
        notes.append("text-control-chars")
    return CellText(normalise(raw), raw, notes)


def serial_date(serial: float, date1904: bool) -> date | None:
    """An Excel date serial as a date, or None when it cannot be one."""
    if not 1 <= serial < 2_958_466:
        return None
    if date1904:
        return EPOCH_1904 + timedelta(days=int(serial))
    if serial < 61:  # before Excel's fictional 29 Feb 1900 the serials are one day off
        return date(1899, 12, 31) + timedelta(days=int(serial))
    return EPOCH_1900 + timedelta(days=int(serial))


_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?")
_UK_DAY = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")


def month_of(value: Value, date1904: bool) -> tuple[Month | None, bool]:
    """(month, understood) for a date cell: dates, serial numbers, 1904 serial 0, and text.

    Text may be a month as plans write it ("Mar-25", "March 2025", "2025-03"), an ISO date, or a UK
    day-first date with a four-digit year ("31/03/2025", what the instructions show). A date without a
    year ("1/6") or anything else is not understood: the caller reports it with the raw value.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    try:
        if isinstance(value, datetime):
            return Month.of(value.date()), True
        if isinstance(value, date):
            return Month.of(value), True
        if isinstance(value, time):
            # A date cell holding serial 0 reads back as a time of day: in the 1904 system that is 1 Jan 1904.
            return (Month(1904, 1), True) if date1904 and value == time(0) else (None, False)
        if isinstance(value, bool):
            return None, False
        if isinstance(value, (int, float)):
            d = serial_date(float(value), date1904)
            return (Month.of(d), True) if d else (None, False)
        if isinstance(value, str):
            return _month_from_text(normalise(value))
    except ValueError:
        pass
    return None, False


def _month_from_text(text: str) -> tuple[Month | None, bool]:
    m = _ISO_DAY.fullmatch(text)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return (Month(year, month), True) if _valid_day(year, month, day) else (None, False)
    m = _UK_DAY.fullmatch(text)
    if m:
        day, month, year = (int(g) for g in m.groups())
        return (Month(year, month), True) if _valid_day(year, month, day) else (None, False)
    parsed = Month.parse(text)
    return (parsed, True) if parsed else (None, False)


def _valid_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def plausible(month: Month) -> bool:
    return PLAUSIBLE_YEARS[0] <= month.year <= PLAUSIBLE_YEARS[1]


def month_text(value: Value, date1904: bool) -> str:
    """A locked month cell as the register keeps it ("YYYY-MM"), or the raw text when it is no month."""
    month, ok = month_of(value, date1904)
    if ok and month is not None:
        return month.iso
    return normalise(value_text(value))


# The locked cells of an issued workbook that hold a month (manifest field keys): compared as "YYYY-MM".
LOCKED_MONTHS = ("start", "finish")


def locked_text(sheet: Sheet, row: int, col: int, key: str, date1904: bool) -> str:
    """A locked cell's text as it is compared with what was issued (months as "YYYY-MM")."""
    if key in LOCKED_MONTHS:
        return month_text(sheet.value(row, col), date1904)
    return cell_text(sheet, row, col).text
