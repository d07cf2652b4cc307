"""Commands for the plan itself: init, log, undo, demo."""

from __future__ import annotations

import click

from . import Context, main


@main.command()
@click.option("--title", help="The plan's title, as it heads the appendix.")
@click.pass_obj
def init(ctx: Context, title: str | None) -> None:
    """Create a plan folder with an empty register and its own copy of the templates."""
    from ..planfolder import init_plan

    reg, created = init_plan(ctx.paths, title)
    plan = reg.plan()
    verb = "Created" if created else "Plan already exists:"
    click.echo(f"{verb} {ctx.paths.root} — {plan.title if plan else ''}")
    if created:
        click.echo(f"Templates to adapt: {ctx.paths.templates}")


@main.command()
@click.pass_obj
def log(ctx: Context) -> None:
    """List every change made to the register (batches), oldest first."""
    from ..register import Register

    with Register.open(ctx.paths) as reg:
        batches = reg.log()
    if not batches:
        click.echo("No changes yet.")
    for b in batches:
        state = f"  [undone by {b.undone_by}]" if b.undone_by else ""
        click.echo(f"{b.id:>4}  {b.started_at}  {b.kind:<9} {b.changes:>4} changes  by {b.who}{state}")
        click.echo(f"      {b.summary or b.command}")
        for f in b.files:
            click.echo(f"      file: {f}")


@main.command()
@click.argument("batch", type=int)
@click.pass_obj
def undo(ctx: Context, batch: int) -> None:
    """Reverse one batch exactly (refused if a later batch changed the same actions)."""
    from ..register import Register

    with Register.open(ctx.paths) as reg:
        done = reg.undo(batch, command=ctx.command_line())
    click.echo(f"Undid batch {batch} ({done.changes} changes) as batch {done.id}.")
