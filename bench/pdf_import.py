"""PDF import speed: pages per second of ``read_pdf`` with 1 and 2 worker processes.

    python bench/pdf_import.py [--copies 10] [--repeat 3] [PDF ...]

Default input: the committee-pack fixtures of the tests (the two seed appendices as LibreOffice Writer
PDFs, with and without ruling lines), each also repeated ``--copies`` times into one long pack with pypdf,
since a second process only pays for itself over many pages. For each file it reports the best of
``--repeat`` runs (wall time, so the machine's other load shows as noise, not as a trend), pages/s for one
and for two processes, the speed-up, and checks that both give exactly the same rows. The pdfplumber
floor (only parsing each page's characters, which every reader built on pdfplumber must do) is shown beside.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "pdf"
sys.path.insert(0, str(ROOT / "src"))

from hwbs_xl.importing.pdf import read_pdf  # noqa: E402


def cpu() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Best wall time and best CPU time of ``repeat`` runs, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), cpu()
        result = fn()
        walls.append(time.perf_counter() - started)
        cpus.append(cpu() - started_cpu)
    return min(walls), min(cpus), result


def floor(path: Path) -> None:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            _ = page.chars  # the floor: pdfplumber parses the page's characters
            page.close()


def long_pack(sources: list[Path], copies: int, folder: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for _ in range(copies):
        for source in sources:
            for page in PdfReader(source).pages:
                writer.add_page(page)
    out = folder / f"pack-{copies}x.pdf"
    with open(out, "wb") as fh:
        writer.write(fh)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdfs", nargs="*", type=Path)
    parser.add_argument("--copies", type=int, default=10, help="repeat the fixtures this often for the long pack")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    fixtures = [FIXTURES / f"barnet-{cycle}-{style}.pdf" for style in ("ruled", "plain")
                for cycle in ("2023-04", "2024-04")]
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        files = args.pdfs or [*fixtures, long_pack(fixtures, args.copies, Path(tmp))]
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before; best of {args.repeat}."
              " p/s = pages per wall-clock second; cpu p/s = pages per CPU second (all processes)")
        print(f"{'file':26} {'pages':>5} {'floor p/s':>9} {'1 proc p/s':>10} {'cpu p/s':>7} {'2 procs p/s':>11}"
              f" {'cpu p/s':>7} {'speed-up':>8} {'rows':>5}  same")
        for path in files:
            t_floor, _, _ = best(lambda path=path: floor(path), args.repeat)
            t1, c1, one = best(lambda path=path: read_pdf(path, workers=1), args.repeat)
            t2, c2, two = best(lambda path=path: read_pdf(path, workers=2), args.repeat)
            pages = one.pages or 0  # type: ignore[attr-defined]
            same = one.rows == two.rows and one.text_lines == two.text_lines  # type: ignore[attr-defined]
            print(f"{path.name[:26]:26} {pages:5d} {pages / t_floor:9.1f} {pages / t1:10.1f} {pages / c1:7.1f}"
                  f" {pages / t2:11.1f} {pages / c2:7.1f} {t1 / t2:7.2f}x {len(one.rows):5d}"  # type: ignore[attr-defined]
                  f"  {'yes' if same else 'NO'}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")

if __name__ == "__main__":
    main()
