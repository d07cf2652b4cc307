"""Lead workbooks opened in a real LibreOffice (headless, over UNO via tests/lo_uno.py).

Checks what a lead using LibreOffice gets: the sheet protected, the new cells unlocked, the drop-down and
date validations intact (both forms of the status list), the manifest hidden; that LibreOffice converts
the workbook to PDF; and that a workbook filled in and saved by LibreOffice still reads back exactly.
Skipped with a reason where LibreOffice is absent outside CI (the `soffice` fixture).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from hwbs_xl import manifest as mf
from hwbs_xl.paths import PlanPaths
from hwbs_xl.templates import vocabulary
from libreoffice import convert
from test_leadbook import issue, manifest_of

from lo_uno import Typed, lo_fill, lo_inspect, uno_available

pytestmark = pytest.mark.libreoffice


@pytest.fixture
def uno(soffice: str) -> str:
    if not uno_available():
        import os
        if os.environ.get("CI"):
            pytest.fail("python3-uno is required in CI (.ci/run installs it)")
        pytest.skip("python3-uno is not installed for /usr/bin/python3 (apt-get install python3-uno)")
    return soffice


def _cells(m: mf.Manifest, keys: list[str]) -> list[str]:
    return [f"{m.columns[k]}{r.row}" for r in m.rows for k in keys]


def test_libreoffice_sees_protection_unlocked_inputs_and_validations(uno: str, plan_paths: PlanPaths) -> None:
    result = issue(plan_paths)
    path = next(w.path for w in result.workbooks if len(w.actions) == 2)
    m = manifest_of(path)
    inputs = _cells(m, ["new_status", "new_progress", "revised_finish", "comment"])
    locked = _cells(m, ["action_id", "activity", "start", "status@April 2024", "progress@April 2023"])
    seen = lo_inspect(path, {"Update": inputs + locked})
    sheets = seen["by_name"]
    assert [s["name"] for s in seen["sheets"]] == ["Instructions", "Update", mf.MANIFEST_SHEET]
    assert sheets["Update"]["protected"] and sheets["Instructions"]["protected"]
    assert sheets["Update"]["visible"] and not sheets[mf.MANIFEST_SHEET]["visible"]
    cells = sheets["Update"]["cells"]
    for a1 in inputs:
        assert cells[a1]["locked"] is False, a1
    for a1 in locked:
        assert cells[a1]["locked"] is True, a1
    labels = vocabulary(plan_paths.root).labels
    for r in m.rows:
        status = cells[f"{m.columns['new_status']}{r.row}"]["validation"]
        assert status["type"] == "LIST" and status["list"] == labels
        assert status["show_error"] and status["error_style"] == "STOP" and status["show_input"]
        assert status["show_list"] != 0  # the arrow is shown
        progress = cells[f"{m.columns['new_progress']}{r.row}"]["validation"]
        assert progress["type"] == "TEXT_LEN" and progress["formula1"] == "3000"
        revised = cells[f"{m.columns['revised_finish']}{r.row}"]["validation"]
        assert revised["type"] == "DATE" and revised["show_error"]


def test_libreoffice_resolves_the_status_list_on_the_instructions_sheet(uno: str, plan_paths: PlanPaths) -> None:
    own = plan_paths.templates / "statuses.toml"
    own.write_text(own.read_text(encoding="utf-8").replace('label = "Completed"', 'label = "Completed, signed off"'),
                   encoding="utf-8")
    result = issue(plan_paths)
    path = result.workbooks[0].path
    m = manifest_of(path)
    a1 = f"{m.columns['new_status']}{m.rows[0].row}"
    v = lo_inspect(path, {"Update": [a1]})["by_name"]["Update"]["cells"][a1]["validation"]
    assert v["type"] == "LIST" and "Instructions" in v["formula1"]
    assert v["list"] == vocabulary(plan_paths.root).labels


def test_libreoffice_converts_the_workbook_to_pdf(uno: str, plan_paths: PlanPaths, tmp_path: Path) -> None:
    result = issue(plan_paths)
    pdf = convert(result.workbooks[0].path, "pdf", tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
        assert doc.pages[-1].width > doc.pages[-1].height  # landscape
    assert "What we are asking you to do" in text and "October 2024" in text


def test_a_workbook_filled_in_libreoffice_reads_back_exactly(uno: str, plan_paths: PlanPaths, tmp_path: Path) -> None:
    """The harness the returns tests use: typed values arrive as typed, the manifest still verifies."""
    result = issue(plan_paths)
    path = next(w.path for w in result.workbooks if len(w.actions) == 2)
    m = manifest_of(path)
    r1, r2 = (r.row for r in m.rows)
    c = m.columns
    progress = "Line one £ – “quoted”\nline two: 日本語 ✓"
    edits = {("Update", f"{c['new_status']}{r1}"): "Completed",
             ("Update", f"{c['new_progress']}{r1}"): progress,
             ("Update", f"{c['revised_finish']}{r1}"): date(2025, 3, 31),
             ("Update", f"{c['comment']}{r1}"): "=1+1",
             ("Update", f"{c['comment']}{r2}"): Typed("=1+1")}
    filled = tmp_path / "filled.xlsx"
    lo_fill(path, filled, edits)
    wb = openpyxl.load_workbook(filled)
    ws = wb["Update"]
    assert ws[f"{c['new_status']}{r1}"].value == "Completed"
    assert ws[f"{c['new_progress']}{r1}"].value == progress
    assert ws[f"{c['revised_finish']}{r1}"].value == datetime(2025, 3, 31)
    assert ws[f"{c['comment']}{r1}"].value == "=1+1" and ws[f"{c['comment']}{r1}"].data_type == "s"
    assert ws[f"{c['comment']}{r2}"].data_type == "f"  # typed: LibreOffice made it a formula
    assert ws.protection.sheet
    back = mf.from_cells([list(r) for r in wb[mf.MANIFEST_SHEET].iter_rows(values_only=True)])
    assert mf.verify(back, mf.load_key(plan_paths)) and back == m
    # LibreOffice has no "very hidden": it saves the manifest sheet as hidden (returns must not rely on it)
    assert wb[mf.MANIFEST_SHEET].sheet_state in ("hidden", "veryHidden")


def _our_office_processes() -> list[str]:
    """soffice processes started by lo_uno (their profile folder names them), still alive."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if "hwbs-uno-profile-" in cmd and "Z" not in state.split()[1]:
            found.append(cmd)
    return found


def test_the_harness_fails_clearly_and_leaves_no_libreoffice_behind(uno: str, tmp_path: Path) -> None:
    from lo_uno import UnoFailed, _run

    with pytest.raises(UnoFailed):
        lo_inspect(tmp_path / "missing.xlsx")
    with pytest.raises(UnoFailed, match="did not finish"):
        _run({"op": "inspect", "src": str(tmp_path / "missing.xlsx"), "cells": {}}, timeout=0.5)
    import time

    deadline = time.monotonic() + 10
    while _our_office_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _our_office_processes() == []
