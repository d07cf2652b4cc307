"""The floor: writing the same workbook bytes with ``zipfile`` alone.

An .xlsx is a zip of XML parts. Whatever library writes it, it must at least deflate those parts and write
the archive; this measures exactly that and nothing else, from parts already in memory (the reading of the
parts is not timed). No workbook writer can beat this figure on one core, so it shows how much of a
stage's time is the library's own work and how much is unavoidable.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path


def load_parts(files: list[Path]) -> list[tuple[str, list[tuple[zipfile.ZipInfo, bytes]]]]:
    """Every part of every workbook, in archive order, kept in memory."""
    out = []
    for path in files:
        with zipfile.ZipFile(path) as zf:
            out.append((path.name, [(info, zf.read(info)) for info in zf.infolist()]))
    return out


def write_floor(parts: list[tuple[str, list[tuple[zipfile.ZipInfo, bytes]]]], out_dir: Path) -> float:
    """Write each workbook's parts as a new deflated archive; returns the seconds it took."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for name, members in parts:
        with zipfile.ZipFile(out_dir / name, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for info, data in members:
                zf.writestr(info.filename, data)
    return time.perf_counter() - started
