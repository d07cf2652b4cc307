"""Action IDs: written in the plan's format (plan.toml's ``action_id_format``, e.g. "KA{area}-{number:02d}")
and allocated as the next number in a key area after the highest ever used.

A number is never reused: the caller passes every ID the plan has ever used, those of actions an undo
deleted included. An ID is read back through the format (any spelling of the numbers: "KA2-5" counts as
number 5 of key area 2), so an odd spelling in an imported plan never lets its number be issued again.
Both ways a new action gets its ID (``action add`` and an import) use this one allocator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def id_pattern(fmt: str) -> re.Pattern[str]:
    """A regex that reads (area, number) back out of an ID made by ``fmt``."""
    parts = re.split(r"(\{area[^}]*\}|\{number[^}]*\})", fmt)
    regex = "".join("(?P<area>\\d+)" if p.startswith("{area") else "(?P<number>\\d+)" if p.startswith("{number")
                    else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


class ActionIds:
    """The next free ID per key area, given the IDs used so far; every ID it hands out counts as used."""

    def __init__(self, fmt: str, used: Iterable[str]) -> None:
        self.format = fmt
        self._pattern = id_pattern(fmt)
        self._highest: dict[int, int] = {}
        for action_id in used:
            parsed = self.parse(action_id)
            if parsed is not None:
                area, number = parsed
                self._highest[area] = max(self._highest.get(area, 0), number)

    def parse(self, action_id: str) -> tuple[int, int] | None:
        """(key area number, action number) of an ID in the plan's format, else None."""
        m = self._pattern.match(action_id)
        return (int(m.group("area")), int(m.group("number"))) if m else None

    @property
    def areas(self) -> list[int]:
        """The key area numbers that have used an ID."""
        return list(self._highest)

    def new(self, area: int) -> str:
        number = self._highest.get(area, 0) + 1
        self._highest[area] = number
        return self.format.format(area=area, number=number)
