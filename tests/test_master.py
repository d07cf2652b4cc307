"""The master appendix workbook (<plan>/master.xlsx) the returns stage rebuilds after every merge."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hwbs_xl.appendix.master import write_master
from hwbs_xl.errors import OutputLocked, UsageProblem
from hwbs_xl.model import Provenance, Update
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register, update_row
from hwbs_xl.safeio import TEMP_PREFIX, office_lock_file
from test_appendix import APR24, make_register


@pytest.fixture
def plan(plan_paths: PlanPaths) -> PlanPaths:
    make_register(plan_paths)
    return plan_paths


def _status_of(path: Path, activity_start: str) -> str:
    ws = openpyxl.load_workbook(path)["Appendix A"]
    return next(r[5] for r in ws.iter_rows(values_only=True) if r[1] and str(r[1]).startswith(activity_start))


def test_master_is_the_open_cycles_appendix(plan: PlanPaths, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HWBS_SOFFICE", str(tmp_path / "no-soffice"))  # needs no LibreOffice
    with Register.open(plan) as reg:
        path = write_master(reg)
    assert path == plan.master and path.is_file()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Appendix A"]
    assert wb["Appendix A"]["F4"].value == f"Status as of {APR24}"
    assert _status_of(path, "Ensure the two School Superzones") == "Awaiting update"
    assert not list(plan.root.glob(TEMP_PREFIX + "*"))


def test_master_follows_the_register(plan: PlanPaths) -> None:
    with Register.open(plan) as reg:
        write_master(reg)
        with reg.batch("merge", command="test merge") as b:
            b.put("updates", update_row(Update("KA2-02", APR24, "delayed", status_raw="Delayed",
                                               progress="Returned late: the second Superzone opens in May.",
                                               source=Provenance(file="return.xlsx"))))
        write_master(reg)
    assert _status_of(plan.master, "Ensure the two School Superzones") == "Delayed achievement by target date"
    ws = openpyxl.load_workbook(plan.master)["Appendix A"]
    assert "Printed " in ws.oddFooter.center.text and "batch" not in ws.oddFooter.center.text


def test_master_open_elsewhere_is_left_alone(plan: PlanPaths) -> None:
    with Register.open(plan) as reg:
        write_master(reg)
        before = plan.master.read_bytes()
        lock = office_lock_file(plan.master)
        lock.write_text("someone,host,2024", encoding="utf-8")
        with pytest.raises(OutputLocked):
            write_master(reg)
    assert plan.master.read_bytes() == before


def test_master_without_cycles_says_so(plan_paths: PlanPaths) -> None:
    with Register.open(plan_paths) as reg, pytest.raises(UsageProblem):
        write_master(reg)
    assert not plan_paths.master.exists()


def test_the_returns_readers_limits_do_not_apply_to_the_tools_own_workbook(plan: PlanPaths,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A national master has more rows than a lead's return may (20,000): its read-back check must not use
    the returns limits. Shown here by shrinking the limit below this small plan's table."""
    from hwbs_xl.sheets import limits

    monkeypatch.setattr(limits, "MAX_ROWS", 10)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    with Register.open(plan) as reg:
        path = write_master(reg)
    assert openpyxl.load_workbook(path)["Appendix A"].max_row > 10


def test_the_read_back_check_finds_a_formula(tmp_path: Path) -> None:
    import xlsxwriter

    from hwbs_xl.appendix.xlsx import _holds_formula

    plain, formula = tmp_path / "plain.xlsx", tmp_path / "formula.xlsx"
    for path, write in ((plain, lambda ws: ws.write_string(0, 0, "=SUM(A2:A3) <f> typed")),
                        (formula, lambda ws: ws.write_formula(5000, 3, "=SUM(A2:A3)"))):
        wb = xlsxwriter.Workbook(str(path))
        ws = wb.add_worksheet()
        for r in range(1, 6000):  # enough XML that the formula is not in the first block read
            ws.write_string(r if r < 5000 else r + 1, 0, f"row {r} " + "text " * 40)
        write(ws)
        wb.close()
    assert not _holds_formula(plain)
    assert _holds_formula(formula)


def test_the_appendix_workbook_is_the_master_copied_when_nothing_changed(plan: PlanPaths,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """After a merge the appendix for the open cycle is master.xlsx itself: copied, not built again; built
    afresh when the register changed, when master.xlsx was edited, or for another cycle."""
    from hwbs_xl.appendix import xlsx as appendix_xlsx
    from hwbs_xl.appendix.build import build_appendix

    built: list[Path] = []
    real_write = appendix_xlsx.write
    monkeypatch.setattr(appendix_xlsx, "write", lambda model, path: built.append(Path(path)) or real_write(model, path))
    with Register.open(plan) as reg:
        write_master(reg)
    built.clear()
    first = build_appendix(plan, formats=("xlsx",))
    assert built == [] and first.xlsx.read_bytes() == plan.master.read_bytes()  # copied

    with Register.open(plan) as reg:  # fresh builds give the same bytes the copy had
        fresh = appendix_xlsx.write(appendix_build(reg), plan.root / "fresh.xlsx")
    assert fresh.read_bytes() == first.xlsx.read_bytes()

    with Register.open(plan) as reg, reg.batch("merge", command="test merge") as b:
        b.put("updates", update_row(Update("KA2-02", APR24, "delayed", status_raw="Delayed",
                                           progress="Returned late.", source=Provenance(file="return.xlsx"))))
    built.clear()
    changed = build_appendix(plan, formats=("xlsx",))
    assert built == [changed.xlsx] and changed.xlsx.read_bytes() != plan.master.read_bytes()

    with Register.open(plan) as reg:
        write_master(reg)
    plan.master.write_bytes(plan.master.read_bytes() + b"\0")  # master.xlsx touched by someone
    built.clear()
    build_appendix(plan, formats=("xlsx",))
    assert built == [changed.xlsx]


def appendix_build(reg: Register):  # type: ignore[no-untyped-def]
    from hwbs_xl.appendix.model import build

    return build(reg)
