"""Fill issued lead workbooks as leads would, with openpyxl (the benchmark's stand-in for the leads).

This is set-up, not a measured stage. It finds the cells to type into through the workbook's own manifest
(sheet, header row, column of each field, row of each action), so it works with whatever layout the
lead-workbook stage chooses, and types what leads type: a status from the vocabulary, a 50-400 word
progress report with unicode and line breaks, a revised finish date when the action is delayed, and now
and then a comment. Deterministic: the answers depend only on the file name and the seed.
"""

from __future__ import annotations

import random
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from hwbs_xl import manifest as mf
from hwbs_xl import templates

try:  # run as a script (bench/ on sys.path) or imported as bench.fill
    from synth import TextMaker
except ImportError:  # pragma: no cover
    from bench.synth import TextMaker

# Which manifest field a typed value goes to: the lead-workbook stage's keys first ("new_status"...), then
# any key holding the word. History keys ("status@April 2024") are never typed into.
FIELD_WORDS = {"status": ("new_status", "status"), "progress": ("new_progress", "progress"),
               "revised": ("revised_finish", "revised"), "comment": ("comment",)}


def _column_for(columns: dict[str, str], kind: str, taken: set[str]) -> str | None:
    for word in FIELD_WORDS[kind]:
        for key, letter in columns.items():
            if word in key.lower() and key not in taken and "@" not in key:
                taken.add(key)
                return letter
    return None


def fill_one(source: Path, target: Path, seed: int = 2024) -> Path:
    """Open ``source`` with openpyxl, type a lead's answers into every issued row, save as ``target``."""
    from openpyxl import load_workbook

    rng = random.Random(f"{seed}-{source.name}")
    text = TextMaker(rng)
    vocab = templates.vocabulary(None)
    wb = load_workbook(source)
    manifest = mf.from_cells([list(r) for r in wb[mf.MANIFEST_SHEET].iter_rows(values_only=True)])
    ws = wb[manifest.sheet]
    taken: set[str] = set()
    cols = {kind: _column_for(manifest.columns, kind, taken) for kind in ("status", "progress", "revised", "comment")}
    by_key = {s.key: s for s in vocab}
    for row in manifest.rows:
        roll = rng.random()
        key = "on_target" if roll < 0.55 else "delayed" if roll < 0.85 else "completed" if roll < 0.95 else "incorporated"
        status = by_key.get(key) or vocab.statuses[0]
        progress, _ = text.report()
        if status.needs_where:
            progress += "\n\nThis work is now part of the Family Hubs programme (Children’s Services)."
        if cols["status"]:
            ws[f"{cols['status']}{row.row}"] = status.label
        if cols["progress"]:
            ws[f"{cols['progress']}{row.row}"] = progress
        if cols["revised"] and status.needs_date:
            ws[f"{cols['revised']}{row.row}"] = datetime(2025 + rng.randint(0, 2), rng.randint(1, 12), 1)
        if cols["comment"] and rng.random() < 0.15:
            ws[f"{cols['comment']}{row.row}"] = "Happy to discuss – call José on 020 8359 2000 “any time”."
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def _fill_args(args: tuple[Path, Path, int]) -> Path:
    return fill_one(*args)


def fill_all(sources: list[Path], out_dir: Path, *, seed: int = 2024, processes: int = 2) -> list[Path]:
    """Fill every workbook (in ``processes`` worker processes when there are many: this is only set-up)."""
    jobs = [(s, out_dir / f"{s.stem} - returned.xlsx", seed) for s in sources]
    if processes <= 1 or len(jobs) < 20:
        return [_fill_args(j) for j in jobs]
    with get_context("spawn").Pool(processes) as pool:
        return pool.map(_fill_args, jobs, chunksize=max(1, len(jobs) // (processes * 8)))
