"""hwbs-xl benchmark suite: every stage of the cycle at borough, region and national size, beside references.

    python bench/run.py [--sizes borough,region,national] [--quick] [--profile] [--results PATH]
    ./dev bench [same options]

For each size it builds a synthetic plan (bench/synth.py), then runs each step in a FRESH process, so one
stage's memory and imports never colour another's: open the cycle, ``generate`` the lead workbooks, the
naive openpyxl writer and the zipfile floor on the same workbooks, fill the returns with an openpyxl script
(set-up, not timed as a stage), the naive openpyxl reader, ``validate``, ``merge``, the master workbook, the
appendix as xlsx (beside a naive openpyxl appendix) and PDF, and PDF import (beside plain pdfplumber).
Peak memory is each process's ru_maxrss (and its worker processes', shown apart). ``hwbs-xl --help``
start-up is the median of repeated runs of the console script. A stage not in the tree yet shows as
"not built yet"; the steps after it use what exists.

It prints one table per size and writes bench/RESULTS.md (machine, date, commit, tables, targets). Text
below the line "<!-- analysis -->" in an existing RESULTS.md is kept: that is where profiles and their
reading go. ``--profile`` runs each step under cProfile and writes bench/out/<size>/profiles/<step>.txt
(times are then inflated; do not quote them as results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
RESULT_TAG = "BENCH-RESULT "
ANALYSIS_MARK = "<!-- analysis -->"
DEFAULT_SIZES = ("borough", "region", "national")

# Steps in the order they run, with the label printed for them. Set-up steps are shown but not judged.
STEPS: list[tuple[str, str]] = [
    ("synth", "synthetic plan (set-up)"),
    ("open_cycle", "cycle open"),
    ("generate", "generate"),
    ("naive_write", "  ref: naive openpyxl writer"),
    ("zip_floor", "  ref: zipfile floor (same bytes)"),
    ("fill", "fill returns, openpyxl (set-up)"),
    ("validate", "validate"),
    ("merge", "merge"),
    ("naive_read", "  ref: naive openpyxl reader"),
    ("master", "master workbook"),
    ("appendix_xlsx", "appendix xlsx"),
    ("naive_appendix", "  ref: naive openpyxl appendix"),
    ("appendix_pdf", "appendix PDF"),
    ("pdf_read", "PDF read (read_pdf)"),
    ("naive_pdf", "  ref: pdfplumber extract_tables"),
    ("pdf_import", "PDF import (read + pipeline)"),
    ("import_text", "text import, 2 cycles (pipeline)"),
]
# The coordinator's whole cycle: issue the workbooks, validate and merge every return (merge rebuilds
# master.xlsx, so the master is in it; the "master workbook" row shows that part alone), print the appendix
# workbook. Validate is counted because merge may reuse what validate found.
WHOLE_CYCLE = ("generate", "validate", "merge", "appendix_xlsx")
# Limits per step, so that no size can hang the run. The appendix PDF of a national plan is ~15,000 pages
# (about 6-7 minutes on two cores); the openpyxl fill of 6,000 returns is set-up every later step needs.
STEP_TIMEOUTS = {"import_text": 240.0, "appendix_pdf": 1200.0, "fill": 1200.0}
DEFAULT_TIMEOUT = 600.0
TARGETS = {"generate_vs_naive": 2.0, "returns_vs_naive": 5.0, "whole_cycle_s": 120.0, "whole_cycle_mb": 1024.0,
           "pdf_pages_per_s": 4.0, "help_s": 0.3}


@dataclass
class StepResult:
    step: str
    status: str = "ok"  # ok | not built yet | skipped | failed | timed out
    items: int = 0
    seconds: float = 0.0
    unit: str = ""
    rss_mb: float = 0.0  # the step's own process
    workers_mb: float = 0.0  # the largest child process it waited for (pool workers, LibreOffice)
    cpu_seconds: float = 0.0
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.seconds > 0

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.ok and self.items else 0.0

    @property
    def ms_per_item(self) -> float:
        return 1000 * self.seconds / self.items if self.ok and self.items else 0.0

    @property
    def cpu_ms_per_item(self) -> float:
        """CPU per item (this process and its workers): steadier than wall time on a busy machine."""
        return 1000 * self.cpu_seconds / self.items if self.ok and self.items and self.cpu_seconds else 0.0

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.ok else 0.0


# ---- the child: one step in a fresh process ------------------------------------------------------------

def child(step: str, work: Path, size: str, options: dict[str, Any], profile: bool) -> int:
    sys.path.insert(0, str(BENCH))
    import stages

    w = stages.Work(work, size, options)
    out: dict[str, Any]
    try:
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            result = prof.runcall(stages.STEPS[step], w)
            folder = work / "profiles"
            folder.mkdir(parents=True, exist_ok=True)
            prof.dump_stats(folder / f"{step}.prof")
            with open(folder / f"{step}.txt", "w") as fh:
                stats = pstats.Stats(prof, stream=fh).strip_dirs()
                stats.sort_stats("cumulative").print_stats(30)
                stats.sort_stats("tottime").print_stats(20)
        else:
            result = stages.STEPS[step](w)
        out = {"status": "ok", **result}
    except stages.NotBuilt as exc:
        out = {"status": "not built yet", "detail": f"{exc} is not in the tree yet"}
    except stages.Skipped as exc:
        out = {"status": "skipped", "detail": str(exc)}
    except Exception as exc:  # report, never crash the run: the parent shows the failure in the table
        traceback.print_exc()
        if isinstance(exc, ImportError) and stages.is_missing_part(exc):
            out = {"status": "not built yet", "detail": f"{exc} (the stage is only partly in the tree)"}
        else:
            out = {"status": "failed", "detail": f"{type(exc).__name__}: {exc}"[:400]}
    out["cpu_seconds"] = stages.TIMED_CPU[0]  # over the timed seconds only: 2.0 means both cores busy
    out["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out["workers_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(RESULT_TAG + json.dumps(out, default=str), flush=True)
    return 0


def run_step(step: str, work: Path, size: str, options: dict[str, Any], *, profile: bool, timeout: float,
             log: Path) -> StepResult:
    """Run one step in a fresh Python process; its stderr goes to ``log``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--work", str(work), "--size", size,
           "--options", json.dumps(options)] + (["--profile"] if profile else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])))
    with open(log, "a") as err:
        err.write(f"\n===== {step} ({size}) {datetime.now().isoformat(timespec='seconds')}\n")
        err.flush()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=ROOT,
                                start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the step's own process group (it and its workers)
            proc.communicate()
            return StepResult(step, "timed out", detail=f"stopped after {timeout:.0f} s")
    line = next((x for x in reversed(stdout.splitlines()) if x.startswith(RESULT_TAG)), None)
    if line is None:
        return StepResult(step, "failed", detail=f"exit code {proc.returncode}; see {log}")
    data = json.loads(line[len(RESULT_TAG):])
    known = {"status", "items", "seconds", "unit", "detail", "cpu_seconds", "rss_kb", "workers_kb"}
    return StepResult(step, data["status"], int(data.get("items", 0)), float(data.get("seconds", 0.0)),
                      data.get("unit", ""), data.get("rss_kb", 0) / 1024, data.get("workers_kb", 0) / 1024,
                      float(data.get("cpu_seconds", 0.0)), str(data.get("detail", "")),
                      {k: v for k, v in data.items() if k not in known})


# ---- start-up time -------------------------------------------------------------------------------------

def console_script() -> list[str]:
    beside = Path(sys.executable).parent / "hwbs-xl"
    found = str(beside) if beside.exists() else shutil.which("hwbs-xl")
    return [found] if found else [sys.executable, "-m", "hwbs_xl"]


def startup(runs: int) -> dict[str, Any]:
    """Median wall time of ``hwbs-xl --help`` (and of a bare interpreter, for scale); slowest imports."""
    def median_of(cmd: list[str]) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    cmd = console_script()
    help_s = median_of([*cmd, "--help"])
    bare_s = median_of([sys.executable, "-c", "pass"])
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import hwbs_xl.cli"],
                          capture_output=True, text=True, check=False)
    imports = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            imports.append((int(parts[1]), parts[2].rstrip()))
    top = [f"{name.strip()} {us / 1000:.0f} ms" for us, name in sorted(imports, reverse=True)[:6]
           if name.startswith(" ") and not name.startswith("   ")]
    heavy = [m for m in ("openpyxl", "xlsxwriter", "pdfplumber", "pypdf", "python_calamine", "sqlite3")
             if any(name.strip() == m for _, name in imports)]
    return {"command": " ".join([Path(cmd[0]).name, *cmd[1:], "--help"]), "runs": runs, "help_s": help_s,
            "bare_python_s": bare_s, "top_imports": top, "heavy_imported": heavy}


# ---- the machine ---------------------------------------------------------------------------------------

def machine() -> dict[str, str]:
    from importlib import metadata

    def cpu_model() -> str:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or platform.machine()

    def ram() -> str:
        try:
            kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                          if x.startswith("MemTotal")).split()[1])
            return f"{kb / 1024 / 1024:.1f} GB"
        except (OSError, StopIteration, ValueError):
            return "unknown"

    versions = []
    for dist in ("hwbs-xl", "openpyxl", "xlsxwriter", "python-calamine", "pdfplumber", "pdfminer.six", "typst", "pypdf",
                 "click"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    soffice = shutil.which("soffice")
    office = "not installed"
    if soffice:
        try:
            office = subprocess.run([soffice, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
        except (subprocess.SubprocessError, OSError):
            office = "installed (version unknown)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
    return {"CPU": cpu_model(), "cores": f"{cores} usable ({os.cpu_count()} online)", "RAM": ram(),
            "OS": f"{platform.system()} {platform.release()}", "Python": platform.python_version(),
            "libraries": ", ".join(versions), "LibreOffice": office, "commit": commit}


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


# ---- the figures ---------------------------------------------------------------------------------------

@dataclass
class SizeRun:
    size: str
    results: dict[str, StepResult]
    seconds: float
    load_before: str
    load_after: str

    def get(self, step: str) -> StepResult:
        return self.results.get(step) or StepResult(step, "not run")

    def combined(self, steps: tuple[str, ...], name: str) -> StepResult:
        """Several steps as one (validate + merge; the whole cycle): seconds add, memory is the largest."""
        parts = [self.get(s) for s in steps]
        if not all(p.ok for p in parts):
            missing = [p.step for p in parts if not p.ok]
            return StepResult(name, "incomplete", detail="needs " + ", ".join(missing))
        return StepResult(name, "ok", parts[0].items, sum(p.seconds for p in parts), parts[0].unit,
                          max(p.rss_mb for p in parts), max(p.workers_mb for p in parts),
                          sum(p.cpu_seconds for p in parts), "+".join(steps))


def ratio(a: StepResult, b: StepResult) -> float | None:
    return a.rate / b.rate if a.ok and b.ok and b.rate else None


def fmt_rate(r: StepResult) -> str:
    if not r.ok:
        return ""
    return f"{r.rate:,.1f} {r.unit}/s" if r.rate < 100 else f"{r.rate:,.0f} {r.unit}/s"


def size_table(run: SizeRun) -> list[str]:
    head = ["step", "items", "seconds", "rate", "ms/item", "CPU ms/item", "peak MB (workers)", "cores", "vs ref"]
    rows = [head, ["---"] * len(head)]
    refs = {"generate": "naive_write", "appendix_xlsx": "naive_appendix", "pdf_read": "naive_pdf",
            "validate+merge": "naive_read", "zip_floor": "generate"}
    lines = [(step, label) for step, label in STEPS]
    # the combined figures go right after the steps they add up
    lines.insert(next(i for i, (s, _) in enumerate(lines) if s == "merge") + 1, ("validate+merge", "validate + merge"))
    lines.append(("whole cycle", "whole cycle (generate, validate, merge + master, appendix xlsx)"))
    for step, label in lines:
        if step == "validate+merge":
            r = run.combined(("validate", "merge"), step)
        elif step == "whole cycle":
            r = run.combined(WHOLE_CYCLE, step)
        else:
            r = run.get(step)
        if not r.ok:
            rows.append([label, r.status, "", "", "", "", "", "", r.detail[:90]])
            continue
        ref = refs.get(step)
        x = ratio(r, run.combined(("validate", "merge"), ref) if ref == "validate+merge" else run.get(ref)) \
            if ref else None
        vs = f"{x:.1f}x" if x is not None else ""
        if step == "zip_floor" and x is not None:
            vs = f"{x:.1f}x generate"
        mem = f"{r.rss_mb:,.0f}" + (f" ({r.workers_mb:,.0f})" if r.workers_mb >= 1 else "")
        cpu = f"{r.cpu_ms_per_item:,.2f}" if r.cpu_seconds else ""
        rows.append([label, f"{r.items:,}", f"{r.seconds:,.2f}", fmt_rate(r), f"{r.ms_per_item:,.2f}", cpu, mem,
                     f"{r.cores:.1f}" if r.cpu_seconds else "", vs])
    return markdown_table(rows)


def markdown_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        if r[0] == "---":
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        else:
            out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    return out


def curve_table(runs: list[SizeRun]) -> list[str]:
    """Milliseconds per item of every stage at every size: flat means linear cost."""
    head = ["stage: wall ms (CPU ms) per item", *[r.size for r in runs], "largest / smallest"]
    rows = [head, ["---"] * len(head)]
    for step, label in STEPS:
        if step in ("synth", "fill", "zip_floor"):
            continue
        cells = [r.get(step) for r in runs]
        values = [c.ms_per_item for c in cells if c.ok and c.items]
        cpu = [c.cpu_ms_per_item for c in cells if c.ok and c.items]
        growth = f"{values[-1] / values[0]:.2f}" if len(values) > 1 and values[0] else ""
        if len(cpu) > 1 and cpu[0] and cpu[-1]:
            growth += f" (CPU {cpu[-1] / cpu[0]:.2f})"
        unit = next((c.unit for c in cells if c.ok), "")
        rows.append([f"{label.strip()} (per {unit.rstrip('s') or 'item'})",
                     *[f"{c.ms_per_item:,.2f} ({c.cpu_ms_per_item:,.2f})" if c.ok and c.items else c.status
                       for c in cells], growth])
    return markdown_table(rows)


def verdicts(runs: list[SizeRun], start: dict[str, Any] | None) -> list[str]:
    """Each target, judged at the largest size run (the targets speak of scale)."""
    rows = [["target", "measured", "verdict"], ["---"] * 3]
    big = runs[-1] if runs else None

    def judge(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "MISSED")

    if big:
        x = ratio(big.get("generate"), big.get("naive_write"))
        gen = big.get("generate")
        rows.append([f"generate >= {TARGETS['generate_vs_naive']:.0f}x naive openpyxl writer ({big.size})",
                     f"{x:.1f}x, {gen.cores:.1f} cores" if x else "", judge(None if x is None else x >= 2)])
        vm = big.combined(("validate", "merge"), "validate+merge")
        x = ratio(vm, big.get("naive_read"))
        rows.append([f"validate + merge >= {TARGETS['returns_vs_naive']:.0f}x naive openpyxl reader ({big.size})",
                     f"{x:.1f}x" if x else "", judge(None if x is None else x >= 5)])
        whole = big.combined(WHOLE_CYCLE, "whole")
        whole_ok = whole.seconds < TARGETS["whole_cycle_s"] if whole.ok else None
        mem = whole.rss_mb + whole.workers_mb
        rows.append([f"whole cycle < 2 min ({big.size}{'' if big.size == 'national' else '; the target is national'})",
                     f"{whole.seconds:,.1f} s" if whole.ok else whole.detail, judge(whole_ok)])
        rows.append([f"whole cycle peak memory < 1 GB ({big.size})",
                     f"{mem:,.0f} MB (process + largest worker)" if whole.ok else "",
                     judge(mem < TARGETS["whole_cycle_mb"] if whole.ok else None)])
        pdf = big.get("pdf_import") if big.get("pdf_import").ok else big.get("pdf_read")
        rows.append([f"PDF import >= {TARGETS['pdf_pages_per_s']:.0f} pages/s ({big.size}, {pdf.step})",
                     f"{pdf.rate:.2f} pages/s, {pdf.cores:.1f} cores" if pdf.ok else "",
                     judge(pdf.rate >= 4 if pdf.ok else None)])
    if len(runs) > 1:
        worst = []
        for step, label in STEPS:
            if step in ("synth", "fill") or label.startswith("  ref"):
                continue
            a, b = runs[0].get(step), runs[-1].get(step)
            if a.ok and b.ok and a.items and b.items and a.ms_per_item:
                if a.cpu_ms_per_item and b.cpu_ms_per_item:  # CPU per item: steadier on a shared machine
                    worst.append((b.cpu_ms_per_item / a.cpu_ms_per_item, label.strip()))
                else:
                    worst.append((b.ms_per_item / a.ms_per_item, label.strip()))
        worst.sort(reverse=True)
        shown = ", ".join(f"{name} {g:.1f}x" for g, name in worst[:3])
        rows.append([f"cost per item roughly constant, {runs[0].size} to {runs[-1].size} (CPU per item < 2x)",
                     f"largest growth: {shown}" if worst else "", judge(worst[0][0] < 2 if worst else None)])
    if start:
        rows.append([f"hwbs-xl --help < {TARGETS['help_s']} s", f"{start['help_s']:.3f} s (median of {start['runs']})",
                     judge(start["help_s"] < TARGETS["help_s"])])
    return markdown_table(rows)


def not_built(runs: list[SizeRun]) -> list[str]:
    names = sorted({r.detail.split(" is not")[0] for run in runs for r in run.results.values()
                    if r.status == "not built yet"})
    return names


def report(runs: list[SizeRun], start: dict[str, Any] | None, info: dict[str, str], args: argparse.Namespace,
           started: datetime) -> str:
    lines = ["# hwbs-xl benchmark results", "",
             f"Run {started:%Y-%m-%d %H:%M} with `python bench/run.py {' '.join(args.argv)}`"
             + (" — PROFILED run, times inflated by cProfile" if args.profile else "") + ".", "",
             "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "The machine may be shared: load average (1, 5, 15 min) is shown per size; figures taken "
              "under load are slower than the machine can do.", ""]
    for run in runs:
        lines += [f"## {run.size}", "",
                  f"{run.get('synth').detail or run.size} — load average before {run.load_before}, after "
                  f"{run.load_after}; {run.seconds:,.0f} s for the size.", ""]
        lines += size_table(run)
        lines += [""]
    if len(runs) > 1:
        lines += ["## Cost per item across sizes", ""] + curve_table(runs) + [""]
    if start:
        lines += ["## Start-up", "",
                  f"`{start['command']}`: median {start['help_s'] * 1000:.0f} ms of {start['runs']} runs "
                  f"(a bare `python -c pass`: {start['bare_python_s'] * 1000:.0f} ms). "
                  f"Heavy libraries imported by the CLI at start-up: {', '.join(start['heavy_imported']) or 'none'}. "
                  f"Slowest imports: {'; '.join(start['top_imports'])}.", ""]
    lines += ["## Targets", ""] + verdicts(runs, start) + [""]
    missing = not_built(runs)
    if missing:
        lines += ["Not built yet when this ran (rows show \"not built yet\"): " + ", ".join(missing) + ".", ""]
    lines += ["How to read: `ms/item` is the cost per workbook, return, action, page or row; `peak MB` is the "
              "step's own process (its largest worker or LibreOffice in brackets); `cores` is CPU seconds over "
              "wall seconds of the timed call (1.0 = one core busy, 2.0 = both; below 1.0 the step waited for "
              "disk, LibreOffice or a machine busy with other work); `vs ref` is the stage's rate over the "
              "reference's. Samples, where a size is large: the naive references handle the first "
              f"{args.ref_cap:,} workbooks/returns, PDF read and import use the first {args.pdf_pages} pages of "
              f"the appendix PDF, the text import the first {args.import_rows} actions of two cycles — per-item "
              "rates are what is compared. `validate + merge` adds the two commands a coordinator runs (merge "
              "validates again and rebuilds master.xlsx).", ""]
    return "\n".join(lines)


def keep_analysis(path: Path) -> str:
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if ANALYSIS_MARK in text:
            return ANALYSIS_MARK + text.split(ANALYSIS_MARK, 1)[1]
    return ANALYSIS_MARK + "\n\n## Analysis\n\n(Write the reading of the profiles here; run.py keeps this part.)\n"


# ---- main ----------------------------------------------------------------------------------------------

def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(DEFAULT_SIZES),
                   help="comma-separated: tiny, borough, region, national (default: borough,region,national)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: few start-up repeats, small reference samples and PDF samples")
    p.add_argument("--profile", action="store_true", help="run every step under cProfile (times inflated)")
    p.add_argument("--steps", default="",
                   help="only these steps, on the work folder of an earlier run unless synth is listed "
                        f"(for profiling one stage); steps: {', '.join(s for s, _ in STEPS)}")
    p.add_argument("--results", type=Path, default=BENCH / "RESULTS.md", help="where to write the results")
    p.add_argument("--work", type=Path, default=OUT, help="work folder (default bench/out)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds any one step may take (default 600; text import 240, appendix PDF 1200, fill 1200)")
    p.add_argument("--ref-cap", type=int, default=None, help="workbooks/returns the naive references handle")
    p.add_argument("--pdf-pages", type=int, default=None, help="pages of the appendix PDF used for PDF import")
    p.add_argument("--import-rows", type=int, default=None, help="actions per cycle in the text-import sample")
    p.add_argument("--render", action="store_true",
                   help="only rewrite RESULTS.md from the last run's figures (bench/out/results.json)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--size", help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.argv = argv
    if args.ref_cap is None:
        args.ref_cap = 20 if args.quick else 1000
    if args.pdf_pages is None:
        args.pdf_pages = 6 if args.quick else 60
    if args.import_rows is None:
        args.import_rows = 10 if args.quick else 100
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.child:
        return child(args.child, args.work, args.size, json.loads(args.options), args.profile)
    if args.render:
        return write_results(json.loads((args.work / "results.json").read_text()), args)
    sys.path.insert(0, str(BENCH))
    from synth import SIZES

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        print(f"unknown size {', '.join(unknown)}; choose from {', '.join(SIZES)}", file=sys.stderr)
        return 2
    only = {s.strip() for s in args.steps.split(",") if s.strip()}
    options = {"ref_cap": args.ref_cap, "pdf_pages": args.pdf_pages, "import_rows": args.import_rows}
    started = datetime.now()
    info = machine()
    print(f"hwbs-xl benchmark — {info['CPU']}, {info['cores']}, {info['RAM']}, Python {info['Python']}", flush=True)
    runs = []
    for size in sizes:
        work = args.work / size
        if only and "synth" not in only and not (work / "plan").exists():
            print(f"--steps without synth needs an earlier run of {size} in {work}", file=sys.stderr)
            return 2
        work.mkdir(parents=True, exist_ok=True)
        log = args.work / f"{size}.log"
        if not only:
            log.write_text("")
        print(f"\n== {size} (work folder {work}, log {log})", flush=True)
        load_before, t0 = load_average(), time.perf_counter()
        results: dict[str, StepResult] = {}
        for step, label in STEPS:
            if only and step not in only:
                continue
            timeout = args.timeout or STEP_TIMEOUTS.get(step, DEFAULT_TIMEOUT)
            r = run_step(step, work, size, options, profile=args.profile, timeout=timeout, log=log)
            results[step] = r
            shown = f"{r.seconds:8.2f} s  {fmt_rate(r):>22}  {r.rss_mb:6.0f} MB" if r.ok else f"{r.status}: {r.detail}"
            print(f"  {label.strip():<38} {shown}", flush=True)
            if step == "synth" and not r.ok:
                break
        runs.append(SizeRun(size, results, time.perf_counter() - t0, load_before, load_average()))
    start = None if only else startup(3 if args.quick else 15)
    raw = {"argv": args.argv, "started": started.isoformat(), "machine": info, "startup": start, "profile": args.profile,
           "options": options, "runs": [{"size": r.size, "seconds": r.seconds, "load_before": r.load_before,
                                          "load_after": r.load_after,
                                          "results": {k: asdict(v) for k, v in r.results.items()}} for r in runs]}
    (args.work / "results.json").write_text(json.dumps(raw, indent=1, default=str))
    return write_results(raw, args)


def write_results(raw: dict[str, Any], args: argparse.Namespace) -> int:
    """Render RESULTS.md from the raw figures of a run (also used by --render)."""
    runs = [SizeRun(r["size"], {k: StepResult(**v) for k, v in r["results"].items()}, r["seconds"],
                    r["load_before"], r["load_after"]) for r in raw["runs"]]
    start, info = raw["startup"], raw["machine"]
    args.argv, started = raw["argv"], datetime.fromisoformat(raw["started"])
    args.profile = raw.get("profile", False)
    for key, value in raw["options"].items():
        setattr(args, key, value)
    for run in runs:
        print("", f"== {run.size}", *size_table(run), sep="\n")
    text = report(runs, start, info, args, started)
    print("\n## Targets" + text.split("## Targets", 1)[1] if "## Targets" in text else "")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text + "\n" + keep_analysis(args.results), encoding="utf-8")
    print(f"\nWrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
