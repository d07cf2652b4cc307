"""The master appendix workbook: ``<plan>/master.xlsx``, the coordinator's working copy of Appendix A.

Rebuilt after every merge (the returns stage calls ``write_master``) so the coordinator always has the
appendix as the register stands, for the open cycle (else the latest). It is the same print-ready workbook
as ``hwbs-xl appendix`` writes, made without LibreOffice, in well under a second for a real plan.
"""

from __future__ import annotations

from pathlib import Path

from . import appendix, appendix_xlsx
from .register import Register


def write_master(reg: Register) -> Path:
    """Regenerate ``<plan>/master.xlsx`` from ``reg`` (atomically); returns its path.

    Raises OutputLocked when master.xlsx is open in Excel or LibreOffice (nothing is changed then), and
    UsageProblem when the register has no cycle yet.
    """
    model = appendix.build(reg)
    return appendix_xlsx.write(model, reg.paths.master)
