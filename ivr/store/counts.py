"""Counts in memory and in the database: (local hour, event, dimension) -> count, seconds.

Each worker adds to a CountBuffer on the request path (a dict under a lock, no I/O). A
background thread (store/live.py) flushes it in batches, one upsert per key; when the database
cannot take them, the counts are spooled to a file (store/spool.py), or, when that fails too,
wait in memory up to a bound, and what does not fit is itself counted (as `counts_dropped`)
and logged. Old hourly rows fold into daily ones (`prune`)."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, Engine, Row, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from .events import DROPPED
from .schema import DIMENSION_LEN, EVENT_LEN, counts_daily, counts_hourly

log = logging.getLogger("ivr.store.counts")

MAX_KEYS = 20_000  # distinct (hour, event, dimension) kept while the database is away
Key = tuple[dt.datetime, str, str]  # (local hour, naive; event; dimension)


class CountBuffer:
    """One worker's counts since the last flush. Thread-safe; adding never blocks on I/O."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._counts: dict[Key, list[int]] = {}
        self._dropped = 0  # counts lost since they were last logged

    def add(self, hour: dt.datetime, events: Iterable[tuple[str, str, int]]) -> None:
        with self._lock:
            counts = self._counts
            for event, dimension, seconds in events:
                key = (hour, event[:EVENT_LEN], dimension[:DIMENSION_LEN])
                found = counts.get(key)
                if found is None:
                    if len(counts) >= self.max_keys:
                        self._drop_locked(hour, 1)
                        continue
                    counts[key] = [1, seconds]
                else:
                    found[0] += 1
                    found[1] += seconds

    def _drop_locked(self, hour: dt.datetime, n: int) -> None:
        # The one key always let in: the count of what was dropped must survive to be reported.
        self._dropped += n
        key = (hour, DROPPED, "")
        found = self._counts.setdefault(key, [0, 0])
        found[0] += n

    def take(self) -> dict[Key, list[int]]:
        """Everything gathered so far; the buffer starts afresh."""
        with self._lock:
            taken, self._counts = self._counts, {}
            return taken

    def put_back(self, counts: dict[Key, list[int]]) -> None:
        """Counts a flush could not write: kept for the next flush, as far as the bound allows."""
        with self._lock:
            for key, (count, seconds) in counts.items():
                found = self._counts.get(key)
                if found is not None:
                    found[0] += count
                    found[1] += seconds
                elif len(self._counts) < self.max_keys or key[1] == DROPPED:
                    self._counts[key] = [count, seconds]
                else:
                    self._drop_locked(key[0], count)

    def pop_dropped(self) -> int:
        with self._lock:
            dropped, self._dropped = self._dropped, 0
            return dropped

    def __len__(self) -> int:
        return len(self._counts)


def _insert_for(connection: Connection, table: Table) -> Any:
    name = connection.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"counting needs SQLite or PostgreSQL, not {name}")


def _upsert(connection: Connection, table: Table, period: str, rows: list[dict[str, Any]]) -> None:
    """Add rows to what is stored: one statement, one row per key, counts summed on conflict."""
    if not rows:
        return
    statement = _insert_for(connection, table)
    statement = statement.on_conflict_do_update(
        index_elements=[period, "event", "dimension"],
        set_={"count": table.c.count + statement.excluded.count,
              "seconds": table.c.seconds + statement.excluded.seconds})
    connection.execute(statement, rows)


def write(engine: Engine, counts: dict[Key, list[int]]) -> None:
    rows = [{"hour": hour, "event": event, "dimension": dimension, "count": count, "seconds": seconds}
            for (hour, event, dimension), (count, seconds) in sorted(counts.items())]
    with engine.begin() as connection:
        _upsert(connection, counts_hourly, "hour", rows)


def log_dropped(buffer: CountBuffer) -> None:
    dropped = buffer.pop_dropped()
    if dropped:
        log.error("dropped %d counts: more than %d distinct counts waited for the database",
                  dropped, buffer.max_keys)


def prune(engine: Engine, before: dt.date) -> int:
    """Fold hourly rows of local dates before `before` into daily rows; returns the hourly rows
    folded. The rows are deleted and read in one statement, so two processes pruning at once
    never fold a row twice."""
    boundary = dt.datetime.combine(before, dt.time())
    with engine.begin() as connection:
        gone = connection.execute(
            delete(counts_hourly).where(counts_hourly.c.hour < boundary).returning(
                counts_hourly.c.hour, counts_hourly.c.event, counts_hourly.c.dimension,
                counts_hourly.c.count, counts_hourly.c.seconds)).all()
        daily: dict[tuple[dt.date, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for hour, event, dimension, count, seconds in gone:
            total = daily[(hour.date(), event, dimension)]
            total[0] += count
            total[1] += seconds
        _upsert(connection, counts_daily, "day", [
            {"day": day, "event": event, "dimension": dimension, "count": c, "seconds": s}
            for (day, event, dimension), (c, s) in sorted(daily.items())])
    return len(gone)


def read_hourly(connection: Connection, first: dt.datetime, end: dt.datetime) -> Sequence[Row]:
    """(hour, event, dimension, count, seconds) rows with first <= hour < end."""
    c = counts_hourly.c
    return connection.execute(select(c.hour, c.event, c.dimension, c.count, c.seconds)
                              .where(c.hour >= first, c.hour < end)).all()


def read_daily(connection: Connection, first: dt.date, last: dt.date) -> Sequence[Row]:
    """(day, event, dimension, count, seconds) rows with first <= day <= last."""
    c = counts_daily.c
    return connection.execute(select(c.day, c.event, c.dimension, c.count, c.seconds)
                              .where(c.day >= first, c.day <= last)).all()
