"""Dead lines found by themselves: per line, the dials in a row that ended without a talk
(busy, no answer, failed, a short "completed"), shared by every host through the database. A
talk resets it to 0. Past the threshold (`service.try_last_after` in hotlines.yaml) the line is
tried last in every chain (ivr/call/live_closed.py), never dropped.

Per line only: no call id, no number, and no time finer than the minute (when the run began). Each
worker tallies its dials in memory on the request path (no I/O) and adds them to the shared row
from its store thread, every few seconds, like the counts."""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import Connection, Engine, func, select

from .counts import _insert_for
from .events import DIAL_OUTCOME
from .schema import line_dials

UTC = dt.timezone.utc
TALK_OUTCOME = "completed"  # long enough to be a talk; every other outcome is none


@dataclass(frozen=True)
class Run:
    """A line's dials in a row without a talk, and since when (None at 0)."""

    unanswered: int
    since: dt.datetime | None


@dataclass
class _Tally:
    talked: bool = False  # a talk in this batch: the stored run starts afresh
    unanswered: int = 0  # dials without a talk since the batch's last talk
    since: dt.datetime | None = None


class DialTally:
    """One worker's dial outcomes since its last write, per line. Thread-safe, no I/O."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: dict[str, _Tally] = {}

    def add(self, events: Iterable[tuple[str, str]], at: dt.datetime) -> None:
        """Notes the dial outcomes among an answer's events (`dial_outcome`, `line/outcome`)."""
        for event, dimension in events:
            if event != DIAL_OUTCOME:
                continue
            line, _, outcome = dimension.rpartition("/")
            with self._lock:
                tally = self._lines.setdefault(line, _Tally())
                if outcome == TALK_OUTCOME:
                    tally.talked, tally.unanswered, tally.since = True, 0, None
                else:
                    tally.unanswered += 1
                    tally.since = tally.since or at.replace(second=0, microsecond=0)

    def take(self) -> dict[str, _Tally]:
        with self._lock:
            taken, self._lines = self._lines, {}
            return taken

    def put_back(self, taken: Mapping[str, _Tally]) -> None:
        """A write that failed: its tallies go before what came since."""
        with self._lock:
            for line, old in taken.items():
                new = self._lines.get(line)
                if new is None:
                    self._lines[line] = old
                elif not new.talked:  # the old batch happened first: add up
                    new.talked = old.talked
                    new.unanswered += old.unanswered
                    new.since = old.since or new.since


def _to_db(at: dt.datetime | None) -> dt.datetime | None:
    return at.astimezone(UTC).replace(tzinfo=None) if at is not None else None


def write(engine: Engine, taken: Mapping[str, _Tally], now: dt.datetime) -> None:
    """Adds each line's tally to its shared row in one transaction: after a talk the row takes
    the dials since it; otherwise they add to the run, which keeps its start."""
    if not taken:
        return
    with engine.begin() as connection:
        for line, tally in sorted(taken.items()):
            row: dict[str, Any] = {"line_id": line, "unanswered_in_a_row": tally.unanswered,
                                   "since": _to_db(tally.since),
                                   "updated_at": _to_db(now.replace(second=0, microsecond=0))}
            statement = _insert_for(connection, line_dials).values(**row)
            excluded = statement.excluded
            if tally.talked:
                changes = {"unanswered_in_a_row": excluded.unanswered_in_a_row, "since": excluded.since}
            else:
                changes = {"unanswered_in_a_row": line_dials.c.unanswered_in_a_row + excluded.unanswered_in_a_row,
                           "since": func.coalesce(line_dials.c.since, excluded.since)}
            connection.execute(statement.on_conflict_do_update(
                index_elements=["line_id"], set_={**changes, "updated_at": excluded.updated_at}))


def read(connection: Connection) -> dict[str, Run]:
    c = line_dials.c
    return {line: Run(n, since.replace(tzinfo=UTC) if since is not None and n else None)
            for line, n, since in connection.execute(select(c.line_id, c.unanswered_in_a_row, c.since))}


def read_all(engine: Engine) -> dict[str, Run]:
    with engine.connect() as connection:
        return read(connection)


def tried_last(runs: Mapping[str, Run], after: int) -> frozenset[str]:
    """The lines to try last: `after` or more dials in a row without a talk."""
    return frozenset(line for line, run in runs.items() if run.unanswered >= after)
