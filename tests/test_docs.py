"""The README and docs must stay true of the code: every command and option documented, codes table current."""

from __future__ import annotations

import re
from pathlib import Path

import click

from hwbs_xl.cli import main
from hwbs_xl.findings import catalogue_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + (name,))


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "./dev demo" in first_block and "./dev test" in first_block
    assert (ROOT / "dev").stat().st_mode & 0o111


def test_every_command_is_in_the_readme() -> None:
    for path, _ in _commands(main):
        assert f"`{' '.join(path)}" in README, f"README does not document `{' '.join(path)}`"


def test_every_option_is_in_the_readme_or_its_command_help_is_referenced() -> None:
    for path, cmd in _commands(main):
        for param in cmd.params:
            if not isinstance(param, click.Option) or param.name == "help":
                continue
            longs = [o for o in param.opts if o.startswith("--")]
            documented = any(o in README for o in longs)
            referenced = f"hwbs-xl {' '.join(path)} --help" in README or "see `--help`" in README
            assert documented or referenced, f"option {longs} of `{' '.join(path)}` is not in the README"
    for option in ("--plan", "--debug"):
        assert option in README


def test_findings_catalogue_is_current() -> None:
    assert (ROOT / "docs" / "findings.md").read_text(encoding="utf-8") == catalogue_markdown(), \
        "regenerate: python -c 'from hwbs_xl.findings import catalogue_markdown as c; open(\"docs/findings.md\",\"w\").write(c())'"


def test_linked_files_exist() -> None:
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), f"README links to missing {target}"


def test_every_template_the_readme_names_exists() -> None:
    for name in re.findall(r"`([a-z_]+\.(?:toml|txt))`", README):
        assert (ROOT / "templates" / name).exists(), name
