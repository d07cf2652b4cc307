"""The appendix PDF for the committee pack.

Renderer: LibreOffice headless converts the print-ready workbook (appendix_xlsx) with Calc's PDF export,
tagged (``UseTaggedPDF``, honoured by the JSON filter options of LibreOffice 7.4 and later). Why:
- the PDF is then exactly the workbook the coordinator can open and check, not a second layout to keep in
  step with it (header row repeated, page "N of M", colours, the chart, continuation rows);
- Calc writes a structure tree (tagged PDF), which UK public-sector accessibility rules ask for and which
  the pure-Python PDF libraries available to us do not produce for tables;
- its ruling lines and text layer extract cleanly with pdfplumber, so the PDF imports back.
pypdf then adds what Calc cannot: bookmarks per key area, the document language (en-GB), the title shown
in the viewer's title bar, and fixed dates and file ID so the same register gives the same file.
LibreOffice is optional: without it RendererMissing carries the exact install line and the caller still
writes the xlsx.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from . import libreoffice, safeio
from .appendix import Appendix, fill
from .errors import UsageProblem
from .text import squash

# Calc's PDF export, tagged; JSON filter options need LibreOffice 7.4 or later (older ones ignore them).
PDF_FILTER = ('pdf:calc_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"},'
              '"ExportBookmarks":{"type":"boolean","value":"true"},'
              '"DisplayPDFDocumentTitle":{"type":"boolean","value":"true"}}')


def write(appendix: Appendix, path: Path) -> tuple[Path, int]:
    """Write the appendix PDF to ``path`` (atomically). Returns (path, number of pages)."""
    from . import appendix_xlsx

    if libreoffice.find_soffice() is None:
        from .errors import RendererMissing

        raise RendererMissing("LibreOffice is needed to print the appendix PDF and was not found.",
                              hint=libreoffice.INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="hwbs-appendix-") as tmp:
        folder = Path(tmp)
        book = folder / (Path(path).stem + ".xlsx")
        table = appendix_xlsx.write_workbook(appendix, book, appendix_xlsx.LIBREOFFICE)  # rows sized as Calc prints them
        rendered = libreoffice.convert(book, PDF_FILTER, folder / "pdf", timeout=conversion_timeout(appendix, len(table.rows)))
        data, pages = finish(appendix, rendered.read_bytes())
    safeio.atomic_write(Path(path), data)
    return Path(path), pages


def conversion_timeout(appendix: Appendix, rows: int) -> float:
    """Seconds LibreOffice may take to print ``rows`` table rows: HWBS_LO_TIMEOUT when set, else the
    template's base plus an allowance per row (a fixed 180 s stopped every region-size appendix)."""
    explicit = os.environ.get("HWBS_LO_TIMEOUT", "").strip()
    if explicit:
        try:
            seconds = float(explicit)
        except ValueError:
            seconds = 0.0
        if not seconds > 0:
            raise UsageProblem(f"HWBS_LO_TIMEOUT={explicit!r} is not a number of seconds.",
                               hint="Set it to the seconds LibreOffice may take (e.g. 900), or unset it.")
        return seconds
    pdf = appendix.settings.get("pdf", {})
    return float(pdf.get("timeout_base_s", 180)) + float(pdf.get("timeout_per_row_s", 0.5)) * rows


def finish(appendix: Appendix, pdf: bytes) -> tuple[bytes, int]:
    """Add bookmarks, language, title and fixed dates to the PDF LibreOffice wrote."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, BooleanObject, ByteStringObject, NameObject, TextStringObject

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    root = writer._root_object
    text = appendix.settings.get("text", {})
    words = appendix.words()
    title = fill(str(text.get("document_title", "{appendix}: {title}")), words)
    root[NameObject("/Lang")] = TextStringObject(str(text.get("language", "en-GB")))
    if "/Outlines" in root:  # Calc's own outline names sheets only; ours names the key areas
        del root["/Outlines"]
    _bookmarks(writer, appendix, pdf)
    root[NameObject("/PageMode")] = NameObject("/UseOutlines")
    prefs = writer.create_viewer_preferences()
    prefs[NameObject("/DisplayDocTitle")] = BooleanObject(True)
    stamp = _pdf_date(appendix.document_date)
    writer.add_metadata({
        "/Title": title,
        "/Subject": f"{appendix.appendix_title}, {appendix.cycle.label}",
        "/Author": appendix.plan_title,
        "/Keywords": f"register batch {appendix.batch}",
        "/CreationDate": stamp,
        "/ModDate": stamp,
    })
    # The file ID comes from the pages, not the clock (LibreOffice's own ID changes every run), so the
    # same register gives the same bytes.
    digest = hashlib.md5(title.encode("utf-8"))  # noqa: S324 - an identifier, not security
    for page in reader.pages:
        contents = page.get_contents()
        digest.update(contents.get_data() if contents is not None else b"")
    writer._ID = ArrayObject([ByteStringObject(digest.digest()), ByteStringObject(digest.digest())])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), len(reader.pages)


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


def _bookmarks(writer: Any, appendix: Appendix, pdf: bytes) -> None:
    """Summary, the table, and one bookmark per key area at the page where its first row prints."""
    starts = key_area_pages(appendix, pdf)
    writer.add_outline_item(title=str(appendix.settings.get("text", {}).get("summary_sheet", "Summary")),
                            page_number=0)
    if not starts:
        return
    first = min(starts.values())
    table = writer.add_outline_item(title=f"{appendix.appendix_title}: {appendix.cycle.label}", page_number=first)
    for name, page in starts.items():
        writer.add_outline_item(title=name, page_number=page, parent=table)


def key_area_pages(appendix: Appendix, pdf: bytes) -> dict[str, int]:
    """Key area name -> 0-based page where it first appears in the table's first column.

    PDFium (pypdfium2, installed with pdfplumber) finds the table's header on each page with its C text
    search: the second column's title with the first column's title beside it. The key area column is the
    text left of the second title, below the header. (pypdf's pure-Python text extraction of every page
    was 63% of the PDF step at borough size.)
    """
    import pypdfium2 as pdfium

    if len(appendix.columns) < 2:
        return {}
    first_title = squash(appendix.columns[0].title).split()[0]
    second_title = " ".join(squash(appendix.columns[1].title).split()[:2])
    names = [(ka.name, _wrapped_name(ka.name)) for ka in appendix.key_areas]
    found: dict[str, int] = {}
    doc = pdfium.PdfDocument(pdf)
    try:
        for number in range(len(doc)):
            page = doc[number]
            text = page.get_textpage()
            header = _header_box(text, first_title, second_title)
            if header is not None:
                hx, hy = header
                column = squash(text.get_text_bounded(left=0, bottom=0, right=hx - 1, top=hy - 12))
                for name, pattern in names:
                    if name not in found and pattern.search(column):
                        found[name] = number
            text.close()
            page.close()
            if len(found) == len(names):
                break
    finally:
        doc.close()
    return found


def _header_box(text: Any, first: str, second: str) -> tuple[float, float] | None:
    """(left, bottom) of the second column's title, with the first column's title left of it at about its
    height (a header cell is vertically centred and may wrap, so allow a couple of lines between them)."""
    def boxes(word: str) -> list[tuple[float, float]]:
        out = []
        search = text.search(word, match_case=True)
        while (hit := search.get_next()) is not None:
            left, bottom, _, _ = text.get_charbox(hit[0])
            out.append((left, bottom))
        search.close()
        return out

    seconds = boxes(second)
    if not seconds:
        return None
    firsts = boxes(first)
    return next(((x, y) for x, y in seconds if any(abs(fy - y) < 20 and fx < x for fx, fy in firsts)), None)


def _wrapped_name(name: str) -> re.Pattern[str]:
    """The key area name as the narrow key area column prints it: Calc breaks a word wider than the column
    inside it ("communitie s"), so a line break may fall between any two letters."""
    loose = "".join(r"\s+" if c == " " else re.escape(c) + r"\s?" for c in squash(name))
    return re.compile(r"(?<!\S)" + loose + r"(?!\S)")
