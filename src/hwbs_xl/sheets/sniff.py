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

The same single pass (the meters, in measure.py) collects each sheet's *structure* (``SheetStructure``):
whether it is protected, the formulas typed into cells (their text), cells holding error values, and merged
ranges. That is all the
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any
from xml.parsers import expat

from ..findings import Finding
from ..text import clip
from . import limits
from .measure import OdsMeter, Refused, SheetMeter, SheetStructure

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


def sniff(data: bytes, name: str) -> Sniffed:
    """Classify ``data`` (the whole file) and run every pre-parse check. ``name`` is for messages only."""
    try:
        if data.startswith(ZIP_MAGICS):
            return _sniff_zip(data, name)
        if data.startswith(OLE_MAGIC):
            return _sniff_ole(data, name)
        raise Refused("file-not-spreadsheet", _not_spreadsheet_message(data, name))
    except Refused as r:
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
        raise Refused("file-corrupt", f"{name} is a damaged Office file (its container cannot be read: "
                      f"{_short(exc)}). Ask the lead to save it again and re-send it.", part="OLE container") from exc
    if {"EncryptionInfo", "EncryptedPackage"} <= streams:
        raise Refused("file-encrypted", _encrypted_message(name, "Excel workbook (.xlsx)"), format="xlsx")
    if "Workbook" in streams or "Book" in streams:
        if _xls_encrypted(data):
            raise Refused("file-encrypted", _encrypted_message(name, "Excel 97-2003 workbook (.xls)"), format="xls")
        return Sniffed("xls")
    what = "a Word document" if "WordDocument" in streams else (
        "a PowerPoint presentation" if "PowerPoint Document" in streams else "an Office file that holds no workbook")
    raise Refused("file-not-spreadsheet", f"{name} is not a spreadsheet: it is {what}. "
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
        raise Refused("file-corrupt", f"{name} is incomplete: the zip directory at the end of the file is missing "
                      "(a cut-short download or a failed save). Ask the lead to send it again.",
                      part="zip central directory") from None
    except (ValueError, NotImplementedError, OSError) as exc:
        raise Refused("file-corrupt", f"{name} is damaged: {_short(exc)}. Ask the lead to save it again and re-send it.",
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
        raise Refused("file-suspicious-compression",
                      f"{name} holds {len(infos):,} packed parts (limit {limits.MAX_ZIP_ENTRIES:,}); a workbook has a few dozen. "
                      "It was not opened. If it is genuine, ask the lead to copy the update sheet into a fresh copy of the issued workbook.",
                      limit="MAX_ZIP_ENTRIES", value=len(infos))
    total = sum(i.file_size for i in infos)
    if total > limits.MAX_UNPACKED_BYTES:
        raise Refused("file-too-large",
                      f"{name} would unpack to {total / limits.MB:,.0f} MB (limit {limits.MAX_UNPACKED_BYTES // limits.MB} MB). "
                      "It was not opened. Ask the lead to send the issued workbook with only their updates typed in.",
                      limit="MAX_UNPACKED_BYTES", value=total)
    for i in infos:
        if i.file_size > limits.RATIO_APPLIES_ABOVE and i.file_size > limits.MAX_PART_RATIO * max(i.compress_size, 1):
            raise Refused("file-suspicious-compression",
                          f"{name}: the part {_norm(i.filename)} packs {i.file_size / limits.MB:,.0f} MB into "
                          f"{i.compress_size:,} bytes (more than {limits.MAX_PART_RATIO}:1, a zip-bomb pattern). It was not opened.",
                          limit="MAX_PART_RATIO", part=_norm(i.filename), value=i.file_size)


def _norm(part: str) -> str:
    """Part names as the package means them (some producers write backslashes)."""
    return part.replace("\\", "/").lstrip("/")


SPREADSHEET_ENDINGS = (".xlsx", ".xlsm", ".xls", ".ods")


def _sniff_ooxml(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], name: str) -> Sniffed:
    inside = [p for p, info in parts.items() if p.casefold().endswith(SPREADSHEET_ENDINGS) and info.file_size > 0]
    if "[Content_Types].xml" not in parts and inside:  # a workbook sent inside a .zip (not a damaged one)
        shown = ", ".join(p.rsplit("/", 1)[-1] for p in inside[:3])
        raise Refused("file-zipped", f"{name} is a zip archive with the workbook inside it ({shown}), not the "
                      "workbook itself. Unzip it (right-click it, then Extract All) and save the workbook from "
                      "inside into the returns folder, or ask the lead to attach the workbook itself.", part=inside[0])
    if "[Content_Types].xml" not in parts:
        raise Refused("file-corrupt", f"{name} is a zip file but not a complete workbook: the part "
                      "[Content_Types].xml is missing. Ask the lead to save the workbook again from Excel or LibreOffice.",
                      part="[Content_Types].xml")
    main = _main_part(zf, parts, name)
    ctype = _content_type(zf, parts, main, name)
    if "wordprocessingml" in ctype or "presentationml" in ctype:
        what = "a Word document" if "wordprocessingml" in ctype else "a PowerPoint presentation"
        raise Refused("file-not-spreadsheet", f"{name} is not a spreadsheet: it is {what}. "
                      "Ask the lead to attach the workbook itself (the .xlsx file).")
    if "sheet.binary" in ctype or main.endswith(".bin"):
        raise Refused("file-format-xlsb", f"{name} is an Excel binary workbook (.xlsb), which hwbs-xl does not read. "
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
        raise Refused("file-corrupt", f"{name} is a zip file but holds no workbook: the part {missing} is missing. "
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
        raise Refused("file-too-large", f"{name} has {len(sheets):,} sheets (limit {limits.MAX_SHEETS}). It was not opened.",
                      limit="MAX_SHEETS", value=len(sheets))
    return str(facts["ns"]), bool(facts["date1904"]), sheets


# ---- ODS ----------------------------------------------------------------------------------------------

def _sniff_ods(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], name: str) -> Sniffed:
    mimetype = _read(zf, parts["mimetype"], name)[:200].decode("ascii", "replace").strip()
    if mimetype not in ODS_MIMETYPES:
        kind = mimetype.rsplit(".", 1)[-1] if "opendocument" in mimetype else mimetype or "unknown"
        raise Refused("file-not-spreadsheet", f"{name} is not a spreadsheet: it is an OpenDocument {kind} file. "
                      "Ask the lead to attach the workbook itself.")
    manifest = parts.get("META-INF/manifest.xml")
    if manifest is not None and b"encryption-data" in _read(zf, manifest, name):
        raise Refused("file-encrypted", _encrypted_message(name, "OpenDocument spreadsheet (.ods)"), format="ods")
    if "content.xml" not in parts:
        raise Refused("file-corrupt", f"{name} is an OpenDocument file without its content.xml part. "
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
            meter: SheetMeter | OdsMeter = OdsMeter(name) if ods else SheetMeter(name, part)
            _parse_stream(zf, info, name, part, meter.start, meter.end, meter.bind)
            found[part] = meter.structure
            total_cells += meter.value_cells
            if total_cells > limits.MAX_CELLS:
                raise Refused("file-too-large", f"{name} holds more than {limits.MAX_CELLS:,} filled cells. "
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
        raise Refused("file-corrupt", f"{name} is damaged: the part {part} cannot be unpacked ({_short(exc)}). "
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
                    except Refused as r:
                        if r.code == "file-corrupt":
                            return part
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def _unsafe(name: str, part: str) -> None:
    raise Refused("file-unsafe-xml", f"{name}: the part {part} declares a DTD or entities, which a spreadsheet "
                  "never needs (it is how XML 'billion laughs' and external-entity attacks work). The file was not "
                  "parsed. Do not open it; ask the lead to send the workbook again.", part=part)


def _parse_stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, part: str,
                  start: Callable[[str, dict[str, str]], None] | None,
                  end: Callable[[str], None] | None, bind: Callable[[Any], None] | None = None) -> None:
    try:
        with zf.open(info) as fh:
            _parse(fh, name, part, start, end=end, bind=bind)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise Refused("file-corrupt", f"{name} is damaged: the part {part} cannot be unpacked ({_short(exc)}). "
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
        raise Refused("file-corrupt", f"{name} is damaged: the part {part} is not well-formed XML "
                      f"({expat.ErrorString(exc.code)}, line {exc.lineno}). Ask the lead to save the workbook again "
                      "and re-send it.", part=part) from None


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    part = _norm(info.filename)
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, OSError, zlib.error) as exc:
        raise Refused("file-corrupt", f"{name} is damaged: the part {part} cannot be unpacked ({_short(exc)}).",
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
