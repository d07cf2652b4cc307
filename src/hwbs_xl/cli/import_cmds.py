"""Commands for loading past appendices and looking at what the register holds: import, export, flags,
settle, review."""

from __future__ import annotations

import os
from pathlib import Path

import click

from . import Context, main


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--cycle", metavar="LABEL",
              help='The cycle the papers report on, e.g. "April 2024" (only needed when the header does not say).')
@click.pass_obj
def import_(ctx: Context, files: tuple[Path, ...], cycle: str | None) -> None:
    """Load past appendices (PDF, .xlsx, or text) into the plan's register.

    Columns are recognised by what their headings mean; page titles and repeated headers are dropped, rows
    cut by page breaks joined, statuses mapped to the list (repaired only when just one status fits) and
    each row linked to the action it repeats from an earlier cycle. Anything that cannot be decided is
    flagged for you to settle (`hwbs-xl flags`). All files go in together or not at all; importing the
    same file again changes nothing. Creates the plan folder if it does not exist yet.
    """
    from ..importing.pipeline import import_files
    from ..importing.report import summary_lines

    result = import_files(ctx.paths, list(files), cycle=cycle, command=ctx.command_line())
    for line in summary_lines(result.report, result.counts, result.report_file):
        click.echo(line)
    _outcome(bool(result.report.errors), "Nothing was imported: fix the errors above and run the import again.",
             f"Recorded as register batch {result.batch_id} (`hwbs-xl undo {result.batch_id}` reverses it)."
             if result.changed else "Nothing changed.")


def _outcome(failed: bool, failure: str, success: str) -> None:
    """The last line of a changing command: what happened, and exit 1 (invalid data) when nothing could be."""
    if failed:
        click.secho(failure, fg="red", err=True)
        click.get_current_context().exit(1)
    click.echo(success)


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json", show_default=True,
              help="json: everything, for other programs; xlsx: a workbook to read or filter.")
@click.option("--out", type=click.Path(path_type=Path), help="Write here (json: default is the screen).")
@click.pass_obj
def export(ctx: Context, fmt: str, out: Path | None) -> None:
    """Show the whole register: plan, cycles, actions with every update and where it came from, flags."""
    from ..plan.export import export_json, export_xlsx
    from ..register import Register

    with Register.open(ctx.paths) as reg:
        if fmt == "json":
            import json

            text = json.dumps(export_json(reg), indent=2, ensure_ascii=False)
            if out is None:
                click.echo(text)
                return
            from ..safeio import write_text

            write_text(out, text + "\n")
        else:
            from .. import templates

            name = templates.read_settings("import.toml", ctx.paths.root)["export"]["file_name"]
            out = export_xlsx(reg, out or ctx.paths.reports / name)
    click.echo(f"Wrote {out}")


@main.command("flags")
@click.option("--all", "show_all", is_flag=True, help="Also list flags already settled.")
@click.pass_obj
def flags(ctx: Context, show_all: bool) -> None:
    """List what imports could not decide (open flags), with the answers each one takes."""
    from ..plan.review import open_flags

    rows = open_flags(ctx.paths, include_settled=show_all)
    if not rows:
        click.echo("No open flags." if not show_all else "No flags.")
        return
    for flag, choices in rows:
        state = f"settled {flag.settled_value!r} by {flag.settled_by} {flag.settled_at}" if flag.settled_at else "open"
        click.echo(f"{flag.id:>4}  {flag.action_id or '-':<7} {flag.cycle or '-':<15} {flag.field:<8} {flag.code}  [{state}]")
        if flag.raw:
            click.echo(f"      found: {flag.raw[:150]!r}")
        click.echo(f"      {flag.message}")
        if not flag.settled_at:
            click.echo(f"      answer with: {choices}")
    if not show_all:
        click.echo(f"{len(rows)} open flag(s). Settle one: hwbs-xl settle ID VALUE; or all at once: "
                   "hwbs-xl review --out review.xlsx")


BY_DEFAULT = "the HWBS_COORDINATOR environment variable, else your login name"


@main.command("settle")
@click.argument("flag_id", type=int)
@click.argument("value")
@click.option("--by", "by", metavar="NAME", help=f"Who decided (recorded with the decision; default: {BY_DEFAULT}).")
@click.pass_obj
def settle(ctx: Context, flag_id: int, value: str, by: str | None) -> None:
    """Settle one flag: a status (label or number), lead names (separated by ;), a month, or for a
    doubtful link an action ID (merge into it) or "new" (keep separate). Recorded as an undoable batch."""
    from ..errors import InvalidData
    from ..plan.review import settle as do_settle

    result = do_settle(ctx.paths, [(flag_id, value)], by=by, command=ctx.command_line())
    if result.report.errors:  # said once, as the error, with what to do
        raise InvalidData(result.report.errors[0].message, code="settle-invalid",
                          hint=f"Nothing was changed. Run `hwbs-xl flags` to see the answers flag {flag_id} takes, "
                               "then settle it again.")
    for f in result.report:
        click.echo(f.message)
    click.echo(f"Recorded as register batch {result.batch_id}{_by_note(by, result.by)}.")



def _by_note(given: str | None, recorded: str) -> str:
    """Say whose name went into the record when the coordinator did not give one."""
    if given:
        return ""
    source = "HWBS_COORDINATOR" if os.environ.get("HWBS_COORDINATOR") else "your login name"
    return f" (recorded as decided by {recorded!r}, from {source}: give --by NAME to record who decided)"


@main.command("review")
@click.option("--out", type=click.Path(path_type=Path), help="Write a review workbook of every open flag here.")
@click.option("--apply", "apply_", type=click.Path(path_type=Path),
              help="Settle every decision written in this review workbook (all or nothing).")
@click.option("--by", "by", metavar="NAME", help=f"Who decided (recorded with the decisions; default: {BY_DEFAULT}).")
@click.pass_obj
def review(ctx: Context, out: Path | None, apply_: Path | None, by: str | None) -> None:
    """Settle flags in a workbook: --out writes them with a yellow decision column; --apply reads it back."""
    from ..plan.review import apply_review, write_review
    from . import usage_error

    if (out is None) == (apply_ is None):
        raise usage_error("Give either --out FILE (write the review workbook) or --apply FILE (read it back).")
    if out is not None:
        path, n = write_review(ctx.paths, out)
        click.echo(f"Wrote {path} with {n} open flag(s). Fill in the yellow column, save, then run "
                   f"`hwbs-xl review --apply {path.name}`.")
        return
    assert apply_ is not None
    result = apply_review(ctx.paths, apply_, by=by, command=ctx.command_line())
    for f in result.report:
        click.echo(f.line())
    _outcome(bool(result.report.errors), "Nothing was changed: fix those decisions and apply the workbook again.",
             f"Settled {len(result.settled)} flag(s) as register batch {result.batch_id}{_by_note(by, result.by)}."
             if result.batch_id
             else "No decisions to apply.")
