"""What each benchmark step does, run one step per fresh process by ``run.py --child`` (see run.py).

Each step gets a ``Work`` (the size's work folder, options) and returns a dict: ``items`` and ``seconds``
of the timed part (only the call of the stage itself), plus anything worth showing. A stage that is not in
the tree yet raises ``NotBuilt``; the step then reports "not built yet" and later steps use what exists.
Steps hand files to later steps through small JSON lists in the work folder.
"""

from __future__ import annotations

import importlib
import json
import resource
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fill as filler
import naive_openpyxl as naive
import synth
import zipfloor

from hwbs_xl.paths import PlanPaths

COMMAND = "bench/run.py"
GENERATED_AT = datetime(2024, 9, 20, 9, 0, tzinfo=UTC)  # fixed, so runs write identical workbooks


class NotBuilt(Exception):
    """The stage's module or function is not in the tree yet."""


class Skipped(Exception):
    """The step cannot run on this machine (for example LibreOffice is missing); the message says why."""


@dataclass
class Work:
    root: Path
    size: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def paths(self) -> PlanPaths:
        return PlanPaths(self.root / "plan")

    def out(self, name: str) -> Path:
        return self.root / name

    def save_list(self, name: str, files: list[Path]) -> None:
        (self.root / f"{name}.json").write_text(json.dumps([str(f) for f in files]))

    def load_list(self, name: str) -> list[Path] | None:
        path = self.root / f"{name}.json"
        return [Path(p) for p in json.loads(path.read_text())] if path.exists() else None

    def note(self, name: str, value: Any) -> None:
        (self.root / f"{name}.note.json").write_text(json.dumps(value))

    def recall(self, name: str, default: Any = None) -> Any:
        path = self.root / f"{name}.note.json"
        return json.loads(path.read_text()) if path.exists() else default

    @property
    def cap(self) -> int:
        """How many items the naive references handle (a sample: their per-item rate is what counts)."""
        return int(self.options.get("ref_cap", 1000))


def is_missing_part(exc: ImportError) -> bool:
    """An import failed because a part of hwbs-xl is not written yet (not because a library is missing)."""
    return bool(exc.name) and (exc.name == "hwbs_xl" or exc.name.startswith("hwbs_xl."))


def stage(module: str, name: str) -> Callable[..., Any]:
    """``hwbs_xl.<module>.<name>``, or NotBuilt when that module or function does not exist yet."""
    try:
        mod = importlib.import_module(f"hwbs_xl.{module}")
    except ImportError as exc:
        if is_missing_part(exc):
            raise NotBuilt(f"hwbs_xl.{module}.{name}") from exc
        raise
    fn = getattr(mod, name, None)
    if fn is None:
        raise NotBuilt(f"hwbs_xl.{module}.{name}")
    return fn  # type: ignore[no-any-return]


TIMED_CPU = [0.0]  # CPU seconds (this process and the workers it waited for) spent inside timed()


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run the measured call; wall seconds returned, CPU seconds added to TIMED_CPU."""
    cpu, started = _cpu(), time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    TIMED_CPU[0] += _cpu() - cpu
    return value, seconds


# ---- set-up --------------------------------------------------------------------------------------------

def step_synth(w: Work) -> dict[str, Any]:
    if w.root.exists():
        shutil.rmtree(w.root)
    w.root.mkdir(parents=True)
    summary, seconds = timed(lambda: synth.build_plan(w.paths.root, w.size))
    return {"items": summary.actions, "seconds": seconds, "unit": "actions",
            "detail": summary.line(), "updates": summary.updates, "words": summary.words}


def step_open_cycle(w: Work) -> dict[str, Any]:
    try:
        open_cycle = stage("plan.cycle", "open_cycle")
    except NotBuilt:
        _open_cycle_by_hand(w.paths)
        raise
    opening, seconds = timed(lambda: open_cycle(w.paths, synth.NEW_CYCLE, synth.NEW_CYCLE_DUE, command=COMMAND,
                                                open_flags=True))
    carried = len(getattr(opening, "carried", ()) or ())
    return {"items": carried, "seconds": seconds, "unit": "actions"}


def _open_cycle_by_hand(paths: PlanPaths) -> None:
    """Without the cycle stage, the references still need an open cycle: one plain batch opens it."""
    from hwbs_xl.model import Cycle, cycle_seq
    from hwbs_xl.register import Register, cycle_row

    with Register.open(paths) as reg, reg.batch("cycle", command=COMMAND, summary="bench opened cycle") as b:
        b.put("cycles", cycle_row(Cycle(synth.NEW_CYCLE, cycle_seq(synth.NEW_CYCLE), due_date=synth.NEW_CYCLE_DUE,
                                        state="open")))


# ---- lead workbooks ------------------------------------------------------------------------------------

def step_generate(w: Work) -> dict[str, Any]:
    generate = stage("issue.generate", "generate")
    result, seconds = timed(lambda: generate(w.paths, now=GENERATED_AT, command=COMMAND, example_contact=True,
                                             open_flags=True))
    files = [Path(f) for f in getattr(result, "files", []) if str(f).endswith(".xlsx")]
    w.save_list("generated", files)
    return {"items": len(files), "seconds": seconds, "unit": "workbooks",
            "bytes": sum(f.stat().st_size for f in files)}


def step_naive_write(w: Work) -> dict[str, Any]:
    files, seconds = timed(lambda: naive.write_lead_workbooks(w.paths, w.out("naive-issued"), limit=w.cap))
    w.save_list("naive-issued", files)
    return {"items": len(files), "seconds": seconds, "unit": "workbooks",
            "bytes": sum(f.stat().st_size for f in files)}


def _issued(w: Work) -> tuple[list[Path], str]:
    generated = w.load_list("generated")
    if generated:
        return generated, "generate"
    naive_files = w.load_list("naive-issued")
    if naive_files:
        return naive_files, "naive openpyxl"
    raise RuntimeError("no issued workbooks: neither generate nor the naive writer produced any")


def step_zip_floor(w: Work) -> dict[str, Any]:
    files, source = _issued(w)
    seconds = zipfloor.write_floor(files, w.out("zip-floor"))
    return {"items": len(files), "seconds": seconds, "unit": "workbooks", "detail": f"bytes of {source}'s workbooks"}


# ---- returns -------------------------------------------------------------------------------------------

def step_fill(w: Work) -> dict[str, Any]:
    files, source = _issued(w)
    out = w.out("returns")
    if out.exists():
        shutil.rmtree(out)
    returns, seconds = timed(lambda: filler.fill_all(files, out, processes=int(w.options.get("fill_processes", 2))))
    w.save_list("returns", returns)
    return {"items": len(returns), "seconds": seconds, "unit": "returns",
            "detail": f"filled {source}'s workbooks with openpyxl (set-up, not a stage)"}


def _returns(w: Work) -> list[Path]:
    files = w.load_list("returns")
    if not files:
        raise RuntimeError("no returns: the fill step did not run")
    return files


def step_naive_read(w: Work) -> dict[str, Any]:
    files = _returns(w)[: w.cap]
    cells, seconds = timed(lambda: naive.read_returns(files))
    return {"items": len(files), "seconds": seconds, "unit": "returns", "cells": cells}


def step_validate(w: Work) -> dict[str, Any]:
    validate = stage("returns.validate", "validate")
    files = _returns(w)
    result, seconds = timed(lambda: validate(w.paths, files))
    return {"items": len(files), "seconds": seconds, "unit": "returns", "detail": _counts(result)}


def step_merge(w: Work) -> dict[str, Any]:
    merge = stage("returns.merge", "merge")
    files = _returns(w)
    result, seconds = timed(lambda: merge(w.paths, files, command=COMMAND))
    w.note("merged", True)
    return {"items": len(files), "seconds": seconds, "unit": "returns", "detail": _counts(result)}


def _counts(result: Any) -> str:
    """A short account of what a validate/merge result says (whatever shape it has)."""
    lines = getattr(result, "lines", None)
    if callable(lines):
        text = [str(line) for line in lines()]
        return " / ".join(text[:3])[:300]
    return ""


# ---- master and appendix -------------------------------------------------------------------------------

def step_master(w: Work) -> dict[str, Any]:
    write_master = stage("appendix.master", "write_master")
    from hwbs_xl.register import Register

    with Register.open(w.paths) as reg:
        _, seconds = timed(lambda: write_master(reg))
    return {"items": _active_actions(w), "seconds": seconds, "unit": "actions"}


def _active_actions(w: Work) -> int:
    from hwbs_xl.register import Register

    with Register.open(w.paths) as reg:
        return len(reg.actions(include_retired=False))


def appendix_cycle(w: Work) -> str:
    """The merged new cycle when merge ran; otherwise the latest cycle of history (it has reports)."""
    if w.recall("merged"):
        return synth.NEW_CYCLE
    return synth.history_labels(synth.SIZES[w.size].cycles)[-1]


def step_appendix_xlsx(w: Work) -> dict[str, Any]:
    build_appendix = stage("appendix", "build_appendix")
    cycle = appendix_cycle(w)
    result, seconds = timed(lambda: build_appendix(w.paths, cycle=cycle, formats=("xlsx",), out=w.out("appendix")))
    return {"items": _active_actions(w), "seconds": seconds, "unit": "actions", "detail": f"cycle {cycle}",
            "bytes": result.xlsx.stat().st_size if result.xlsx else 0}


def step_naive_appendix(w: Work) -> dict[str, Any]:
    target = w.out("naive-appendix.xlsx")
    _, seconds = timed(lambda: naive.write_appendix(w.paths, target))
    return {"items": _active_actions(w), "seconds": seconds, "unit": "actions", "bytes": target.stat().st_size}


def step_appendix_pdf(w: Work) -> dict[str, Any]:
    build_appendix = stage("appendix", "build_appendix")
    cycle = appendix_cycle(w)
    result, seconds = timed(lambda: build_appendix(w.paths, cycle=cycle, formats=("pdf",), out=w.out("appendix")))
    if result.pdf is None:
        if "pdf" in getattr(result, "missing", ()):
            raise Skipped("; ".join(result.notes))
        raise RuntimeError("; ".join(result.notes) or "no PDF written")
    w.save_list("appendix-pdf", [result.pdf])
    pages = result.pages or _page_count(result.pdf)
    return {"items": pages, "seconds": seconds, "unit": "pages", "detail": f"cycle {cycle}, {_active_actions(w)} actions"}


def _page_count(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


# ---- PDF import ----------------------------------------------------------------------------------------

def _pdf_sample(w: Work) -> tuple[Path, str]:
    """The first ``pdf_pages`` pages of the tool's appendix PDF (or, before the appendix stage exists, of the
    naive appendix converted by LibreOffice): PDF import is measured per page, so a sample is enough."""
    sample = w.out("pdf-sample.pdf")
    if sample.exists():
        return sample, str(w.recall("pdf-sample", ""))
    made = w.load_list("appendix-pdf")
    if made:
        source, what = made[0], "the tool's appendix PDF"
    else:
        try:
            source = _small_plan_pdf(w)
            what = "the tool's appendix PDF of a small synthetic plan (this size's appendix PDF was not made)"
        except (NotBuilt, ImportError, RuntimeError, OSError) as exc:
            source = _naive_pdf(w)
            what = f"the naive appendix converted by LibreOffice (no appendix PDF: {type(exc).__name__})"
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(source)
    writer = PdfWriter()
    for page in reader.pages[: int(w.options.get("pdf_pages", 200))]:
        writer.add_page(page)
    with open(sample, "wb") as fh:
        writer.write(fh)
    what = f"first {len(writer.pages)} of {len(reader.pages)} pages of {what}"
    w.note("pdf-sample", what)
    return sample, what


def _small_plan_pdf(w: Work) -> Path:
    """The same kind of document (the tool's own appendix, the same synthetic text) from a plan small
    enough to print: used when this size's appendix PDF could not be made, so PDF import is still measured
    on pages like the ones the tool prints."""
    build_appendix = stage("appendix", "build_appendix")
    pages = int(w.options.get("pdf_pages", 60))
    small = synth.Size("pdf-sample", actions=max(4, pages * 2 // 3), leads=max(2, pages // 3), cycles=2, key_areas=3)
    root = w.out("pdf-sample-plan")
    if root.exists():
        shutil.rmtree(root)
    synth.build_plan(root, small)
    result = build_appendix(PlanPaths(root), cycle=synth.history_labels(2)[-1], formats=("pdf",), out=root / "appendix")
    if result.pdf is None:
        raise RuntimeError("; ".join(result.notes) or "no PDF written")
    return Path(result.pdf)


def _naive_pdf(w: Work) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' LibreOffice runner
    from libreoffice import convert, find_soffice

    if find_soffice() is None:
        raise Skipped("no appendix PDF to read: LibreOffice is not installed to make one")
    xlsx = w.out("naive-appendix-sample.xlsx")
    naive.write_appendix(w.paths, xlsx, limit=int(w.options.get("pdf_pages", 200)))
    return Path(convert(xlsx, "pdf", w.root))


def step_pdf_read(w: Work) -> dict[str, Any]:
    read_pdf = stage("importing.pdf", "read_pdf")
    sample, what = _pdf_sample(w)
    table, seconds = timed(lambda: read_pdf(sample))
    pages = getattr(table, "pages", None) or _page_count(sample)
    return {"items": pages, "seconds": seconds, "unit": "pages", "detail": what,
            "rows": len(getattr(table, "rows", []))}


def step_naive_pdf(w: Work) -> dict[str, Any]:
    import pdfplumber

    sample, what = _pdf_sample(w)

    def read() -> int:
        rows = 0
        with pdfplumber.open(sample) as pdf:
            for page in pdf.pages:
                for table in page.extract_tables():
                    rows += len(table)
        return rows

    rows, seconds = timed(read)
    return {"items": _page_count(sample), "seconds": seconds, "unit": "pages", "detail": what, "rows": rows}


def step_pdf_import(w: Work) -> dict[str, Any]:
    """The whole import of the sample PDF (reader + the shared pipeline) into a fresh plan."""
    import_files = stage("importing.pipeline", "import_files")
    stage("importing.pdf", "read_pdf")
    from hwbs_xl.plan.folder import init_plan

    sample, what = _pdf_sample(w)
    target = PlanPaths(w.out("import-plan"))
    if target.root.exists():
        shutil.rmtree(target.root)
    init_plan(target, "PDF import benchmark")[0].close()
    cycle = appendix_cycle(w)
    _, seconds = timed(lambda: import_files(target, [sample], cycle=cycle, command=COMMAND))
    return {"items": _page_count(sample), "seconds": seconds, "unit": "pages", "detail": what,
            "actions": _count_actions(target)}


def _count_actions(paths: PlanPaths) -> int:
    from hwbs_xl.register import Register

    with Register.open(paths) as reg:
        return len(reg.actions())


def step_import_text(w: Work) -> dict[str, Any]:
    """The import pipeline on text: the plan's last two cycles as markdown appendices, into a fresh plan
    (reading, cleaning, status repair and linking the second cycle's rows to the first's actions)."""
    import_files = stage("importing.pipeline", "import_files")
    limit = int(w.options.get("import_rows", 100))
    files = synth.export_markdown(w.paths, w.out("text-import"), cycles=2, limit=limit)
    rows = sum(f.read_text(encoding="utf-8").count("\n| ") - 1 for f in files)
    target = PlanPaths(w.out("text-import-plan"))
    if target.root.exists():
        shutil.rmtree(target.root)
    result, seconds = timed(lambda: import_files(target, files, cycle=None, command=COMMAND))
    return {"items": rows, "seconds": seconds, "unit": "rows", "actions": _count_actions(target),
            "detail": f"first {limit} actions of each cycle; " + _import_counts(result)}


def _import_counts(result: Any) -> str:
    counts = getattr(result, "counts", None) or {}
    return ", ".join(f"{k} {v}" for k, v in list(counts.items())[:6]) if isinstance(counts, dict) else str(counts)


STEPS: dict[str, Callable[[Work], dict[str, Any]]] = {
    "synth": step_synth,
    "open_cycle": step_open_cycle,
    "generate": step_generate,
    "naive_write": step_naive_write,
    "zip_floor": step_zip_floor,
    "fill": step_fill,
    "naive_read": step_naive_read,
    "validate": step_validate,
    "merge": step_merge,
    "master": step_master,
    "appendix_xlsx": step_appendix_xlsx,
    "naive_appendix": step_naive_appendix,
    "appendix_pdf": step_appendix_pdf,
    "pdf_read": step_pdf_read,
    "naive_pdf": step_naive_pdf,
    "pdf_import": step_pdf_import,
    "import_text": step_import_text,
}
