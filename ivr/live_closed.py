"""The seam between the store's live state and the pure call: a Config whose open-line queries
skip the lines closed now, so the flow treats a closed line exactly as a line outside its hours,
and try last the lines that looked dead (many dials in a row without a talk), so every caller is
first offered a line that answers, and the quiet one still when every other fails.

Pure: the closed and demoted sets are arguments (the web edge reads them from the store every
few seconds); the flow itself never hears of the store."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from .directory import ANYONE, Line
from .loading import Config
from .schedule import OpenIndex, is_open, next_opening

NOTHING_CLOSED: frozenset[str] = frozenset()
NOTHING_DEMOTED: frozenset[str] = frozenset()


class ClosedFilteredIndex:
    """An OpenIndex minus the lines closed now (same question, same order, fewer lines), with
    the demoted lines moved to the end (in their own order): never dropped."""

    def __init__(self, index: OpenIndex, closed: frozenset[str],
                 demoted: frozenset[str] = NOTHING_DEMOTED) -> None:
        self.directory = index.directory
        self._index = index
        self.closed = closed
        self.demoted = demoted

    def open_lines(self, at: dt.datetime, audience: str = ANYONE) -> tuple[Line, ...]:
        lines = tuple(line for line in self._index.open_lines(at, audience) if line.id not in self.closed)
        if not self.demoted:
            return lines
        return (tuple(line for line in lines if line.id not in self.demoted)
                + tuple(line for line in lines if line.id in self.demoted))

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


def without_closed(config: Config, closed: frozenset[str], demoted: frozenset[str] = NOTHING_DEMOTED) -> Config:
    """The config as the flow should see it while `closed` lines are closed live and `demoted`
    lines are to be tried last."""
    if not closed and not demoted:
        return config
    return replace(config, index=ClosedFilteredIndex(config.index, closed, demoted))  # type: ignore[arg-type]
