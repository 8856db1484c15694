"""The seam between live closures and the pure call: a Config whose open-line queries skip the
lines closed now, so the flow treats a closed line exactly as a line outside its hours.

Pure: the closed set is an argument (the web edge reads it from the store every few seconds);
the flow itself never hears of the store."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from .directory import ANYONE, Line
from .loading import Config
from .schedule import OpenIndex, is_open, next_opening

NOTHING_CLOSED: frozenset[str] = frozenset()


class ClosedFilteredIndex:
    """An OpenIndex minus the lines closed now (same question, same order, fewer lines)."""

    def __init__(self, index: OpenIndex, closed: frozenset[str]) -> None:
        self.directory = index.directory
        self._index = index
        self.closed = closed

    def open_lines(self, at: dt.datetime, audience: str = ANYONE) -> tuple[Line, ...]:
        return tuple(line for line in self._index.open_lines(at, audience) if line.id not in self.closed)

    def next_opening(self, line: Line, at: dt.datetime) -> dt.datetime | None:
        """A line closed by hand is never named as the next to open: the call does not know when
        its closure ends (it may be "until reopened"), so it names another line instead."""
        return None if line.id in self.closed else self._index.next_opening(line, at)


def next_opening_after(line: Line, at: dt.datetime, closed_until: dt.datetime | None) -> dt.datetime | None:
    """When a line closed by hand can next be reached: the first open minute once its closure
    has ended (`closed_until`), or None while it is closed until reopened. For `ivr schedule`
    and the console, which know the closure's end."""
    if closed_until is None:
        return None
    if closed_until <= at:
        return next_opening(line, at)
    return closed_until if is_open(line, closed_until) else next_opening(line, closed_until)


def without_closed(config: Config, closed: frozenset[str]) -> Config:
    """The config as the flow should see it while `closed` lines are closed live."""
    if not closed:
        return config
    return replace(config, index=ClosedFilteredIndex(config.index, closed))  # type: ignore[arg-type]
