"""The package is strictly typed (pyproject.toml [tool.mypy]) and lint-clean ([tool.ruff]): mypy --strict must find no errors, for
Linux and as it would run on the users' desktops (Windows, macOS): a POSIX-only call (fcntl, O_NONBLOCK,
os.kill semantics) on a path a command takes fails the Windows check."""

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


@pytest.mark.parametrize("platform", ["linux", "win32", "darwin"])
def test_mypy_strict_finds_no_errors(platform: str) -> None:
    mypy_required()
    # From the project root, so pyproject.toml's [tool.mypy] settings (untyped libraries) apply; a cache per
    # platform, so the three runs do not invalidate each other's.
    args = ["--strict", "--platform", platform, "--cache-dir", f".mypy_cache/{platform}", "src/hwbs_xl"]
    done = subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        pytest.fail(f"mypy {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}",
                    pytrace=False)


def test_ruff_finds_nothing() -> None:
    """pyproject.toml [tool.ruff] over src, tests and bench: likely bugs (bugbear), unused or unsorted
    imports, old syntax. Skips without ruff outside CI, like mypy."""
    if importlib.util.find_spec("ruff") is None:
        if os.environ.get("CI"):
            pytest.fail("ruff is required in CI (it is in the test extra: pip install -e '.[test]')")
        pytest.importorskip("ruff")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "bench"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"ruff check exited {done.returncode}:\n{done.stdout}{done.stderr}", pytrace=False)
