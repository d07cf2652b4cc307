"""The figures the README's "What we test" quotes, counted from a real test run.

Tests say what they did with ``figures.add(name, n)`` (or ``figures.seen(name, key)`` for things counted
once, such as rows of the bad-input table). A count is kept only when its test passes; what a failed test
was doing is counted as failed (and, when it was checking that nothing is lost, as data lost).

Two ways to run it (both write ``docs/test-figures.json`` and the figures table in ``docs/testing.md``
only when ``HWBS_FIGURES=1``):

    python tests/figures.py                                  # the reliability suites + the foreign corpus
    HWBS_FIGURES=1 ./dev test -p tests.figures               # the whole suite, with the figures plugin

Without the plugin loaded, ``add`` and ``seen`` only count in memory: the tests run the same either way.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# One module, whichever name it was imported by (the plugin as tests.figures, the tests as figures).
sys.modules.setdefault("figures", sys.modules[__name__])

ROOT = Path(__file__).resolve().parent.parent
JSON_OUT = ROOT / "docs" / "test-figures.json"
MARKDOWN = ROOT / "docs" / "testing.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
SUITES = ["tests/test_bad_inputs.py", "tests/test_faults.py", "tests/test_fuzz.py", "tests/test_tampering.py",
          "tests/test_output_safety.py", "tests/test_foreign_corpus.py"]

FIGURES: dict[str, str] = {
    "bad_inputs_tried": "bad inputs tried (bad-input catalogue and input-limit cases)",
    "bad_input_rows": "rows of the bad-input table covered (of 42)",
    "foreign_files_read": "foreign files read correctly",
    "foreign_files_rejected": "foreign files rejected with a specific finding",
    "faults_injected": "faults injected (kill -9, failing writes, full disk, read-only folder, concurrency, locked output)",
    "faults_survived": "faults survived (register old or fully new, inputs untouched, temp files gone, re-run completes)",
    "fuzz_examples": "fuzz examples run (Hypothesis generate-fill-merge examples and mutated workbooks)",
    "fuzz_property_examples": "  of which Hypothesis property examples",
    "fuzz_mutations": "  of which mutated workbooks (returns and foreign corpus files)",
    "tampering_caught": "tampering cases caught, each with its own finding",
    "output_checks": "typed strings checked in written workbooks and CSVs (never a formula, link or error)",
    "loss_checks": "checks that nothing was lost",
    "data_lost": "data lost (checks that failed)",
}

_pending: dict[str, Counter[str]] = {}
_seen_pending: dict[str, set[tuple[str, str]]] = {}
_totals: Counter[str] = Counter()
_seen: set[tuple[str, str]] = set()
_failed: Counter[str] = Counter()
_outcomes: Counter[str] = Counter()
_current = "(outside a test)"
_started = time.monotonic()


def add(name: str, n: int = 1) -> None:
    """Count ``n`` of ``name`` for the running test (kept if it passes)."""
    if name not in FIGURES:
        raise KeyError(f"unknown figure {name!r}")
    _pending.setdefault(_current, Counter())[name] += n


def seen(name: str, key: object) -> None:
    """Count ``key`` once for ``name`` however many tests see it (kept if the test passes)."""
    if name not in FIGURES:
        raise KeyError(f"unknown figure {name!r}")
    _seen_pending.setdefault(_current, set()).add((name, str(key)))


def totals() -> dict[str, int]:
    out = {name: _totals.get(name, 0) for name in FIGURES}
    for name, _key in _seen:
        out[name] = out.get(name, 0) + 1
    out["fuzz_examples"] = out["fuzz_property_examples"] + out["fuzz_mutations"]
    out["data_lost"] = _failed.get("loss_checks", 0)
    return out


# ---- the plugin ------------------------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    global _current
    _current = item.nodeid
    try:
        yield
    finally:
        _current = "(outside a test)"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    _outcomes[report.outcome] += 1
    counts = _pending.pop(report.nodeid, Counter())
    keys = _seen_pending.pop(report.nodeid, set())
    if report.passed:
        _totals.update(counts)
        _seen.update(keys)
        _corpus(report.nodeid)
    elif report.failed:
        _failed.update(counts)


def _corpus(nodeid: str) -> None:
    """The foreign-corpus test reads or refuses one file per case: count which."""
    m = re.search(r"test_foreign_corpus\.py::test_each_file_is_read_or_refused_with_a_specific_finding\[(.+)\]$", nodeid)
    corpus = sys.modules.get("test_foreign_corpus")
    if m and corpus is not None:
        _totals["foreign_files_rejected" if m.group(1) in corpus.REFUSED else "foreign_files_read"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("HWBS_FIGURES") != "1":
        return
    figures = totals()
    run = {"finished_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
           "seconds": round(time.monotonic() - _started),
           "tests_passed": _outcomes.get("passed", 0), "tests_failed": _outcomes.get("failed", 0),
           "tests_skipped": _outcomes.get("skipped", 0), "python": platform.python_version(),
           "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s)",
           "settings": {k: v for k, v in os.environ.items() if k.startswith("HWBS_") and k != "HWBS_FIGURES"}}
    JSON_OUT.write_text(json.dumps({"run": run, "figures": figures, "meaning": FIGURES}, indent=2) + "\n",
                        encoding="utf-8")
    if MARKDOWN.is_file():
        text = MARKDOWN.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            _, tail = rest.split(END, 1)
            MARKDOWN.write_text(head + START + "\n" + markdown(run, figures) + END + tail, encoding="utf-8")


def markdown(run: dict[str, Any], figures: dict[str, int]) -> str:
    lines = [f"Last run: {run['finished_at']}, {run['tests_passed']} tests passed, {run['tests_failed']} failed, "
             f"{run['tests_skipped']} skipped, {run['seconds']} s ({run['machine']}, Python {run['python']})"
             + (f", settings {run['settings']}" if run["settings"] else "") + ".", "",
             "| figure | count |", "|---|---:|"]
    for name, meaning in FIGURES.items():
        value = f"{figures[name]} of 42" if name == "bad_input_rows" else f"{figures[name]:,}"
        lines.append(f"| {meaning} | {value} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Run the reliability suites and the foreign corpus with this plugin, writing the figures."""
    os.environ["HWBS_FIGURES"] = "1"
    os.chdir(ROOT)
    return int(pytest.main(["-q", "-p", "no:randomly", *(argv or SUITES)], plugins=[sys.modules[__name__]]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
