"""Where a plan folder sits: a local disk, a network share, or a folder a sync client manages.

The register is SQLite, whose locking is only safe on a local disk: on a network file system (an SMB or
NFS share, a mapped drive) two coordinators can both think they hold the lock, and a sync client
(OneDrive, Dropbox, Google Drive, iCloud) uploads the register half-way through a change or replaces it
with another machine's copy. Either can corrupt it. hwbs-xl still runs there (refusing would strand a
council whose only disk is a share) but says so on every command that writes, with what to do instead.

Detected by path (every platform: the folders those clients make), by drive type on Windows (UNC paths
and mapped network drives) and by file-system type on Linux (/proc/self/mounts). macOS network shares
mount under /Volumes, which also holds local USB disks, so there only the sync clients are recognised.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

# Folder names the sync clients create (matched against each part of the path, ignoring case).
SYNC_FOLDERS = (
    ("OneDrive", re.compile(r"^onedrive( - .+)?$", re.I)),
    ("Dropbox", re.compile(r"^dropbox( \(.+\))?$", re.I)),
    ("Google Drive", re.compile(r"^(google ?drive|my drive|shared drives)$", re.I)),
    ("iCloud Drive", re.compile(r"^(icloud ?drive|mobile documents|com~apple~clouddocs)$", re.I)),
    ("Box", re.compile(r"^box( sync)?$|^box-box$", re.I)),
)
# Linux file-system types that are network file systems (SQLite's locks are not reliable on them).
NETWORK_FS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "drvfs", "afs", "ceph", "glusterfs", "lustre", "gpfs",
    "davfs", "ncpfs", "fuse.sshfs", "fuse.rclone", "fuse.gvfsd-fuse", "fuse.davfs2", "fuse.s3fs",
    "fuse.onedriver", "fuse.google-drive-ocamlfuse", "fuse.dropbox",
})

ADVICE = ("Keep the plan folder on this computer's own disk (for example Documents\\hwbs-plan, not inside "
          "OneDrive or a shared drive) and share what people need from it: the appendix, the lead workbooks "
          "and the reports can be copied to the shared folder after each command.")


@dataclass(frozen=True)
class Placement:
    """Why a plan folder is not on a plain local disk: ``kind`` is "sync" or "network"."""

    kind: str
    what: str  # "OneDrive", "an SMB share (cifs)", "a network drive"

    def warning(self, root: Path) -> str:
        where = f"inside a folder {self.what} keeps in sync" if self.kind == "sync" else f"on {self.what}"
        return (f"The plan folder {root} is {where}. The register is an SQLite database, and its locking is not "
                f"safe there: two coordinators, or the sync client itself, can corrupt it. {ADVICE}")


def placement(root: Path) -> Placement | None:
    """How the folder ``root`` (which may not exist yet) is shared, or None for a local disk."""
    return sync_client(root) or network_drive(root)


def sync_client(root: Path) -> Placement | None:
    parts = Path(root).parts
    for i, part in enumerate(parts):
        if part == "CloudStorage" and i + 1 < len(parts):  # macOS: ~/Library/CloudStorage/<Client>-<account>
            provider = parts[i + 1].split("-", 1)[0]
            return Placement("sync", next((n for n, _ in SYNC_FOLDERS if n.replace(" ", "") == provider), provider))
        for name, pattern in SYNC_FOLDERS:
            if pattern.match(part):
                return Placement("sync", name)
    return None


def network_drive(root: Path) -> Placement | None:
    if sys.platform == "win32":
        return _windows_drive(str(root))
    if sys.platform.startswith("linux"):
        fs = linux_fs_type(Path(root))
        if fs in NETWORK_FS:
            return Placement("network", f"a network file system ({fs})")
    return None


def unc_share(path: str) -> bool:
    """A Windows UNC path (\\\\server\\share\\...), which is always on another computer."""
    drive = PureWindowsPath(path).drive
    return drive.startswith("\\\\") and not drive.startswith("\\\\?\\")


def _windows_drive(path: str) -> Placement | None:
    if unc_share(path):
        return Placement("network", "a network share")
    if sys.platform == "win32":
        import ctypes

        drive = PureWindowsPath(path).drive
        if drive and ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == 4:  # DRIVE_REMOTE
            return Placement("network", f"a network drive ({drive})")
    return None


def linux_fs_type(path: Path, mounts: str | None = None) -> str | None:
    """The type of the file system holding ``path`` (its nearest existing folder), from the mount table:
    the mount point that is the longest prefix of the path wins."""
    if mounts is None:
        try:
            with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
                mounts = fh.read()
        except OSError:
            return None
    existing = Path(path).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    target = os.path.realpath(existing)
    best, best_type = "", None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, fields[2]
    return best_type
