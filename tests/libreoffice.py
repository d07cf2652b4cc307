"""Running LibreOffice headless: the tests' real client (it opens, fills, converts and saves workbooks the
way a lead's desktop does). hwbs-xl itself never needs it: the appendix PDF is typeset by Typst.

Found on PATH, through HWBS_SOFFICE, or where its installers put it on Linux, Windows and macOS; a missing
LibreOffice raises RendererMissing with the exact install line.
Each run gets its own throw-away user profile so two runs (or a desktop LibreOffice) never collide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hwbs_xl.errors import RendererMissing, StorageFailed

INSTALL_HINT = ("Install LibreOffice: on Debian/Ubuntu `sudo apt-get install libreoffice-calc-nogui`; on Windows "
                "or macOS from libreoffice.org (it is found where its installer puts it; elsewhere set HWBS_SOFFICE "
                "to the soffice program).")


def find_soffice() -> str | None:
    """LibreOffice's ``soffice``: HWBS_SOFFICE if set, else on the PATH, else where its installers put it
    on Linux, Windows (Program Files, 64- and 32-bit) and macOS (/Applications, system or the user's)."""
    explicit = os.environ.get("HWBS_SOFFICE")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return next((str(c) for c in install_locations() if c.is_file()), None)


def install_locations() -> list[Path]:
    """Where LibreOffice's own installers put soffice on each desktop, most usual first."""
    if sys.platform == "win32":
        roots = [os.environ.get(v) for v in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "LOCALAPPDATA")]
        bases = [Path(r) for r in dict.fromkeys(roots) if r] or [Path("C:/Program Files")]
        return [b / name / "program" / "soffice.exe" for b in bases for name in ("LibreOffice", "LibreOffice 7")]
    if sys.platform == "darwin":
        apps = [Path("/Applications"), Path.home() / "Applications"]
        return [a / "LibreOffice.app" / "Contents" / "MacOS" / "soffice" for a in apps]
    return [Path("/usr/lib/libreoffice/program/soffice"), Path("/opt/libreoffice/program/soffice"),
            Path("/usr/local/lib/libreoffice/program/soffice"), Path("/snap/bin/libreoffice")]


def profile_argument(profile: str | os.PathLike[str]) -> str:
    """The option giving LibreOffice its own throw-away user profile, as a file URL on every platform
    ("file:///C:/..." on Windows, where "file://" + a path would not be a URL)."""
    return f"-env:UserInstallation={Path(profile).resolve().as_uri()}"


def convert(source: Path, target_format: str, out_dir: Path, *, timeout: float = 180.0) -> Path:
    """Convert ``source`` with LibreOffice (e.g. target_format='pdf' or a full filter spec 'pdf:calc_pdf_Export:{...}').

    Returns the path LibreOffice wrote in ``out_dir``.
    """
    soffice = find_soffice()
    if soffice is None:
        raise RendererMissing("LibreOffice is needed for this output and was not found.", hint=INSTALL_HINT)
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = target_format.split(":", 1)[0]
    with tempfile.TemporaryDirectory(prefix="hwbs-lo-") as profile:
        cmd = [soffice, profile_argument(profile), "--headless", "--norestore", "--nolockcheck",
               "--convert-to", target_format, "--outdir", str(out_dir), str(source)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired as exc:
            raise StorageFailed(f"LibreOffice did not finish converting {source.name} within {timeout:g}s.",
                                hint="Run the command again; if it keeps happening, close other LibreOffice windows.") from exc
    produced = out_dir / (source.stem + "." + ext)
    if proc.returncode != 0 or not produced.exists():
        raise StorageFailed(f"LibreOffice could not convert {source.name}: {(proc.stderr or proc.stdout).strip()[:300]}",
                            hint="Check the file opens in LibreOffice; run again with --debug for details.")
    return produced
