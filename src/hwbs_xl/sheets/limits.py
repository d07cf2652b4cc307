"""Input limits for returned workbooks, in one place.

A lead's return is small: one sheet of 30-60 actions, about 30 KB on disk and under 1 MB unpacked. The
limits below are two orders of magnitude above that, so no honest return meets them, while a zip bomb,
a row bomb or a repeat bomb is stopped before it costs real memory or time. Each limit has its own
finding code and is checked *before* the step it protects:

========================  ===========  ===============================  =======================================
limit                     value        checked                          finding
========================  ===========  ===============================  =======================================
MAX_FILE_BYTES            20 MB        file size, before reading it     file-too-large
MAX_ZIP_ENTRIES           2,000        zip directory, before any parse  file-suspicious-compression
MAX_UNPACKED_BYTES        100 MB       zip directory (sum of declared)  file-too-large
MAX_PART_RATIO            100 : 1      zip directory, parts over 1 MB   file-suspicious-compression
MAX_ROWS                  20,000       counted while streaming a sheet  sheet-too-many-rows
MAX_CELLS                 1,000,000    counted while streaming sheets   file-too-large
MAX_SHEETS                250          workbook part                    file-too-large
MAX_TEXT                  32,767       each text cell (Excel's limit)   text-truncated
========================  ===========  ===============================  =======================================

Declared sizes in a zip directory can lie; every XML part is then streamed through Python's zipfile,
which stops at the declared size and checks the CRC, so a lying entry ends as ``file-corrupt``.
XML is parsed with entity expansion off (openpyxl uses defusedxml, checked at start-up), and any part that
declares a DTD or an entity is refused as ``file-unsafe-xml`` before a parser sees it.
"""

from __future__ import annotations

from ..text import EXCEL_CELL_LIMIT

MB = 1024 * 1024

MAX_FILE_BYTES = 20 * MB
MAX_ZIP_ENTRIES = 2_000
MAX_UNPACKED_BYTES = 100 * MB
MAX_PART_RATIO = 100
RATIO_APPLIES_ABOVE = 1 * MB   # small parts compress well for innocent reasons (repeated styles)
MAX_ROWS = 20_000
MAX_CELLS = 1_000_000
MAX_SHEETS = 250
MAX_TEXT = EXCEL_CELL_LIMIT

STREAM_CHUNK = 1 * MB          # how much of a part is unpacked at a time while scanning it


def describe() -> list[tuple[str, str]]:
    """The limits as (name, value) pairs, for `--help` texts and the README table."""
    return [
        ("file size", f"{MAX_FILE_BYTES // MB} MB"),
        ("zip entries", f"{MAX_ZIP_ENTRIES:,}"),
        ("unpacked size", f"{MAX_UNPACKED_BYTES // MB} MB"),
        ("compression ratio (parts over 1 MB)", f"{MAX_PART_RATIO}:1"),
        ("rows per sheet", f"{MAX_ROWS:,}"),
        ("cells per workbook", f"{MAX_CELLS:,}"),
        ("sheets", f"{MAX_SHEETS:,}"),
        ("characters per cell", f"{MAX_TEXT:,}"),
    ]
