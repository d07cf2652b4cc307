"""The layout a next engineer meets: `ls src/hwbs_xl` reads as the cycle, and the rules that keep it so.

- every stage is a package: importing, plan, issue, returns, appendix, demo (cli on top);
- below the stages, sheets/ and the small shared modules never import a stage;
- no import circle among the modules (function-level imports count: they are a circle all the same);
- only the register speaks SQL;
- no module over 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "hwbs_xl"
STAGES = ("importing", "plan", "issue", "returns", "appendix", "demo")
ABOVE = ("cli",)
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> list[str]:
    """The modules an import statement reads (a name imported from a package may itself be a module)."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    found = [target] if target in MODULES else []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if sub in MODULES:
            found.append(sub)
    return found


def imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                edges.update(_resolve(name, node, path.name == "__init__.py"))
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in MODULES)
        edges.discard(name)
        # importing a submodule runs its package's __init__ first; that is not an edge worth a circle
        graph[name] = {e for e in edges if not name.startswith(e + ".")}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> str | None:
    """The stage (or cli) a module belongs to; None for sheets/ and the shared modules below the stages."""
    parts = module.split(".")
    if module == "hwbs_xl.__main__":
        return "cli"
    return parts[1] if len(parts) > 1 and parts[1] in STAGES + ABOVE else None


def test_every_stage_is_a_package_and_the_top_level_reads_as_the_cycle() -> None:
    for stage in (*STAGES, "sheets", "cli"):
        assert (PACKAGE / stage / "__init__.py").is_file(), f"src/hwbs_xl/{stage}/ is not a package"
    loose = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    stage_named = [m for m in loose if any(m.startswith(s) for s in STAGES + ("leadbook", "master", "review"))]
    assert not stage_named, f"stage modules outside their package: {stage_named}"


def test_no_import_circle() -> None:
    found = circles(imports())
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_nothing_below_the_stages_imports_a_stage() -> None:
    bad = [f"{m} imports {t}" for m, targets in imports().items() if layer(m) is None
           for t in sorted(targets) if layer(t) is not None]
    assert not bad, "\n".join(bad)


def test_only_the_register_speaks_sql() -> None:
    speakers = sorted(str(p.relative_to(SRC)) for p in PACKAGE.rglob("*.py")
                      if p.name != "register.py" and ".execute(" in p.read_text(encoding="utf-8"))
    assert not speakers, f".execute( outside register.py: {speakers}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_600_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)} has {lines} lines: split it along its seams"


def test_the_checker_finds_a_circle() -> None:
    """The circle check itself can fail: a made-up graph with a circle is found."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
