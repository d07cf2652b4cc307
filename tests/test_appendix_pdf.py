"""The committee PDF made by LibreOffice: read back with pdfplumber (layout, text) and pypdf (structure)."""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from pypdf import PdfReader
from test_appendix import make_register

from conftest import copy_plan, libreoffice_required
from hwbs_xl.appendix import model as ap
from hwbs_xl.appendix import pdf as appendix_pdf
from hwbs_xl.importing.pipeline import import_files
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.folder import init_plan
from hwbs_xl.register import Register
from hwbs_xl.text import squash

pytestmark = pytest.mark.libreoffice



@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanPaths, ap.AppendixResult, ap.Appendix]:
    """One plan and one PDF for the whole module (LibreOffice takes seconds per run)."""
    libreoffice_required()
    paths = PlanPaths(tmp_path_factory.mktemp("pdf") / "plan")
    reg, _ = init_plan(paths, "Test")
    reg.close()
    make_register(paths)
    result = ap.build_appendix(paths)
    with Register.open(paths) as reg:
        model = ap.build(reg)
    return paths, result, model


@functools.cache
def _read(pdf: Path) -> dict[str, Any]:
    """Everything the tests look at, from one pdfplumber pass (layout analysis is slow on a busy machine)."""
    with pdfplumber.open(pdf) as doc:
        return {"texts": [page.extract_text() or "" for page in doc.pages],
                "bands": [_header_band(page) for page in doc.pages],
                "columns": {i: _column_text(doc, i) for i in (6, 7)}}


def _pages(pdf: Path) -> list[str]:
    return list(_read(pdf)["texts"])


def test_files_and_pages(built: Any) -> None:
    paths, result, _ = built
    assert result.files == [paths.appendix / "appendix-April-2024.xlsx", paths.appendix / "appendix-April-2024.pdf"]
    reader = PdfReader(result.pdf)
    assert result.pages == len(reader.pages) >= 4
    for page in reader.pages:
        assert float(page.mediabox.width) > float(page.mediabox.height)  # landscape
        assert round(float(page.mediabox.width)) == 842  # A4


def _header_band(page: Any) -> str | None:
    """The text of the table header row on a page (None on a page without the table)."""
    words = page.extract_words()
    first = next((w for w in words if w["text"] == "HWBS"), None)
    if first is None:
        return None
    bottom = min(e["top"] for e in page.horizontal_edges if e["top"] > first["bottom"])
    return squash(page.crop((0, first["top"] - 2, page.width, bottom)).extract_text() or "")


def test_every_page_numbered_and_every_table_page_has_the_header(built: Any) -> None:
    _, result, model = built
    texts, bands = _read(result.pdf)["texts"], _read(result.pdf)["bands"]
    total = len(texts)
    first_table = next(i for i, b in enumerate(bands) if b)
    assert first_table >= 1  # the summary comes first
    assert all(bands[first_table:])  # the header row repeats on every page of the table
    for n, (text, band) in enumerate(zip(texts, bands), start=1):
        assert f"Page {n} of {total}" in text
        assert "Barnet Health & Wellbeing Strategy - Phase 2 Implementation Plan" in text  # page header
        if band:
            for col in model.columns:  # every heading's words, in the order they are printed
                assert all(w in band.split() for w in col.title.split()), (n, col.title)


def _column_text(doc: Any, index: int) -> str:
    """All text printed in table column ``index``, page after page (continuations follow their action).

    Columns are found by the ruling lines that cross the header row, as a PDF reader would find them.
    """
    out = []
    for page in doc.pages:
        words = page.extract_words()
        first = next((w for w in words if w["text"] == "HWBS"), None)
        if first is None:
            continue
        body_top = min(e["top"] for e in page.horizontal_edges if e["top"] > first["bottom"])
        xs = sorted({round(e["x0"], 1) for e in page.vertical_edges
                     if e["top"] <= first["top"] + 1 and e["bottom"] >= body_top - 1})
        xs = [x for i, x in enumerate(xs) if i == 0 or x - xs[i - 1] > 2]
        footer_top = max(w["top"] for w in words) - 1
        box = (xs[index] - 0.5, body_top, xs[index + 1] + 0.5, footer_top)
        out.append(page.within_bbox(box).extract_text() or "")  # whole characters only
    return squash(" ".join(out))


def test_full_progress_text_of_every_action_is_printed(built: Any) -> None:
    _, result, model = built
    printed = _read(result.pdf)["columns"][6]
    for row in model.rows:
        assert squash(row.progress) in printed, row.action.id
    longest = max(model.rows, key=lambda r: len(r.progress))
    assert len(longest.progress) > 6000  # a report longer than a page, continued, nothing cut


def test_full_notes_text_is_printed(built: Any) -> None:
    _, result, model = built
    printed = _read(result.pdf)["columns"][7]
    for row in model.rows:
        assert squash(row.history["April 2023"]) in printed, row.action.id


def test_continuation_rows_are_marked(built: Any) -> None:
    _, result, _ = built
    pages = _pages(result.pdf)
    continued = [i for i, t in enumerate(pages) if "(continued)" in t and "HWBS" in t]
    assert len(continued) >= 2


def test_bookmarks_per_key_area(built: Any) -> None:
    _, result, model = built
    marks = _outline(result.pdf)
    assert marks["Summary"] == 0
    pages = _pages(result.pdf)
    for ka in model.key_areas:
        page = marks[ka.name]
        first_activity = " ".join(ka.rows[0].activity.split()[:3])  # the first line of its first row
        assert first_activity in squash(pages[page]), ka.name
        assert all(first_activity not in squash(t) for t in pages[1:page] if "HWBS" in t)
    assert marks["Appendix A: April 2024"] == marks["Key Area 1"]


def test_title_language_and_tags(built: Any) -> None:
    _, result, model = built
    reader = PdfReader(result.pdf)
    root = reader.trailer["/Root"]
    assert reader.metadata.title == ("Appendix A: Barnet Health & Wellbeing Strategy - Phase 2 Implementation Plan"
                                     " - status as of April 2024")
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # tagged PDF
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    stamp = model.document_date.strftime("%Y%m%d%H%M%S")
    assert reader.metadata["/CreationDate"].startswith(f"D:{stamp}")  # from the register, not the clock
    assert f"register batch {model.batch}" in _pages(result.pdf)[0].replace("Built from r", "r")


def test_same_register_same_pdf(split: Any, tmp_path: Path) -> None:
    """Printed in parts (the parts' PDFs differ in LibreOffice's own IDs and dates every run), joined, the
    same register still gives the same bytes."""
    paths, result = split
    again = ap.build_appendix(paths, formats=("pdf",), out=tmp_path)
    assert again.pdf is not None and again.pdf.read_bytes() == result.pdf.read_bytes()


def test_summary_page_counts(built: Any) -> None:
    _, result, model = built
    first = squash(_pages(result.pdf)[0])
    for name, counts in model.summary.counts.items():
        numbers = " ".join(str(counts[k]) for k in model.summary.status_keys)
        assert re.search(re.escape(name) + r" " + re.escape(numbers) + r" " + str(sum(counts.values())), first), name


# ---- printed in parts ----------------------------------------------------------------------------------

def _with_pdf_settings(paths: PlanPaths, dest: Path, **values: int) -> PlanPaths:
    """A copy of the plan whose own appendix template has these [pdf] settings."""
    plan = copy_plan(paths, dest)
    own = plan.templates / "appendix.toml"
    text = own.read_text(encoding="utf-8")
    for key, value in values.items():
        text, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert found == 1, key
    own.write_text(text, encoding="utf-8")
    return plan


@pytest.fixture(scope="module")
def split(built: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanPaths, ap.AppendixResult]:
    """The same plan printed in parts of at most 3 pages, two LibreOffice processes at a time."""
    paths = _with_pdf_settings(built[0], tmp_path_factory.mktemp("split") / "plan", part_pages=3, min_part_pages=1)
    return paths, ap.build_appendix(paths, formats=("pdf",))


def _outline(pdf: Path) -> dict[str, int]:
    reader = PdfReader(pdf)
    marks: dict[str, int] = {}

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                marks[item.title] = reader.get_destination_page_number(item)

    walk(reader.outline)
    return marks


def test_printed_in_parts_reads_as_printed_whole(built: Any, split: Any) -> None:
    _, whole, model = built
    _, parts = split
    table_pages = whole.pages - 1  # at least one summary page
    assert appendix_pdf.part_count(model, table_pages) == 1  # the default printed this plan in one go
    forced = dataclasses.replace(model, settings={**model.settings, "pdf": {"part_pages": 3, "min_part_pages": 1}})
    assert appendix_pdf.part_count(forced, table_pages) >= 3
    assert parts.pages == whole.pages
    texts = _pages(parts.pdf)
    assert texts == _pages(whole.pdf)  # every page, summary first, header row, "Page N of M" and all
    for n, text in enumerate(texts, start=1):
        assert f"Page {n} of {len(texts)}" in text
    assert _outline(parts.pdf) == _outline(whole.pdf)  # bookmarks at the same pages


def test_parts_joined_keep_one_structure_tree(split: Any) -> None:
    """Every page's marked content stays reachable from the one structure tree (tagged PDF)."""
    _, result = split
    reader = PdfReader(result.pdf)
    root = reader.trailer["/Root"]
    tree = root["/StructTreeRoot"].get_object()
    nums = tree["/ParentTree"].get_object()["/Nums"]
    keys = [int(k) for k in nums[::2]]
    assert keys == sorted(set(keys)) and int(tree["/ParentTreeNextKey"]) > max(keys)
    parents = [int(page["/StructParents"]) for page in reader.pages]
    assert len(set(parents)) == len(parents) and set(parents) <= set(keys)
    pages = {page.indirect_reference.idnum for page in reader.pages}
    for key, value in zip(nums[::2], nums[1::2]):  # every element a page points to is in the tree
        for element in value.get_object():
            element = element.get_object()
            assert "/Pg" not in element or element.raw_get("/Pg").idnum in pages
            top = element
            while top["/P"].get_object().get("/Type") != "/StructTreeRoot":
                top = top["/P"].get_object()
            assert top.raw_get("/P").idnum == root.raw_get("/StructTreeRoot").idnum


def test_parts_joined_import_back(built: Any, split: Any, tmp_path: Path) -> None:
    paths, _, _ = built
    _, result = split
    again = PlanPaths(tmp_path / "again")
    import_files(again, [result.pdf], cycle=None, command="test round trip")
    with Register.open(paths) as src, Register.open(again) as back:
        printed = {squash(u.progress) for u in src.updates(cycle="April 2024") if u.progress}
        read = {squash(u.progress) for u in back.updates(cycle="April 2024") if u.progress}
    assert read == printed


def test_a_part_printing_other_pages_than_laid_out_is_renumbered(built: Any, tmp_path: Path) -> None:
    """The page numbers are printed before the parts are joined, from the layout's page count; when a part
    prints another count (here: the summary said one page too many) the parts are printed again with the
    numbers the printed pages give, so "Page N of M" still counts the pages there are."""
    from hwbs_xl.appendix import xlsx as appendix_xlsx

    _, whole, model = built
    table = appendix_xlsx.layout(model, appendix_xlsx.LIBREOFFICE)
    halves = -(-len(table.page_starts) // 2)
    model = dataclasses.replace(model, settings={**model.settings, "pdf": {"part_pages": halves}})
    summary = appendix_xlsx.summary_pages(model)
    joined = appendix_pdf.print_parts(model, table, summary + 1, tmp_path)
    data, pages = appendix_pdf.finish(model, joined, {})
    (tmp_path / "joined.pdf").write_bytes(data)
    texts = _pages(tmp_path / "joined.pdf")
    assert pages == len(texts) == whole.pages
    for n, text in enumerate(texts, start=1):
        assert f"Page {n} of {pages}" in text
