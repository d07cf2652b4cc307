"""The command line. It only parses options, calls one library function and renders the result.

Errors: every HwbsError becomes a message on stderr naming what is wrong and what to do, and its exit code
(0 ok, 1 invalid data, 2 usage, 3 could not finish, 4 internal error). Tracebacks only with --debug.
Heavy libraries are imported inside commands, so `hwbs-xl --help` stays fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_USAGE, HwbsError
from ..paths import DEFAULT_PLAN_DIR, PLAN_ENV, PlanPaths

EXIT_INTERNAL = 4


@dataclass
class Context:
    paths: PlanPaths
    debug: bool

    def command_line(self) -> str:
        """What was run, for the register's log."""
        return "hwbs-xl " + " ".join(sys.argv[1:])


class HwbsGroup(click.Group):
    """Turns hwbs-xl errors into clear messages and exit codes, and takes the global options wherever
    they are typed: `hwbs-xl flags --plan DIR` means `hwbs-xl --plan DIR flags`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, global_options_first(args, self))

    def invoke(self, ctx: click.Context) -> Any:
        done = self._invoke(ctx)
        if ctx.invoked_subcommand in MASTER_FOLLOWS:
            keep_master_true(ctx.obj)
        return done

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HwbsError as exc:
            _fail(exc.code, exc.message, exc.hint, exc.exit_code, ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("Stopped. Anything not finished was rolled back.", err=True)
            sys.exit(130)
        except BrokenPipeError:  # `hwbs-xl flags | head`: the reader has all it wanted; not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:  # a bug: say so plainly, show the traceback only on request
            debug = bool(ctx.obj and ctx.obj.debug) or "--debug" in sys.argv
            if debug:
                traceback.print_exc()
            _fail("internal-error", f"hwbs-xl failed unexpectedly: {type(exc).__name__}: {exc}",
                  "Nothing was half-written. Run again with --debug and report the output.", EXIT_INTERNAL, ctx)


GLOBAL_FLAGS = ("--debug",)
GLOBAL_VALUES = ("--plan",)
OWN_PLAN_OPTION = frozenset({"demo"})  # `demo --plan DIR` is where to build the demo: the command's own option


def global_options_first(args: list[str], group: click.Group) -> list[str]:
    """Move --plan DIR / --plan=DIR and --debug typed after the command name in front of it, so they
    reach the group (click only reads a group's options before the command). Nothing after "--" moves."""
    command, i = None, 0
    while i < len(args) and command is None:  # the first word that is not a group option or its value
        if args[i] in GLOBAL_VALUES:
            i += 1
        elif args[i] in group.commands:
            command = i
        i += 1
    if command is None or args[command] in OWN_PLAN_OPTION:
        return args
    front, rest, i = args[:command], [], command
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        if a in GLOBAL_FLAGS:
            front.append(a)
        elif a in GLOBAL_VALUES and i + 1 < len(args):
            front.extend(args[i:i + 2])
            i += 1
        elif a.split("=", 1)[0] in GLOBAL_VALUES and "=" in a:
            front.append(a)
        else:
            rest.append(a)
        i += 1
    return front + rest


# Commands that change what the appendix shows; merge rebuilds master.xlsx itself.
MASTER_FOLLOWS = frozenset({"undo", "settle", "review", "cycle", "action", "lead", "import"})


def keep_master_true(obj: Context) -> None:
    """Rebuild (or remove) master.xlsx when the command just run left it showing an older register, and
    say so; the command's own change is committed, so a master open in Excel is a warning, not a failure."""
    from ..appendix.master import keep_master_true as refresh

    try:
        changed = refresh(obj.paths)
    except Exception as exc:  # noqa: BLE001 - the command succeeded; never turn that into a failure here
        said = f"{exc.message} {exc.hint}".rstrip() if isinstance(exc, HwbsError) else f"{type(exc).__name__}: {exc}"
        click.secho(f"Warning: master.xlsx was not brought up to date: {said} The next merge rebuilds it.",
                    fg="yellow", err=True)
        return
    if changed:
        what, path = changed
        click.echo(f"Master appendix workbook {what}: {path}")


def _fail(code: str, message: str, hint: str, exit_code: int, ctx: click.Context) -> None:
    click.secho(f"Error [{code}]: {message}", fg="red", err=True)
    if hint:
        click.echo(f"  What to do: {hint}", err=True)
    ctx.exit(exit_code)


@click.group(cls=HwbsGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--plan", "plan", metavar="DIR", envvar=PLAN_ENV, default=DEFAULT_PLAN_DIR, show_default=True,
              help=f"The plan folder that holds the register (or set {PLAN_ENV}).")
@click.option("--debug", is_flag=True, help="Show full tracebacks for unexpected errors.")
@click.version_option(__version__, prog_name="hwbs-xl")
@click.pass_context
def main(ctx: click.Context, plan: str, debug: bool) -> None:
    """Run a Health and Wellbeing Board action plan's progress cycle through Excel.

    \b
    The cycle, twice a year:
      import    load past appendices (text, PDF, xlsx) into the plan's register
      cycle     open the next reporting cycle; add, retire or reassign actions
      generate  write one update workbook per lead (and e-mail drafts)
      validate  check returned workbooks and explain every problem by cell
      merge     take the good updates into the register (undoable)
      status    who has returned, who is outstanding (the chase list)
      appendix  print Appendix A for the committee pack (xlsx and PDF)

    Start with `hwbs-xl demo` to see the whole cycle on the bundled Barnet plan.
    Exit codes: 0 ok, 1 invalid data, 2 usage, 3 could not finish (busy, locked, disk), 4 internal error.
    """
    ctx.obj = Context(paths=PlanPaths.resolve(plan), debug=debug)
    if ctx.invoked_subcommand not in READS_ONLY:
        warn_if_shared(ctx.obj)


# Commands that never write the plan folder (the cycle and lead groups decide for their own subcommands).
READS_ONLY = frozenset({"codes", "flags", "log", "export", "cycle", "lead", None})


def warn_if_shared(obj: Context) -> None:
    """A writing command on a plan folder in OneDrive, Dropbox or on a network share: say it is not safe
    (on stderr, so --json output stays clean) and carry on."""
    from ..placement import placement

    where = placement(obj.paths.root)
    if where is not None:
        click.secho(f"Warning: {where.warning(obj.paths.root)}", fg="yellow", err=True)


class _UsageError(click.UsageError):
    exit_code = EXIT_USAGE


def usage_error(message: str) -> click.UsageError:
    return _UsageError(message)


# Each stage's commands live in their own module and attach themselves to `main`.
from . import appendix_cmds, cycle_cmds, import_cmds, plan_cmds, returns_cmds  # noqa: E402,F401
