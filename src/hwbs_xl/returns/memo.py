"""What ``validate`` found, remembered in the plan folder so ``merge`` need not check the same file again.

A coordinator runs ``validate`` and then ``merge`` on the same inbox; checking every file twice was a
quarter of merge's time. ``validate`` writes its per-file results to ``<plan>/.hwbs/validated.json``
(atomically), and ``merge`` takes a file's result from there only when all of this is unchanged:

- the file's bytes (its SHA-256, computed again from the file merge reads), the path it was named by
  (the file and folder names take part in the sender check) and the ``--from`` sender;
- everything a check reads from the plan (``facts.facts_state``): the signing key, the open cycle, every issued
  workbook's record, every action, the workbook layout and status vocabulary, the plan folder and today's
  date; and the checking code itself (hwbs-xl's sources, the reading libraries' versions).

Anything else is a miss, and the file is checked again as if there were no memo. The memo is signed with
a key derived from the plan's manifest key, so an edited or forged memo (or one copied from another plan)
is ignored, never trusted; a missing, stale, corrupt or unreadable memo is ignored the same way. Writing
it is best-effort: a memo that cannot be written costs merge time, never a result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import HwbsError
from ..findings import Finding
from ..manifest import from_record, to_record
from ..model import Month
from ..paths import PlanPaths
from ..safeio import atomic_write
from ..sheets.reader import ReadResult
from .checker import file_mtime
from .facts import PlanFacts
from .results import ReturnCheck, RowUpdate

MEMO_VERSION = 1
MAX_ENTRIES = 50_000  # a plan has one return per lead; enough for several validate runs over a national inbox
_ROW_FIELDS = ("action_id", "title", "row", "where", "status", "status_raw", "progress", "comment", "blocked",
               "needs_review")


def memo_path(paths: PlanPaths) -> Path:
    return paths.private / "validated.json"


def entry_key(sha256: str, path: Path, sender: str | None) -> str:
    """A result holds for these bytes, named by this path (as given, and where it points), from this sender."""
    path = Path(path)
    return "\0".join((sha256, str(path), str(path.absolute()), sender or ""))


# ---- reading and writing the memo ------------------------------------------------------------------------

def _mac_key(facts: PlanFacts) -> bytes | None:
    if facts.key is None:
        return None
    return hmac.new(facts.key, b"hwbs-xl validation memo", hashlib.sha256).digest()


def load(paths: PlanPaths, facts: PlanFacts) -> dict[str, dict[str, Any]]:
    """The remembered results that hold for the plan as it is now; {} when there is no trustworthy memo."""
    key = _mac_key(facts)
    if key is None:
        return {}
    try:
        raw = memo_path(paths).read_bytes()
        mac, body = raw.split(b"\n", 1)
        if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).hexdigest().encode()):
            return {}  # edited, forged or from another plan: not ours to trust
        data = json.loads(body)
        if data.get("version") != MEMO_VERSION or data.get("state") != facts.state:
            return {}
        entries = data["entries"]
        return entries if isinstance(entries, dict) else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def save(paths: PlanPaths, facts: PlanFacts, checks: Iterable[ReturnCheck], sender: str | None) -> None:
    """Remember these results beside the ones that still hold (best-effort: never fails the command)."""
    key = _mac_key(facts)
    if key is None or not facts.state:
        return
    texts = {k: json.dumps(v, ensure_ascii=False) for k, v in load(paths, facts).items()}
    for check in checks:
        entry = to_entry(check)
        if entry is None:
            continue
        text = json.dumps(entry, ensure_ascii=False)
        if json.loads(text) != entry:  # something JSON would not give back exactly (a tuple): not remembered
            continue
        k = entry_key(check.sha256, check.path, sender)
        texts.pop(k, None)
        texts[k] = text  # newest last, so the oldest go first when the memo is full
    kept = list(texts.items())[-MAX_ENTRIES:]
    body = (f'{{"version": {MEMO_VERSION}, "state": {json.dumps(facts.state)}, "entries": {{'
            + ", ".join(f"{json.dumps(k)}: {t}" for k, t in kept) + "}}").encode("utf-8")
    mac = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
    try:
        atomic_write(memo_path(paths), mac + b"\n" + body)
    except (OSError, HwbsError):
        pass  # merge will check the files itself


# ---- one result <-> JSON -------------------------------------------------------------------------------------

def to_entry(check: ReturnCheck) -> dict[str, Any] | None:
    """A check as JSON data (None for a file refused before it was read: nothing to key it by)."""
    if not check.sha256:
        return None
    return {"name": check.name, "sha256": check.sha256, "size": check.read.size, "bytes_read": check.bytes_read,
            "format": check.format, "read_findings": len(check.read.findings),
            "findings": [f.to_dict() for f in check.findings],
            "manifest": to_record(check.manifest, {}) if check.manifest is not None else None,
            "cycle": check.cycle, "lead": check.lead, "sheet": check.sheet, "issued_ids": list(check.issued_ids),
            "rejected": check.rejected,
            "rows": [{**{k: getattr(r, k) for k in _ROW_FIELDS},
                      "revised_finish": r.revised_finish.iso if r.revised_finish else None} for r in check.rows]}


def from_entry(entry: dict[str, Any], path: Path, data: bytes = b"") -> ReturnCheck:
    """The check ``to_entry`` described, for the file at ``path`` (whose bytes, ``data``, were compared)."""
    findings = [Finding(**f) for f in entry["findings"]]
    read = ReadResult(entry["name"], path, entry["sha256"], entry["size"], data,
                      findings=findings[: entry["read_findings"]])
    rows = [RowUpdate(**{k: r[k] for k in _ROW_FIELDS}, revised_finish=Month.from_iso(r["revised_finish"]))
            for r in entry["rows"]]
    return ReturnCheck(path, read, findings, manifest=from_record(entry["manifest"])[0] if entry["manifest"] else None,
                       cycle=entry["cycle"], lead=entry["lead"], sheet=entry["sheet"],
                       issued_ids=tuple(entry["issued_ids"]), rows=rows, rejected=entry["rejected"],
                       format=entry["format"], bytes_read=entry["bytes_read"])


def for_files(memo: dict[str, dict[str, Any]], files: Sequence[Path], sender: str | None) -> dict[str, dict[str, Any]]:
    """The entries that could hold for ``files`` from ``sender`` (whatever their bytes turn out to be): all
    a check needs to be handed, where the whole memo may hold other inboxes' results too."""
    wanted = {entry_key("", Path(p), sender) for p in files}
    return {k: v for k, v in memo.items() if "\0" + k.split("\0", 1)[-1] in wanted}


def remembered(memo: dict[str, dict[str, Any]], data: bytes, path: Path, sender: str | None) -> ReturnCheck | None:
    """The remembered check of these bytes, read from ``path``, from ``sender``; None when there is none."""
    entry = memo.get(entry_key(hashlib.sha256(data).hexdigest(), path, sender))
    if entry is None:
        return None
    try:
        check = from_entry(entry, path, data)
    except (KeyError, TypeError, ValueError):
        return None
    check.mtime = file_mtime(path)
    return check


__all__ = ["load", "save", "entry_key", "memo_path", "to_entry", "from_entry", "for_files", "remembered"]
