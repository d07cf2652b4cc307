"""The floor: writing the same workbook bytes with ``zipfile`` alone.

An .xlsx is a zip of XML parts. Whatever library writes it, it must at least deflate those parts and write
the archive; this measures exactly that and nothing else: each workbook's parts are read into memory
first (not timed), then written as a new deflated archive (timed). No workbook writer can beat this figure
on one core, so it shows how much of a stage's time is the library's own work and how much is unavoidable.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path


def write_floor(files: list[Path], out_dir: Path) -> float:
    """Re-write every workbook from its parts with zipfile; returns the seconds the writing took."""
    out_dir.mkdir(parents=True, exist_ok=True)
    seconds = 0.0
    for path in files:  # one workbook in memory at a time: national size has 6,000 of them
        with zipfile.ZipFile(path) as zf:
            members = [(info.filename, zf.read(info)) for info in zf.infolist()]
        started = time.perf_counter()
        with zipfile.ZipFile(out_dir / path.name, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for name, data in members:
                out.writestr(name, data)
        seconds += time.perf_counter() - started
    return seconds
