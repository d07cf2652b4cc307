"""Find and read the templates: layout, wording, colours and the status vocabulary.

Lookup order for a file NAME: ``<plan folder>/templates/NAME`` (a council's own copy, made by ``init``),
then the templates bundled with hwbs-xl. Code never carries wording or colours of its own.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import InvalidData
from .model import Status, StatusVocabulary

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, values: Mapping[str, object]) -> str:
    """Fill the template's ``{name}`` placeholders from ``values`` (None as ""), in one pass.

    A placeholder with no value stays as written, so a council's typo shows in the output instead of
    stopping a print run; any other brace (a stray ``}``, ``{{``) is plain text. One pass: a value that
    itself holds ``{name}`` is never filled again."""
    texts = {k: "" if v is None else str(v) for k, v in values.items()}
    return _PLACEHOLDER.sub(lambda m: texts.get(m.group(1), m.group(0)), template)


def bundled_dir() -> Path:
    """The templates shipped with the package (wheel) or lying beside src/ (a checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parents[1] / "templates"):
        if (candidate / "statuses.toml").is_file():
            return candidate
    raise FileNotFoundError("hwbs-xl's templates folder is missing from this installation")


def find(name: str, plan_dir: Path | None = None) -> Path:
    if plan_dir is not None:
        own = Path(plan_dir) / "templates" / name
        if own.is_file():
            return own
    path = bundled_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"template {name!r} not found in {bundled_dir()}")
    return path


def read_text(name: str, plan_dir: Path | None = None) -> str:
    return find(name, plan_dir).read_text(encoding="utf-8")


def load_toml(name: str, plan_dir: Path | None = None) -> dict[str, Any]:
    path = find(name, plan_dir)
    return _load_toml_cached(str(path), path.stat().st_mtime_ns)


def read_settings(name: str, plan_dir: Path | None = None) -> dict[str, Any]:
    """A TOML template as the plan's copy over the bundled one: a key (or a whole table) the plan's copy
    lacks reads the bundled value, so code never carries a default of its own and a copy made by an older
    ``init`` keeps working. A list (``[[columns]]``, ``[[status]]``...) is taken whole from the copy."""
    bundled = load_toml(name)
    own = find(name, plan_dir)
    return bundled if own == find(name) else _over(bundled, load_toml(name, plan_dir))


def _over(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in own.items():
        out[key] = _over(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


@lru_cache(maxsize=64)
def _load_toml_cached(path: str, _mtime: int) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidData(f"template {path} is not valid TOML: {exc}",
                          hint="Fix the file (or delete it to use the bundled default).") from exc


def vocabulary(plan_dir: Path | None = None) -> StatusVocabulary:
    data = read_settings("statuses.toml", plan_dir)
    default = data["status_defaults"]
    statuses = []
    for entry in data.get("status", []):
        try:
            statuses.append(Status(
                key=entry["key"], label=entry["label"], rag=entry.get("rag", default["rag"]),
                fill=entry.get("fill", default["fill"]), font=entry.get("font", default["font"]),
                meaning=entry.get("meaning", ""), retires=bool(entry.get("retires", False)),
                needs_date=bool(entry.get("needs_date", False)),
                needs_where=bool(entry.get("needs_where", False)),
            ))
        except KeyError as exc:
            raise InvalidData(f"statuses.toml: a [[status]] entry has no {exc.args[0]!r}",
                              hint="Every status needs a key and a label.") from exc
    if not statuses:
        raise InvalidData("statuses.toml lists no statuses", hint="Add at least one [[status]] entry.")
    unknown = data["unknown"]
    return StatusVocabulary(statuses=tuple(statuses), unknown_label=unknown["label"], unknown_fill=unknown["fill"],
                            unknown_font=unknown["font"])


def status_list_source(vocab: StatusVocabulary, table_ref: str) -> list[str] | str:
    """The drop-down's source: the labels inline when Excel's inline form can hold them (255 characters,
    no comma or double quote in a label), else a reference to the status table on the visible
    Instructions sheet (a hidden sheet's list fails in Google Sheets)."""
    labels = vocab.labels
    if len(",".join(labels)) <= 255 and not any("," in s or '"' in s for s in labels):
        return labels
    return table_ref


def plan_settings(plan_dir: Path | None = None) -> dict[str, Any]:
    return read_settings("plan.toml", plan_dir)


def fingerprint(names: list[str], plan_dir: Path | None = None) -> str:
    """A short hash of the template files in use, written into outputs so a change of wording shows."""
    h = hashlib.sha256()
    for name in sorted(names):
        h.update(name.encode())
        h.update(find(name, plan_dir).read_bytes())
    return h.hexdigest()[:12]
