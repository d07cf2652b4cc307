"""The manifest a lead workbook carries, the key that signs it, and what an issued workbook promises.

Every issued workbook holds a very hidden sheet (``MANIFEST_SHEET``) saying which plan, cycle and lead it is
for, where its data is (sheet, header row, column of each field) and, for each row, the action ID and a
fingerprint of the values it was issued with. The manifest is signed with HMAC-SHA256 under a key kept in
the plan folder (``.hwbs/manifest.key``, never written into a workbook), so a forged or edited manifest is
detected on return. The register keeps the full issued values too (``issued.manifest``, see ``to_record``),
so what came back can be compared field by field with what was issued.

Sheet layout (all cells text, two or more columns per line; the first cell names the line):

    hwbs-xl manifest | 1
    plan_id          | <16 hex>
    plan_title       | ...
    cycle | lead | generated_at | template_version | sheet | header_row
    column           | <field key> | <column letter>      (one line per field)
    row              | <action id> | <row number> | <fingerprint>   (one line per action)
    signature        | <64 hex>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import InvalidData
from .model import Action, Cycle, StatusVocabulary, Update, leads_text
from .paths import PlanPaths
from .safeio import O_BINARY, fsync
from .sheets.cells import column_letter
from .templates import fill
from .text import normalise

MANIFEST_SHEET = "_hwbs_manifest"
MAGIC = "hwbs-xl manifest"
FORMAT_VERSION = "1"
KEY_BYTES = 32

_SCALARS = ("plan_id", "plan_title", "cycle", "lead", "generated_at", "template_version", "sheet", "header_row")


@dataclass(frozen=True)
class ManifestRow:
    action_id: str
    row: int  # 1-based sheet row the action was issued on
    fingerprint: str


@dataclass(frozen=True)
class Manifest:
    plan_id: str
    plan_title: str
    cycle: str
    lead: str
    generated_at: str
    template_version: str
    sheet: str  # the update sheet's name
    header_row: int  # 1-based
    columns: dict[str, str] = field(default_factory=dict)  # field key -> column letter
    rows: tuple[ManifestRow, ...] = ()
    signature: str = ""

    def row_for(self, action_id: str) -> ManifestRow | None:
        return next((r for r in self.rows if r.action_id == action_id), None)


# ---- fingerprints and the key --------------------------------------------------------------------------

def fingerprint_values(values: dict[str, str]) -> str:
    """SHA-256 of the issued values of one row (after the shared text rule), as canonical JSON."""
    canonical = {str(k): normalise(v) for k, v in values.items()}
    return hashlib.sha256(_canonical_json(canonical).encode("utf-8")).hexdigest()


def load_key(paths: PlanPaths) -> bytes:
    """The plan's signing key; made (32 random bytes, readable by the owner only) on first use."""
    path = paths.manifest_key
    if path.is_file():
        key = path.read_bytes()
        if len(key) < 16:
            raise InvalidData(f"The manifest key {path} is damaged (too short).",
                              hint="Restore it from a backup; workbooks issued with it cannot be verified without it.")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    # O_EXCL: two commands creating the key at once must not end with two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_BINARY, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        fsync(fh.fileno())
    return key


def plan_id(key: bytes) -> str:
    """A public identifier of the plan, derived from its key (reveals nothing about the key)."""
    return hmac.new(key, b"hwbs-xl plan id", hashlib.sha256).hexdigest()[:16]


# ---- signing -------------------------------------------------------------------------------------------

def _payload(m: Manifest) -> dict[str, Any]:
    return {
        **{name: getattr(m, name) for name in _SCALARS},
        "columns": dict(sorted(m.columns.items())),
        "rows": [[r.action_id, r.row, r.fingerprint] for r in m.rows],
    }


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _mac(m: Manifest, key: bytes) -> str:
    return hmac.new(key, _canonical_json(_payload(m)).encode("utf-8"), hashlib.sha256).hexdigest()


def sign(m: Manifest, key: bytes) -> Manifest:
    return replace(m, signature=_mac(m, key))


def verify(m: Manifest, key: bytes) -> bool:
    return bool(m.signature) and hmac.compare_digest(m.signature, _mac(m, key))


# ---- to and from sheet cells ---------------------------------------------------------------------------

def to_cells(m: Manifest) -> list[list[str]]:
    """The manifest as lines of text cells (written with xlsxout.write_text, so nothing becomes a formula)."""
    lines: list[list[str]] = [[MAGIC, FORMAT_VERSION]]
    lines += [[name, str(getattr(m, name))] for name in _SCALARS]
    lines += [["column", k, v] for k, v in m.columns.items()]
    lines += [["row", r.action_id, str(r.row), r.fingerprint] for r in m.rows]
    lines.append(["signature", m.signature])
    return lines


def _cell_str(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unreadable(why: str) -> InvalidData:
    return InvalidData(f"The workbook's manifest cannot be read: {why}.",
                       hint="The hidden manifest sheet was changed or damaged; ask the lead to return the "
                            "workbook as issued, or issue a new one.", code="manifest-unreadable")


def _number(text: str, what: str) -> int:
    """A row number exactly as written ("5", not "05" or "+5": any other spelling is a changed manifest)."""
    if not text.isdigit() or str(int(text)) != text:
        raise _unreadable(f"{what} is not a plain number")
    return int(text)


def from_cells(cells: list[list[object]]) -> Manifest:
    """Read a manifest back from its sheet's cell values; InvalidData("manifest-unreadable") when garbled."""
    lines = [[_cell_str(v) for v in line] for line in cells if line and any(v not in (None, "") for v in line)]
    if not lines or lines[0][:2] != [MAGIC, FORMAT_VERSION]:
        raise _unreadable("it does not start with the hwbs-xl manifest marker")
    scalars: dict[str, str] = {}
    columns: dict[str, str] = {}
    rows: list[ManifestRow] = []
    signature: str | None = None
    for n, line in enumerate(lines[1:], start=2):
        name = line[0]
        if name in _SCALARS and len(line) >= 2 and name not in scalars:
            scalars[name] = line[1]
        elif name == "column" and len(line) >= 3 and line[1] and line[2]:
            columns[line[1]] = line[2]
        elif name == "row" and len(line) >= 4:
            rows.append(ManifestRow(line[1], _number(line[2], f"line {n}'s row number"), line[3]))
        elif name == "signature" and len(line) >= 2 and signature is None:
            signature = line[1]
        else:
            raise _unreadable(f"line {n} ({name!r}) is not a manifest line")
    missing = [s for s in _SCALARS if s not in scalars]
    if missing or signature is None:
        raise _unreadable("it lacks " + ", ".join(missing + ([] if signature is not None else ["signature"])))
    header_row = _number(scalars["header_row"], "the header row")
    return Manifest(plan_id=scalars["plan_id"], plan_title=scalars["plan_title"], cycle=scalars["cycle"],
                    lead=scalars["lead"], generated_at=scalars["generated_at"],
                    template_version=scalars["template_version"], sheet=scalars["sheet"], header_row=header_row,
                    columns=columns, rows=tuple(rows), signature=signature)


# ---- the register's record of an issue ------------------------------------------------------------------

def to_record(m: Manifest, values: dict[str, dict[str, str]]) -> str:
    """JSON kept in the register's ``issued.manifest``: the signed manifest plus, per action, the issued
    value of every locked cell (field key -> text), so a return can be compared field by field."""
    return _canonical_json({**_payload(m), "signature": m.signature, "values": values})


def from_record(text: str) -> tuple[Manifest, dict[str, dict[str, str]]]:
    """The inverse of ``to_record``."""
    data = json.loads(text)
    m = Manifest(**{name: data[name] for name in _SCALARS}, columns=dict(data["columns"]),
                 rows=tuple(ManifestRow(a, int(r), f) for a, r, f in data["rows"]), signature=data["signature"])
    return m, {k: dict(v) for k, v in data.get("values", {}).items()}


# ---- what an issued workbook promises ------------------------------------------------------------------
# Its Update sheet's columns, the text of every locked cell as issued, and the signed manifest that says
# where each one is: the returns check holds a returned workbook to exactly this.

# Field keys (the manifest's column keys). History fields are "status@<cycle>" and "progress@<cycle>".
LOCKED_FIELDS = ("action_id", "key_area", "activity", "leads", "start", "finish")
INPUT_FIELDS = ("new_status", "new_progress", "revised_finish", "comment")
# Issued values of these fields are "YYYY-MM"; the cells hold the first day of that month as a date.
MONTH_FIELDS = ("start", "finish")
HEADER_ROW = 4  # 1-based: title, subtitle, band row, then the column headings


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    width: float
    band: str  # "action", "history" or "update"

def columns(layout: dict[str, Any], history: Sequence[Cycle]) -> list[Column]:
    """The Update sheet's columns: the template's list with the history pair repeated per earlier cycle."""
    out: list[Column] = []
    spec = layout["columns"]
    hist = [c for c in spec if c["key"].endswith("@")]
    for c in spec:
        if c["key"].endswith("@"):
            if c is hist[0]:
                for cyc in history:
                    out += [Column(h["key"] + cyc.label, fill(h["heading"], {"cycle": cyc.label}), h["width"],
                                   "history") for h in hist]
            continue
        band = "update" if c["key"] in INPUT_FIELDS else "action"
        out.append(Column(c["key"], c["heading"], c["width"], band))
    return out

def issued_status_text(u: Update | None, vocab: StatusVocabulary, history: Mapping[str, str]) -> str:
    """A history status cell as the lead reads it: the status, the template's "not in this cycle", or,
    while the status is still to be settled (a fragment the import could not map), the template's "not
    confirmed" wording, never the raw fragment (a lead shown "by target date" in red would copy it)."""
    if u is None:
        return history["not_in_cycle"]
    status = vocab.by_key(u.status)
    if status is not None:
        return status.label
    return history["status_not_confirmed"] if u.status_raw.strip() else vocab.unknown_label


def issued_values(a: Action, cols: Sequence[Column], updates: Mapping[tuple[str, str], Update],
                  vocab: StatusVocabulary, history: Mapping[str, str]) -> dict[str, str]:
    """The text of every locked cell of one action's row, as issued (months as "YYYY-MM")."""
    values: dict[str, str] = {}
    for c in cols:
        if c.key == "action_id":
            values[c.key] = a.id
        elif c.key == "key_area":
            values[c.key] = a.key_area
        elif c.key == "activity":
            values[c.key] = a.activity
        elif c.key == "leads":
            values[c.key] = leads_text(a.leads)
        elif c.key in MONTH_FIELDS:
            m = a.start if c.key == "start" else a.finish
            values[c.key] = m.iso if m else ""
        elif c.key.startswith("status@"):
            values[c.key] = issued_status_text(updates.get((a.id, c.key[7:])), vocab, history)
        elif c.key.startswith("progress@"):
            u = updates.get((a.id, c.key[9:]))
            values[c.key] = u.progress if u else ""
    return values


def issued_manifest(*, plan_id: str, plan_title: str, cycle: str, lead: str, generated_at: str,
                    template_version: str, sheet: str, cols: Sequence[Column],
                    issued: Mapping[str, Mapping[str, str]], key: bytes) -> Manifest:
    """The signed manifest of a workbook whose sheet ``sheet`` has the columns ``cols`` and, from the row
    below the headings, one row per action of ``issued`` (action ID -> issued values) in that order."""
    rows = tuple(ManifestRow(action_id, HEADER_ROW + 1 + n, fingerprint_values(dict(values)))
                 for n, (action_id, values) in enumerate(issued.items()))
    return sign(Manifest(plan_id=plan_id, plan_title=plan_title, cycle=cycle, lead=lead, generated_at=generated_at,
                         template_version=template_version, sheet=sheet, header_row=HEADER_ROW,
                         columns={c.key: column_letter(i + 1) for i, c in enumerate(cols)}, rows=rows), key)
