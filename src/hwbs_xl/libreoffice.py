"""Running LibreOffice headless, for the appendix PDF (and for tests that open files in a real client).

LibreOffice is optional: commands that need it raise RendererMissing with the exact install line.
Each run gets its own throw-away user profile so two runs (or a desktop LibreOffice) never collide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import RendererMissing, StorageFailed

INSTALL_HINT = ("Install LibreOffice: on Debian/Ubuntu `sudo apt-get install libreoffice-calc-nogui` "
                "(or install LibreOffice from libreoffice.org and put `soffice` on the PATH).")


def find_soffice() -> str | None:
    explicit = os.environ.get("HWBS_SOFFICE")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in ("/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
                      "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if Path(candidate).exists():
            return candidate
    return None


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
        cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--nolockcheck",
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
