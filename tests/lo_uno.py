"""Drive a real LibreOffice (headless, over UNO) from the tests: inspect a workbook, or fill it in and save.

    lo_inspect(path, cells={"Update": ["A5", "I5"]}) -> dict
    lo_fill(src, dest, {("Update", "I5"): "Completed", ("Update", "K5"): date(2025, 3, 31)})

Why a subprocess: the ``uno`` module exists only for the system Python (/usr/bin/python3, Debian's
python3-uno), not for the Python that runs pytest. So this file is also a script: the functions below
run ``/usr/bin/python3 lo_uno.py JOB.json RESULT.json``, which starts its own ``soffice`` with a throw-away
profile, listening on a unique pipe, does the job, closes the document, terminates LibreOffice and waits
for it. Robustness: the worker runs in its own process group with a time limit. On timeout it is asked to
stop (it then closes LibreOffice and reaps it: it is a child subreaper, so soffice.bin is its child even
after the launcher dies), and after a grace period the whole group is killed; the profile folder is
always removed. So no soffice, running or zombie, is left behind.

Values for lo_fill: ``str`` is stored as text exactly as given (line breaks included), ``int``/``float``
as numbers, ``date``/``datetime`` as real dates (the cell gets a date format if it has none), ``None``
empties the cell, and ``Typed("...")`` is entered the way a person typing it would be (LibreOffice parses
numbers, dates and "=formulas"). ``unprotect=True`` removes sheet protection first (to simulate a lead who
stripped it); otherwise protection stays as it was and locked cells are still written through the API.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = os.environ.get("HWBS_UNO_PYTHON", "/usr/bin/python3")
TIMEOUT = float(os.environ.get("HWBS_UNO_TIMEOUT", "180"))
XLSX_FILTER = "Calc MS Excel 2007 XML"


@dataclass(frozen=True)
class Typed:
    """Text entered as if typed into the cell (LibreOffice interprets it: numbers, dates, formulas)."""

    text: str


class UnoFailed(RuntimeError):
    pass


# ---- the side pytest calls -------------------------------------------------------------------------------

def uno_available() -> bool:
    try:
        return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _encode(value: object) -> dict[str, Any]:
    if value is None:
        return {"kind": "empty"}
    if isinstance(value, Typed):
        return {"kind": "typed", "value": value.text}
    if isinstance(value, datetime):
        return {"kind": "date", "value": value.date().isoformat()}
    if isinstance(value, date):
        return {"kind": "date", "value": value.isoformat()}
    if isinstance(value, bool):
        raise TypeError("booleans are not supported")
    if isinstance(value, (int, float)):
        return {"kind": "number", "value": value}
    return {"kind": "text", "value": str(value)}


def _run(job: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
    from libreoffice import find_soffice

    soffice = find_soffice()
    if soffice is None:
        raise UnoFailed("LibreOffice (soffice) is not installed")
    job["soffice"] = soffice
    with tempfile.TemporaryDirectory(prefix="hwbs-uno-job-") as tmp:
        job_file, result_file = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        proc = subprocess.Popen([SYSTEM_PYTHON, str(Path(__file__).resolve()), str(job_file), str(result_file)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()  # the worker then closes LibreOffice itself and reaps it
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.communicate()
            raise UnoFailed(f"LibreOffice did not finish within {timeout:g}s (stopped)") from None
        finally:
            _kill_group(proc.pid)  # anything the worker left behind in its group (normally nothing)
        if proc.returncode != 0 or not result_file.exists():
            raise UnoFailed(f"UNO worker failed (exit {proc.returncode}): {err.decode(errors='replace')[-2000:]}")
        return json.loads(result_file.read_text(encoding="utf-8"))


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def lo_inspect(path: Path, cells: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """What LibreOffice sees in a workbook.

    Returns {"sheets": [{"name", "visible", "protected", "cells": {A1: {...}}}], "by_name": {name: sheet}}.
    Each inspected cell: locked, type (EMPTY/VALUE/TEXT/FORMULA), string, value, formula, validation
    (None or {"type": "LIST"/"DATE"/"TEXT_LEN"/..., "formula1", "formula2", "list": [...] for lists,
    "show_error", "error_style", "show_input", "input_title", "input_message"}).
    """
    result = _run({"op": "inspect", "src": str(Path(path).resolve()), "cells": cells or {}})
    result["by_name"] = {s["name"]: s for s in result["sheets"]}
    return result


def lo_fill(src: Path, dest: Path, edits: dict[tuple[str, str], object], *, unprotect: bool = False) -> None:
    """Open ``src`` in LibreOffice, put each value in (sheet name, "A1"), save as xlsx at ``dest``."""
    job = {"op": "fill", "src": str(Path(src).resolve()), "dest": str(Path(dest).resolve()), "unprotect": unprotect,
           "edits": [[sheet, cell, _encode(v)] for (sheet, cell), v in edits.items()]}
    _run(job)
    if not Path(dest).exists():
        raise UnoFailed(f"LibreOffice did not write {dest}")


# ---- the worker (runs under /usr/bin/python3 with python3-uno) -------------------------------------------

def _worker(job_path: str, result_path: str) -> None:
    import uno  # noqa: F401  (only the system Python has it)

    _become_subreaper()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on a polite stop
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    profile = tempfile.mkdtemp(prefix="hwbs-uno-profile-")
    pipe = f"hwbs_uno_{os.getpid()}_{int(time.time() * 1000)}"
    office = subprocess.Popen(
        [job["soffice"], f"-env:UserInstallation=file://{profile}", "--headless", "--invisible", "--nologo",
         "--norestore", "--nolockcheck", "--nodefault", f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HOME": profile})
    desktop = None
    try:
        desktop = _connect(pipe, office)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(job["src"]), "_blank", 0, _props(Hidden=True))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {job['src']}")
        try:
            result = _inspect(doc, job["cells"]) if job["op"] == "inspect" else _fill(doc, job)
        finally:
            doc.close(True)
        Path(result_path).write_text(json.dumps(result), encoding="utf-8")
    finally:
        # Ask LibreOffice to quit (also after a failure), wait for it, and kill it if it will not go.
        if desktop is not None:
            try:
                desktop.terminate()
            except Exception:  # LibreOffice drops the bridge while terminating: expected
                pass
        else:
            office.terminate()  # never connected (stopped early, or failed to start): no reason to wait
        try:
            office.wait(timeout=20)
        except subprocess.TimeoutExpired:
            office.kill()
            office.wait()
        _kill_and_reap_children()
        shutil.rmtree(profile, ignore_errors=True)


def _become_subreaper() -> None:
    """Orphans of LibreOffice's launcher (soffice.bin) become our children, so we can reap them: no zombies."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER (Linux)
    except (OSError, AttributeError):
        pass


def _kill_and_reap_children() -> None:
    """Kill whatever children are left (orphaned soffice.bin included) and reap them all."""
    me = f"\nPPid:\t{os.getpid()}\n"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and me in (proc / "status").read_text():
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                continue
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return  # no children left
        time.sleep(0.05)


def _props(**kwargs: Any) -> tuple[Any, ...]:
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    out = []
    for k, v in kwargs.items():
        p = PropertyValue()
        p.Name, p.Value = k, v
        out.append(p)
    return tuple(out)


def _connect(pipe: str, office: subprocess.Popen) -> Any:  # type: ignore[type-arg]
    import uno
    from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 90
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except NoConnectException:
            if office.poll() is not None:
                raise RuntimeError(f"soffice exited with {office.returncode} before accepting a connection") from None
            if time.monotonic() > deadline:
                raise RuntimeError("soffice did not accept a connection within 90s") from None
            time.sleep(0.25)


def _validation(cell: Any, doc: Any) -> dict[str, Any] | None:
    v = cell.Validation
    kind = v.Type.value
    if kind == "ANY" and not v.ShowInputMessage:
        return None
    out = {"type": kind, "formula1": v.getFormula1(), "formula2": v.getFormula2(),
           "show_error": bool(v.ShowErrorMessage), "error_style": v.ErrorAlertStyle.value,
           "show_input": bool(v.ShowInputMessage), "input_title": v.InputTitle, "input_message": v.InputMessage,
           "ignore_blank": bool(v.IgnoreBlankCells), "show_list": int(v.ShowList)}
    if kind == "LIST":
        out["list"] = _list_items(v.getFormula1(), doc)
    return out


def _list_items(formula: str, doc: Any) -> list[str]:
    import re

    f = formula.strip()
    if f.startswith('"'):
        return [item.replace('""', '"') for item in re.findall(r'"((?:[^"]|"")*)"', f)]
    m = re.fullmatch(r"\$?'?(.+?)'?\.\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", f)
    if not m:
        return [f"<unresolved: {f}>"]
    sheet = doc.Sheets.getByName(m.group(1).replace("''", "'"))
    ref = f"{m.group(2)}{m.group(3)}" + (f":{m.group(4)}{m.group(5)}" if m.group(4) else "")
    rng = sheet.getCellRangeByName(ref)
    return [row[0] for row in rng.getDataArray()]


def _inspect(doc: Any, cells: dict[str, list[str]]) -> dict[str, Any]:
    sheets = []
    for i in range(doc.Sheets.getCount()):
        sh = doc.Sheets.getByIndex(i)
        info: dict[str, Any] = {"name": sh.Name, "visible": bool(sh.IsVisible), "protected": bool(sh.isProtected()),
                                "cells": {}}
        for a1 in cells.get(sh.Name, []):
            c = sh.getCellRangeByName(a1)
            info["cells"][a1] = {"locked": bool(c.CellProtection.IsLocked), "type": c.Type.value,
                                 "string": c.getString(), "value": c.getValue(), "formula": c.getFormula(),
                                 "validation": _validation(c, doc)}
        sheets.append(info)
    return {"sheets": sheets}


def _is_date_format(doc: Any, key: int) -> bool:
    fmt = doc.NumberFormats.getByKey(key)
    return bool(fmt.Type & 2)  # com.sun.star.util.NumberFormat.DATE


def _date_format_key(doc: Any) -> int:
    from com.sun.star.lang import Locale  # type: ignore[import-not-found]

    formats, locale = doc.NumberFormats, Locale()
    key = formats.queryKey("YYYY-MM-DD", locale, False)
    return key if key != -1 else formats.addNew("YYYY-MM-DD", locale)


def _fill(doc: Any, job: dict[str, Any]) -> dict[str, Any]:
    import uno

    if job.get("unprotect"):
        for i in range(doc.Sheets.getCount()):
            doc.Sheets.getByIndex(i).unprotect("")
    null = doc.NullDate
    epoch = date(null.Year, null.Month, null.Day)
    for sheet_name, a1, spec in job["edits"]:
        cell = doc.Sheets.getByName(sheet_name).getCellRangeByName(a1)
        kind = spec["kind"]
        if kind == "empty":
            cell.clearContents(1 | 2 | 4 | 16)  # VALUE | DATETIME | STRING | FORMULA
        elif kind == "text":
            cell.setString(spec["value"])
        elif kind == "typed":
            cell.setFormula(spec["value"])
        elif kind == "number":
            cell.setValue(spec["value"])
        elif kind == "date":
            cell.setValue((date.fromisoformat(spec["value"]) - epoch).days)
            if not _is_date_format(doc, cell.NumberFormat):
                cell.NumberFormat = _date_format_key(doc)
    url = uno.systemPathToFileUrl(job["dest"])
    doc.storeToURL(url, _props(FilterName=XLSX_FILTER, Overwrite=True))
    return {"saved": job["dest"]}


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2])
