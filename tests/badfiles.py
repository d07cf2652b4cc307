"""Builders shared by the reliability suites: bad inputs, faults, fuzzing, tampering and output safety.

Every bad file is made at test time from a workbook the tool itself issued (``test_returns_support``),
filled the way a lead would (openpyxl), then changed at the level another program or an attacker works
at: the zip package and its XML parts (``Package``). Nothing here mocks file I/O; "nothing lost" is
measured on the real register (``content``, ``data_tables``) and on the real input files (``sha``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import signal
import sqlite3
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from hwbs_xl.paths import PlanPaths
from hwbs_xl.register import Register

SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Excel escapes a control character as _xHHHH_, and text that only looks like such an escape by escaping
# its underscore (_x005F_): what a lead's Excel writes when they paste text from Word.
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (TimeoutError) instead of hanging when the block runs longer than ``seconds`` (a bound on a
    runaway, never a speed assertion: the limits are far above the normal time)."""
    def expired(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds:g} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def excel_escape(text: str) -> str:
    """Text as Excel stores it in a cell's XML: CR and control characters as _xHHHH_, "_x..._" protected."""
    text = _LOOKS_ESCAPED.sub(r"_x005F_\1", text)
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text.replace("\r", "_x000D_"))


# ---- the zip package and its XML parts ------------------------------------------------------------------

class Package:
    """A workbook's zip parts, editable as text, written back in their original order."""

    def __init__(self, data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.parts: dict[str, bytes] = {i.filename: z.read(i) for i in z.infolist()}

    @classmethod
    def of(cls, path: Path) -> Package:
        return cls(Path(path).read_bytes())

    def text(self, part: str) -> str:
        return self.parts[part].decode("utf-8")

    def put(self, part: str, text: str | bytes) -> None:
        self.parts[part] = text.encode("utf-8") if isinstance(text, str) else text

    def sub(self, part: str, pattern: str, repl: Any, count: int = 0, *, expect: bool = True) -> None:
        """re.sub on a part's text (DOTALL); ``expect`` asserts the pattern was there."""
        new, n = re.subn(pattern, repl, self.text(part), count=count, flags=re.S)
        assert n or not expect, (part, pattern)
        self.put(part, new)

    def bytes(self, *, rename: Any = None) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.parts.items():  # fixed times: the same parts give the same bytes
                info = zipfile.ZipInfo(rename(name) if rename else name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        return out.getvalue()

    def save(self, path: Path, **kw: Any) -> Path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(self.bytes(**kw))
        return Path(path)

    # -- sheets ----------------------------------------------------------------------------------------

    def _sheet_elements(self) -> list[tuple[str, str]]:
        """(name, relationship id) of each <sheet> in the workbook, in order."""
        return re.findall(r'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', self.text("xl/workbook.xml"))

    def sheet(self, name: str) -> str:
        """The part holding the sheet ``name``."""
        rid = dict(self._sheet_elements())[escape(name, {'"': "&quot;"})]
        rels = self.text("xl/_rels/workbook.xml.rels")
        target = re.search(rf'<Relationship\b[^>]*?Id="{rid}"[^>]*?/>', rels)
        assert target, rid
        path = re.search(r'Target="([^"]*)"', target.group()).group(1)  # type: ignore[union-attr]
        return path.lstrip("/") if path.startswith("/") else "xl/" + path

    def sheet_names(self) -> list[str]:
        return [n for n, _ in self._sheet_elements()]

    def rename_sheet(self, old: str, new: str) -> None:
        self.sub("xl/workbook.xml", rf'(<sheet\b[^>]*?name="){re.escape(old)}"', rf'\g<1>{new}"', count=1)
        self.sub("xl/workbook.xml", rf"'?{re.escape(old)}'?!", f"'{new}'!", expect=False)  # defined names

    def set_state(self, name: str, state: str | None) -> None:
        """A sheet's visibility: None (visible), "hidden" or "veryHidden"."""
        def change(m: re.Match[str]) -> str:
            element = re.sub(r'\sstate="[^"]*"', "", m.group())
            return element if state is None else element.replace("<sheet ", f'<sheet state="{state}" ', 1)
        self.sub("xl/workbook.xml", rf'<sheet\b[^>]*?name="{re.escape(name)}"[^>]*?/>', change, count=1)

    def add_sheet(self, name: str, cells: dict[str, str], *, index: int = 0, state: str | None = None) -> str:
        """A new sheet of inline-string cells at position ``index`` (what another program's export adds)."""
        n = 1
        while f"xl/worksheets/added{n}.xml" in self.parts:
            n += 1
        part = f"xl/worksheets/added{n}.xml"
        rows: dict[int, list[str]] = {}
        for ref, value in cells.items():
            row = int(re.sub(r"[A-Z]+", "", ref))
            rows.setdefault(row, []).append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        data = "".join(f'<row r="{r}">{"".join(cs)}</row>' for r, cs in sorted(rows.items()))
        self.put(part, f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>{data}'
                       "</sheetData></worksheet>")
        rid = f"rIdAdded{n}"
        self.sub("xl/_rels/workbook.xml.rels", r"</Relationships>",
                 f'<Relationship Id="{rid}" Type="{SHEET_REL}" Target="worksheets/added{n}.xml"/></Relationships>')
        self.sub("[Content_Types].xml", r"</Types>",
                 f'<Override PartName="/{part}" ContentType="{SHEET_CT}"/></Types>')
        ids = [int(i) for i in re.findall(r'sheetId="(\d+)"', self.text("xl/workbook.xml"))]
        element = (f'<sheet name="{escape(name)}" sheetId="{max(ids) + 1}"'
                   + (f' state="{state}"' if state else "") + f' r:id="{rid}"/>')
        sheets = re.findall(r"<sheet\b[^>]*?/>", self.text("xl/workbook.xml"))
        if index >= len(sheets):
            self.sub("xl/workbook.xml", r"</sheets>", element + "</sheets>", count=1)
        else:
            self.sub("xl/workbook.xml", re.escape(sheets[index]), lambda m: element + m.group(), count=1)
        # localSheetId counts sheets by position: an added sheet before them moves them along
        if index < len(sheets):
            self.sub("xl/workbook.xml", r'localSheetId="(\d+)"',
                     lambda m: f'localSheetId="{int(m.group(1)) + (int(m.group(1)) >= index)}"', expect=False)
        return part

    # -- cells ---------------------------------------------------------------------------------------------

    def cell(self, sheet: str, ref: str) -> str | None:
        """The XML of one cell element, or None when the sheet has no element for it."""
        xml = self.text(self.sheet(sheet))
        m = re.search(rf'<c r="{ref}"[\s/>][^>]*>', xml) or re.search(rf'<c r="{ref}">', xml)
        if m is None:
            return None
        if m.group().endswith("/>"):  # an empty cell: <c r="J5" s="3"/>
            return m.group()
        end = xml.index("</c>", m.end()) + len("</c>")
        return xml[m.start():end]

    def set_cell(self, sheet: str, ref: str, body: str = "", t: str | None = None, **attrs: str) -> None:
        """Replace cell ``ref`` (which must exist, as every cell of an issued row does) with ``body`` inside
        it, type ``t`` and extra attributes; its style is kept."""
        part = self.sheet(sheet)
        old = self.cell(sheet, ref)
        assert old is not None, (sheet, ref)
        style = re.search(r'\ss="(\d+)"', old.split(">", 1)[0])
        extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
        new = (f'<c r="{ref}"' + (f' s="{style.group(1)}"' if style else "") + (f' t="{t}"' if t else "")
               + extra + (f">{body}</c>" if body else "/>"))
        self.sub(part, re.escape(old), lambda m: new, count=1)

    def set_text(self, sheet: str, ref: str, text: str, *, escaped: bool = False) -> None:
        """An inline-string cell holding ``text`` (escaped as Excel would unless ``escaped`` says it is)."""
        value = text if escaped else excel_escape(text)
        self.set_cell(sheet, ref, f'<is><t xml:space="preserve">{escape(value)}</t></is>', t="inlineStr")

    def shared_strings(self) -> None:
        """Move every inline string into a shared-strings part (how Excel stores text)."""
        strings: list[str] = []
        index: dict[str, int] = {}

        def share(m: re.Match[str]) -> str:
            inner = m.group(2)
            if inner not in index:
                index[inner] = len(strings)
                strings.append(inner)
            return f'<c{m.group(1)} t="s"><v>{index[inner]}</v></c>'

        for part in [p for p in self.parts if p.startswith("xl/worksheets/") and p.endswith(".xml")]:
            self.sub(part, r'<c([^>]*?) t="inlineStr"(?:[^>]*)>\s*<is>(.*?)</is>\s*</c>', share, expect=False)
        items = "".join(f"<si>{s}</si>" for s in strings)
        self.put("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 f'<sst xmlns="{MAIN_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>')
        self.sub("xl/_rels/workbook.xml.rels", r"</Relationships>",
                 '<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        self.sub("[Content_Types].xml", r"</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType='
                 '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')

    def unprotect(self) -> None:
        for part in self.parts:
            if part.startswith("xl/worksheets/") and part.endswith(".xml"):
                self.sub(part, r"<sheetProtection\b[^>]*/>", "", expect=False)

    def set_dimension(self, sheet: str, ref: str | None) -> None:
        """Change the <dimension> a sheet declares (None removes it, as Google Sheets' export does)."""
        self.sub(self.sheet(sheet), r"<dimension\b[^>]*/>", "" if ref is None else f'<dimension ref="{ref}"/>', count=1)

    def merge_cells(self, sheet: str, ref: str) -> None:
        part = self.sheet(sheet)
        text = self.text(part)
        anchor = next(t for t in ("<phoneticPr", "<conditionalFormatting", "<dataValidations", "<hyperlinks",
                                  "<printOptions", "<pageMargins", "</worksheet>") if t in text)
        self.sub(part, re.escape(anchor), f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>{anchor}', count=1)


# ---- the register, compared ------------------------------------------------------------------------------

DATA_TABLES = ("plan", "cycles", "actions", "updates", "flags", "issued")
VOLATILE = {"recorded_at", "received_at", "batch_id", "started_at", "settled_at", "report", "stored_path"}


def fingerprint(paths: PlanPaths) -> str:
    with Register.open(paths) as reg:
        return reg.fingerprint()


def _rows(conn: sqlite3.Connection, table: str, drop: set[str]) -> list[dict[str, Any]]:
    rows = [{k: v for k, v in dict(r).items() if k not in drop} for r in conn.execute(f"SELECT * FROM {table}")]
    return sorted(rows, key=lambda r: repr(sorted(r.items())))


def data_tables(paths: PlanPaths) -> dict[str, list[dict[str, Any]]]:
    """The plan's data: everything but the record of returns received and the change log."""
    with Register.open(paths) as reg:
        return {t: _rows(reg.conn, t, set()) for t in DATA_TABLES}


def content(paths: PlanPaths) -> dict[str, list[dict[str, Any]]]:
    """Everything the register says, without clock times and batch numbers: equal between two runs that
    did the same work (for "old or fully new" after a fault)."""
    with Register.open(paths) as reg:
        out = {t: _rows(reg.conn, t, VOLATILE) for t in (*DATA_TABLES, "returns")}
        out["batches"] = _rows(reg.conn, "batches", VOLATILE | {"id", "who", "undone_by", "undoes", "files"})
    return out


def temps(root: Path) -> list[Path]:
    """Temporary files left in a plan folder (atomic writes and SQLite journals)."""
    return sorted(p for p in Path(root).rglob("*") if p.name.startswith(".hwbs-tmp-") or p.name.endswith("-journal"))


def shas(files: Iterable[Path]) -> dict[Path, str]:
    return {Path(p): sha(p) for p in files}
