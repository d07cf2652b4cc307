"""The package is strictly typed (pyproject.toml [tool.mypy]): mypy --strict must find no errors."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def mypy_required() -> None:
    """Skip with a reason when mypy is absent (outside CI); in CI a missing mypy is a failure."""
    if importlib.util.find_spec("mypy") is None:
        if os.environ.get("CI"):
            pytest.fail("mypy is required in CI (it is in the test extra: pip install -e '.[test]')")
        pytest.importorskip("mypy")


def test_mypy_strict_finds_no_errors() -> None:
    mypy_required()
    # From the project root, so pyproject.toml's [tool.mypy] settings (untyped libraries) apply.
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "src/hwbs_xl"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"mypy --strict src/hwbs_xl exited {done.returncode}:\n{done.stdout}{done.stderr}",
                    pytrace=False)
