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

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PLAN_DIR = "workbooks"
PLAN_ENV = "HWBS_PLAN"


def slug(text: str) -> str:
    """A file-name-safe form of a cycle label or lead name ("April 2024" -> "April-2024")."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    return s[:80] or "unnamed"


@dataclass(frozen=True)
class PlanPaths:
    root: Path

    @classmethod
    def resolve(cls, plan: str | os.PathLike[str] | None = None) -> "PlanPaths":
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
        return self.root / "issued" / slug(cycle)

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
