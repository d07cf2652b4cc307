"""The appendix PDF for the committee pack.

Renderer: LibreOffice headless converts the print-ready workbook (appendix_xlsx) with Calc's PDF export,
tagged (``UseTaggedPDF``, honoured by the JSON filter options of LibreOffice 7.4 and later). Why:
- the PDF is then exactly the workbook the coordinator can open and check, not a second layout to keep in
  step with it (header row repeated, page "N of M", colours, the chart, continuation rows);
- Calc writes a structure tree (tagged PDF), which UK public-sector accessibility rules ask for and which
  the pure-Python PDF libraries available to us do not produce for tables;
- its ruling lines and text layer extract cleanly with pdfplumber, so the PDF imports back.
A long table is printed in parts (a workbook of some pages each, up to one LibreOffice per core) joined
with pypdf into one PDF that reads page for page as the whole would print (see "printing in parts").
pypdf then adds what Calc cannot: bookmarks per key area, the document language (en-GB), the title shown
in the viewer's title bar, and fixed dates and file ID so the same register gives the same file.
LibreOffice is optional: without it RendererMissing carries the exact install line and the caller still
writes the xlsx.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from .. import libreoffice, safeio
from .model import Appendix, fill
from ..errors import UsageProblem

# Calc's PDF export, tagged; JSON filter options need LibreOffice 7.4 or later (older ones ignore them).
PDF_FILTER = ('pdf:calc_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"},'
              '"ExportBookmarks":{"type":"boolean","value":"true"},'
              '"DisplayPDFDocumentTitle":{"type":"boolean","value":"true"}}')


def write(appendix: Appendix, path: Path) -> tuple[Path, int]:
    """Write the appendix PDF to ``path`` (atomically). Returns (path, number of pages)."""
    from . import xlsx as appendix_xlsx

    if libreoffice.find_soffice() is None:
        from ..errors import RendererMissing

        raise RendererMissing("LibreOffice is needed to print the appendix PDF and was not found.",
                              hint=libreoffice.INSTALL_HINT)
    table = appendix_xlsx.layout(appendix, appendix_xlsx.LIBREOFFICE)  # rows sized and paged as Calc prints them
    with tempfile.TemporaryDirectory(prefix="hwbs-appendix-") as tmp:
        summary = appendix_xlsx.summary_pages(appendix)
        joined = print_parts(appendix, table, summary, Path(tmp))
        data, pages = finish(appendix, joined, _table_pages(table, summary))
    safeio.atomic_write(Path(path), data)
    return Path(path), pages


# ---- printing in parts ---------------------------------------------------------------------------------
#
# Where LibreOffice's time went (region table cut to 300 rows): 43 s with "fit to one page wide", 9 s
# with the same pages at a fixed print scale; the search for the scale re-lays out the whole sheet at
# every trial scale, and grows faster than the sheet (0.13 s a row at 100 rows, 0.16 at 1,000, 0.31-0.45
# at 2,058). The PDF workbook therefore fixes its scale and every page break (appendix_xlsx paginates).
# What is left still grows a little with the sheet (0.038 s a page at 300 rows, 0.053 at 1,000) and uses
# one core, so the table is printed in parts of at most ``part_pages`` pages, each a workbook of its own
# converted by its own LibreOffice (up to one per core), and the parts are joined. Each part's pages are
# exactly the whole document's pages, and every page number is known before printing.


def plan_parts(appendix: Appendix, table_pages: int, summary_pages: int,
               printed: list[int] | None = None) -> list[Any]:
    """The parts to print: table pages split evenly, the summary with the first part. ``printed``: the pages
    each part actually printed, when they differ from the layout's count (the parts are then renumbered)."""
    from .xlsx import PrintPart

    count = part_count(appendix, table_pages)
    bounds = [round(table_pages * i / count) for i in range(count + 1)]
    sizes = printed or [(summary_pages if i == 0 else 0) + bounds[i + 1] - bounds[i] for i in range(count)]
    total = sum(sizes)
    return [PrintPart(pages=(bounds[i], bounds[i + 1]), summary=i == 0, first_page_number=1 + sum(sizes[:i]),
                      total_pages=total) for i in range(count)]


def part_count(appendix: Appendix, table_pages: int) -> int:
    """How many parts: enough that none passes ``part_pages``, and one per core when each part would still
    have ``min_part_pages`` (starting LibreOffice costs a few seconds)."""
    from ..parallel import workers

    pdf = appendix.settings.get("pdf", {})
    most = max(1, min(MAX_PART_PAGES, int(pdf.get("part_pages", 200))))
    least = max(1, int(pdf.get("min_part_pages", 100)))
    return max(1, -(-table_pages // most), min(workers(table_pages, min_per_worker=least), table_pages))


# xlsx keeps at most 1,023 manual page breaks a sheet, and a part writes one per page
MAX_PART_PAGES = 1000


def print_parts(appendix: Appendix, table: Any, summary_pages: int, folder: Path) -> Any:
    """Print every part (up to one LibreOffice per core) and join them, each as soon as it and the parts
    before it are printed; the joined PdfWriter. A part that printed a different number of pages than laid
    out (it should not happen) renumbers the parts, prints those again and joins them all again."""
    parts = plan_parts(appendix, len(table.page_starts), summary_pages)
    writer, printed = None, []
    for pdf in _convert(appendix, table, parts, folder, range(len(parts))):
        before = len(writer.pages) if writer is not None else 0
        writer = _join(writer, pdf)
        printed.append(len(writer.pages) - before)
    if len(parts) > 1 and printed != [_expected(p, summary_pages) for p in parts]:
        again = plan_parts(appendix, len(table.page_starts), summary_pages, printed)
        redo = [i for i, (old, new) in enumerate(zip(parts, again)) if old != new]
        for _ in _convert(appendix, table, again, folder, redo):
            pass
        writer = None
        for i in range(len(parts)):
            writer = _join(writer, _part_pdf(folder, i))
    return writer


def _expected(part: Any, summary_pages: int) -> int:
    return int((summary_pages if part.summary else 0) + part.pages[1] - part.pages[0])


def _convert(appendix: Appendix, table: Any, parts: list[Any], folder: Path, which: Any) -> Iterator[Path]:
    """Write and convert ``parts[i]`` for each i in ``which`` on threads (each drives one LibreOffice);
    yields the PDFs in order while the next ones print."""
    from concurrent.futures import ThreadPoolExecutor

    from ..parallel import workers

    chosen = list(which)
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers(len(chosen), min_per_worker=1), len(chosen))))
    futures = [pool.submit(_convert_one, appendix, table, parts[i], i, folder) for i in chosen]
    try:
        for future in futures:
            yield future.result()
    finally:
        for future in futures:
            future.cancel()  # parts not started yet; running ones finish (each has its time limit)
        pool.shutdown(wait=True)


def _part_pdf(folder: Path, index: int) -> Path:
    return folder / f"pdf-{index:04d}" / f"part-{index:04d}.pdf"


def _convert_one(appendix: Appendix, table: Any, part: Any, index: int, folder: Path) -> Path:
    from . import xlsx as appendix_xlsx

    book = folder / f"part-{index:04d}.xlsx"
    single = part.pages == (0, len(table.page_starts))
    appendix_xlsx.write_workbook(appendix, book, appendix_xlsx.LIBREOFFICE, table=table,
                                 part=None if single else part)
    first, end = appendix_xlsx._part_rows(table, part)
    out = libreoffice.convert(book, PDF_FILTER, _part_pdf(folder, index).parent,
                              timeout=conversion_timeout(appendix, end - first))
    book.unlink()
    return out


def _table_pages(table: Any, summary_pages: int) -> dict[str, int]:
    """Key area name -> 0-based page of the whole PDF where its first row prints (from the layout)."""
    import bisect

    return {name: summary_pages + bisect.bisect_right(table.page_starts, row) - 1
            for name, row in table.first_rows.items() if row < len(table.rows)}


# ---- joining the parts ---------------------------------------------------------------------------------

def _join(writer: Any, pdf: Path) -> Any:
    """``writer`` with the pages of ``pdf`` added (a new writer when None), the parts' structure trees
    (tagged PDF) joined into one: each part's elements go under the first part's root and its parent-tree
    keys move past the keys already used."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(pdf)
    if writer is None:
        writer = PdfWriter(clone_from=reader)
    else:
        _append(writer, reader)
    # everything the part gave is copied: let its reader go (pypdf keeps every source reader alive, which
    # held ~2.5 GB at national size)
    writer._id_translated.pop(id(reader), None)
    return writer


def _append(writer: Any, reader: Any) -> None:
    from pypdf.generic import ArrayObject, NameObject, NumberObject

    root = writer._root_object
    tree_ref = root.get("/StructTreeRoot")
    part_ref = reader.trailer["/Root"].get("/StructTreeRoot")
    if tree_ref is None or part_ref is None:  # untagged: pages only
        for page in reader.pages:
            writer.add_page(page)
        return
    tree = tree_ref.get_object()
    nums = _parent_tree(tree)
    offset = int(tree.get("/ParentTreeNextKey", max((int(k) for k in nums[::2]), default=-1) + 1))
    # the part's root stands for ours: elements cloned below point to it as their parent
    writer._id_translated.setdefault(id(reader), {})[part_ref.idnum] = tree_ref.idnum
    for page in reader.pages:
        added = writer.add_page(page)
        if "/StructParents" in page:
            added[NameObject("/StructParents")] = NumberObject(int(page["/StructParents"]) + offset)
        for annot in added.get("/Annots", []) or []:
            annot = annot.get_object()
            if "/StructParent" in annot:
                annot[NameObject("/StructParent")] = NumberObject(int(annot["/StructParent"]) + offset)
    part = part_ref.get_object()
    kids = part.get("/K")
    kids = kids if isinstance(kids, ArrayObject) else ArrayObject([kids] if kids is not None else [])
    ours = tree.get("/K")
    ours = ours if isinstance(ours, ArrayObject) else ArrayObject([ours] if ours is not None else [])
    ours.extend(kid.clone(writer) for kid in kids)
    tree[NameObject("/K")] = ours
    part_nums = _parent_tree(part)
    last = offset - 1
    for key, value in zip(part_nums[::2], part_nums[1::2]):
        last = max(last, int(key) + offset)
        nums.extend([NumberObject(int(key) + offset), value.clone(writer)])
    tree[NameObject("/ParentTreeNextKey")] = NumberObject(last + 1)


def _parent_tree(tree: Any) -> Any:
    """The flat /Nums array of a structure tree's parent tree (a nested tree is flattened into it)."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    if "/ParentTree" not in tree:
        tree[NameObject("/ParentTree")] = DictionaryObject({NameObject("/Nums"): ArrayObject()})
    node = tree["/ParentTree"].get_object()
    if "/Nums" not in node:
        flat = ArrayObject()

        def leaves(n: Any) -> None:  # in key order: kids are sorted, each holds a range of keys
            n = n.get_object()
            flat.extend(n.get("/Nums", []))
            for kid in n.get("/Kids", []):
                leaves(kid)

        leaves(node)
        node.clear()
        node[NameObject("/Nums")] = flat
    return node["/Nums"]


def conversion_timeout(appendix: Appendix, rows: int) -> float:
    """Seconds one LibreOffice may take to print ``rows`` table rows (one part of the PDF): HWBS_LO_TIMEOUT
    when set, else the template's base plus an allowance per row (a fixed 180 s stopped every region-size
    appendix when it was printed in one go)."""
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


def finish(appendix: Appendix, writer: Any, starts: dict[str, int]) -> tuple[bytes, int]:
    """Add bookmarks (``starts``: key area -> 0-based page), language, title and fixed dates to the joined
    PDF; its bytes and number of pages."""
    from pypdf.generic import ArrayObject, BooleanObject, ByteStringObject, NameObject, TextStringObject

    root = writer._root_object
    text = appendix.settings.get("text", {})
    words = appendix.words()
    title = fill(str(text.get("document_title", "{appendix}: {title}")), words)
    root[NameObject("/Lang")] = TextStringObject(str(text.get("language", "en-GB")))
    if "/Outlines" in root:  # Calc's own outline names sheets only; ours names the key areas
        del root["/Outlines"]
    _bookmarks(writer, appendix, starts)
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
    for page in writer.pages:
        contents = page.get_contents()
        digest.update(contents.get_data() if contents is not None else b"")
    writer._ID = ArrayObject([ByteStringObject(digest.digest()), ByteStringObject(digest.digest())])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), len(writer.pages)


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


def _bookmarks(writer: Any, appendix: Appendix, starts: dict[str, int]) -> None:
    """Summary, the table, and one bookmark per key area at the page where its first row prints."""
    writer.add_outline_item(title=str(appendix.settings.get("text", {}).get("summary_sheet", "Summary")),
                            page_number=0)
    if not starts:
        return
    first = min(starts.values())
    table = writer.add_outline_item(title=f"{appendix.appendix_title}: {appendix.cycle.label}", page_number=first)
    for name, page in starts.items():
        writer.add_outline_item(title=name, page_number=page, parent=table)
