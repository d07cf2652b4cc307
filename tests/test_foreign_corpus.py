"""Every file in tests/data/foreign/ (written by real Excel, LibreOffice, gnumeric and others) through the
returns reader: each is read correctly or refused with its own finding. No crash, no hang, no row lost.

"No row lost" is measured against two other readers: python-calamine used directly (our count may only be
higher: calamine shows formula errors as empty cells, we keep them), and openpyxl where it can open the
file (equal, after the shared blank rule: a cell of spaces is blank for every reader).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from datetime import datetime, time
from pathlib import Path

import pytest

from hwbs_xl.findings import INFO
from hwbs_xl.model import Month
from hwbs_xl.sheets.reader import ReadResult, read_file
from hwbs_xl.sheets.values import month_of
from hwbs_xl.text import normalise

FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"
FILES = sorted(p for p in FOREIGN.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"))

REFUSED = {
    "ca_issue_385.xls": "file-encrypted",
    "ca_pass_protected.ods": "file-encrypted",
    "ca_pass_protected.xlsx": "file-encrypted",
    "ca_too_small.xls": "file-not-spreadsheet",
    "op_null_archive.xlsx": "file-corrupt",
    "ca_issue_594_dos.ods": "file-too-large",
}
DEGRADED = {  # read, values only (a binary format: no protection or formula checks), with this warning
    "ca_any_sheets.xls": "file-format-xls", "lo_resaved_hwbs_template.xls": "file-format-xls",
}
NOTED = {  # read with every check, and a note saying what the file is
    "ca_any_sheets.ods": "file-format-ods", "ca_date.ods": "file-format-ods", "ca_merged_cells.ods": "file-format-ods",
    "ca_number_rows_repeated.ods": "file-format-ods", "lo_resaved_hwbs_template.ods": "file-format-ods",
    "ca_strict_iso_paths.xlsx": "file-strict-ooxml",  # openpyxl finds no sheets in it at all
    "xw_macro01.xlsm": "file-macros-ignored",
}

# openpyxl changes this file's data (it deletes "x005F_" from shared strings, so an escaped "_x000A_" comes
# back as a real escape): it cannot be the reference here. Our values for it are checked exactly below.
OPENPYXL_WRONG = {"xw_shared_strings02.xlsx"}

_CACHE: dict[Path, ReadResult] = {}


def read(path: Path) -> ReadResult:
    if path not in _CACHE:
        _CACHE[path] = read_file(path)
    return _CACHE[path]


def test_the_corpus_is_all_here() -> None:
    assert len(FILES) == 60
    assert set(REFUSED) | set(DEGRADED) | set(NOTED) <= {p.name for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_file_is_read_or_refused_with_a_specific_finding(path: Path) -> None:
    r = read(path)
    if path.name in REFUSED:
        assert [f.code for f in r.findings] == [REFUSED[path.name]]
        assert r.book is None
        f = r.findings[0]
        assert f.file == path.name and "Traceback" not in f.message and "BadZipFile" not in f.message
        return
    assert r.ok, [f.message for f in r.findings]
    expected = [DEGRADED[path.name]] if path.name in DEGRADED else []
    assert [f.code for f in r.findings if f.severity != INFO] == expected
    assert [f.code for f in r.findings if f.severity == INFO] == ([NOTED[path.name]] if path.name in NOTED else [])
    assert r.book is not None and r.book.structure_checked == (path.name not in DEGRADED)


@pytest.mark.parametrize("path", [p for p in FILES if p.name not in REFUSED], ids=lambda p: p.name)
def test_no_row_is_lost(path: Path) -> None:
    book = read(path).book
    assert book is not None
    ours = {s.name: _rows(s) for s in book.sheets}
    for name, count in _calamine_rows(path).items():
        assert ours[name] >= count, name
    theirs = None if path.name in OPENPYXL_WRONG else _openpyxl_rows(path)
    if theirs is not None:
        assert {k: ours[k] for k in theirs} == theirs


def _rows(sheet) -> int:  # type: ignore[no-untyped-def]
    rows = {r for r, _, v in sheet.cells() if normalise(v if isinstance(v, str) else str(v))}
    return len(rows | {r for r, _ in sheet.formulas} | {r for r, _ in sheet.errors})


def _calamine_rows(path: Path) -> dict[str, int]:
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    out = {}
    for i, meta in enumerate(wb.sheets_metadata):
        if meta.typ == pc.SheetTypeEnum.WorkSheet:
            rows = wb.get_sheet_by_index(i).to_python(skip_empty_area=False)
            out[meta.name] = sum(1 for row in rows if any(normalise(str(v)) for v in row))
    return out


def _openpyxl_rows(path: Path) -> dict[str, int] | None:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path)
    except Exception:
        return None
    if not wb.worksheets:  # Strict OOXML: openpyxl sees no sheets at all (the silent loss we avoid)
        return None
    return {ws.title: len({r for (r, _), c in ws._cells.items() if c.value is not None
                           and normalise(_unescape(c.value) if isinstance(c.value, str) else "x")})
            for ws in wb.worksheets}


def _unescape(text: str) -> str:
    """openpyxl leaves Excel's _xHHHH_ escapes in the text; decode them so blank means the same for both."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


# ---- exact values --------------------------------------------------------------------------------------

def values(name: str, sheet: int = 0) -> list[object]:
    book = read(FOREIGN / name).book
    assert book is not None
    return [v for _, _, v in book.sheets[sheet].cells()]


def test_escapes_are_decoded_once() -> None:
    assert values("ca_has_x000D_.xlsx") == ["ABC\r\nDEF"]
    assert "\x01" in values("xw_shared_strings01.xlsx")
    # Text that only looks like an escape (Excel protects it as _x005F_...) comes back as typed.
    assert values("xw_shared_strings02.xlsx") == [
        "_", "_x", "_x0", "_x00", "_x000", "_x0000", "_x0000_", "_x005F_", "_x000G_", "_X0000_", "_x000a_",
        "_x000A_", "_x0000__x0000_", "__x0000__"]


def test_libreoffice_resave_keeps_protection_and_text() -> None:
    book = read(FOREIGN / "lo_resaved_hwbs_template.xlsx").book
    assert book is not None
    actions = book.sheet("Actions")
    assert actions is not None and actions.protected is True
    assert "Line one\nline two" in [v for _, _, v in actions.cells()]


def test_dates_in_every_system() -> None:
    v1904 = values("xw_date_1904_02.xlsx")
    assert v1904[0] == time(0, 0) and month_of(v1904[0], True) == (Month(1904, 1), True)
    examples = values("xw_date_examples01.xlsx")
    assert examples[0] == 41333.5 and month_of(examples[0], False) == (Month(2013, 2), True)
    assert all(v == datetime(2013, 2, 28, 12, 0) for v in examples[1:])
    lo_xls = read(FOREIGN / "lo_resaved_hwbs_template.xls").book
    assert lo_xls is not None
    assert any(month_of(v, lo_xls.date1904) == (Month(2024, 3), True) for _, _, v in lo_xls.sheets[0].cells()
               if not isinstance(v, str))


def test_formulas_and_errors_are_kept_as_text_never_objects() -> None:
    book = read(FOREIGN / "xw_formula_results01.xlsx").book
    assert book is not None
    formulas = list(book.sheets[0].formulas.values())
    assert "=1+1" in formulas and all(isinstance(f, str) and f.startswith("=") for f in formulas)
    dyn = read(FOREIGN / "xw_dynamic_array01.xlsx").book
    assert dyn is not None
    assert all(isinstance(f, str) and "object at" not in f for f in dyn.sheets[0].formulas.values())
    image = read(FOREIGN / "xw_embed_image01.xlsx").book
    assert image is not None and list(image.sheets[0].errors.values()) == ["#VALUE!"]


def test_structure_where_openpyxl_fails() -> None:
    """Backslash part names (openpyxl: KeyError) and Strict OOXML (openpyxl: no sheets) read with structure."""
    for name in ("ca_issue_530.xlsx", "ca_strict_iso_paths.xlsx"):
        book = read(FOREIGN / name).book
        assert book is not None and book.structure_checked and all(s.protected is False for s in book.sheets)
    protected = read(FOREIGN / "lo_resaved_hwbs_template.ods").book
    assert protected is not None and protected.sheet("Actions").protected is True  # type: ignore[union-attr]
    merged = read(FOREIGN / "ca_merged_cells.ods").book
    assert merged is not None and merged.sheets[0].merged


def test_sheet_states_and_merges() -> None:
    book = read(FOREIGN / "ca_any_sheets.xlsx").book
    assert book is not None
    assert [(s.name, s.state) for s in book.sheets] == [("Visible", "visible"), ("Hidden", "hidden"),
                                                        ("VeryHidden", "veryHidden")]
    merged = read(FOREIGN / "xw_merge_range05.xlsx").book
    assert merged is not None and merged.sheets[0].merged_range_at(2, 3) == "B2:D2"


def test_macros_are_ignored_and_said_so() -> None:
    r = read(FOREIGN / "xw_macro01.xlsm")
    assert r.ok and [f.code for f in r.findings] == ["file-macros-ignored"]


def test_figures() -> None:
    """The corpus figures quoted in the README (N read, N refused by code)."""
    outcome = Counter("read" if read(p).ok else read(p).findings[0].code for p in FILES)
    assert outcome == Counter({"read": 54, "file-encrypted": 3, "file-not-spreadsheet": 1, "file-corrupt": 1,
                               "file-too-large": 1})
