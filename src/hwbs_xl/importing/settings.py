"""The import's settings, read once from templates/import.toml and plan.toml [linking]."""

from __future__ import annotations

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
        return cls(raw=templates.read_settings("import.toml", plan_dir), plan=templates.plan_settings(plan_dir),
                   vocabulary=templates.vocabulary(plan_dir))

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.raw.get(name, {}))

    @property
    def meanings(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.raw.get("headers", {}).get("meanings", {}).items()}

    @property
    def linking(self) -> dict[str, float]:
        """plan.toml [linking]: the thresholds (read over the bundled plan.toml, so each has its value)."""
        return {k: float(v) for k, v in self.plan["linking"].items()}

    @property
    def action_id_format(self) -> str:
        return str(self.plan["action_id_format"])
