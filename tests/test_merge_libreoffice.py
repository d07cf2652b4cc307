"""Returns filled in by a real LibreOffice (headless UNO: open, type into cells, save as xlsx), merged.

What a lead using LibreOffice sends back must arrive in the register exactly; a lead who strips the
protection and edits history is caught; the same return re-saved as .ods or .xls still reads (degraded).
Few LibreOffice runs on purpose: each one starts a fresh soffice.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hwbs_xl.model import Month
from hwbs_xl.register import Register
from hwbs_xl.returns.merge import merge
from hwbs_xl.returns.validate import validate
from libreoffice import convert
from test_leadbook_lo import uno  # noqa: F401  (the fixture: LibreOffice with python3-uno, or a skip)

from lo_uno import Typed, lo_fill, uno_available
from test_returns_support import CYCLE, DPH, HOUSING, Cells, issued_files, plan_copy, read_manifest

pytestmark = pytest.mark.libreoffice

TODAY = date(2024, 10, 10)
PROGRESS = "Café sessions ran in 12 wards – £4,500 spent.\nNext: “walk and talk” with Zoë’s team.\n\n• 名前 ✓"
CRLF = "Line A from Windows\r\nLine B"


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(plan folder template, DPH's return, Housing's tampered return), filled by LibreOffice once."""
    if not uno_available():
        pytest.skip("python3-uno is not installed")
    base = tmp_path_factory.mktemp("lo-returns")
    paths = plan_copy(base, "plan")
    files = issued_files(paths)
    c = Cells(read_manifest(files[DPH]))
    s = c.sheet
    dph = base / "DPH filled in LibreOffice.xlsx"
    lo_fill(files[DPH], dph, {
        (s, c.of("KA1-02", "new_status")): "Completed",
        (s, c.of("KA1-02", "new_progress")): PROGRESS,
        (s, c.of("KA2-02", "new_status")): "On target to be achieved by target date",
        (s, c.of("KA2-02", "new_progress")): CRLF,
        (s, c.of("KA2-02", "comment")): Typed("=1+1"),                      # a lead typing a formula
        (s, c.of("KA2-03", "new_status")): "Delayed achievement by target date",
        (s, c.of("KA2-03", "new_progress")): "Waiting for the ICB’s data – see “Annex 2”.",
        (s, c.of("KA2-03", "revised_finish")): date(2026, 3, 31),
    })
    h = Cells(read_manifest(files[HOUSING]))
    housing = base / "Housing tampered.xlsx"
    lo_fill(files[HOUSING], housing, {
        (h.sheet, h.of("KA2-01", "progress@April 2024")): "Rewritten history.",  # a locked cell, protection off
        (h.sheet, h.of("KA2-01", "new_status")): "On target to be achieved by target date",
        (h.sheet, h.of("KA2-01", "new_progress")): "Standards drafted.",
    }, unprotect=True)
    return paths.root, dph, housing


def test_every_value_typed_in_libreoffice_arrives_exactly(uno: str, filled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from hwbs_xl.paths import PlanPaths as Paths

    root, dph, housing = filled
    paths = Paths(tmp_path / "plan")
    shutil.copytree(root, paths.root)
    result = merge(paths, [dph, housing], command="pytest", today=TODAY)
    with Register.open(paths) as reg:
        done, ontarget, delayed = (reg.update(a, CYCLE) for a in ("KA1-02", "KA2-02", "KA2-03"))
        history = reg.update("KA2-01", "April 2024")
        housing_update = reg.update("KA2-01", CYCLE)
    assert done is not None and (done.status, done.progress) == ("completed", PROGRESS)
    assert ontarget is not None and ontarget.progress == "Line A from Windows\nLine B"
    assert ontarget.comment == "=1+1"  # kept as the text typed, never calculated
    assert delayed is not None and (delayed.status, delayed.revised_finish) == ("delayed", Month(2026, 3))
    assert delayed.progress == "Waiting for the ICB’s data – see “Annex 2”."
    codes = {f.code: f for f in result.report}
    assert codes["formula-in-text-cell"].value == "=1+1"
    # the tampered workbook: caught, reported with both values, the register keeps the issued history
    changed = codes["locked-value-changed"]
    assert changed.detail["returned"] == "Rewritten history." and changed.detail["field"] == "progress@April 2024"
    assert "protection-removed" in codes
    assert history is not None and history.progress != "Rewritten history."
    assert housing_update is not None and housing_update.progress == "Standards drafted."
    assert "workbook-identity-mismatch" not in codes and "manifest-signature-invalid" not in codes


@pytest.mark.parametrize("fmt, code", [("ods", "file-format-ods"), ("xls", "file-format-xls")])
def test_the_same_return_resaved_as_ods_or_xls_still_reads(uno: str, filled, tmp_path: Path, fmt: str,
                                                           code: str) -> None:  # type: ignore[no-untyped-def]
    from hwbs_xl.paths import PlanPaths as Paths

    root, dph, _ = filled
    other = convert(dph, fmt, tmp_path / "converted")
    result = validate(Paths(root), [other], today=TODAY, write_reports=False)
    check = result.checks[0]
    assert [f.code for f in check.findings if f.code.startswith("file-")] == [code]
    assert (check.lead, check.rejected) == (DPH, False)
    rows = {r.action_id: r for r in check.rows}
    assert rows["KA1-02"].progress == PROGRESS
    assert rows["KA2-03"].revised_finish == Month(2026, 3)
    assert "locked-value-changed" not in [f.code for f in check.findings]
