"""The evidence copy of every returned file merge reads: its exact bytes, kept in
``returns/evidence/<sha256><suffix>`` whatever the file's fate, and never re-saved.

The copy is made from the very bytes that were checked (a file is read once), so it is the file that was
validated by construction; its name is their SHA-256, so it proves on disk that it did not change since
(and a second copy is never written, and a file left by a killed run is simply reused). Copies are staged
as the checks come in and renamed into place together, the folder synced once, before the batch that
records them commits.
"""

from __future__ import annotations

from pathlib import Path

from ..paths import PlanPaths
from ..safeio import StagedFiles
from .results import ReturnCheck


def evidence_path(paths: PlanPaths, check: ReturnCheck) -> Path:
    suffix = Path(check.name).suffix.lower()
    suffix = suffix if suffix.isascii() and len(suffix) <= 6 and suffix[1:].isalnum() else ".bin"
    return paths.evidence / f"{check.sha256}{suffix}"


class EvidenceCopies:
    """Use as a context manager: ``keep`` each check as it comes, the copies are in place when it ends
    without an error (on an error none is). With ``write=False`` (a dry run) nothing is written."""

    def __init__(self, paths: PlanPaths, *, write: bool = True) -> None:
        self.paths, self.write = paths, write
        self._staged = StagedFiles()
        self._kept: dict[str, Path] = {}

    def __enter__(self) -> EvidenceCopies:
        self._staged.__enter__()
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._staged.__exit__(kind, error, trace)

    def keep(self, check: ReturnCheck) -> ReturnCheck:
        """Stage the check's bytes as evidence (once per content), then let go of them: memory stays flat."""
        data, check.read.data = check.read.data, b""
        if self.write and check.bytes_read and check.sha256 not in self._kept:
            target = self._kept[check.sha256] = evidence_path(self.paths, check)
            if not (target.is_file() and target.stat().st_size == len(data)):
                self._staged.add(target, data)
        return check

    def path(self, check: ReturnCheck) -> Path | None:
        """Where the check's file is kept (None for a file refused before it was read, or a dry run)."""
        return self._kept.get(check.sha256) if check.bytes_read else None


__all__ = ["EvidenceCopies", "evidence_path"]
