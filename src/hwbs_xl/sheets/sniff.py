"""Decide what a returned file is from its bytes, and refuse dangerous or broken files before any parse.

Order of checks (each one cheap, each one before the step it protects):

1. Magic bytes: a zip (xlsx, xlsm, ods), an OLE container (xls, or an *encrypted* xlsx, which Excel
   stores as OLE), or anything else (``file-not-spreadsheet``; the name's extension is never trusted).
2. The zip directory: number of entries, declared unpacked size, compression ratio of big parts
   (``file-suspicious-compression`` / ``file-too-large``), before a single part is unpacked.
3. Every XML part is streamed once through expat with DTDs refused (``file-unsafe-xml``); worksheets are
   measured on the way (rows holding values, cells, the span calamine would allocate), so a row bomb or a
   far-away cell stops at the limit (``sheet-too-many-rows``, ``file-too-large``) instead of after a parse.
4. The package itself: content types, the workbook part, Strict OOXML, macros, the 1904 date system; for
   ODS its mimetype and encryption.

The same single pass collects each sheet's *structure* (``SheetStructure``): whether it is protected, the
formulas typed into cells (their text), cells holding error values, and merged ranges. That is all the
returns checks need beyond the values, so no second XML parser (openpyxl: about 60 ms a workbook, and a
failure on Strict files, backslash part names or broken styles) is needed. Values come from calamine.

Returns a ``Sniffed``; never raises on bad data.
"""

from __future__ import annotations

import io
import itertools
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable
from xml.parsers import expat

from ..findings import Finding
from ..text import clip
from . import limits
from .cells import GRID_COLS, GRID_ROWS, parse_a1

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
ODS_MIMETYPES = ("application/vnd.oasis.opendocument.spreadsheet",
                 "application/vnd.oasis.opendocument.spreadsheet-template")
XML_SUFFIXES = (".xml", ".rels", ".vml")

# What a file is, when it is not a spreadsheet, so the message can say so (never "old .xls").
_OTHER_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"{\\rtf", "an RTF document"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
)


@dataclass
class SheetStructure:
    """What a sheet's XML says beyond its values (1-based (row, col) keys)."""

    protected: bool = False
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # the text typed, "=..."
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # "#N/A", "#VALUE!"...
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # first row, col, last row, col


@dataclass
class Sniffed:
    """What the bytes are. ``kind`` is None when the file was refused (see ``findings``)."""

    kind: str | None = None  # "xlsx", "xlsm", "xlsx-strict", "xls", "ods"
    findings: list[Finding] = field(default_factory=list)
    date1904: bool = False
    macros: bool = False
    structure: dict[str, SheetStructure] = field(default_factory=dict)  # by sheet name; empty for .xls

    @property
    def refused(self) -> bool:
        return self.kind is None


class _Refuse(Exception):
    def __init__(self, code: str, message: str, **detail: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


def sniff(data: bytes, name: str) -> Sniffed:
    """Classify ``data`` (the whole file) and run every pre-parse check. ``name`` is for messages only."""
    try:
        if data.startswith(ZIP_MAGICS):
            return _sniff_zip(data, name)
        if data.startswith(OLE_MAGIC):
            return _sniff_ole(data, name)
        raise _Refuse("file-not-spreadsheet", _not_spreadsheet_message(data, name))
    except _Refuse as r:
        return Sniffed(None, [Finding(r.code, r.message, file=name, detail=dict(r.detail))])


# ---- not a spreadsheet -------------------------------------------------------------------------------

def _not_spreadsheet_message(data: bytes, name: str) -> str:
    return (f"{name} is not a spreadsheet: its content is {describe_bytes(data)}, whatever its name says. "
            "Ask the lead to attach the workbook itself (the .xlsx file saved from Excel or LibreOffice).")


def describe_bytes(data: bytes) -> str:
    """A person's description of what some bytes are, from their first few bytes."""
    if not data:
        return "empty (0 bytes)"
    for magic, what in _OTHER_MAGICS:
        if data.startswith(magic):
            return what
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]:
        return "a web page (HTML), perhaps saved from a browser or an e-mail"
    if head.startswith(b"<?xml"):
        return "an XML file (perhaps 'XML Spreadsheet 2003', which hwbs-xl does not read)"
    if re.match(rb"(from|received|return-path|mime-version|content-type|attachment)\b", head):
        return "an e-mail message or attachment header, not the attachment itself"
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return f"unrecognised binary data ({len(data):,} bytes)"
    if "," in text or "\t" in text:
        return "plain text (perhaps a CSV export, which loses the manifest)"
    return "plain text"


# ---- OLE containers: .xls, or encrypted OOXML -----------------------------------------------------------

def _sniff_ole(data: bytes, name: str) -> Sniffed:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        streams = {"/".join(s) for s in ole.listdir()}
    except Exception as exc:  # olefile raises its own and builtin errors on damaged containers
        raise _Refuse("file-corrupt", f"{name} is a damaged Office file (its container cannot be read: "
                      f"{_short(exc)}). Ask the lead to save it again and re-send it.", part="OLE container")
    if {"EncryptionInfo", "EncryptedPackage"} <= streams:
        raise _Refuse("file-encrypted", _encrypted_message(name, "Excel workbook (.xlsx)"), format="xlsx")
    if "Workbook" in streams or "Book" in streams:
        if _xls_encrypted(data):
            raise _Refuse("file-encrypted", _encrypted_message(name, "Excel 97-2003 workbook (.xls)"), format="xls")
        return Sniffed("xls")
    what = "a Word document" if "WordDocument" in streams else (
        "a PowerPoint presentation" if "PowerPoint Document" in streams else "an Office file that holds no workbook")
    raise _Refuse("file-not-spreadsheet", f"{name} is not a spreadsheet: it is {what}. "
                  "Ask the lead to attach the workbook itself (the .xlsx file).")


def _xls_encrypted(data: bytes) -> bool:
    import msoffcrypto

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # msoffcrypto cannot tell: let the reader try, it reports what it finds
        return False


def _encrypted_message(name: str, fmt: str) -> str:
    return (f"{name} is password-protected (an {fmt} with a password to open it), so it cannot be read. "
            "Ask the lead to re-save it without 'Password to open' (Excel: File > Info > Protect Workbook > "
            "Encrypt with Password, clear it; LibreOffice: Save As and untick 'Save with password') and send it again. "
            "Sheet protection without a password to open is fine.")


# ---- zip packages -------------------------------------------------------------------------------------

def _sniff_zip(data: bytes, name: str) -> Sniffed:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _Refuse("file-corrupt", f"{name} is incomplete: the zip directory at the end of the file is missing "
                      "(a cut-short download or a failed save). Ask the lead to send it again.",
                      part="zip central directory") from None
    except (ValueError, NotImplementedError, OSError) as exc:
        raise _Refuse("file-corrupt", f"{name} is damaged: {_short(exc)}. Ask the lead to save it again and re-send it.",
                      part="zip container") from None
    with zf:
        _check_directory(zf, name)
        parts = {_norm(i.filename): i for i in zf.infolist()}
        if "mimetype" in parts and "[Content_Types].xml" not in parts:
            return _sniff_ods(zf, parts, name)
        return _sniff_ooxml(zf, parts, name)


def _check_directory(zf: zipfile.ZipFile, name: str) -> None:
    infos = zf.infolist()
    if len(infos) > limits.MAX_ZIP_ENTRIES:
        raise _Refuse("file-suspicious-compression",
                      f"{name} holds {len(infos):,} packed parts (limit {limits.MAX_ZIP_ENTRIES:,}); a workbook has a few dozen. "
                      "It was not opened. If it is genuine, ask the lead to copy the update sheet into a fresh copy of the issued workbook.",
                      limit="MAX_ZIP_ENTRIES", value=len(infos))
    total = sum(i.file_size for i in infos)
    if total > limits.MAX_UNPACKED_BYTES:
        raise _Refuse("file-too-large",
                      f"{name} would unpack to {total / limits.MB:,.0f} MB (limit {limits.MAX_UNPACKED_BYTES // limits.MB} MB). "
                      "It was not opened. Ask the lead to send the issued workbook with only their updates typed in.",
                      limit="MAX_UNPACKED_BYTES", value=total)
    for i in infos:
        if i.file_size > limits.RATIO_APPLIES_ABOVE and i.file_size > limits.MAX_PART_RATIO * max(i.compress_size, 1):
            raise _Refuse("file-suspicious-compression",
                          f"{name}: the part {_norm(i.filename)} packs {i.file_size / limits.MB:,.0f} MB into "
                          f"{i.compress_size:,} bytes (more than {limits.MAX_PART_RATIO}:1, a zip-bomb pattern). It was not opened.",
                          limit="MAX_PART_RATIO", part=_norm(i.filename), value=i.file_size)


def _norm(part: str) -> str:
    """Part names as the package means them (some producers write backslashes)."""
    return part.replace("\\", "/").lstrip("/")


def _sniff_ooxml(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], name: str) -> Sniffed:
    if "[Content_Types].xml" not in parts:
        raise _Refuse("file-corrupt", f"{name} is a zip file but not a complete workbook: the part "
                      "[Content_Types].xml is missing. Ask the lead to save the workbook again from Excel or LibreOffice.",
                      part="[Content_Types].xml")
    main = _main_part(zf, parts, name)
    ctype = _content_type(zf, parts, main, name)
    if "wordprocessingml" in ctype or "presentationml" in ctype:
        what = "a Word document" if "wordprocessingml" in ctype else "a PowerPoint presentation"
        raise _Refuse("file-not-spreadsheet", f"{name} is not a spreadsheet: it is {what}. "
                      "Ask the lead to attach the workbook itself (the .xlsx file).")
    if "sheet.binary" in ctype or main.endswith(".bin"):
        raise _Refuse("file-format-xlsb", f"{name} is an Excel binary workbook (.xlsb), which hwbs-xl does not read. "
                      "Ask the lead to open it and use File > Save As > 'Excel Workbook (.xlsx)', then send that.")
    by_part = _scan_all(zf, parts, name, worksheet=lambda p: "worksheets/" in p)
    root_ns, date1904, sheets = _workbook_facts(zf, parts[main], name, main)
    targets = _relationships(zf, parts, main, name)
    structure = {sheet: by_part[targets[rid]] for sheet, rid in sheets if targets.get(rid) in by_part}
    macros = "macroenabled" in ctype.lower() or any(p.lower().endswith("vbaproject.bin") for p in parts)
    if root_ns == STRICT_NS:
        kind = "xlsx-strict"
    else:
        kind = "xlsm" if macros else "xlsx"
    return Sniffed(kind, [], date1904=date1904, macros=macros, structure=structure)


def _relationships(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], source: str, name: str) -> dict[str, str]:
    """Relationship id -> target part (normalised) for the part ``source``."""
    folder, _, base = source.rpartition("/")
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    info = parts.get(rels_name)
    if info is None:
        return {}
    out = {}
    for el in _elements(_read(zf, info, name), name, rels_name, "Relationship"):
        target = el.get("Target", "").replace("\\", "/")
        if el.get("TargetMode") == "External" or not target:
            continue
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[el.get("Id", "")] = posixpath.normpath(resolved)
    return out


def _main_part(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], name: str) -> str:
    """The workbook part, found through the package relationships (not assumed to be xl/workbook.xml)."""
    rels = parts.get("_rels/.rels")
    target = None
    if rels is not None:
        for el in _elements(_read(zf, rels, name), name, "_rels/.rels", "Relationship"):
            if el.get("Type", "").endswith("/officeDocument"):
                target = _norm(el.get("Target", ""))
                break
    if target is None and "xl/workbook.xml" in parts:
        target = "xl/workbook.xml"
    if target is None or target not in parts:
        missing = target or "_rels/.rels (which names the workbook part)"
        raise _Refuse("file-corrupt", f"{name} is a zip file but holds no workbook: the part {missing} is missing. "
                      "Ask the lead to save the workbook again from Excel or LibreOffice and re-send it.", part=missing)
    return target


def _content_type(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], part: str, name: str) -> str:
    defaults: dict[str, str] = {}
    types = parts["[Content_Types].xml"]
    for el in _elements(_read(zf, types, name), name, "[Content_Types].xml", "Override", "Default"):
        if el.get("PartName") and _norm(el["PartName"]).lower() == part.lower():
            return el.get("ContentType", "")
        if el.get("Extension"):
            defaults[el["Extension"].lower()] = el.get("ContentType", "")
    return defaults.get(part.rsplit(".", 1)[-1].lower(), "")


def _workbook_facts(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                    part: str) -> tuple[str, bool, list[tuple[str, str]]]:
    """(namespace of the workbook element, whether dates count from 1904, [(sheet name, relationship id)]);
    refuses too many sheets."""
    facts: dict[str, Any] = {"ns": "", "date1904": False}
    sheets: list[tuple[str, str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit("}", 1)[-1]
        if not facts["ns"]:
            facts["ns"] = tag.rsplit("}", 1)[0] if "}" in tag else ""
        if local == "workbookPr":
            facts["date1904"] = attrs.get("date1904", "").lower() in ("1", "true")
        elif local == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith("}id") or k == "r:id"), "")
            sheets.append((attrs.get("name", ""), rid))

    _parse(_read(zf, info, name), name, part, start, namespaces=True)
    if len(sheets) > limits.MAX_SHEETS:
        raise _Refuse("file-too-large", f"{name} has {len(sheets):,} sheets (limit {limits.MAX_SHEETS}). It was not opened.",
                      limit="MAX_SHEETS", value=len(sheets))
    return str(facts["ns"]), bool(facts["date1904"]), sheets


# ---- ODS ----------------------------------------------------------------------------------------------

def _sniff_ods(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], name: str) -> Sniffed:
    mimetype = _read(zf, parts["mimetype"], name)[:200].decode("ascii", "replace").strip()
    if mimetype not in ODS_MIMETYPES:
        kind = mimetype.rsplit(".", 1)[-1] if "opendocument" in mimetype else mimetype or "unknown"
        raise _Refuse("file-not-spreadsheet", f"{name} is not a spreadsheet: it is an OpenDocument {kind} file. "
                      "Ask the lead to attach the workbook itself.")
    manifest = parts.get("META-INF/manifest.xml")
    if manifest is not None and b"encryption-data" in _read(zf, manifest, name):
        raise _Refuse("file-encrypted", _encrypted_message(name, "OpenDocument spreadsheet (.ods)"), format="ods")
    if "content.xml" not in parts:
        raise _Refuse("file-corrupt", f"{name} is an OpenDocument file without its content.xml part. "
                      "Ask the lead to save it again and re-send it.", part="content.xml")
    meters = _scan_all(zf, parts, name, worksheet=lambda p: p == "content.xml", ods=True)
    return Sniffed("ods", [], structure=meters.get("content.xml", {}))


# ---- streaming every XML part -------------------------------------------------------------------------

def _scan_all(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], name: str,
              worksheet: Callable[[str], bool], ods: bool = False) -> dict[str, Any]:
    """Stream every XML part once: refuse DTDs/entities and CRC errors, measure worksheets and collect their
    structure. Returns part -> SheetStructure (for ODS: "content.xml" -> {table name: SheetStructure})."""
    total_cells = 0
    found: dict[str, Any] = {}
    for part, info in parts.items():
        if not part.lower().endswith(XML_SUFFIXES) or info.is_dir():
            continue
        if worksheet(part):
            meter: _SheetMeter | _OdsMeter = _OdsMeter(name) if ods else _SheetMeter(name, part)
            _parse_stream(zf, info, name, part, meter.start, meter.end, meter.bind)
            found[part] = meter.structure
            total_cells += meter.value_cells
            if total_cells > limits.MAX_CELLS:
                raise _Refuse("file-too-large", f"{name} holds more than {limits.MAX_CELLS:,} filled cells. "
                              "It was not read. Ask the lead to return the issued workbook with only their updates.",
                              limit="MAX_CELLS", value=total_cells)
        else:
            _scan_for_dtd(zf, info, name, part)
    return found


_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_UTF16 = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")


def _scan_for_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, part: str) -> None:
    """Parts no parser of ours walks (shared strings, styles, theme, properties) are searched for a DTD or
    entity declaration as bytes: C speed, streamed, and the zip CRC is still checked to the end."""
    try:
        if info.file_size <= limits.STREAM_CHUNK:  # the usual case: one read (CRC checked), one search
            data = zf.read(info)
            if data.startswith(_UTF16):
                data = data.decode("utf-16", "replace").encode("utf-8")
            if _DTD.search(data):
                _unsafe(name, part)
            return
        with zf.open(info) as fh:
            head = fh.read(limits.STREAM_CHUNK)
            if head.startswith(_UTF16):  # UTF-16 XML: decode before searching (bounded by the size limits)
                blocks: Iterable[bytes] = [(head + fh.read()).decode("utf-16", "replace").encode("utf-8")]
            else:
                blocks = itertools.chain([head], iter(lambda: fh.read(limits.STREAM_CHUNK), b""))
            tail = b""
            for block in blocks:
                if _DTD.search(tail + block):
                    _unsafe(name, part)
                tail = block[-16:]
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise _Refuse("file-corrupt", f"{name} is damaged: the part {part} cannot be unpacked ({_short(exc)}). "
                      "Ask the lead to save the workbook again and re-send it (a cut-short download looks like this).",
                      part=part) from None


def malformed_part(data: bytes) -> str | None:
    """The first XML part of a zip package that is not well-formed (to name it when a reader fails), if any."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                part = _norm(info.filename)
                if part.lower().endswith(XML_SUFFIXES):
                    try:
                        _parse_stream(zf, info, "", part, None, None)
                    except _Refuse as r:
                        if r.code == "file-corrupt":
                            return part
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def _unsafe(name: str, part: str) -> None:
    raise _Refuse("file-unsafe-xml", f"{name}: the part {part} declares a DTD or entities, which a spreadsheet "
                  "never needs (it is how XML 'billion laughs' and external-entity attacks work). The file was not "
                  "parsed. Do not open it; ask the lead to send the workbook again.", part=part)


class _SheetMeter:
    """Counts a worksheet's rows and cells while it streams, and refuses at the limit (not after)."""

    def __init__(self, name: str, part: str) -> None:
        self.name, self.part = name, part
        self.row = 0
        self.col = 0
        self.value_rows: set[int] = set()
        self.value_cells = 0
        self.elements = 0
        self.min_row = self.min_col = 1 << 30
        self.max_row = self.max_col = 0
        self._cell: tuple[int, int] | None = None
        self._cell_ref: str | None = None
        self._in_cell = False
        self._cell_has_value = False
        self._cell_type = ""
        self.structure = SheetStructure()
        self._text: list[str] | None = None  # collecting a formula's or an error value's text
        self._shared: dict[str, str] = {}  # shared formula index -> the text its first cell holds
        self._shared_index = ""
        self._parser: Any = None

    def bind(self, parser: Any) -> None:
        self._parser = parser

    def _collect(self, on: bool) -> None:
        """Text is gathered only inside a formula or an error value (a handler per text run costs time)."""
        self._text = [] if on else None
        if self._parser is not None:
            self._parser.CharacterDataHandler = self._text.append if on else None  # type: ignore[union-attr]

    def _position(self) -> tuple[int, int]:
        """The current cell's (row, col), parsed from its reference only when it matters (a filled cell):
        most cells of a formatted sheet are empty, and parsing every reference is the slow part."""
        if self._cell is None:
            row, col = parse_a1(self._cell_ref) if self._cell_ref else (0, 0)
            self._cell = (row or self.row, col or self.col + 1)
            if not (1 <= self._cell[0] <= GRID_ROWS and 1 <= self._cell[1] <= GRID_COLS) or (self._cell_ref and not row):
                # A reader sizes its grid from such a reference: one of ZZZZ99999999 asked calamine for 1.5 PB
                # of memory, and an allocation failure in Rust aborts the whole process, past any except.
                where = repr(self._cell_ref) if self._cell_ref else f"row {self._cell[0]:,}"
                raise _Refuse("file-corrupt", f"{self.name} is damaged: the part {self.part} has a cell at {where}, "
                              "which is not a cell of a spreadsheet (they run from A1 to XFD1048576). Ask the lead to "
                              "save the workbook again and re-send it.", part=self.part)
        return self._cell

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag if ":" not in tag else tag.rsplit(":", 1)[-1]
        if local == "c":
            self._in_cell = True
            ref = attrs.get("r")
            if ref:
                self._cell_ref, self._cell = ref, None
            else:  # no reference: the cell after the previous one
                self.col = self._position()[1] if self._cell_ref else self.col
                self._cell_ref, self._cell = None, (self.row, self.col + 1)
            self._cell_type = attrs.get("t", "")
            self._cell_has_value = self._cell_type == "inlineStr"
            self._count()
        elif local == "row":
            self.row = _int(attrs.get("r"), self.row + 1)
            self.col = 0
            self._cell_ref, self._cell = None, (self.row, 0)
            self._count()
        elif local in ("v", "f", "is") and self._in_cell:
            self._cell_has_value = True
            if local == "f":
                self._shared_index = attrs.get("si", "") if attrs.get("t") == "shared" else ""
                self._collect(True)
            elif local == "v" and self._cell_type == "e":
                self._collect(True)
        elif local == "sheetProtection":
            self.structure.protected = attrs.get("sheet", "").lower() in ("1", "true")
        elif local == "mergeCell" and ":" in attrs.get("ref", ""):
            first, last = attrs["ref"].split(":", 1)
            (r1, c1), (r2, c2) = parse_a1(first), parse_a1(last)
            if r1 and c1 and r2 and c2:
                self.structure.merged.append((r1, c1, r2, c2))

    def end(self, tag: str) -> None:
        local = tag if ":" not in tag else tag.rsplit(":", 1)[-1]
        if local == "c":
            if self._cell_has_value:
                self._value(*self._position())
            self._in_cell = False
        elif local == "f" and self._text is not None and self._in_cell:
            formula = "".join(self._text)
            if self._shared_index:  # a formula filled down: only its first cell holds the text
                formula = self._shared.setdefault(self._shared_index, formula) if formula else \
                    self._shared.get(self._shared_index, "")
            self.structure.formulas[self._position()] = formula if formula.startswith("=") else "=" + formula
            self._collect(False)
        elif local == "v" and self._text is not None and self._in_cell:
            self.structure.errors[self._position()] = "".join(self._text)
            self._collect(False)

    def _count(self) -> None:
        self.elements += 1
        if self.elements > 2 * limits.MAX_CELLS:
            raise _Refuse("file-too-large", f"{self.name}: the sheet part {self.part} holds more than "
                          f"{2 * limits.MAX_CELLS:,} rows and cells (formatted or filled). It was not read.",
                          limit="MAX_CELLS", part=self.part, value=self.elements)

    def _value(self, row: int, col: int) -> None:
        self.value_cells += 1
        self.value_rows.add(row)
        if len(self.value_rows) > limits.MAX_ROWS:
            raise _Refuse("sheet-too-many-rows", f"{self.name}: the sheet part {self.part} has more than "
                          f"{limits.MAX_ROWS:,} filled rows (a return has one row per action). It was not read further.",
                          limit="MAX_ROWS", part=self.part, value=len(self.value_rows))
        self.min_row, self.max_row = min(self.min_row, row), max(self.max_row, row)
        self.min_col, self.max_col = min(self.min_col, col), max(self.max_col, col)
        _check_span(self.name, self.part, self.max_row - self.min_row + 1, self.max_col - self.min_col + 1)


class _OdsMeter:
    """The same for ODS content.xml, where rows and cells carry repeat counts (the "repeat bomb")."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.value_cells = 0
        self.structure: dict[str, SheetStructure] = {}
        self._sheet = SheetStructure()
        self._reset()

    def _reset(self) -> None:
        self.row = 0  # 1-based index of the current row's first repetition
        self.rows_rep = 1
        self.col = 0
        self.min_row = self.min_col = 1 << 40
        self.max_row = self.max_col = 0
        self.filled_rows = 0
        self._row_counted = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(":", 1)[-1]
        if local == "table":
            self._reset()
            self._sheet = self.structure.setdefault(attrs.get("table:name", ""), SheetStructure())
            self._sheet.protected = attrs.get("table:protected") == "true"
        elif local == "table-row":
            self.row += self.rows_rep
            self.rows_rep = _int(attrs.get("table:number-rows-repeated"), 1)
            self.col = 0
            self._row_counted = False
        elif local in ("table-cell", "covered-table-cell"):
            reps = _int(attrs.get("table:number-columns-repeated"), 1)
            first = self.col + 1
            self.col += reps
            if "office:value-type" in attrs:
                self._value(first, self.col, reps)
            self._cell_structure(attrs, first, reps)

    def _cell_structure(self, attrs: dict[str, str], first: int, reps: int) -> None:
        formula = attrs.get("table:formula")
        if formula and reps * self.rows_rep <= 1000:  # repeated formulas are bounded by the cell meter
            # "of:=SUM([.A1])", "oooc:=...", "msoxl:=...": the namespace prefix is not part of what was typed
            text = formula.split(":", 1)[1] if ":=" in formula[:8] else formula
            for r in range(self.row, self.row + self.rows_rep):
                for c in range(first, first + reps):
                    self._sheet.formulas[(r, c)] = text if text.startswith("=") else "=" + text
        spans = (_int(attrs.get("table:number-rows-spanned"), 1), _int(attrs.get("table:number-columns-spanned"), 1))
        if spans != (1, 1):
            self._sheet.merged.append((self.row, first, self.row + spans[0] - 1, first + spans[1] - 1))

    def bind(self, parser: Any) -> None:
        return None

    def end(self, tag: str) -> None:
        return None

    def _value(self, first_col: int, last_col: int, reps: int) -> None:
        self.value_cells += reps * self.rows_rep
        if self.value_cells > limits.MAX_CELLS:
            raise _Refuse("file-too-large", f"{self.name} asks for more than {limits.MAX_CELLS:,} filled cells "
                          "(counting repeated cells, an ODS 'repeat bomb' pattern). It was not read.",
                          limit="MAX_CELLS", value=self.value_cells)
        if not self._row_counted:
            self._row_counted = True
            self.filled_rows += self.rows_rep
            if self.filled_rows > limits.MAX_ROWS:
                raise _Refuse("sheet-too-many-rows", f"{self.name}: a sheet has more than {limits.MAX_ROWS:,} filled rows "
                              "(counting repeated rows). It was not read further.", limit="MAX_ROWS", value=self.filled_rows)
        self.min_row, self.max_row = min(self.min_row, self.row), max(self.max_row, self.row + self.rows_rep - 1)
        self.min_col, self.max_col = min(self.min_col, first_col), max(self.max_col, last_col)
        _check_span(self.name, "content.xml", self.max_row - self.min_row + 1, self.max_col - self.min_col + 1)


def _check_span(name: str, part: str, rows: int, cols: int) -> None:
    """A reader allocates the rectangle from the first to the last filled cell: refuse a far-away cell."""
    if rows > limits.MAX_ROWS:
        raise _Refuse("sheet-too-many-rows", f"{name}: a sheet ({part}) has filled cells {rows:,} rows apart "
                      f"(limit {limits.MAX_ROWS:,}). It was not read further. Ask the lead to delete what they typed "
                      "far below the table.", limit="MAX_ROWS", part=part, value=rows)
    if rows * cols > limits.MAX_CELLS:
        raise _Refuse("file-too-large", f"{name}: a sheet ({part}) spans {rows:,} rows by {cols:,} columns of cells "
                      f"(limit {limits.MAX_CELLS:,} cells). It was not read. Ask the lead to delete what they typed far "
                      "to the right of or below the table.", limit="MAX_CELLS", part=part, value=rows * cols)


def _int(text: str | None, default: int) -> int:
    try:
        return max(int(text), 1) if text else default
    except ValueError:
        return default


def _parse_stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, part: str,
                  start: Callable[[str, dict[str, str]], None] | None,
                  end: Callable[[str], None] | None, bind: Callable[[Any], None] | None = None) -> None:
    try:
        with zf.open(info) as fh:
            _parse(fh, name, part, start, end=end, bind=bind)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise _Refuse("file-corrupt", f"{name} is damaged: the part {part} cannot be unpacked ({_short(exc)}). "
                      "Ask the lead to save the workbook again and re-send it (a cut-short download looks like this).",
                      part=part) from None


def _parse(source: bytes | IO[bytes], name: str, part: str,
           start: Callable[[str, dict[str, str]], None] | None, *,
           end: Callable[[str], None] | None = None, bind: Callable[[Any], None] | None = None,
           namespaces: bool = False) -> None:
    """Stream XML through expat, refusing any DTD or entity declaration (billion laughs, external entities)."""
    parser = expat.ParserCreate(namespace_separator="}") if namespaces else expat.ParserCreate()

    def unsafe(*_: object) -> int:  # raises; an external entity handler would otherwise return 0 (refused)
        _unsafe(name, part)
        return 0

    parser.StartDoctypeDeclHandler = unsafe
    parser.EntityDeclHandler = unsafe
    parser.ExternalEntityRefHandler = unsafe
    if start is not None:
        parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if bind is not None:
        bind(parser)  # the caller switches its text handler on only where it needs text
    try:
        if isinstance(source, bytes):
            parser.Parse(source, True)
        else:
            while chunk := source.read(limits.STREAM_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _Refuse("file-corrupt", f"{name} is damaged: the part {part} is not well-formed XML "
                      f"({expat.ErrorString(exc.code)}, line {exc.lineno}). Ask the lead to save the workbook again "
                      "and re-send it.", part=part) from None


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    part = _norm(info.filename)
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, OSError, zlib.error) as exc:
        raise _Refuse("file-corrupt", f"{name} is damaged: the part {part} cannot be unpacked ({_short(exc)}).",
                      part=part) from None


def _elements(xml: bytes, name: str, part: str, *local_names: str) -> list[dict[str, str]]:
    """Attributes of every element with one of these local names (small package parts only)."""
    found: list[dict[str, str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag.rsplit("}", 1)[-1] in local_names:
            found.append(attrs)

    _parse(xml, name, part, start, namespaces=True)
    return found


def _short(exc: BaseException) -> str:
    return clip(str(exc) or type(exc).__name__, 160, mark="...")
