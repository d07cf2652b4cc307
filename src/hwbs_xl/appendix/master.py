"""The master appendix workbook: ``<plan>/master.xlsx``, the coordinator's working copy of Appendix A.

Rebuilt after every merge (the returns stage calls ``write_master``), and after any other command that
changes what it shows (``keep_master_true``), so the coordinator always has the appendix as the register
stands, for the open cycle (else the latest). It is the same print-ready workbook
as ``hwbs-xl appendix`` writes, made without LibreOffice, in well under a second for a real plan.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .. import safeio
from ..paths import PlanPaths
from ..register import Register
from . import model as appendix
from . import xlsx as appendix_xlsx
from .model import Appendix


def write_master(reg: Register) -> Path:
    """Regenerate ``<plan>/master.xlsx`` from ``reg`` (atomically); returns its path.

    Raises OutputLocked when master.xlsx is open in Excel or LibreOffice (nothing is changed then), and
    UsageProblem when the register has no cycle yet.
    """
    return _write(reg, appendix.build(reg))


def _write(reg: Register, model: Appendix) -> Path:
    path = appendix_xlsx.write(model, reg.paths.master)
    _remember(reg.paths.private / "master.json", appendix_xlsx.made_from(model), path.read_bytes())
    return path


def refresh_master(reg: Register) -> Path | None:
    """Rebuild master.xlsx only when it is missing or no longer the workbook the register gives (a merge
    that recorded nothing, after one killed before it rebuilt the master). Returns its path when written."""
    model = appendix.build(reg)
    return None if _current(reg.paths.private, reg.paths.master, model) is not None else _write(reg, model)


def keep_master_true(paths: PlanPaths) -> tuple[str, Path] | None:
    """After any change to the register (an undo, a settled flag, a new cycle...): a master.xlsx that no
    longer shows the register is rebuilt, or removed when the register has no cycle left to show. Returns
    ("rebuilt" | "removed", path), or None when it was already true (or there is none)."""
    if not paths.master.exists() or not paths.exists():
        return None
    with Register.open(paths) as reg:
        if not reg.cycles():
            paths.master.unlink()
            (reg.paths.private / "master.json").unlink(missing_ok=True)
            return "removed", paths.master
        written = refresh_master(reg)
    return ("rebuilt", written) if written is not None else None


def copy_if_same(plan_private: Path, master: Path, model: Appendix, target: Path) -> Path | None:
    """Put master.xlsx's bytes at ``target`` when master.xlsx is exactly the workbook ``model`` makes.

    After a merge the appendix the coordinator prints is usually the master itself (the open cycle, the
    same register batch): copying it saves building the same workbook twice (20 s at national size).
    "Exactly" is checked twice: the digest of everything the workbook is made from must equal the one
    recorded when master.xlsx was written, and master.xlsx's bytes must still hash as they did then (a
    master opened and saved in Excel is not copied). Returns ``target``, or None to build it afresh.
    """
    data = _current(plan_private, master, model)
    return None if data is None else safeio.atomic_write(target, data)


def _current(plan_private: Path, master: Path, model: Appendix) -> bytes | None:
    """master.xlsx's bytes when it is exactly the workbook ``model`` makes (see copy_if_same), else None."""
    try:
        recorded = json.loads((plan_private / "master.json").read_text(encoding="utf-8"))
        if recorded.get("made_from") != appendix_xlsx.made_from(model):
            return None
        data = master.read_bytes()
    except (OSError, ValueError, AttributeError):
        return None
    return data if hashlib.sha256(data).hexdigest() == recorded.get("sha256") else None


def _remember(record: Path, made_from: str, data: bytes) -> None:
    text = json.dumps({"made_from": made_from, "sha256": hashlib.sha256(data).hexdigest()}, indent=2)
    safeio.write_text(record, text + "\n")
