"""The reader on hostile and broken files: each ends in its own finding, before any heavy work.

Files are built here from a real workbook (an XlsxWriter baseline from the foreign corpus, or one the
tool issued) by editing its bytes or zip parts, as an attacker, a bad download or another program would.
"""

from __future__ import annotations

import io
import resource
import zipfile
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

import pytest

from hwbs_xl.findings import CODES
from hwbs_xl.model import Month
from hwbs_xl.sheets import limits
from hwbs_xl.sheets.reader import read_bytes, read_file, require_safe_xml
from hwbs_xl.sheets.values import month_of, serial_date

FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"
BASELINE = FOREIGN / "gen_hwbs_template_xlsxwriter.xlsx"


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.code for f in result.findings]


def rezip(source: Path, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
          drop: tuple[str, ...] = ()) -> bytes:
    """The workbook ``source`` with some zip parts replaced, added or removed."""
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = (replace or {}).get(info.filename, zin.read(info))
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return out.getvalue()


def part(source: Path, name: str) -> bytes:
    with zipfile.ZipFile(source) as z:
        return z.read(name)


def test_openpyxl_parses_xml_without_entity_expansion() -> None:
    import openpyxl

    assert openpyxl.DEFUSEDXML is True
    require_safe_xml()


def test_baseline_reads_exactly_with_structure() -> None:
    r = read_file(BASELINE)
    assert r.ok and r.findings == []
    book = r.book
    assert book is not None and book.format == "xlsx" and book.structure_checked
    actions = book.sheet("Actions")
    assert actions is not None and actions.protected is True
    # XlsxWriter stored "\r\n" as _x000D_\n: decoded once, exactly.
    values = [v for _, _, v in actions.cells()]
    assert "Line one\r\nline two" in values
    assert "=not a formula" in values  # literal text in a string cell stays text, not a formula
    assert actions.formulas == {}
    assert book.sheet("_meta") is not None and book.sheet("_meta").state == "hidden"  # type: ignore[union-attr]


def test_name_is_never_trusted(tmp_path: Path) -> None:
    text = tmp_path / "update.xlsx"
    text.write_text("Action ID,Status\nKA1-01,Completed\n", encoding="utf-8")
    r = read_file(text)
    assert codes(r) == ["file-not-spreadsheet"]
    assert "old .xls" not in r.findings[0].message and "CSV" in r.findings[0].message
    renamed = tmp_path / "really-an-xlsx.xls"
    renamed.write_bytes(BASELINE.read_bytes())
    assert read_file(renamed).ok


def test_empty_and_pdf_files_are_not_spreadsheets(tmp_path: Path) -> None:
    assert codes(read_bytes(b"", "empty.xlsx")) == ["file-not-spreadsheet"]
    r = read_bytes(b"%PDF-1.7\n...", "appendix.xlsx")
    assert codes(r) == ["file-not-spreadsheet"] and "PDF" in r.findings[0].message


def test_cut_short_download_is_corrupt_naming_the_part() -> None:
    data = BASELINE.read_bytes()
    r = read_bytes(data[: len(data) // 2], "half.xlsx")
    assert codes(r) == ["file-corrupt"]
    assert r.findings[0].detail["part"] == "zip central directory"
    assert "BadZipFile" not in r.findings[0].message


def test_damaged_part_is_corrupt_naming_it() -> None:
    broken = part(BASELINE, "xl/worksheets/sheet1.xml")[:-40]  # not well-formed any more
    r = read_bytes(rezip(BASELINE, replace={"xl/worksheets/sheet1.xml": broken}), "broken.xlsx")
    assert codes(r) == ["file-corrupt"] and r.findings[0].detail["part"] == "xl/worksheets/sheet1.xml"


def test_zip_without_workbook_is_corrupt() -> None:
    r = read_bytes(rezip(BASELINE, drop=("xl/workbook.xml",)), "noworkbook.xlsx")
    assert codes(r) == ["file-corrupt"] and "xl/workbook.xml" in r.findings[0].message


@pytest.mark.parametrize("dtd", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>',
    b'<?xml version="1.0"?><!DOCTYPE sst SYSTEM "file:///etc/passwd">',
])
def test_dtd_in_any_part_is_refused_before_parsing(dtd: bytes) -> None:
    sst = part(BASELINE, "xl/sharedStrings.xml")
    body = sst.split(b"?>", 1)[1]
    r = read_bytes(rezip(BASELINE, replace={"xl/sharedStrings.xml": dtd + body}), "laughs.xlsx")
    assert codes(r) == ["file-unsafe-xml"]
    assert r.findings[0].detail["part"] == "xl/sharedStrings.xml"


@pytest.mark.parametrize("name", ["xl/worksheets/sheet1.xml", "xl/styles.xml", "docProps/core.xml"])
def test_dtd_is_refused_in_every_kind_of_part_and_in_utf16(name: str) -> None:
    original = part(BASELINE, name)
    body = original.split(b"?>", 1)[1]
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    for encoded in (doctype + body, (doctype.replace(b'"1.0"', b'"1.0" encoding="UTF-16"') + body).decode("utf-8")
                    .encode("utf-16")):
        r = read_bytes(rezip(BASELINE, replace={name: encoded}), "dtd.xlsx")
        assert codes(r) == ["file-unsafe-xml"] and r.findings[0].detail["part"] == name


def test_high_compression_ratio_is_refused_from_the_directory() -> None:
    zeros = b"0" * (40 * limits.MB)
    r = read_bytes(rezip(BASELINE, add={"xl/media/zeros.bin": zeros}), "bomb.xlsx")
    assert codes(r) == ["file-suspicious-compression"]
    assert r.findings[0].detail["limit"] == "MAX_PART_RATIO"
    assert "xl/media/zeros.bin" in r.findings[0].message


def test_huge_unpacked_size_is_refused(tmp_path: Path) -> None:
    r = read_bytes(rezip(BASELINE, add={f"xl/media/z{i}.bin": b"\0" * (30 * limits.MB) for i in range(4)}), "big.xlsx")
    assert codes(r) == ["file-too-large"] and r.findings[0].detail["limit"] == "MAX_UNPACKED_BYTES"


def test_too_many_entries_is_refused() -> None:
    extra = {f"customXml/item{i}.txt": b"x" for i in range(limits.MAX_ZIP_ENTRIES + 10)}
    r = read_bytes(rezip(BASELINE, add=extra), "entries.xlsx")
    assert codes(r) == ["file-suspicious-compression"] and r.findings[0].detail["limit"] == "MAX_ZIP_ENTRIES"


def test_file_over_the_size_limit_is_not_even_read(tmp_path: Path) -> None:
    big = tmp_path / "big.xlsx"
    with open(big, "wb") as fh:
        fh.truncate(limits.MAX_FILE_BYTES + 1)
    r = read_file(big)
    assert codes(r) == ["file-too-large"] and r.data == b""


def _row_bomb(rows: int) -> bytes:
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    body = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(1, rows + 1))
    return head + body + b"</sheetData></worksheet>"


def test_row_bomb_is_stopped_while_streaming() -> None:
    bomb = rezip(BASELINE, replace={"xl/worksheets/sheet1.xml": _row_bomb(1_000_000)})
    assert len(bomb) < 8 * limits.MB  # small on disk; about 45 MB unpacked
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = read_bytes(bomb, "rows.xlsx")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert codes(r) == ["sheet-too-many-rows"] and r.findings[0].detail["limit"] == "MAX_ROWS"
    assert grown_mb < 200  # streamed: never the whole sheet in memory


def test_one_far_away_cell_is_refused_before_a_reader_allocates_the_rectangle() -> None:
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
             b'<row r="9000"><c r="XFD9000"><v>2</v></c></row></sheetData></worksheet>')
    r = read_bytes(rezip(BASELINE, replace={"xl/worksheets/sheet1.xml": sheet}), "far.xlsx")
    assert codes(r) == ["file-too-large"] and r.findings[0].detail["limit"] == "MAX_CELLS"


def test_broken_styles_do_not_matter() -> None:
    """Styles are never parsed (values come from calamine, structure from the sheet XML): an empty <fill/>
    that breaks some readers changes nothing; a styles part that is not XML at all is named as corrupt."""
    styles = part(BASELINE, "xl/styles.xml")
    empty_fill = styles.replace(b'<fill><patternFill patternType="gray125"/></fill>', b"<fill/>", 1)
    assert empty_fill != styles
    r = read_bytes(rezip(BASELINE, replace={"xl/styles.xml": empty_fill}), "styles.xlsx")
    assert r.ok and r.findings == [] and r.book is not None and r.book.structure_checked
    assert "Line one\r\nline two" in [v for _, _, v in r.book.sheets[0].cells()]
    r = read_bytes(rezip(BASELINE, replace={"xl/styles.xml": styles[:-30]}), "styles.xlsx")
    assert codes(r) == ["file-corrupt"] and r.findings[0].detail["part"] == "xl/styles.xml"


def test_the_reader_reports_only_declared_findings_of_its_stage() -> None:
    from hwbs_xl.findings import FINDING, READING

    reading = {code for code, entry in CODES.items() if entry.stage == READING}
    assert {"file-unreadable", "file-corrupt", "file-unsafe-xml", "file-format-xls", "sheet-too-many-rows"} <= reading
    assert all(CODES[code].kind == FINDING for code in reading)


# ---- dates ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, date1904, expected", [
    (datetime(2025, 3, 31), False, Month(2025, 3)),
    (date(2025, 3, 31), False, Month(2025, 3)),
    (45747.0, False, Month(2025, 3)),           # 31 Mar 2025 as a General-format serial
    (44285.0, True, Month(2025, 3)),            # the same day in the 1904 system (1,462 days fewer)
    (dtime(0, 0), True, Month(1904, 1)),        # serial 0 in 1904 mode reads back as a time: it is 1 Jan 1904
    ("31/03/2025", False, Month(2025, 3)),      # UK day-first, as the instructions show
    ("2025-03-31", False, Month(2025, 3)),
    ("Mar-25", False, Month(2025, 3)),
    ("March 2025", False, Month(2025, 3)),
    (None, False, None),
    ("  ", False, None),
])
def test_dates_are_understood_in_every_form(value: object, date1904: bool, expected: Month | None) -> None:
    assert month_of(value, date1904) == (expected, True)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1/6", "31/02/2025", "next spring", True, dtime(0, 0), 0.0])
def test_dates_that_cannot_be_read_for_certain_are_not_guessed(value: object) -> None:
    month, understood = month_of(value, False)  # type: ignore[arg-type]
    assert (month, understood) == (None, False)


def test_serials_around_excels_leap_year_bug() -> None:
    assert serial_date(1, False) == date(1900, 1, 1)
    assert serial_date(61, False) == date(1900, 3, 1)
    assert serial_date(0, True) is None  # 0 means "no date" as a number; the 1904 case is handled as a time
    assert serial_date(1, True) == date(1904, 1, 2)


# ---- cell addresses ------------------------------------------------------------------------------------

def test_cell_addresses_are_one_based_both_ways() -> None:
    from hwbs_xl.sheets.cells import GRID_COLS, a1, column_letter, column_number, parse_a1

    assert [column_letter(c) for c in (1, 26, 27, 52, 703, GRID_COLS)] == ["A", "Z", "AA", "AZ", "AAA", "XFD"]
    assert all(column_number(column_letter(c)) == c for c in range(1, GRID_COLS + 1))
    assert a1(7, 5) == "E7" and parse_a1("$E$7") == (7, 5) == parse_a1("e7")
    assert parse_a1("Sheet1") == (0, 0) and column_number(" ") == 1


# ---- clipping text for messages ------------------------------------------------------------------------

def test_clip_and_first_words() -> None:
    from hwbs_xl.text import clip, first_words

    assert clip("a  b\nc", 10) == "a b c" and clip("x" * 50, 40) == "x" * 39 + "…"
    assert clip("y" * 200, 160, mark="...") == "y" * 157 + "..." and len(clip("z" * 41, 40)) == 40
    assert first_words("one two three", 2) == "one two …" and first_words("one two", 2) == "one two"


def test_a_vertical_tab_from_word_is_a_line_break_not_a_marker(tmp_path: Path) -> None:
    """Shift+Enter in Word, pasted into a cell, arrives as a vertical tab: the lead meant a new line, so it
    is one, and no "control characters" finding is raised for it (a real control character still is)."""
    import xlsxwriter

    from hwbs_xl.sheets.reader import read_file
    from hwbs_xl.sheets.values import cell_text

    path = tmp_path / "vt.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Update")
    ws.write_string(0, 0, "Done.\x0bNext line")
    ws.write_string(1, 0, "Bell\x07 and\x0bbreak")
    wb.close()
    book = read_file(path).book
    assert book is not None
    sheet = book.sheet("Update")
    assert sheet is not None
    first, second = cell_text(sheet, 1, 1), cell_text(sheet, 2, 1)
    assert first.text == "Done.\nNext line" and "text-control-chars" not in first.notes
    assert second.text == "Bell\u2407 and\nbreak" and "text-control-chars" in second.notes


def test_a_workbook_sent_inside_a_zip_is_told_to_be_unzipped(tmp_path: Path) -> None:
    """A lead (or the mail system) zipped the workbook: "save it again" would not help; unzipping does."""
    import io
    import zipfile

    from hwbs_xl.sheets.reader import read_bytes

    workbook = (FOREIGN / "xw_shared_strings01.xlsx").read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("October-2024 - Director of Public Health.xlsx", workbook)
    got = read_bytes(buf.getvalue(), "return.zip")
    assert got.book is None and [f.code for f in got.findings] == ["file-zipped"]
    assert "Unzip it" in got.findings[0].message and "Director of Public Health.xlsx" in got.findings[0].message
