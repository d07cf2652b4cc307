"""Runs where councils work: Windows and macOS desktops, shared drives, synced folders.

What can be proved on this Linux machine is proved here on real files and real processes: the plan lock
(another process holding it, and letting go when it dies), both durable-write paths (one fsync per file,
and one syncfs for many), file modes from the user's umask, file names valid on every desktop, and where
a plan folder sits. The Windows and macOS branches themselves are type-checked by tests/test_types.py
(mypy --platform win32 / darwin).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path, PureWindowsPath

import pytest

from hwbs_xl import safeio
from hwbs_xl.errors import RegisterBusy
from hwbs_xl.paths import (
    RESERVED_NAMES,
    WINDOWS_PATH_LIMIT,
    PlanPaths,
    distinct_file_names,
    folder_name,
    safe_file_name,
    slug,
)
from hwbs_xl.placement import linux_fs_type, placement, sync_client, unc_share
from libreoffice import find_soffice, install_locations, profile_argument

from conftest import hwbs_command

WINDOWS_FORBIDDEN = set('<>:"/\\|?*')


def windows_valid(name: str) -> bool:
    """Windows' own rules for one file name (what Explorer and the Win32 API refuse)."""
    head = name.split(".", 1)[0].rstrip(" ").upper()
    return (bool(name) and not WINDOWS_FORBIDDEN & set(name) and all(ord(c) >= 32 for c in name)
            and not name.endswith((".", " ")) and head not in RESERVED_NAMES)


# ---- the plan lock ------------------------------------------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from hwbs_xl.safeio import plan_lock
    with plan_lock(Path(sys.argv[1]), "test", timeout=1):
        print("held", flush=True)
        time.sleep(60)
""")


def _hold_lock(lock: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_plan_lock_held_by_another_process_waits_then_says_busy(tmp_path: Path) -> None:
    lock = tmp_path / ".hwbs" / "lock"
    holder = _hold_lock(lock)
    try:
        started = time.monotonic()
        with pytest.raises(RegisterBusy) as caught, safeio.plan_lock(lock, "merge returns", timeout=0.3):
            pass
        assert time.monotonic() - started >= 0.3
        assert "Another coordinator" in caught.value.message and caught.value.exit_code == 3
    finally:
        holder.kill()
        holder.communicate()  # reaps it and closes its pipe
    # The lock belongs to the process: once it has died (a crash, kill -9) the plan is free again.
    with safeio.plan_lock(lock, "merge returns", timeout=2):
        assert lock.exists()


def test_plan_lock_is_released_when_the_block_ends(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    with safeio.plan_lock(lock, "first", timeout=0):
        pass
    with safeio.plan_lock(lock, "second", timeout=0):
        pass
    with pytest.raises(ValueError), safeio.plan_lock(lock, "failing", timeout=0):
        raise ValueError("the command failed")
    with safeio.plan_lock(lock, "after a failure", timeout=0):
        pass


# ---- durable writes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [3, safeio.SYNCFS_FROM + 4], ids=["fsync-each", "syncfs"])
def test_staged_files_reach_their_names_whole(tmp_path: Path, count: int) -> None:
    """Both ways of syncing (per file, and one syncfs for many) leave every file whole under its name and no
    temporary file behind."""
    files = [(tmp_path / "out" / f"lead-{i}.xlsx", os.urandom(1000 + i)) for i in range(count)]
    written = safeio.atomic_write_all(files)
    assert written == [p for p, _ in files]
    assert all(p.read_bytes() == data for p, data in files)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(safeio.TEMP_PREFIX)]


def test_syncfs_is_an_optimisation_only_where_it_exists(tmp_path: Path) -> None:
    assert safeio._syncfs({tmp_path}) is sys.platform.startswith("linux")


def test_a_temporary_file_of_a_live_process_is_kept_and_a_dead_ones_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine = tmp_path / f"{safeio.TEMP_PREFIX}{os.getpid()}-a.xlsx"
    gone = tmp_path / f"{safeio.TEMP_PREFIX}{dead.pid}-b.xlsx"
    for p in (mine, gone):
        p.write_bytes(b"x")
    assert safeio.process_alive(os.getpid()) and not safeio.process_alive(dead.pid)
    assert safeio.clean_stale_temps(tmp_path) == 1
    assert mine.exists() and not gone.exists()


# ---- file modes: a colleague on the shared drive can open what was written --------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no Unix modes")
@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_outputs_follow_the_umask_and_the_key_stays_private(tmp_path: Path, umask: int) -> None:
    script = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        os.umask(int(sys.argv[2], 8))
        from hwbs_xl.manifest import load_key
        from hwbs_xl.paths import PlanPaths
        from hwbs_xl.plan.folder import init_plan
        from hwbs_xl.safeio import atomic_write
        paths = PlanPaths(Path(sys.argv[1]))
        init_plan(paths, "Mode test")[0].close()
        load_key(paths)
        atomic_write(paths.appendix / "appendix-test.pdf", b"%PDF-1.7")
    """)
    root = tmp_path / "plan"
    subprocess.run([sys.executable, "-c", script, str(root), oct(umask)[2:]], check=True)
    expected = 0o666 & ~umask
    for made in (root / "register.sqlite", root / "appendix" / "appendix-test.pdf", root / "templates" / "plan.toml"):
        assert made.stat().st_mode & 0o777 == expected, made
    assert (root / ".hwbs" / "manifest.key").stat().st_mode & 0o777 == 0o600


# ---- file names valid on every desktop ----------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(RESERVED_NAMES) + ["con", "Nul.xlsx", "aux.tar.gz", "COM1 .eml",
                                                            "lpt1.txt", "PRN"])
def test_reserved_device_names_are_never_made(name: str) -> None:
    made = safe_file_name(name)
    assert windows_valid(made), made
    assert made.split(".", 1)[0].upper() != name.split(".", 1)[0].strip().upper()


@pytest.mark.parametrize("name", ['Lead: "Director" <Public Health>?.xlsx', "a/b\\c|d*e.xlsx", "trailing. ",
                                  "tab\there.eml", "...", "   ", "Public Health.", "x" * 300 + ".xlsx"])
def test_any_text_becomes_a_valid_file_name(name: str) -> None:
    made = safe_file_name(name)
    assert windows_valid(made) and len(made) <= 120, made
    if name.endswith(".xlsx"):
        assert made.endswith(".xlsx")


def test_two_leads_never_map_to_the_same_file() -> None:
    leads = ["Public Health Officer", "Public-Health Officer", "PUBLIC HEALTH OFFICER", "Public Health Officer.",
             "CON", "Con", "x" * 200 + "A", "x" * 200 + "B"]
    names = distinct_file_names({lead: f"October-2024 - {slug(lead)}.xlsx" for lead in leads})
    assert len({n.casefold() for n in names.values()}) == len(leads)
    assert all(windows_valid(n) for n in names.values())
    # The same leads give the same names on every run, whatever order they come in.
    again = distinct_file_names({lead: f"October-2024 - {slug(lead)}.xlsx" for lead in reversed(leads)})
    assert again == names


def test_paths_stay_inside_the_windows_limit() -> None:
    folder = Path("C:/Users/coordinator.name/Documents/Health and Wellbeing Board/plan/issued/" + "O" * 90)
    leads = {f"Lead {i} " + "with a very long job title " * 6: f"October-2024 - Lead-{i}-" + "very-long-title-" * 9
             + ".xlsx" for i in range(3)}
    names = distinct_file_names(leads, folder)
    assert len(set(names.values())) == 3
    for name in names.values():
        assert len(str(PureWindowsPath(folder) / name)) <= WINDOWS_PATH_LIMIT and name.endswith(".xlsx")


def test_slug_cuts_at_a_word_and_folders_avoid_device_names() -> None:
    long_lead = "BBP, Borough of Sanctuary, Barnet Public Health and the Voluntary Sector Working Group of the Board"
    cut = slug(long_lead)
    assert len(cut) <= 80 and long_lead.replace(",", "").replace(" ", "-").startswith(cut)
    assert folder_name("Con") == "Con_" and folder_name("October 2024") == "October-2024"
    assert PlanPaths(Path("/p")).issued("AUX").name == "AUX_"


# ---- where the plan folder sits -----------------------------------------------------------------------------

@pytest.mark.parametrize("path, client", [
    ("C:/Users/jo/OneDrive - London Borough of Barnet/HWB/plan", "OneDrive"),
    ("/Users/jo/Library/CloudStorage/OneDrive-Barnet/plan", "OneDrive"),
    ("/home/jo/Dropbox/plan", "Dropbox"),
    ("/Users/jo/Library/CloudStorage/GoogleDrive-jo@barnet.gov.uk/My Drive/plan", "Google Drive"),
    ("/Users/jo/Library/Mobile Documents/com~apple~CloudDocs/plan", "iCloud Drive"),
    ("G:/My Drive/plan", "Google Drive"),
])
def test_sync_client_folders_are_recognised(path: str, client: str) -> None:
    found = sync_client(Path(path))
    assert found is not None and found.what == client and found.kind == "sync"


@pytest.mark.parametrize("path", ["/home/jo/Documents/plan", "C:/Users/jo/Documents/hwbs/plan",
                                  "/home/jo/onedrive-notes-backup-old/x"])
def test_local_folders_are_not_flagged(path: str) -> None:
    assert sync_client(Path(path)) is None


def test_unc_paths_are_network_shares() -> None:
    assert unc_share(r"\\fileserver\hwb\plan") and unc_share("//fileserver/hwb/plan")
    assert not unc_share(r"C:\Users\jo\plan") and not unc_share(r"\\?\C:\Users\jo\plan")


def test_file_system_type_comes_from_the_longest_mount_point(tmp_path: Path) -> None:
    target = str(tmp_path.resolve())
    mounts = "\n".join(["/dev/vda / ext4 rw 0 0", f"//server/share {target} cifs rw 0 0",
                        f"tmpfs {target}/sub tmpfs rw 0 0"])
    assert linux_fs_type(tmp_path / "plan", mounts) == "cifs"
    (tmp_path / "sub").mkdir()
    assert linux_fs_type(tmp_path / "sub" / "plan", mounts) == "tmpfs"
    assert linux_fs_type(Path("/"), mounts) == "ext4"


def test_this_machines_disk_is_local(tmp_path: Path) -> None:
    assert placement(tmp_path) is None


def test_writing_commands_warn_about_a_synced_plan_folder(tmp_path: Path) -> None:
    plan = tmp_path / "OneDrive - Barnet" / "plan"
    init = subprocess.run([*hwbs_command(), "--plan", str(plan), "init"], capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    assert "OneDrive" in init.stderr and "local disk" not in init.stdout
    assert "Keep the plan folder on this computer's own disk" in init.stderr
    for reading in (["log"], ["cycle", "list"], ["flags"]):
        done = subprocess.run([*hwbs_command(), "--plan", str(plan), *reading], capture_output=True, text=True)
        assert done.returncode == 0 and "Warning" not in done.stderr, (reading, done.stderr)
    local = subprocess.run([*hwbs_command(), "--plan", str(tmp_path / "local"), "init"], capture_output=True,
                           text=True)
    assert local.returncode == 0 and "Warning" not in local.stderr


# ---- finding LibreOffice and starting it portably ------------------------------------------------------

def test_libreoffice_install_locations_are_absolute_and_named_for_the_platform() -> None:
    places = install_locations()
    assert places and all(p.is_absolute() for p in places)
    assert all(p.name == ("soffice.exe" if sys.platform == "win32" else "soffice") or p.name == "libreoffice"
               for p in places)


def test_hwbs_soffice_names_the_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "soffice"
    monkeypatch.setenv("HWBS_SOFFICE", str(fake))
    assert find_soffice() is None  # named but absent: not silently replaced by another
    fake.write_text("")
    assert find_soffice() == str(fake)


def test_the_profile_is_passed_as_a_file_url(tmp_path: Path) -> None:
    arg = profile_argument(tmp_path / "profile dir")
    assert arg.startswith("-env:UserInstallation=file:///") and "%20" in arg
