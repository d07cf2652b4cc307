"""Commands of one stage of the cycle (see the module name)."""

from __future__ import annotations

import click  # noqa: F401

from . import Context, main  # noqa: F401
