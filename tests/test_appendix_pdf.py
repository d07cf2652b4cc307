"""The committee appendix PDF typeset by Typst (appendix.typeset): PDF/UA-1, structure, layout targets, round trip.

Works on the real Barnet plan: the two bundled papers imported, October 2024 opened, three leads' workbooks
filled and merged (as the demo does), so October 2024 has most actions awaiting an update and April 2024
full reports. Every check reads the PDF Typst wrote (pypdf for the structure tree, pdfplumber for text)."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from pypdf import PdfReader

from hwbs_xl.appendix import build as apb
from hwbs_xl.appendix import model as ap
from hwbs_xl.appendix import typeset
from hwbs_xl.demo.fill import fill_for_demo
from hwbs_xl.demo.sample import BARNET_FILES
from hwbs_xl.importing.pdf import read_pdf
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.issue.generate import generate
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.cycle import open_cycle
from hwbs_xl.register import Register
from hwbs_xl.returns.merge import merge
from hwbs_xl.text import squash

CYCLES = {"October 2024": 10, "April 2024": 15}  # cycle -> most pages allowed
SUMMARY_PAGES = 2
TABLE_FIELDS = ("key_area", "activity", "lead", "start", "finish", "status", "progress")


@pytest.fixture(scope="module")
def barnet(tmp_path_factory: pytest.TempPathFactory) -> PlanPaths:
    paths = PlanPaths(tmp_path_factory.mktemp("typst") / "plan")
    import_files(paths, list(BARNET_FILES), command="test import")
    open_cycle(paths, "October 2024", date(2024, 10, 18), open_flags=True, command="test open")
    issued = generate(paths, now=datetime(2024, 9, 20, 9, 0, tzinfo=UTC), example_contact=True, open_flags=True, command="test generate")
    merge(paths, fill_for_demo(paths, issued.files, count=3), command="test merge")
    return paths


@pytest.fixture(scope="module")
def printed(barnet: PlanPaths, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """cycle -> the model, the PDF's path and bytes, Typst's warnings."""
    out = {}
    folder = tmp_path_factory.mktemp("typst-pdf")
    with Register.open(barnet) as reg:
        for cycle in CYCLES:
            model = ap.build(reg, cycle)
            pdf, warnings = typeset.compile_pdf(model, plan_dir=barnet.root)
            path = folder / f"{apb.file_stem(model)}.pdf"
            path.write_bytes(pdf)
            out[cycle] = {"model": model, "pdf": pdf, "path": path, "warnings": warnings}
    return out


def _tree(pdf: bytes) -> tuple[Any, list[Any]]:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    elements: list[Any] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if not hasattr(node, "get"):
            return
        if "/S" in node:
            elements.append(node)
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            walk(kid)

    walk(root["/StructTreeRoot"])
    return reader, elements


def _pages_text(path: Path) -> list[str]:
    with pdfplumber.open(path) as doc:
        return [page.extract_text() or "" for page in doc.pages]


def _table_pages(model: ap.Appendix, texts: list[str]) -> list[int]:
    """0-based pages that hold the appendix table (from the first one with its heading on)."""
    first = next(i for i, t in enumerate(texts) if "progress of each action" in t)
    return list(range(first, len(texts)))


@pytest.mark.parametrize("cycle", CYCLES)
def test_pdf_ua1_with_title_language_and_viewer_title(printed: Any, cycle: str) -> None:
    model, pdf = printed[cycle]["model"], printed[cycle]["pdf"]
    reader, _ = _tree(pdf)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    assert reader.metadata.title == model.text("document_title")
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "pdfuaid:part>1<" in xmp or 'pdfuaid:part="1"' in xmp  # Typst checked and declared PDF/UA-1
    assert not [w for w in printed[cycle]["warnings"] if "font" not in w], printed[cycle]["warnings"]


@pytest.mark.parametrize("cycle", CYCLES)
def test_structure_tree_has_tables_with_a_header_cell_per_column(printed: Any, cycle: str) -> None:
    model, pdf = printed[cycle]["model"], printed[cycle]["pdf"]
    _, elements = _tree(pdf)
    kinds = [e["/S"] for e in elements]
    for kind in ("/Document", "/H1", "/H2", "/Table", "/THead", "/TBody", "/TR", "/TH", "/TD", "/Figure"):
        assert kind in kinds, kind
    tables = [e for e in elements if e["/S"] == "/Table"]
    width = len([c for c in model.columns if c.field in TABLE_FIELDS])
    # one table per key area, each with a header row holding a TH for every column
    area_tables = [t for t in tables if _header_cells(t) == width]
    assert len(area_tables) >= len(model.key_areas)
    headings = [e for e in elements if e["/S"] == "/H2"]
    assert len(headings) >= len(model.key_areas)


def _header_cells(table: Any) -> int:
    kids = table.get_object()["/K"]
    for part in kids if isinstance(kids, list) else [kids]:
        part = part.get_object()
        if part.get("/S") == "/THead":
            rows = part["/K"] if isinstance(part["/K"], list) else [part["/K"]]
            cells = rows[0].get_object()["/K"]
            cells = cells if isinstance(cells, list) else [cells]
            return sum(1 for c in cells if c.get_object().get("/S") == "/TH")
    return 0


@pytest.mark.parametrize("cycle", CYCLES)
def test_chart_has_a_text_alternative_naming_the_counts(printed: Any, cycle: str) -> None:
    model, pdf = printed[cycle]["model"], printed[cycle]["pdf"]
    _, elements = _tree(pdf)
    figures = [e for e in elements if e["/S"] == "/Figure"]
    assert len(figures) == 1
    alt = str(figures[0].get("/Alt", ""))
    for name, counts in model.summary.counts.items():
        assert name in alt
        for key, n in counts.items():
            if n:
                assert f"{n} {model.short_label(key).lower()}" in alt, (name, key)


def test_bookmarks_name_the_summary_table_and_every_key_area(printed: Any) -> None:
    model, pdf = printed["October 2024"]["model"], printed["October 2024"]["pdf"]
    reader = PdfReader(io.BytesIO(pdf))

    def titles(items: list[Any]) -> list[str]:
        out: list[str] = []
        for item in items:
            out.extend(titles(item) if isinstance(item, list) else [item.title])
        return out

    marks = titles(reader.outline)
    assert any("Summary" in m for m in marks)
    for ka in model.key_areas:
        assert ka.name in marks


@pytest.mark.parametrize("cycle", CYCLES)
def test_page_counts_within_targets(printed: Any, cycle: str) -> None:
    texts = _pages_text(printed[cycle]["path"])
    assert len(texts) <= CYCLES[cycle]
    table = _table_pages(printed[cycle]["model"], texts)
    assert table[0] <= SUMMARY_PAGES  # the summary takes at most two pages
    total = len(texts)
    for n, text in enumerate(texts, start=1):
        footer = text.strip().splitlines()[-1]
        assert footer.endswith(f"Page {n} of {total}")  # footer: plan title, cycle, date printed, page N of M
        assert printed[cycle]["model"].plan_title in footer and cycle in footer and "Printed " in footer
    # no internal terms in what the appendix itself says (lines naming no action; reports may say anything)
    own = [line for text in texts for line in text.splitlines() if not re.search(r"KA\d|Key Area \d", line)]
    for line in own[:40]:
        assert not re.search(r"\b(batch|register|flag)", line, re.I), line


@pytest.mark.parametrize("cycle", CYCLES)
def test_no_text_smaller_than_8pt_and_the_font_is_embedded_sans(printed: Any, cycle: str) -> None:
    with pdfplumber.open(printed[cycle]["path"]) as doc:
        sizes = [c["size"] for page in doc.pages for c in page.chars]
        fonts = {c["fontname"].split("+")[-1] for page in doc.pages for c in page.chars}
    assert sizes and min(sizes) >= 7.99
    assert all(f.startswith(("LiberationSans", "Arial")) for f in fonts), fonts
    reader = PdfReader(io.BytesIO(printed[cycle]["pdf"]))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
            assert any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")), font.get("/BaseFont")


@pytest.mark.parametrize("cycle", CYCLES)
def test_header_row_on_every_table_page_and_no_lone_short_action_on_a_page(printed: Any, cycle: str) -> None:
    model, path = printed[cycle]["model"], printed[cycle]["path"]
    texts = _pages_text(path)
    titles = [c.title for c in model.columns if c.field in TABLE_FIELDS]
    with pdfplumber.open(path) as doc:
        for i in _table_pages(model, texts):
            page = doc.pages[i]
            head = [w for w in page.extract_words() if w["text"] == "HWBS"]
            assert head, f"page {i + 1} has no header row"
            top = head[0]["top"]
            band = squash(page.crop((0, top - 2, page.width, top + 30)).extract_text() or "")
            for title in titles:
                assert squash(title.split(" - ")[0]).split()[0] in band, (i + 1, title)
            assert top < 90 or i == _table_pages(model, texts)[0] or "Key Area" in texts[i][:200]
        for i in _table_pages(model, texts):  # no page holds one short action with the rest left blank
            page = doc.pages[i]
            header = [w for w in page.extract_words() if w["text"] == "HWBS"][-1]
            rows = [w for w in page.extract_words()
                    if w["text"] == "Key" and w["x0"] < 70 and w["top"] > header["top"] + 15]
            assert len(rows) >= 2 or max(e["bottom"] for e in page.edges) > page.height / 2, f"page {i + 1}"


@pytest.mark.parametrize("cycle", CYCLES)
def test_pdf_imports_back_to_the_same_statuses_and_progress(printed: Any, barnet: PlanPaths, cycle: str,
                                                            tmp_path: Path) -> None:
    again = PlanPaths(tmp_path / "again")
    result = import_files(again, [printed[cycle]["path"]], command="test round trip")
    assert result.changed and not result.report.errors
    model = printed[cycle]["model"]
    awaiting = {squash(r.activity) for r in model.summary.awaiting}
    with Register.open(barnet) as src, Register.open(again) as back:
        sent = {squash(u.activity_as_reported or src.action(u.action_id).activity): u for u in src.updates(cycle=cycle)}
        read = {squash(u.activity_as_reported or back.action(u.action_id).activity): u
                for u in back.updates(cycle=cycle)}
        assert set(read) == set(sent) | awaiting
        for key, u in sent.items():
            assert (read[key].status, squash(read[key].progress)) == (u.status, squash(u.progress)), key[:60]
        for key in awaiting:
            assert read[key].status is None


def test_typed_text_is_never_markup(printed: Any, tmp_path: Path) -> None:
    """A report holding Typst syntax prints exactly as typed (the data reaches Typst as JSON, not markup)."""
    model = printed["April 2024"]["model"]
    nasty = ('#set page(width: 2cm) *not bold* _not italic_ $x^2$ = not a heading <label> @ref '
             '#import "@preview/x:1.0.0": * ] } \\ `code` // not a comment')
    area = model.key_areas[0]
    row = dataclasses.replace(area.rows[0], progress=nasty, activity="Activity with ] and #{1+1} inside")
    changed = dataclasses.replace(model, key_areas=(dataclasses.replace(area, rows=(row, *area.rows[1:])),
                                                    *model.key_areas[1:]))
    pdf = typeset.render_pdf(changed)
    path = tmp_path / "nasty.pdf"
    path.write_bytes(pdf)
    cells = {squash(c) for r in read_pdf(path).rows for c in r.cells}
    assert squash(nasty) in cells
    assert "Activity with ] and #{1+1} inside" in cells
    assert len(_pages_text(path)) == len(_pages_text(printed["April 2024"]["path"]))


def test_same_register_same_bytes(printed: Any) -> None:
    model = printed["October 2024"]["model"]
    assert typeset.render_pdf(model) == typeset.render_pdf(model)


@pytest.mark.parametrize("cycle", CYCLES)
def test_the_workbook_has_the_pdfs_columns_and_words(printed: Any, tmp_path: Path, cycle: str) -> None:
    """The xlsx appendix beside the PDF: the same header row, the same status and finish words per action,
    the same footer words (Excel's page codes aside)."""
    import openpyxl

    from hwbs_xl.appendix import xlsx as ax
    from hwbs_xl.appendix.measure import cell_values

    model = printed[cycle]["model"]
    ws = openpyxl.load_workbook(ax.write(model, tmp_path / "a.xlsx"))["Appendix A"]
    heads = [c.value for c in ws[ax.TITLE_ROWS + 1]]
    assert heads == [c.title for c in model.columns]
    with pdfplumber.open(printed[cycle]["path"]) as doc:
        band = squash(" ".join(doc.pages[_table_pages(model, _pages_text(printed[cycle]["path"]))[0]].extract_text()
                               .splitlines()[:6]))
    for title in heads:  # the PDF's header row, wrapped in its cells, holds every word of every title
        assert set(squash(title).split()) <= set(band.split()), title
    words = set(squash(" ".join(_pages_text(printed[cycle]["path"]))).split())  # cells wrap: words, not lines
    for row in model.rows:
        cells = dict(zip((c.field for c in model.columns), cell_values(model, row)))
        assert set(squash(cells["status"] + " " + cells["finish"]).split()) <= words, row.action.id
    footer = ws.oddFooter
    assert "Printed " in footer.center.text and model.plan_title.replace("&", "&&") in footer.left.text


def test_a_report_longer_than_a_page_continues_with_its_id_and_imports_back_whole(printed: Any,
                                                                                  tmp_path: Path) -> None:
    """A progress report of about three pages: its row is split at line breaks, each piece on a page of its
    own under the header row, the pieces after the first marked with the action's ID and "(continued)";
    importing the PDF joins them back into the whole report."""
    model = printed["October 2024"]["model"]
    area = model.key_areas[0]
    long = "\n".join(f"Paragraph {n}: " + "the partnership met, agreed the next steps and reported back. " * 4
                     for n in range(1, 31))
    row = dataclasses.replace(area.rows[1], progress=long)
    changed = dataclasses.replace(model, key_areas=(dataclasses.replace(area, rows=(area.rows[0], row,
                                                                                    *area.rows[2:])),
                                                    *model.key_areas[1:]))
    path = tmp_path / "long.pdf"
    path.write_bytes(typeset.render_pdf(changed))
    texts = _pages_text(path)
    carried = [t for t in texts if "(continued)" in t]
    assert len(carried) >= 2 and all(row.action.id in t and t.lstrip().startswith("HWBS") for t in carried)
    again = PlanPaths(tmp_path / "again")
    result = import_files(again, [path], command="test round trip")
    assert not result.report.errors
    with Register.open(again) as back:
        read = [u for u in back.updates(cycle="October 2024") if u.progress.startswith("Paragraph 1:")]
    assert len(read) == 1 and squash(read[0].progress) == squash(long)
