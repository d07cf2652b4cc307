"""The one catalogue of codes (findings.CODES) is whole and true of the code.

Read from the source (ast), not by importing modules: a code is declared whether or not the module that
uses it was imported, so a test that imported stage modules first would prove nothing.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from hwbs_xl.findings import CODES, FINDING, STOP, Finding, Report, finding_codes

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hwbs_xl"
SOURCES = {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))}

# Calls whose first argument is a code: findings and the small records stages make findings from.
CODE_FIRST = {"Finding", "add", "Note", "RowFinding", "Refused", "reject", "_fail"}


def _strings(node: ast.expr) -> list[str]:
    """The string constants an expression can be: "x", or "x" if ... else "y"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _call_name(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def used_codes() -> dict[str, str]:
    """Every code string src/ hands to a finding or an exception -> one place it is used."""
    found: dict[str, str] = {}
    for path, tree in SOURCES.items():
        if path.name == "findings.py":
            continue
        for node in ast.walk(tree):
            values: list[str] = []
            if isinstance(node, ast.Call):
                values += [v for k in node.keywords if k.arg == "code" for v in _strings(k.value)]
                # report.add(code, message): a method with two arguments, so a set's .add(x) is not taken for one
                name = _call_name(node)
                method = isinstance(node.func, ast.Attribute)
                if name in CODE_FIRST and (name != "add" or method) and len(node.args) + len(node.keywords) >= 2 \
                        and node.args:
                    values += _strings(node.args[0])
            elif isinstance(node, ast.Assign):  # code = "..." (also an exception class's code)
                if any(isinstance(t, ast.Name) and (t.id == "code" or t.id.endswith("_code")) for t in node.targets):
                    values += _strings(node.value)
            for value in values:
                found.setdefault(value, f"{path.relative_to(PACKAGE)}:{node.lineno}")  # type: ignore[attr-defined]
    return found


def constants() -> set[str]:
    return {node.value for path, tree in SOURCES.items() if path.name != "findings.py"
            for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_every_code_used_in_src_is_declared() -> None:
    missing = {code: where for code, where in used_codes().items() if code not in CODES}
    assert not missing, f"codes used but not declared in findings.CODES: {missing}"


def test_every_declared_code_is_used() -> None:
    unused = sorted(set(CODES) - constants())
    assert not unused, f"declared in findings.CODES but used nowhere under src/: {unused}"


def test_the_scan_sees_findings_and_exceptions() -> None:
    """Guard the scan itself: it must find codes in each of the places codes are written."""
    used = used_codes()
    for code in ("file-encrypted", "status-ambiguous", "action-no-lead", "pdf-read", "text-too-long",
                 "output-check-failed", "register-busy", "internal-error", "cell-split-repaired", "dates-reversed"):
        assert code in used, code


def test_every_exception_code_is_declared_as_a_stop() -> None:
    from hwbs_xl import errors

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.HwbsError)]
    for cls in classes:
        assert cls.code in CODES, cls
    assert all(CODES[c.code].kind == STOP for c in classes if c.code not in finding_codes())


def test_each_entry_is_complete() -> None:
    for code, entry in CODES.items():
        assert code == code.lower() and " " not in code
        assert entry.severity in ("error", "warning", "info") and entry.kind in (FINDING, STOP), code
        assert entry.stage and entry.meaning.endswith((".", ")")), code
        assert entry.kind == FINDING or entry.severity == "error", code


def test_a_finding_takes_its_severity_from_the_catalogue_and_refuses_unknown_codes() -> None:
    assert Finding("status-repaired", "x").severity == "info"
    assert Report().add("row-missing", "x").severity == "warning"
    with pytest.raises(KeyError):
        Finding("no-such-code", "x")
    with pytest.raises(KeyError):  # the error a command stops with is not a finding
        Finding("register-busy", "x")


def test_a_finding_needs_no_stage_module_imported() -> None:
    """No registration by import: a fresh interpreter knows every code after importing findings alone."""
    code = ("import sys; from hwbs_xl.findings import Finding, CODES; "
            "[Finding(c, 'x') for c, e in CODES.items() if e.kind == 'finding']; "
            "print(sorted(m for m in sys.modules if m.startswith('hwbs_xl')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['hwbs_xl', 'hwbs_xl.findings']"


def test_codes_command_lists_every_code() -> None:
    from click.testing import CliRunner

    from hwbs_xl.cli import main

    result = CliRunner().invoke(main, ["codes"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines()]
    assert listed == sorted(CODES)
    one = CliRunner().invoke(main, ["codes", "text-too-long"])
    assert one.exit_code == 0 and one.output.startswith("text-too-long") and "32,767" in one.output
