"""Commands to start a reporting cycle and issue the lead workbooks: cycle, action, lead, generate."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import overload

import click

from ..text import long_date
from . import Context, main, usage_error, warn_if_shared


# A required option (click already refused a missing one, exit 2) gives a date; an optional one may give None.
@overload
def _date(value: str, option: str) -> date: ...
@overload
def _date(value: str | None, option: str) -> date | None: ...
def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise usage_error(f"{option} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-11-15.") from None


# ---- cycle -----------------------------------------------------------------------------------------------

@main.group()
@click.pass_context
def cycle(ctx: click.Context) -> None:
    """Start the next reporting cycle, or list the cycles."""
    if ctx.invoked_subcommand != "list":
        warn_if_shared(ctx.obj)


@cycle.command("open")
@click.argument("label")
@click.option("--due", required=True, metavar="YYYY-MM-DD", help="The date leads must return their workbooks by.")
@click.option("--report-date", metavar="YYYY-MM-DD", help="The date of the Board meeting the report goes to (optional).")
@click.option("--keep", "keep", multiple=True, metavar="ACTION",
              help="Keep this action in the plan although its status (Completed, Incorporated) would retire it. "
                   "Repeat for several.")
@click.option("--open-flags", is_flag=True,
              help="Go on although questions the import could not decide are still open (leads see them as not confirmed).")
@click.pass_obj
def cycle_open(ctx: Context, label: str, due: str, report_date: str | None, keep: tuple[str, ...],
               open_flags: bool) -> None:
    """Open the next reporting cycle LABEL, such as "October 2024"; the previous one closes.

    \b
    What carries forward:
      - every active action, including ones added since the last cycle;
      - a revised finish date a lead gave becomes the action's finish date.
    What is retired (leaves the plan, history kept):
      - actions whose latest status is Completed or Incorporated (a status marked
        `retires` in statuses.toml), unless you name them with --keep;
      - actions that were not in the previous cycle at all (the council dropped them).
    Undo with `hwbs-xl undo BATCH` (the batch number is shown).
    """
    from ..plan.cycle import open_cycle

    due_date = _date(due, "--due")
    result = open_cycle(ctx.paths, label, due_date, report_date=_date(report_date, "--report-date"),
                        keep=list(keep), command=ctx.command_line(), open_flags=open_flags)
    c = result.cycle
    click.echo(f"Opened cycle {c.label}, due {long_date(due_date)} (batch {result.batch_id}).")
    if result.due_passed:
        click.secho(f"Warning: the due date, {long_date(due_date)}, has already passed: every lead will be overdue "
                    f"at once. If that is a slip, `hwbs-xl undo {result.batch_id}` and open it again with the "
                    "right --due.", fg="yellow", err=True)
    if result.closed:
        click.echo(f"Closed: {', '.join(result.closed)}.")
    click.echo(f"{len(result.carried)} action(s) carry forward.")
    named = result.titles
    for action_id, why in result.retired:
        click.echo(f"  retired {action_id} ({named[action_id]}): {why} "
                   f"(keep it with `hwbs-xl action keep {action_id}`)")
    for action_id in result.kept:
        click.echo(f"  kept {action_id} ({named[action_id]}) although the rule would retire it")
    for action_id, old, new in result.finish_moved:
        click.echo(f"  finish of {action_id} ({named[action_id]}) moved from {old} to {new} (the lead's revised date)")
    click.echo("Next: hwbs-xl generate")


@cycle.command("list")
@click.pass_obj
def cycle_list(ctx: Context) -> None:
    """List the plan's cycles, oldest first, with their due dates and which one is open."""
    from ..register import Register

    with Register.open(ctx.paths) as reg:
        cycles = reg.cycles()
    if not cycles:
        click.echo("No cycles yet. Import past appendices, or open one with `hwbs-xl cycle open`.")
    for c in cycles:
        due = f"due {c.due_date:%d %b %Y}" if c.due_date else ""
        click.echo(f"{c.label:<20} {c.state:<7} {due}")


# ---- action ----------------------------------------------------------------------------------------------

@main.group()
def action() -> None:
    """Add an action to the plan, retire or keep one, or give it new leads."""


@action.command("add")
@click.option("--key-area", required=True, help='The key area, e.g. "Key Area 2" (or just 2).')
@click.option("--activity", required=True, help="The project activity: what will be done, as the plan words it.")
@click.option("--lead", "leads", required=True, multiple=True,
              help="Who leads it (a job title). Repeat --lead for several leads.")
@click.option("--start", metavar="MONTH", help='Start month, e.g. "Oct-24" or 2024-10.')
@click.option("--finish", metavar="MONTH", help='Finish month, e.g. "Mar-25" or 2025-03.')
@click.pass_obj
def action_add(ctx: Context, key_area: str, activity: str, leads: tuple[str, ...], start: str | None,
               finish: str | None) -> None:
    """Add a new action; it gets the next unused ID in its key area (IDs are never reused)."""
    from ..plan.cycle import add_action

    a = add_action(ctx.paths, key_area=key_area, activity=activity, leads=list(leads), start=start, finish=finish,
                   command=ctx.command_line())
    click.echo(f"Added {a.id} ({a.key_area}): {a.title}")
    click.echo(f"  lead(s): {'; '.join(a.leads)}")


@action.command("retire")
@click.argument("action_id", metavar="ACTION")
@click.pass_obj
def action_retire(ctx: Context, action_id: str) -> None:
    """Take ACTION (such as KA1-03) out of the plan: no workbook row from now on; its history stays."""
    from ..plan.cycle import retire_action

    a = retire_action(ctx.paths, action_id, command=ctx.command_line())
    click.echo(f"Retired {a.id}: {a.title}")


@action.command("keep")
@click.argument("action_id", metavar="ACTION")
@click.pass_obj
def action_keep(ctx: Context, action_id: str) -> None:
    """Keep ACTION in the plan although it is Completed or Incorporated (also brings a retired one back)."""
    from ..plan.cycle import keep_action

    a = keep_action(ctx.paths, action_id, command=ctx.command_line())
    click.echo(f"Keeping {a.id}: {a.title}")


@action.command("reassign")
@click.argument("action_id", metavar="ACTION")
@click.argument("leads", nargs=-1, required=True, metavar="LEAD...")
@click.pass_obj
def action_reassign(ctx: Context, action_id: str, leads: tuple[str, ...]) -> None:
    """Give ACTION new lead(s), replacing its current ones. Quote a lead that has spaces."""
    from ..plan.cycle import reassign_action

    a = reassign_action(ctx.paths, action_id, list(leads), command=ctx.command_line())
    click.echo(f"{a.id} is now led by: {'; '.join(a.leads)}")


# ---- lead ------------------------------------------------------------------------------------------------

@main.group()
@click.pass_context
def lead(ctx: click.Context) -> None:
    """List the leads, or rename one on every action (after a restructure, say)."""
    if ctx.invoked_subcommand != "list":
        warn_if_shared(ctx.obj)


@lead.command("list")
@click.pass_obj
def lead_list(ctx: Context) -> None:
    """List every lead of an active action, with how many actions each leads."""
    from ..plan.cycle import lead_names

    for name, count in lead_names(ctx.paths):
        click.echo(f"{count:>3}  {name}")


@lead.command("rename")
@click.argument("old")
@click.argument("new")
@click.pass_obj
def lead_rename(ctx: Context, old: str, new: str) -> None:
    """Rename lead OLD to NEW on every action that names OLD (exact name; see `hwbs-xl lead list`)."""
    from ..plan.cycle import rename_lead

    changed = rename_lead(ctx.paths, old, new, command=ctx.command_line())
    click.echo(f"Renamed {old!r} to {new!r} on {len(changed)} action(s): {', '.join(changed)}")


# ---- generate --------------------------------------------------------------------------------------------

@main.command()
@click.option("--cycle", "cycle_label", metavar="LABEL", help="The cycle to issue (default: the open cycle).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Where to write the workbooks (default: issued/<cycle>/ in the plan folder).")
@click.option("--lead", "lead_name", metavar="NAME", help="Only this lead's workbook (e.g. to reissue one).")
@click.option("--drafts", is_flag=True,
              help="Also write an e-mail draft (.eml) per lead with the workbook attached, to open in Outlook and send.")
@click.option("--example-contact", is_flag=True,
              help="Issue although plan.toml's coordinator is still the bundled example address (a trial run).")
@click.option("--open-flags", is_flag=True,
              help="Issue although questions the import could not decide are still open (leads see them as not confirmed).")
@click.option("--reissue", is_flag=True,
              help="Replace workbooks already issued this cycle that the register has moved on from (an action "
                   "reassigned, history corrected). Workbooks that still match are never rewritten.")
@click.pass_obj
def generate(ctx: Context, cycle_label: str | None, out: Path | None, lead_name: str | None, drafts: bool,
             example_contact: bool, open_flags: bool, reissue: bool) -> None:
    """Write one update workbook per lead for the open cycle, and the distribution list.

    An action with several leads goes into each lead's workbook. Each workbook is
    recorded in the register, so returns can be checked against what was issued.
    E-mail addresses for the drafts come from templates/contacts.toml (optional).
    """
    from ..issue.generate import generate as run

    result = run(ctx.paths, cycle=cycle_label, out=out, lead=lead_name, drafts=drafts, now=None,
                 command=ctx.command_line(), example_contact=example_contact, reissue=reissue,
                 open_flags=open_flags)
    c = result.cycle
    due = long_date(c.due_date) if c.due_date else "no due date"
    click.echo(f"Cycle {c.label} (due {due}): {len(result.workbooks)} workbook(s) in {result.out_dir}")
    for w in result.workbooks:
        again = "  (replaces the earlier one)" if w.lead in result.replaced else ""
        click.echo(f"  {len(w.actions):>3} action(s)  {w.path.name}{again}")
    if result.unchanged:
        click.echo(f"{len(result.unchanged)} workbook(s) issued earlier still match the register and were kept as "
                   "sent (not rewritten; returns of them stay valid).")
    click.echo(f"Distribution list: {result.distribution[0].name}, {result.distribution[1].name}")
    if result.drafts:
        click.echo(f"E-mail drafts: {len(result.drafts)} in {result.drafts[0].parent}")
    if result.no_address:
        click.echo(f"{len(result.no_address)} draft(s) have no To: address (add the lead to templates/contacts.toml, "
                   f"or type it in the draft): {'; '.join(result.no_address)}")
    for f in result.report:
        click.echo(f.line())
