"""Commands for the plan itself: init, log, undo, codes, demo."""

from __future__ import annotations

from pathlib import Path

import click

from . import Context, main


@main.command()
@click.option("--title", help="The plan's title, as it heads the appendix.")
@click.pass_obj
def init(ctx: Context, title: str | None) -> None:
    """Create a plan folder with an empty register and its own copy of the templates."""
    from ..plan.folder import init_plan

    reg, created = init_plan(ctx.paths, title)
    plan = reg.plan()
    verb = "Created" if created else "Plan already exists:"
    click.echo(f"{verb} {ctx.paths.root} — {plan.title if plan else ''}")
    if created:
        click.echo(f"Templates to adapt: {ctx.paths.templates}")


@main.command()
@click.option("--files", "show_files", is_flag=True, help="Also list the files each batch read or wrote.")
@click.pass_obj
def log(ctx: Context, show_files: bool) -> None:
    """List every change made to the register (batches), oldest first, one line each."""
    from ..register import Register
    from ..text import short_moment

    with Register.open(ctx.paths) as reg:
        batches = reg.log()
    if not batches:
        click.echo("No changes yet.")
    for b in batches:
        state = f"  [undone by batch {b.undone_by}]" if b.undone_by else ""
        click.echo(f"{b.id:>4}  {short_moment(b.started_at):>17}  {b.summary or b.command}  ({b.who}){state}")
        if show_files:
            for f in b.files:
                click.echo(f"        {_shown_path(ctx.paths.root, f)}")


def _shown_path(root: Path, file: str) -> str:
    """A file relative to the plan folder when it is inside it (no absolute paths in the log)."""
    path = Path(file)
    try:
        return str(path.relative_to(root)) if path.is_absolute() else file
    except ValueError:
        return file


@main.command()
@click.argument("batch", type=int)
@click.pass_obj
def undo(ctx: Context, batch: int) -> None:
    """Reverse one batch exactly (refused if a later batch changed the same actions)."""
    from ..register import Register

    with Register.open(ctx.paths) as reg:
        done = reg.undo(batch, command=ctx.command_line())
    click.echo(f"Undid batch {batch} ({done.changes} changes) as batch {done.id}: "
               f"{done.summary.split(': ', 1)[-1]}.")


@main.command()
@click.argument("code", required=False)
def codes(code: str | None) -> None:
    """Explain the codes reports and errors use (all of them, or just CODE)."""
    from ..findings import CODES

    if code is not None and code not in CODES:
        raise click.UsageError(f"No finding code {code!r}. Run `hwbs-xl codes` for the list.")
    for name, entry in sorted(CODES.items()):
        if code is None or name == code:
            click.echo(f"{name:<32} {entry.severity:<8} {entry.stage:<15} {entry.meaning}")


@main.command()
@click.option("--plan", "demo_plan", metavar="DIR", type=click.Path(file_okay=False),
              help="Where to build the demo plan (default: the --plan folder, ./workbooks). It is rebuilt from scratch.")
@click.pass_context
def demo(ctx: click.Context, demo_plan: str | None) -> None:
    """See the whole cycle on the bundled Barnet plan (two real appendices), ending in files to open.

    \b
    It runs the ordinary commands, in order:
      1. import    the April 2023 and April 2024 appendices (with the September 2022 notes)
      2. appendix  Appendix A for April 2024, printed from the imported history (xlsx + PDF)
      3. cycle open a new cycle, October 2024, and generate one workbook per lead, with e-mail drafts
      4. merge     a few workbooks the demo fills in itself (marked DEMONSTRATION), then status
      5. appendix  Appendix A for October 2024, showing the merged updates and who is awaited
    The plan folder is cleared and rebuilt each time (only if it is a plan folder).
    """
    from ..demo.fill import fill_for_demo
    from ..demo.folder import (
        DEMO_CYCLE,
        DEMO_DUE,
        DEMO_HISTORY_CYCLE,
        DEMO_RETURNS,
        issued_workbooks,
        reset_plan_folder,
    )
    from ..demo.sample import BARNET_FILES
    from ..paths import PlanPaths
    from .appendix_cmds import appendix
    from .cycle_cmds import cycle_open, generate
    from .import_cmds import import_
    from .returns_cmds import merge, status

    obj: Context = ctx.obj
    if demo_plan:
        obj.paths = PlanPaths.resolve(demo_plan)
    paths = obj.paths
    reset_plan_folder(paths)

    def step(title: str) -> None:
        click.echo("")
        click.secho(title, bold=True)

    step("1. Import the two Barnet appendices into a new register")
    ctx.invoke(import_, files=tuple(BARNET_FILES), cycle=None)
    step(f"2. Print Appendix A for {DEMO_HISTORY_CYCLE} from the imported history")
    _carry_on(ctx, appendix, "the xlsx was written", cycle=DEMO_HISTORY_CYCLE, formats="xlsx,pdf", out=None)
    step(f"3. Open the {DEMO_CYCLE} cycle and write one workbook per lead")
    ctx.invoke(cycle_open, label=DEMO_CYCLE, due=DEMO_DUE.isoformat(), report_date=None, keep=(), open_flags=True)
    ctx.invoke(generate, cycle_label=None, out=None, lead_name=None, drafts=True, example_contact=True, reissue=False,
               open_flags=True)
    step(f"4. DEMONSTRATION: fill {DEMO_RETURNS} workbooks as leads would, then merge them")
    filled = fill_for_demo(paths, issued_workbooks(paths), count=DEMO_RETURNS)
    for path in filled:
        click.echo(f"  filled (demonstration text): {path}")
    _carry_on(ctx, merge, "the refused row stays with its lead, as in a real cycle",
              inputs=tuple(filled), dry_run=False, sender=None, as_json=False, details=False)
    ctx.invoke(status, drafts=True, as_json=False)
    step(f"5. Print Appendix A for {DEMO_CYCLE}")
    _carry_on(ctx, appendix, "the xlsx was written", cycle=DEMO_CYCLE, formats="xlsx,pdf", out=None)
    step("Done. Open these:")
    for label, where in (("Committee appendix (PDF, xlsx)", paths.appendix),
                         ("Lead workbooks, distribution list, e-mail drafts", paths.issued(DEMO_CYCLE)),
                         ("Master appendix workbook", paths.master),
                         ("Import report, chase list, please-fix notes", paths.reports)):
        click.echo(f"  {label}: {where}")


def _carry_on(ctx: click.Context, command: click.Command, why: str, **kwargs: object) -> None:
    """A step that ends with a non-zero exit the demo expects (merge exits 1 for the row the demo's
    lead typed wrongly on purpose; the appendix exits 3 when the PDF cannot be made): say so, go on."""
    try:
        ctx.invoke(command, **kwargs)
    except (click.exceptions.Exit, SystemExit) as stop:
        code = stop.exit_code if isinstance(stop, click.exceptions.Exit) else stop.code
        if code not in (0, None):
            click.echo(f"  (carrying on: {why})")
