"""Exceptions hwbs-xl raises, each also the builtin it means, and the exit code the CLI gives it.

Exit codes (documented in the README):
  0  done
  1  invalid data: a file or value was wrong; the report says where and what to do
  2  usage: the command was called wrongly (unknown option, missing plan, no open cycle...)
  3  could not finish: the register is busy, a file is locked or the disk failed; nothing was changed

Bad data inside a file is *not* an exception: it is a Finding in a Report (see findings.py), so one bad cell
never hides the rest. Exceptions are for when a whole command cannot go on.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_CANNOT_FINISH = 3


class HwbsError(Exception):
    """Base of every error hwbs-xl raises on purpose. ``code`` is stable; ``hint`` says what to do."""

    exit_code = EXIT_INVALID
    code = "invalid-data"  # each subclass names its own; every code is declared in findings.CODES

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InvalidData(HwbsError, ValueError):
    """A file or value cannot be used as it is."""

    exit_code = EXIT_INVALID
    code = "invalid-data"


class UsageProblem(HwbsError, ValueError):
    """The command was asked for something that does not make sense here."""

    exit_code = EXIT_USAGE
    code = "usage"


class PlanNotFound(UsageProblem, FileNotFoundError):
    code = "plan-not-found"


class NotFound(UsageProblem, LookupError):
    """An action, cycle, lead or batch named on the command line does not exist."""

    code = "not-found"


class RegisterBusy(HwbsError, TimeoutError):
    """Another coordinator (or process) is changing the register right now."""

    exit_code = EXIT_CANNOT_FINISH
    code = "register-busy"


class UndoRefused(HwbsError, RuntimeError):
    exit_code = EXIT_USAGE
    code = "undo-refused"


class OutputLocked(HwbsError, PermissionError):
    """An output file is open in another program, or the plan folder cannot be written."""

    exit_code = EXIT_CANNOT_FINISH
    code = "output-locked"


class StorageFailed(HwbsError, OSError):
    """The disk failed (full, read-only, I/O error) part way; everything was rolled back."""

    exit_code = EXIT_CANNOT_FINISH
    code = "io-error"


class RendererMissing(HwbsError, RuntimeError):
    """An optional program (LibreOffice) is needed for this output and is not installed."""

    exit_code = EXIT_CANNOT_FINISH
    code = "renderer-missing"
