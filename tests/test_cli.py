"""The command line: every command explains itself, errors are clear and carry the documented exit codes."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from hwbs_xl.cli import main


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((prefix + (name,), cmd))
        if isinstance(cmd, click.Group):
            out.extend(_all_commands(cmd, prefix + (name,)))
    return out


def test_every_command_has_help_in_plain_words() -> None:
    runner = CliRunner()
    for path, cmd in _all_commands(main):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
        assert "Traceback" not in result.output


def test_missing_plan_is_exit_2_without_traceback(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "hwbs_xl", "--plan", str(tmp_path / "none"), "log"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Error [plan-not-found]" in proc.stderr and "What to do:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_command_is_usage_exit_2() -> None:
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2


def test_undo_refused_is_reported_not_raised(tmp_path) -> None:
    plan = str(tmp_path / "plan")
    runner = CliRunner()
    assert runner.invoke(main, ["--plan", plan, "init", "--title", "T"]).exit_code == 0
    result = runner.invoke(main, ["--plan", plan, "undo", "99"])
    assert result.exit_code == 2
    assert "There is no batch 99" in result.output


def test_plan_and_debug_are_taken_after_the_command_name_too(tmp_path) -> None:
    """`hwbs-xl flags --plan DIR` is how people type it; it must mean the same as `hwbs-xl --plan DIR flags`."""
    plan = str(tmp_path / "plan")
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--plan", plan, "--title", "After the name"]).exit_code == 0
    for args in (["flags", "--plan", plan], ["log", f"--plan={plan}"], ["cycle", "list", "--plan", plan, "--debug"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    assert "After the name" in runner.invoke(main, ["log", "--plan", plan]).output
    missing = runner.invoke(main, ["log", "--plan", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "none" in missing.output


def test_demo_keeps_its_own_plan_option() -> None:
    from hwbs_xl.cli import global_options_first

    assert global_options_first(["demo", "--plan", "d"], main) == ["demo", "--plan", "d"]
    assert global_options_first(["--plan", "p", "log"], main) == ["--plan", "p", "log"]
    assert global_options_first(["--plan", "cycle", "cycle", "list", "--debug"], main) == \
        ["--plan", "cycle", "--debug", "cycle", "list"]
    assert global_options_first(["merge", "--plan", "p", "--", "--plan"], main) == ["--plan", "p", "merge", "--", "--plan"]


def test_short_help_is_never_cut_inside_an_abbreviation() -> None:
    """The one-line help a group lists for each command is its first sentence: a first sentence with "e.g."
    in it is cut there ("Open the next reporting cycle LABEL (e.g.")."""
    for path, cmd in _all_commands(main):
        short = cmd.get_short_help_str(limit=80)
        assert not short.rstrip(".").endswith(("e.g", "i.e", "(e.g", "(i.e")), (path, short)
        assert short.count("(") == short.count(")") or short.endswith("..."), (path, short)


def test_output_to_a_closed_pipe_is_not_an_internal_error() -> None:
    """`hwbs-xl codes | head -1`: the reader stops early. That is not a bug report: exit 0, nothing on stderr."""
    import os

    from conftest import hwbs_command

    read, write = os.pipe()
    os.close(read)  # every write to the pipe now fails with EPIPE
    try:
        proc = subprocess.run([*hwbs_command(), "codes"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "internal-error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_settle_says_an_error_once_with_what_to_do_and_whose_name_it_records(tmp_path, monkeypatch) -> None:
    from hwbs_xl.demo.sample import BARNET_FILES

    monkeypatch.delenv("HWBS_COORDINATOR", raising=False)
    plan = str(tmp_path / "plan")
    runner = CliRunner()
    assert runner.invoke(main, ["--plan", plan, "import", *map(str, BARNET_FILES)]).exit_code == 0
    bad = runner.invoke(main, ["--plan", plan, "settle", "1", "nonsense value"])
    assert bad.exit_code == 1
    assert bad.output.count("there is no action NONSENSE") == 1, bad.output
    assert "What to do: Nothing was changed. Run `hwbs-xl flags`" in bad.output
    good = runner.invoke(main, ["--plan", plan, "settle", "1", "new"])
    assert good.exit_code == 0 and "from your login name: give --by NAME" in good.output, good.output
    monkeypatch.setenv("HWBS_COORDINATOR", "Jo Bloggs")
    named = runner.invoke(main, ["--plan", plan, "settle", "2", "new", "--by", "A. Coordinator"])
    assert named.exit_code == 0 and "by A. Coordinator" in named.output and "--by NAME" not in named.output


def test_log_and_undo_say_what_a_batch_did_one_line_each_without_paths(tmp_path) -> None:
    from hwbs_xl.demo.sample import BARNET_FILES

    plan = str(tmp_path / "plan")
    runner = CliRunner()
    assert runner.invoke(main, ["--plan", plan, "import", *map(str, BARNET_FILES)]).exit_code == 0
    assert runner.invoke(main, ["--plan", plan, "settle", "1", "new", "--by", "Jo"]).exit_code == 0
    undone = runner.invoke(main, ["--plan", plan, "undo", "3"])
    assert undone.exit_code == 0
    assert "Undid batch 3 (" in undone.output and "settled flag 1 (link of " in undone.output
    log = runner.invoke(main, ["--plan", plan, "log"]).output.splitlines()
    assert len(log) == 4 and all(line.split()[0].isdigit() for line in log), log  # one line a batch
    assert "settled flag 1 (link of" in log[2] and "as 'new'" in log[2] and "[undone by batch 4]" in log[2]
    assert "undid batch 3: settled flag 1" in log[3]
    assert str(tmp_path) not in "\n".join(log)
    files = runner.invoke(main, ["--plan", plan, "log", "--files"]).output
    assert "barnet-2023-04.md" in files
