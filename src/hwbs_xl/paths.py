"""The plan folder's layout, in one place.

    <plan>/register.sqlite        the register: the single source of truth
    <plan>/templates/             this council's own copies of the templates (made by `init`)
    <plan>/.hwbs/manifest.key     the key that signs workbook manifests (never put in a workbook)
    <plan>/.hwbs/lock             held while a command writes outputs, so two coordinators do not collide
    <plan>/issued/<cycle>/        lead workbooks, distribution list and e-mail drafts for a cycle
    <plan>/returns/inbox/         a place to drop returned files (any folder works)
    <plan>/returns/evidence/      every returned file kept byte for byte, named by its SHA-256
    <plan>/appendix/              committee appendix (xlsx, pdf) per cycle
    <plan>/master.xlsx            the master appendix workbook, rebuilt after every merge
    <plan>/reports/               import and validation reports, chase lists
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PLAN_DIR = "workbooks"
PLAN_ENV = "HWBS_PLAN"


SLUG_LENGTH = 80


def slug(text: str) -> str:
    """A file-name-safe form of a cycle label or lead name ("April 2024" -> "April-2024"), cut at a word
    boundary when it is long (never "...-Wo")."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    if len(s) > SLUG_LENGTH:
        cut = s.rfind("-", 0, SLUG_LENGTH + 1)
        s = s[:cut] if cut >= SLUG_LENGTH // 2 else s[:SLUG_LENGTH]
    return s or "unnamed"


# ---- file names valid on Windows, macOS and Linux ---------------------------------------------------------

# Names Windows keeps for devices, in any case and with any extension ("con.xlsx" is the console too).
RESERVED_NAMES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                            *(f"{dev}{n}" for dev in ("COM", "LPT") for n in "0123456789¹²³")})
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Windows refuses paths past 260 characters unless long paths are enabled; keep well inside it, so a
# workbook saved beside ours ("... (1).xlsx", a lock file) still fits.
WINDOWS_PATH_LIMIT = 240
NAME_LIMIT = 120  # one file name, whatever the folder


def safe_file_name(name: str, limit: int = NAME_LIMIT) -> str:
    """``name`` made valid on every desktop: none of <>:"/\\|?* or control characters, no trailing dot or
    space, not a reserved device name (CON, PRN, AUX, NUL, COM1, LPT1...; "_" is added), at most ``limit``
    characters with the extension kept."""
    cleaned = re.sub(r"\s+", " ", _FORBIDDEN.sub("-", name)).strip().rstrip(". ") or "unnamed"
    head, dot, rest = cleaned.partition(".")
    if head.rstrip(" ").upper() in RESERVED_NAMES:  # Windows reads the name up to its first dot
        cleaned = f"{head.rstrip(' ')}_{dot}{rest}"
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot or not stem or " " in suffix or len(suffix) > 8:
        stem, suffix = cleaned, ""
    tail = f".{suffix}" if suffix else ""
    if len(stem) + len(tail) > limit:
        stem = stem[:max(limit - len(tail), 8)].rstrip(". -")
    return stem + tail


def folder_name(label: str) -> str:
    """A cycle label as a folder name valid on every desktop ("October 2024" -> "October-2024")."""
    return safe_file_name(slug(label))


def distinct_file_names(wanted: Mapping[str, str], folder: Path | None = None) -> dict[str, str]:
    """One valid file name per key (a lead, a file), no two the same even where the file system ignores
    case: a name already taken gets "-2", "-3"... (keys taken in a fixed order, so a rerun gives the same
    names). Inside ``folder``, a name that would make the path longer than Windows allows is shortened
    and given a short digest of the key, so two long names cut alike still differ."""
    room = NAME_LIMIT if folder is None else max(min(NAME_LIMIT, WINDOWS_PATH_LIMIT - len(str(folder)) - 1), 24)
    names: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(wanted, key=lambda k: (k.casefold(), k)):
        name = safe_file_name(wanted[key])
        if len(name) > room:
            stem, dot, suffix = name.rpartition(".")
            stem, tail = (stem, dot + suffix) if dot else (name, "")
            digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]
            name = safe_file_name(f"{stem[:room - len(tail) - 7]}-{digest}{tail}", room)
        stem, dot, suffix = name.rpartition(".")
        stem, tail = (stem, dot + suffix) if dot else (name, "")
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem}-{n}{tail}"
        taken.add(candidate.casefold())
        names[key] = candidate
    return names


@dataclass(frozen=True)
class PlanPaths:
    root: Path

    @classmethod
    def resolve(cls, plan: str | os.PathLike[str] | None = None) -> PlanPaths:
        chosen = plan if plan is not None else os.environ.get(PLAN_ENV) or DEFAULT_PLAN_DIR
        return cls(Path(chosen).expanduser().resolve())

    @property
    def register(self) -> Path:
        return self.root / "register.sqlite"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def private(self) -> Path:
        return self.root / ".hwbs"

    @property
    def manifest_key(self) -> Path:
        return self.private / "manifest.key"

    @property
    def lock(self) -> Path:
        return self.private / "lock"

    def issued(self, cycle: str) -> Path:
        return self.root / "issued" / folder_name(cycle)

    @property
    def inbox(self) -> Path:
        return self.root / "returns" / "inbox"

    @property
    def evidence(self) -> Path:
        return self.root / "returns" / "evidence"

    @property
    def appendix(self) -> Path:
        return self.root / "appendix"

    @property
    def master(self) -> Path:
        return self.root / "master.xlsx"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def exists(self) -> bool:
        return self.register.is_file()
