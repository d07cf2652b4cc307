"""Lead workbooks for the real Barnet register (imported from the bundled appendices)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from hwbs_xl import manifest as mf
from hwbs_xl.issue import generate as leadbook
from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.cycle import open_cycle
from hwbs_xl.plan.folder import init_plan
from hwbs_xl.register import Register
from hwbs_xl.templates import vocabulary
from test_leadbook import check_against_register

pipeline = pytest.importorskip("hwbs_xl.importing.pipeline", reason="the appendix import has not landed yet")

NOW = datetime(2024, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def barnet(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanPaths, leadbook.GenerateResult]:
    from hwbs_xl.demo.sample import BARNET_2023, BARNET_2024, BARNET_TITLE

    paths = PlanPaths(tmp_path_factory.mktemp("barnet") / "plan")
    reg, _ = init_plan(paths, BARNET_TITLE)
    reg.close()
    pipeline.import_files(paths, [BARNET_2023, BARNET_2024], cycle=None, command="test import")
    open_cycle(paths, "October 2024", date(2024, 11, 15), open_flags=True, command="test")
    return paths, leadbook.generate(paths, drafts=True, now=NOW, example_contact=True, open_flags=True,
                                    command="test generate")


def test_every_lead_gets_every_action_they_lead(barnet) -> None:  # type: ignore[no-untyped-def]
    paths, result = barnet
    with Register.open(paths) as reg:
        active = reg.actions(include_retired=False)
        expected = {lead: sorted(a.id for a in active if lead in a.leads) for lead in reg.leads()}
        assert reg.open_cycle().label == "October 2024"
    assert {w.lead: sorted(w.actions) for w in result.workbooks} == expected
    assert len(result.workbooks) > 10 and len(result.drafts) == len(result.workbooks)
    # nothing Completed or Incorporated in April 2024 is issued again
    with Register.open(paths) as reg:
        for w in result.workbooks:
            for action_id in w.actions:
                u = reg.update(action_id, "April 2024")
                assert u is None or u.status not in ("completed", "incorporated")


def test_barnet_workbooks_match_the_register(barnet) -> None:  # type: ignore[no-untyped-def]
    paths, result = barnet
    key = mf.load_key(paths)
    with Register.open(paths) as reg:
        for w in result.workbooks:
            m = check_against_register(w.path, reg, key)
            assert "status@April 2023" in m.columns and "status@April 2024" in m.columns


def test_barnet_status_list_is_inline(barnet) -> None:  # type: ignore[no-untyped-def]
    paths, result = barnet
    labels = vocabulary(paths.root).labels
    assert len(",".join(labels)) < 255
    ws = openpyxl.load_workbook(result.workbooks[0].path)["Update"]
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and lists[0].formula1 == '"' + ",".join(labels) + '"'


@pytest.mark.libreoffice
def test_libreoffice_prints_a_barnet_workbook(barnet, soffice: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from libreoffice import convert

    _, result = barnet
    biggest = max(result.workbooks, key=lambda w: len(w.actions))
    pdf = convert(biggest.path, "pdf", tmp_path)
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
    for action_id in biggest.actions:
        assert action_id in text
    assert "Page 1 of" in text


def test_the_first_yellow_column_is_on_screen_when_the_workbook_opens(barnet) -> None:  # type: ignore[no-untyped-def]
    """At 100 % on a 1366 x 768 laptop (about 1,306 pixels of sheet once row numbers and the scroll bar are
    drawn), the Update sheet must open showing where to type: the frozen ID and activity, then the first
    input column, with as much of the history before it as fits."""
    from openpyxl.utils import column_index_from_string
    from openpyxl.utils.cell import coordinate_from_string

    from hwbs_xl.issue.workbook import column_pixels

    _, result = barnet
    for w in result.workbooks[:5]:
        ws = openpyxl.load_workbook(w.path)["Update"]
        pane = ws.sheet_view.pane
        assert pane is not None and pane.topLeftCell, w.path.name
        left = column_index_from_string(coordinate_from_string(pane.topLeftCell)[0])
        frozen = int(pane.xSplit)
        headings = [c.value for c in ws[mf.HEADER_ROW]]
        first_input = next(i for i, h in enumerate(headings, start=1) if h and str(h).startswith("NEW status"))

        def px(col: int, ws=ws) -> int:  # type: ignore[no-untyped-def]
            return column_pixels(ws.column_dimensions[openpyxl.utils.get_column_letter(col)].width)

        shown = sum(px(c) for c in range(1, frozen + 1)) + sum(px(c) for c in range(left, first_input + 1))
        assert left > frozen and left <= first_input and shown <= 1366 - 60, (w.path.name, left, first_input, shown)
        everything = sum(px(c) for c in range(1, first_input + 1))
        assert everything > 1366 - 60  # without the scroll the input would be off screen: the test can fail
