"""Commands for returned workbooks: validate, merge, status."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EXIT_INVALID
from . import Context, main

_INPUTS = click.argument("inputs", nargs=-1, type=click.Path(path_type=Path, exists=True))
_FROM = click.option("--from", "sender", metavar="LEAD",
                     help="Who sent these files (as the workbooks name the lead). A file that is another lead's "
                          "workbook is then reported as not theirs.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON instead of the summary.")


def _inputs(ctx: Context, inputs: tuple[Path, ...]) -> list[Path]:
    """The files and folders named, or the plan's inbox when none is named."""
    if inputs:
        return list(inputs)
    if not ctx.paths.inbox.is_dir():
        raise click.UsageError(f"Name the returned files or folders (or save them into {ctx.paths.inbox}).")
    return [ctx.paths.inbox]


@main.command()
@_INPUTS
@_FROM
@_JSON
@click.pass_obj
def validate(ctx: Context, inputs: tuple[Path, ...], sender: str | None, as_json: bool) -> None:
    """Check returned workbooks (FILE or FOLDER...; default: the plan's returns/inbox) and report
    every problem by file, sheet, cell and action. Changes nothing in the register.

    Writes reports/<cycle>/validation-report.json and a 'please fix' note per lead with problems.
    Exit code 1 when any file has an error.
    """
    from ..returns.validate import validate as run

    result = run(ctx.paths, _inputs(ctx, inputs), sender=sender)
    click.echo(result.to_json() if as_json else "\n".join(result.lines()))
    if not result.ok:
        sys.exit(EXIT_INVALID)


@main.command()
@_INPUTS
@click.option("--dry-run", is_flag=True, help="Show, per action, what would change; write nothing.")
@_FROM
@_JSON
@click.option("--details", is_flag=True, help="List every action taken, not only the flagged ones.")
@click.pass_obj
def merge(ctx: Context, inputs: tuple[Path, ...], dry_run: bool, sender: str | None, as_json: bool,
          details: bool) -> None:
    """Merge returned workbooks (FILE or FOLDER...; default: the plan's returns/inbox) into the register.

    \b
    Every good update is taken; problems are reported (and stay with the lead).
    Each file is kept byte for byte in returns/evidence/, named by its SHA-256.
    The same file merged again changes nothing; a newer return from a lead replaces their older one.
    Two leads returning different updates for one action: a conflict, flagged for you to settle.
    One batch: undo it with `hwbs-xl undo BATCH`. The master appendix (master.xlsx) is rebuilt after.
    """
    from ..returns.merge import merge as run

    result = run(ctx.paths, _inputs(ctx, inputs), dry_run=dry_run, command=ctx.command_line(), sender=sender)
    click.echo(result.to_json() if as_json else "\n".join(result.lines(details=details)))
    if not result.ok:  # what was good is committed; a refused file or row is still invalid data
        sys.exit(EXIT_INVALID)


@main.command()
@click.option("--drafts", is_flag=True, help="Also write a reminder e-mail draft (.eml) per outstanding lead.")
@_JSON
@click.pass_obj
def status(ctx: Context, drafts: bool, as_json: bool) -> None:
    """Who has returned their workbook for the open cycle, and who is outstanding or overdue.

    Also written as the chase list: reports/<cycle>/chase-list.csv and .xlsx.
    """
    from ..returns.status import status as run

    result = run(ctx.paths, drafts=drafts)
    click.echo(result.to_json() if as_json else "\n".join(result.lines()))
