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
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from . import libreoffice, safeio
from .appendix import Appendix, fill
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
        appendix_xlsx.write_workbook(appendix, book)
        rendered = libreoffice.convert(book, PDF_FILTER, folder / "pdf")
        data, pages = finish(appendix, rendered.read_bytes())
    safeio.atomic_write(Path(path), data)
    return Path(path), pages


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
    """Key area name -> 0-based page where it first appears in the table's first column."""
    import pdfplumber

    first_title = appendix.columns[0].title.split()[0] if appendix.columns else ""
    second_title = appendix.columns[1].title.split()[0] if len(appendix.columns) > 1 else ""
    names = [ka.name for ka in appendix.key_areas]
    found: dict[str, int] = {}
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for number, page in enumerate(doc.pages):
            words = page.extract_words()
            header = _header_words(words, first_title, second_title)
            if header is None:
                continue
            # the header row ends at the first ruling line below its text; the table body starts there
            below = [e["top"] for e in page.horizontal_edges if e["top"] > header["bottom"] - 0.5]
            body_top = min(below) if below else header["bottom"]
            # crop by characters, not words: a word may run into the next column's first word
            left = page.crop((0, body_top, max(header["x0"] - 1, 1), page.height), strict=False)
            column = squash(left.extract_text() or "")
            for name in names:
                if name not in found and re.search(r"(?<!\S)" + re.escape(squash(name)) + r"(?!\S)", column):
                    found[name] = number
            if len(found) == len(names):
                break
    return found


def _header_words(words: list[dict[str, Any]], first: str, second: str) -> dict[str, Any] | None:
    """The table header's second-column word on this page (the table's left column lies before it)."""
    firsts = [w for w in words if w["text"] == first]
    for w in words:
        # a header cell is vertically centred and may wrap: allow a couple of lines between the two words
        if w["text"] == second and any(abs(f["top"] - w["top"]) < 20 and f["x0"] < w["x0"] for f in firsts):
            return w
    return None
