"""The seam between live closures and the pure call: a Config whose open-line queries skip the
lines closed now, so the flow treats a closed line exactly as a line outside its hours.

Pure: the closed set is an argument (the web edge reads it from the store every few seconds);
the flow itself never hears of the store."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from .directory import ANYONE, Line
from .loading import Config
from .schedule import OpenIndex

NOTHING_CLOSED: frozenset[str] = frozenset()


class ClosedFilteredIndex:
    """An OpenIndex minus the lines closed now (same question, same order, fewer lines)."""

    def __init__(self, index: OpenIndex, closed: frozenset[str]) -> None:
        self.directory = index.directory
        self._index = index
        self.closed = closed

    def open_lines(self, at: dt.datetime, audience: str = ANYONE) -> tuple[Line, ...]:
        return tuple(line for line in self._index.open_lines(at, audience) if line.id not in self.closed)


def without_closed(config: Config, closed: frozenset[str]) -> Config:
    """The config as the flow should see it while `closed` lines are closed live."""
    if not closed:
        return config
    return replace(config, index=ClosedFilteredIndex(config.index, closed))  # type: ignore[arg-type]
