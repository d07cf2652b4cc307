"""The master appendix workbook (<plan>/master.xlsx) the returns stage rebuilds after every merge."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from test_appendix import APR24, make_register

from hwbs_xl.errors import OutputLocked, UsageProblem
from hwbs_xl.master import write_master
from hwbs_xl.model import Provenance, Update
from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register, update_row
from hwbs_xl.safeio import TEMP_PREFIX, office_lock_file


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
        batch = reg.last_batch_id()
    assert _status_of(plan.master, "Ensure the two School Superzones") == "Delayed achievement by target date"
    ws = openpyxl.load_workbook(plan.master)["Appendix A"]
    assert f"batch {batch}" in ws.oddFooter.left.text


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
