"""The validate command, and checking a set of returned files (which merge does the same way).

``validate(paths, inputs)`` checks every file (``checker``) against what the register says was issued
(``facts``), and writes the JSON report and one "please fix" note per lead with problems to
``<plan>/reports/<cycle>/`` (``notes``) unless ``write_reports=False``. The register is only read.

Each file is read once: its bytes are hashed to look up validate's memo (a result that still holds is
taken as it is), checked otherwise, and, for merge, kept until the evidence copy of them is staged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ..parallel import imap_shared
from ..paths import PlanPaths
from ..register import Register
from ..sheets.reader import file_bytes
from . import memo as memos
from .checker import check_bytes
from .facts import PlanFacts
from .notes import write_validation_reports
from .results import ReturnCheck, ValidationResult

IGNORED_NAMES = (".~lock.", "~$", ".hwbs-tmp-")  # office lock files and our own temporary files


def validate(paths: PlanPaths, inputs: Sequence[Path], *, sender: str | None = None, write_reports: bool = True,
             today: date | None = None) -> ValidationResult:
    """Check every returned file in ``inputs`` (files or folders). Reads the register; never changes it."""
    files = expand_inputs(inputs)
    with Register.open(paths) as reg:
        facts = PlanFacts.load(paths, reg, today)
    checks = list(check_files(facts, files, sender=sender))
    result = ValidationResult(facts.cycle.label if facts.cycle else None, checks)
    if write_reports:
        write_validation_reports(paths, result)
        memos.save(paths, facts, checks, sender)  # so merge need not check these files again
    return result


def expand_inputs(inputs: Iterable[Path]) -> list[Path]:
    """Files named, and every file inside folders named (sorted; lock and temporary files skipped)."""
    out: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        item = Path(item)
        found = sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
        for p in found:
            if p.name.startswith(IGNORED_NAMES) or any(part.startswith(".") for part in p.relative_to(
                    item if item.is_dir() else p.parent).parts):
                continue
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def check_files(facts: PlanFacts, files: Sequence[Path], *, sender: str | None = None,
                memo: dict[str, dict[str, Any]] | None = None, keep_bytes: bool = False) -> Iterator[ReturnCheck]:
    """Each file's check, slimmed (no sheets; no bytes unless ``keep_bytes``), in order, as each is ready; on
    every core when there are many. A file whose bytes, path and sender have a result in ``memo``
    (validate's, for the plan as it is now: see ``memo.load``) takes that result instead of a new check."""
    mine = memos.for_files(memo, files, sender) if memo else {}
    return imap_shared(_check, (facts, sender, mine, keep_bytes), [Path(p) for p in files])


def _check(facts: PlanFacts, sender: str | None, memo: dict[str, dict[str, Any]], keep_bytes: bool,
           path: Path) -> ReturnCheck:
    data = file_bytes(path)  # the one read of the file
    check = memos.remembered(memo, data, path, sender) if memo and isinstance(data, bytes) else None
    if check is None:
        check = check_bytes(facts, path, data, sender=sender)
    return check.slim(keep_bytes=keep_bytes)


__all__ = ["validate", "check_files", "expand_inputs"]
