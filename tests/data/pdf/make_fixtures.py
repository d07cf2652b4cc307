"""Regenerate the PDF fixtures of the PDF import tests with real programs (LibreOffice Writer, pdftoppm).

    python tests/data/pdf/make_fixtures.py        # rewrites the *.pdf files beside this script

What it makes, and why each exists:

- ``barnet-2023-04-ruled.pdf``, ``barnet-2024-04-ruled.pdf``: each bundled seed appendix laid out the way a
  council officer would type it in Word (landscape A4, one table with a ruled grid, the header row repeated
  on every page, "Appendix A" in the page header, the plan title above the table, progress bullets as real
  list items), written as a flat OpenDocument text file (.fodt) and converted by LibreOffice Writer. Long
  progress reports make rows break across pages.
- ``barnet-2024-04-plain.pdf``: the same April 2024 table with no grid, only a rule under the header (the
  other common committee-paper style), and ``barnet-2023-04-plain.pdf``: April 2023 with no line at all
  (rows told apart by white space and the header by its bold type), for the reader's no-ruling-lines path.
- ``barnet-2024-04-glyphs.pdf``: the April 2024 ruled document with one "£" typed as U+FFFD, converted
  by LibreOffice, then the /ToUnicode map removed from the font that draws the list bullets (OpenSymbol)
  with pypdf, as happens with PDFs from some printer drivers: the bullets come out as ``(cid:N)``. Both
  kinds of unreadable glyph must be flagged, never imported silently.
- ``scanned.pdf``: pages 1-2 of the April 2024 PDF rasterised by pdftoppm and put back into a PDF by Pillow
  (fixture-only): pictures of an appendix with no text layer, like a scan.
- ``cover-report.pdf``: a committee cover report (text and a small "report details" table, no appendix
  table), and ``minutes.pdf``: meeting minutes (text only, no table at all), both by LibreOffice Writer.

The seeds are read with a small parser of their own here (fixture-only, deliberately separate from the
import pipeline under test): it recovers the table as the original document held it, i.e. one clean header
and the data rows with their cell text exactly as in the seed (odd statuses and garbage leads included),
so an import of the PDF must give what the import of the seed gives.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "src" / "hwbs_xl" / "demo" / "sample"
TITLE = "Barnet Health and Wellbeing Strategy - Phase 2 Implementation Plan"
HEADER_2024 = ["HWBS Key Area", "Project Activity", "Lead", "Start Date", "Finish Date",
               "Status as of April 2024", "April 2024 Progress Report"]
KEY_AREA = re.compile(r"Key\s*Area\s*\d+$")

# Column widths in cm (landscape A4 less 1.2 cm margins = 27.3 cm of table).
WIDTHS = {8: [2.0, 4.2, 3.2, 1.6, 1.6, 2.6, 7.5, 4.6], 7: [2.0, 4.6, 3.6, 1.6, 1.6, 2.8, 11.1]}


# ---------------------------------------------------------------- seed parsing (fixture-only)

def seed_2023() -> tuple[list[str], list[list[str]]]:
    """The markdown seed: the first table line is the header, separator and repeated headers skipped."""
    header: list[str] = []
    rows: list[list[str]] = []
    for line in (SAMPLE / "barnet-2023-04.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if all(re.fullmatch(r"-*", c) for c in cells):
            continue
        if not header:
            header = cells
        elif cells != header:
            rows.append(cells)
    return header, rows


def seed_2024() -> tuple[list[str], list[list[str]]]:
    """The tab seed: only data rows (first cell "Key Area N"), undoing the extraction's two cell slips."""
    rows = []
    for line in (SAMPLE / "barnet-2024-04.txt").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) == 8 and cells[0] == "":
            cells = cells[1:]
        if len(cells) == 8 and cells[0] == "Key" and cells[1].startswith("Area"):
            cells = [cells[0] + " " + cells[1]] + cells[2:]
        if KEY_AREA.match(cells[0]):
            rows.append(cells)
    return HEADER_2024, rows


# ---------------------------------------------------------------- the Word-style document

def cell_paragraphs(text: str) -> str:
    """A cell's content: `<ul><li>` lists become real list items (their leading glyph is the bullet)."""
    if "<li>" not in text:
        return f'<text:p text:style-name="Body">{escape(text)}</text:p>'
    before, _, rest = text.partition("<ul>")
    items = re.findall(r"<li>(.*?)</li>", rest, flags=re.S)
    out = [f'<text:p text:style-name="Body">{escape(before.strip())}</text:p>'] if before.strip() else []
    bullet = items[0].strip()[:1] if items and items[0].strip()[:1] in "■•" else "•"
    style = "LSquare" if bullet == "■" else "LBullet"
    out.append(f'<text:list text:style-name="{style}">')
    for item in items:
        item = item.strip().lstrip("■•").strip()
        out.append(f'<text:list-item><text:p text:style-name="Body">{escape(item)}</text:p></text:list-item>')
    out.append("</text:list>")
    return "".join(out)


def list_style(name: str, char: str) -> str:
    return (f'<text:list-style style:name="{name}"><text:list-level-style-bullet text:level="1" '
            f'text:bullet-char="{char}"><style:list-level-properties '
            'text:list-level-position-and-space-mode="label-alignment"><style:list-level-label-alignment '
            'text:label-followed-by="listtab" text:list-tab-stop-position="0.35cm" fo:text-indent="-0.35cm" '
            'fo:margin-left="0.35cm"/></style:list-level-properties>'
            '<style:text-properties style:font-name="OpenSymbol"/></text:list-level-style-bullet>'
            '</text:list-style>')


def fodt(header: list[str], rows: list[list[str]], *, ruled: bool, heading: str | None = TITLE,
         intro: Sequence[str] = (), page_header: str = "Appendix A", header_rule: bool = True) -> str:
    widths = WIDTHS.get(len(header), [27.3 / max(1, len(header))] * len(header))
    grid = 'fo:border="0.5pt solid #000000"' if ruled else 'fo:border="none"'
    head_border = grid if ruled else ('fo:border="none" fo:border-bottom="0.75pt solid #000000"' if header_rule
                                      else 'fo:border="none"')
    cols = "".join(f'<style:style style:name="C{i}" style:family="table-column">'
                   f'<style:table-column-properties style:column-width="{w}cm"/></style:style>'
                   for i, w in enumerate(widths))
    colrefs = "".join(f'<table:table-column table:style-name="C{i}"/>' for i in range(len(widths)))

    def row(cells: list[str], *, head: bool) -> str:
        style, para = ("HeadCell", "Head") if head else ("Cell", None)
        inner = "".join(
            f'<table:table-cell table:style-name="{style}" office:value-type="string">'
            + (f'<text:p text:style-name="{para}">{escape(c)}</text:p>' if para else cell_paragraphs(c))
            + "</table:table-cell>" for c in cells)
        return f'<table:table-row table:style-name="Row">{inner}</table:table-row>'

    body = "".join(row(r, head=False) for r in rows)
    paras = "".join(f'<text:p text:style-name="Body">{escape(p)}</text:p>' for p in intro)
    title = f'<text:p text:style-name="Title">{escape(heading)}</text:p>' if heading else ""
    table = (f'<table:table table:name="Appendix" table:style-name="Tbl">{colrefs}'
             f'<table:table-header-rows>{row(header, head=True)}</table:table-header-rows>{body}</table:table>'
             ) if header else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:font-face-decls>
 <style:font-face style:name="Liberation Sans" svg:font-family="'Liberation Sans'" style:font-family-generic="swiss"/>
 <style:font-face style:name="OpenSymbol" svg:font-family="OpenSymbol" style:font-charset="x-symbol"/>
</office:font-face-decls>
<office:styles>
 <style:default-style style:family="paragraph">
  <style:text-properties style:font-name="Liberation Sans" fo:font-size="9pt" fo:language="en" fo:country="GB"/>
 </style:default-style>
 <style:style style:name="Standard" style:family="paragraph"/>
 <style:style style:name="Body" style:family="paragraph"/>
 <style:style style:name="Head" style:family="paragraph"><style:text-properties fo:font-weight="bold"/></style:style>
 <style:style style:name="Title" style:family="paragraph">
  <style:paragraph-properties fo:margin-bottom="0.3cm"/><style:text-properties fo:font-size="13pt" fo:font-weight="bold"/>
 </style:style>
 <style:style style:name="PageHead" style:family="paragraph"><style:paragraph-properties fo:text-align="end"/>
  <style:text-properties fo:font-size="11pt" fo:font-weight="bold"/></style:style>
 <style:style style:name="PageFoot" style:family="paragraph"><style:paragraph-properties fo:text-align="center"/>
  <style:text-properties fo:font-size="8pt"/></style:style>
</office:styles>
<office:automatic-styles>
 <style:page-layout style:name="pm1">
  <style:page-layout-properties fo:page-width="29.7cm" fo:page-height="21cm" style:print-orientation="landscape"
   fo:margin-top="1.0cm" fo:margin-bottom="1.0cm" fo:margin-left="1.2cm" fo:margin-right="1.2cm"/>
  <style:header-style><style:header-footer-properties fo:min-height="0.6cm" fo:margin-bottom="0.3cm"/></style:header-style>
  <style:footer-style><style:header-footer-properties fo:min-height="0.5cm" fo:margin-top="0.3cm"/></style:footer-style>
 </style:page-layout>
 <style:style style:name="Tbl" style:family="table"><style:table-properties style:width="{sum(widths)}cm" table:align="left"/></style:style>
 {cols}
 <style:style style:name="Row" style:family="table-row"><style:table-row-properties fo:keep-together="auto"/></style:style>
 <style:style style:name="Cell" style:family="table-cell"><style:table-cell-properties fo:padding="0.1cm" {grid}/></style:style>
 <style:style style:name="HeadCell" style:family="table-cell"><style:table-cell-properties fo:padding="0.1cm" {head_border}/></style:style>
 {list_style("LBullet", "•")}
 {list_style("LSquare", "■")}
</office:automatic-styles>
<office:master-styles>
 <style:master-page style:name="Standard" style:page-layout-name="pm1">
  <style:header><text:p text:style-name="PageHead">{escape(page_header)}</text:p></style:header>
  <style:footer><text:p text:style-name="PageFoot">Page <text:page-number text:select-page="current"/></text:p></style:footer>
 </style:master-page>
</office:master-styles>
<office:body><office:text>{title}{paras}{table}</office:text></office:body>
</office:document>
"""


# ---------------------------------------------------------------- real programs

def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        sys.exit("LibreOffice (soffice) is needed to make the fixtures")
    return found


def convert(src: Path, out_dir: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="fixture-lo-") as profile:
        subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(out_dir), str(src)],
                       check=True, capture_output=True, env={**os.environ, "HOME": profile}, timeout=300)
    return out_dir / (src.stem + ".pdf")


def writer_pdf(name: str, document: str, work: Path) -> Path:
    src = work / f"{name}.fodt"
    src.write_text(document, encoding="utf-8")
    made = convert(src, work)
    return Path(shutil.copyfile(made, HERE / f"{name}.pdf"))


def strip_bullet_tounicode(src: Path, dest: Path) -> None:
    """Remove /ToUnicode from the font(s) drawing the list bullets (OpenSymbol): they extract as (cid:N)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=PdfReader(src))
    for page in writer.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            if "OpenSymbol" in str(font.get("/BaseFont", "")) and "/ToUnicode" in font:
                del font[NameObject("/ToUnicode")]
    writer.write(dest)


def scanned_pdf(src: Path, work: Path) -> None:
    """pdftoppm renders pages 1-2 as greyscale pictures; Pillow writes them as a PDF, one image per page and
    no text layer, which is what a scanner or "print to image" gives."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-gray", "-r", "100", "-f", "1", "-l", "2", str(src), str(work / "scan")],
                   check=True)
    pages = [Image.open(p) for p in sorted(work.glob("scan*.png"))]
    pages[0].save(HERE / "scanned.pdf", save_all=True, append_images=pages[1:], resolution=100.0)


COVER_TEXT = [
    "Health and Wellbeing Board, 11 July 2024",
    "Summary: this report updates the Board on progress with the Joint Health and Wellbeing Strategy "
    "implementation plan. The detailed progress of each action is set out in Appendix A, published separately.",
    "Recommendations: that the Board notes the progress made and the actions that are delayed.",
    "Officer contact: Senior Public Health Strategist.",
]


MINUTES_TEXT = [
    "Present: the Chair and members of the Board.",
    "1. Minutes of the previous meeting: agreed as a correct record.",
    "2. Joint Health and Wellbeing Strategy implementation plan: the Board noted the progress report and "
    "asked for the delayed actions to be reviewed before the next meeting.",
    "3. Any other business: none.",
]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="fixtures-") as tmp:
        work = Path(tmp)
        h23, r23 = seed_2023()
        h24, r24 = seed_2024()
        print(f"April 2023: {len(r23)} rows, April 2024: {len(r24)} rows")
        writer_pdf("barnet-2023-04-ruled", fodt(h23, r23, ruled=True), work)
        ruled24 = writer_pdf("barnet-2024-04-ruled", fodt(h24, r24, ruled=True), work)
        writer_pdf("barnet-2024-04-plain", fodt(h24, r24, ruled=False), work)
        writer_pdf("barnet-2023-04-plain", fodt(h23, r23, ruled=False, header_rule=False), work)
        glyphs = [r[:6] + [r[6].replace("£", "\ufffd", 1)] for r in r24]
        made = writer_pdf("barnet-2024-04-glyphs", fodt(h24, glyphs, ruled=True), work)
        strip_bullet_tounicode(made, made)
        scanned_pdf(ruled24, work)
        board = "Health and Wellbeing Board"
        writer_pdf("cover-report", fodt(["Report details", ""], [["Wards", "All"], ["Status", "Public"],
                                                                   ["Key decision", "No"]], ruled=True,
                                        heading="Progress on the Joint Health and Wellbeing Strategy",
                                        intro=COVER_TEXT, page_header=board), work)
        writer_pdf("minutes", fodt([], [], ruled=False, heading="Minutes of the meeting held on 11 July 2024",
                                   intro=MINUTES_TEXT, page_header=board), work)
    for pdf in sorted(HERE.glob("*.pdf")):
        print(pdf.name, pdf.stat().st_size)


if __name__ == "__main__":
    main()
