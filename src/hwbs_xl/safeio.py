"""Writing files so that a crash, a kill or a full disk leaves the old file or the new one, never half of one.

Every output hwbs-xl writes goes through ``atomic_write``: the bytes go to a temporary file in the same
folder, are flushed to disk, and only then renamed over the target (rename is atomic on one file system).
``plan_lock`` keeps two coordinators from writing the same plan folder's outputs at once.

Portable to Windows and macOS: the lock is ``msvcrt.locking`` on Windows and ``fcntl.flock`` elsewhere
(behind ``_try_lock``); macOS gets ``F_FULLFSYNC`` (its plain fsync stops at the drive's cache); Linux's
``syncfs`` is only a shortcut where it exists; folders are synced where the platform can open one. Files
are created with the user's umask, as any program would, so a colleague can open what was written on a
shared drive (``tempfile`` alone would leave them readable by the owner only).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import OutputLocked, RegisterBusy, StorageFailed

TEMP_PREFIX = ".hwbs-tmp-"
# Binary mode for os.open: Windows' C runtime opens in text mode (translating line ends) unless told.
O_BINARY: int = getattr(os, "O_BINARY", 0)


def office_lock_file(path: Path) -> Path:
    """The lock file LibreOffice (and Excel on a shared drive) leaves beside a document it has open."""
    return path.with_name(f".~lock.{path.name}#")


def check_writable(path: Path) -> None:
    """Fail before any work if ``path`` cannot be replaced: folder read-only, or the file open elsewhere."""
    folder = path.parent
    if office_lock_file(path).exists() or path.with_name("~$" + path.name).exists():
        raise OutputLocked(f"{path} is open in another program.",
                           hint="Close it (in Excel or LibreOffice) and run the command again. Nothing was changed.")
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise OutputLocked(f"The folder {folder} cannot be written.",
                           hint="Fix its permissions (or choose another --out) and run again. Nothing was changed.")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputLocked(f"{path} is read-only.",
                           hint="Make it writable and run again. Nothing was changed.")


def atomic_write(path: Path, produce: Callable[[Path], None] | bytes) -> Path:
    """Write ``path`` whole or not at all. ``produce`` gets a temporary path to write, or is the bytes."""
    with StagedFiles() as staged:
        staged.add(Path(path), produce)
    return Path(path)


def atomic_write_all(files: Iterable[tuple[Path, bytes]]) -> list[Path]:
    """Write many files: every one is written and synced first, and only then are they all renamed into
    place (see StagedFiles). Returns the paths in the order given."""
    with StagedFiles() as staged:
        for path, data in files:
            staged.add(Path(path), data)
    return staged.paths


class StagedFiles:
    """Files written beside their targets and renamed into place together, when the ``with`` block ends
    without an error; on an error every temporary file is removed and no target has changed.

    Every file's bytes are on disk before any rename: synced one by one, or, for many files, with one
    ``syncfs`` of their file system (6,000 fsyncs cost 3-7 s at national size). Each folder is synced (and
    tidied of what a killed run left) once, after its renames, not once per file: listing and syncing a
    folder of 6,000 lead workbooks after each one made writing them quadratic. A caller that records the
    files in the register does so after the block, so the register never names a file that is not on disk.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temporary file, target)
        self.paths: list[Path] = []

    def __enter__(self) -> StagedFiles:
        return self

    def add(self, path: Path, produce: Callable[[Path], None] | bytes) -> Path:
        """Write ``produce`` (bytes, or a function given the temporary path) beside ``path``."""
        self._staged.append((_stage(Path(path), produce), Path(path)))
        return Path(path)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is not None:
            self._discard()
            return
        where = self._staged[0][1] if self._staged else Path(".")
        try:
            _sync([tmp for tmp, _ in self._staged])
            for tmp, where in self._staged:
                os.replace(tmp, where)
                self.paths.append(where)
        except OSError as exc:
            del self._staged[:len(self.paths)]
            self._discard()
            raise _storage_error(exc, where) from exc
        self._staged.clear()
        for folder in dict.fromkeys(p.parent for p in self.paths):
            _settle(folder)

    def _discard(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()


SYNCFS_FROM = 16  # files: from this many, one syncfs of their file system beats one fsync each


def _sync(files: list[Path]) -> None:
    """Put the written bytes of ``files`` on disk before they are renamed into place."""
    if len(files) >= SYNCFS_FROM and _syncfs({f.parent for f in files}):
        return
    for f in files:
        with open(f, "rb+") as fh:
            fsync(fh.fileno())


def fsync(fd: int) -> None:
    """Put a file's bytes on the disk itself. On macOS fsync only reaches the drive's cache; F_FULLFSYNC
    goes through it (and falls back to fsync where the file system does not support it)."""
    if sys.platform == "darwin":
        import fcntl

        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
        except OSError:
            pass
    os.fsync(fd)


def _syncfs(folders: set[Path]) -> bool:
    """Flush the file systems holding ``folders`` (Linux ``syncfs``): False where there is no such call."""
    if sys.platform != "linux":
        return False
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return False
    devices: dict[int, Path] = {}
    for folder in folders:
        devices.setdefault(os.stat(folder).st_dev, folder)
    for folder in devices.values():
        fd = os.open(folder, os.O_RDONLY)
        try:
            if call(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err))
        finally:
            os.close(fd)
    return True


def _settle(folder: Path) -> None:
    """Make the folder's renames durable and remove what a killed run left beside them."""
    _fsync_dir(folder)
    _clean(folder.iterdir())


def _stage(path: Path, produce: Callable[[Path], None] | bytes) -> Path:
    """Write a temporary file beside ``path`` (synced later, see StagedFiles); returns it. Nothing is left
    behind on an error."""
    try:  # a read-only or full disk fails here first: say so, as for the write itself
        path.parent.mkdir(parents=True, exist_ok=True)
        check_writable(path)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        if isinstance(exc, OutputLocked):
            raise
        raise _storage_error(exc, path) from exc
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, default_file_mode())  # mkstemp makes it owner-only; an output is a normal file
        if isinstance(produce, (bytes, bytearray)):
            with os.fdopen(fd, "wb") as fh:
                fh.write(produce)
        else:
            os.close(fd)
            produce(tmp)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _storage_error(exc, path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


@functools.cache
def default_file_mode() -> int:
    """The mode a new file gets from this user's umask (0o644 for the usual 022). Read once: os.umask can
    only be read by setting it, so it is put straight back."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path: Path, text: str) -> Path:
    return atomic_write(path, text.encode("utf-8"))


def clean_stale_temps(folder: Path) -> int:
    """Remove temporary files a killed run left anywhere in ``folder``; returns how many."""
    return _clean(folder.rglob(TEMP_PREFIX + "*")) if folder.is_dir() else 0


def _clean(paths: Iterable[Path]) -> int:
    """Remove the stale temporary files among ``paths``. A temporary file is named after the process
    writing it, so one that is still being written (by a command that holds no plan lock, such as validate)
    is never taken from under it; one whose process is gone was left by a crash or a kill."""
    removed = 0
    with contextlib.suppress(OSError):
        for p in paths:
            if p.name.startswith(TEMP_PREFIX) and _stale(p.name):
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed += 1
    return removed


def _stale(name: str) -> bool:
    pid, sep, _ = name[len(TEMP_PREFIX):].partition("-")
    if not sep or not pid.isdigit():
        return True  # not named after a process: left by an older hwbs-xl
    return int(pid) != os.getpid() and not process_alive(int(pid))


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (on this machine). On Windows os.kill(pid, 0) would send that
    process a Ctrl+C, so it is asked through OpenProcess instead."""
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel32.GetLastError() == 5)  # ERROR_ACCESS_DENIED: it exists, another user's
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # alive (another user's process)
    return True


def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable. Windows cannot open a folder as a file (NTFS journals the
    rename itself), so there is nothing to do there."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _storage_error(exc: OSError, path: Path) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFailed(f"The disk is full while writing {path}.",
                             hint="Free some space and run again; the old file was kept and nothing was half-written.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputLocked(f"{path} cannot be written ({exc.strerror}).",
                            hint="Fix permissions or close the program holding it, then run again.")
    return StorageFailed(f"Could not write {path}: {exc.strerror or exc}.",
                         hint="Check the disk and run again; the old file was kept.")


@contextlib.contextmanager
def plan_lock(lock_path: Path, what: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the plan folder's lock while a command changes it; wait briefly, then fail clearly."""
    wait = float(os.environ.get("HWBS_LOCK_TIMEOUT", "5")) if timeout is None else timeout
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "a+b")
    except OSError as exc:  # a read-only plan folder (or a full disk): nothing has been done yet
        raise _storage_error(exc, lock_path.parent) from exc
    deadline = time.monotonic() + wait
    try:
        while not _try_lock(fh.fileno()):
            if time.monotonic() >= deadline:
                raise RegisterBusy(
                    f"Another coordinator is running a command on this plan (waited {wait:g}s to {what}).",
                    hint="Wait for it to finish, then run this command again. Nothing was changed.")
            time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(fh.fileno())
    finally:
        fh.close()


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on an open lock file without waiting: False when another process holds it.
    Both locks belong to the process and go with it, so a killed command never leaves the plan locked."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)  # msvcrt locks bytes from the current position: always byte 0
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
