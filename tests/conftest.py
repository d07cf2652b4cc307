"""Shared fixtures. Every test works on real files in a temporary plan folder; nothing is mocked."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest

from hwbs_xl.paths import PlanPaths
from hwbs_xl.plan.folder import init_plan
from hwbs_xl.register import Register
from libreoffice import find_soffice

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
FOREIGN = DATA / "foreign"


def hwbs_command() -> list[str]:
    """How a user starts hwbs-xl: the console script installed in the environment running the tests
    (never whatever ``hwbs-xl`` happens to be on PATH), or ``python -m hwbs_xl`` where none is installed."""
    script = Path(sysconfig.get_path("scripts")) / ("hwbs-xl.exe" if sys.platform == "win32" else "hwbs-xl")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "hwbs_xl"]


@pytest.fixture
def plan_paths(tmp_path: Path) -> PlanPaths:
    """A fresh, empty plan folder (initialised, no cycles)."""
    paths = PlanPaths(tmp_path / "plan")
    reg, _ = init_plan(paths, "Test Health and Wellbeing Strategy")
    reg.close()
    return paths


@pytest.fixture
def register(plan_paths: PlanPaths):  # type: ignore[no-untyped-def]
    reg = Register.open(plan_paths)
    yield reg
    reg.close()


def libreoffice_required() -> str:
    """The soffice path, or skip with a reason (outside CI); in CI a missing LibreOffice is a failure."""
    soffice = find_soffice()
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is required in CI (.ci/run installs libreoffice-calc-nogui)")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui python3-uno)")
    return soffice


@pytest.fixture
def soffice() -> str:
    return libreoffice_required()


def copy_plan(src: PlanPaths, dest: Path) -> PlanPaths:
    shutil.copytree(src.root, dest)
    return PlanPaths(dest)
