"""The import's settings, read once from templates/import.toml and plan.toml [linking]."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import templates
from ..model import StatusVocabulary


@dataclass(frozen=True)
class ImportSettings:
    raw: dict[str, Any]
    plan: dict[str, Any]
    vocabulary: StatusVocabulary

    @classmethod
    def load(cls, plan_dir: Path | None = None) -> ImportSettings:
        return cls(raw=templates.load_toml("import.toml", plan_dir), plan=templates.plan_settings(plan_dir),
                   vocabulary=templates.vocabulary(plan_dir))

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.raw.get(name, {}))

    @property
    def meanings(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.raw.get("headers", {}).get("meanings", {}).items()}

    @property
    def linking(self) -> dict[str, float]:
        defaults = {"same_wording": 0.92, "similar_same_start": 0.55, "doubtful": 0.35}
        defaults.update(self.plan.get("linking", {}))
        return defaults

    @property
    def action_id_format(self) -> str:
        return str(self.plan.get("action_id_format", "KA{area}-{number:02d}"))

    def action_id_pattern(self) -> re.Pattern[str]:
        """A regex that reads (area, number) back out of an ID made by ``action_id_format``."""
        fmt = self.action_id_format
        parts = re.split(r"(\{area[^}]*\}|\{number[^}]*\})", fmt)
        regex = "".join("(?P<area>\\d+)" if p.startswith("{area") else "(?P<number>\\d+)" if p.startswith("{number")
                        else re.escape(p) for p in parts)
        return re.compile(f"^{regex}$")
