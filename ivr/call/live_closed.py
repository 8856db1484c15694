"""The seam between the store's live state and the pure call: a Config whose open-line queries
skip the lines closed now, so the flow treats a closed line exactly as a line outside its hours,
whose next opening is the first open minute once its closure ends (never, while it is closed
until reopened), and which tries last the lines that looked dead (many dials in a row without a talk), so every caller is
first offered a line that answers, and the quiet one still when every other fails.

Pure: the closures (each line id with its end) and the demoted set are arguments (the web edge reads them from the store every
few seconds); the flow itself never hears of the store."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Optional

from ivr.directory.directory import ANYONE, Line
from ivr.config.loading import Config
from ivr.directory.schedule import OpenIndex, is_open, next_opening

# The lines closed by hand, each with its closure's end (None: until reopened). A frozenset of
# pairs, not a dict: it is part of every cached answer's key, so it must hash.
Closed = frozenset[tuple[str, Optional[dt.datetime]]]
NOTHING_CLOSED: Closed = frozenset()
NOTHING_DEMOTED: frozenset[str] = frozenset()



@dataclass(frozen=True)
class LiveClosure:
    """A line closed by hand, as the store holds it (ivr/store/closures.py): plain data, so the
    schedule's table can show it without importing the store."""

    line_id: str
    closed_at: dt.datetime
    until: dt.datetime | None  # None: until reopened
    reason: str
    closed_by: str

    def active(self, now: dt.datetime) -> bool:
        return self.until is None or now < self.until


def until_reopened(line_ids: Iterable[str]) -> Closed:
    """`line_ids` closed with no end: none of them opens before it is reopened by hand."""
    return frozenset((line_id, None) for line_id in line_ids)


class ClosedFilteredIndex:
    """An OpenIndex minus the lines closed now (same question, same order, fewer lines), with
    the demoted lines moved to the end (in their own order): never dropped."""

    def __init__(self, index: OpenIndex, closed: Closed,
                 demoted: frozenset[str] = NOTHING_DEMOTED) -> None:
        self.directory = index.directory
        self._index = index
        self.until = dict(closed)
        self.demoted = demoted

    def _closed_at(self, line: Line, at: dt.datetime) -> bool:
        if line.id not in self.until:
            return False
        until = self.until[line.id]
        return until is None or at < until

    def open_lines(self, at: dt.datetime, audience: str = ANYONE) -> tuple[Line, ...]:
        lines = tuple(line for line in self._index.open_lines(at, audience) if not self._closed_at(line, at))
        if not self.demoted:
            return lines
        return (tuple(line for line in lines if line.id not in self.demoted)
                + tuple(line for line in lines if line.id in self.demoted))

    def next_opening(self, line: Line, at: dt.datetime) -> dt.datetime | None:
        """A line closed by hand opens next once its closure has ended: the same rule as in
        `ivr schedule` and on the console's Now page."""
        if line.id not in self.until:
            return self._index.next_opening(line, at)
        return next_opening_after(line, at, self.until[line.id], self._index.next_opening)


def next_opening_after(line: Line, at: dt.datetime, closed_until: dt.datetime | None,
                       opening: Callable[[Line, dt.datetime], dt.datetime | None] = next_opening,
                       ) -> dt.datetime | None:
    """When a line closed by hand can next be reached: the first open minute once its closure
    has ended (`closed_until`), or None while it is closed until reopened. Used by the call,
    `ivr schedule` and the console alike; `opening` asks when the line opens regularly."""
    if closed_until is None:
        return None
    if closed_until <= at:
        return opening(line, at)
    return closed_until if is_open(line, closed_until) else opening(line, closed_until)


def without_closed(config: Config, closed: Closed, demoted: frozenset[str] = NOTHING_DEMOTED) -> Config:
    """The config as the flow should see it while the `closed` lines are closed live (each until
    its end) and `demoted` lines are to be tried last."""
    if not closed and not demoted:
        return config
    return replace(config, index=ClosedFilteredIndex(config.index, closed, demoted))  # type: ignore[arg-type]
