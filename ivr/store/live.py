"""One worker's link to the store: the lines closed now, and the counts on their way.

The request path only reads `closed` (a frozenset, swapped whole) and adds to the CountBuffer;
a daemon thread (a greenlet in the gevent workers, which psycopg waits in cooperatively) does
all I/O: it asks for the closures' version every POLL_SECONDS (re-reading
the closures only when it changed), flushes counts every FLUSH_SECONDS, and folds old hourly
rows once a day. A database that is down or slow only delays that thread: what a caller hears
is decided from the last closures known."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from . import closures, counts, dead_lines
from .database import StoreSettings, make_engine
from .events import with_talk

log = logging.getLogger("ivr.store")

POLL_SECONDS = 2.0  # closures are obeyed within this plus the time to read them: well under 10 s
FLUSH_SECONDS = 10.0
PRUNE_SECONDS = 24 * 3600.0

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Live:
    def __init__(self, engine: Engine, zone: ZoneInfo, keep_hourly_days: int = 400, *,
                 clock: Clock = system_clock, poll_seconds: float = POLL_SECONDS,
                 flush_seconds: float = FLUSH_SECONDS, max_keys: int = counts.MAX_KEYS) -> None:
        self.engine = engine
        self.zone = zone
        self.keep_hourly_days = keep_hourly_days
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.flush_seconds = flush_seconds
        self.buffer = counts.CountBuffer(max_keys)
        self.closed: frozenset[str] = frozenset()
        self._version: int | None = None
        self._closures: tuple[closures.LiveClosure, ...] = ()
        self._failing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._hour_of: tuple[dt.datetime | None, dt.datetime] = (None, dt.datetime.min)
        # Dead lines: this worker's dial outcomes on their way, every host's runs as last read
        self.dials = dead_lines.DialTally()
        self.runs: dict[str, dead_lines.Run] = {}
        self._tried_last: tuple[object, int, frozenset[str]] = (None, 0, frozenset())
        self._dials_failing = False
        self.on_runs: Callable[[dict[str, dead_lines.Run]], None] | None = None  # e.g. the /metrics gauge

    @classmethod
    def from_settings(cls, settings: StoreSettings, zone: ZoneInfo, clock: Clock = system_clock) -> Live:
        return cls(make_engine(settings), zone, settings.keep_hourly_days, clock=clock)

    # -- the request path: no I/O --------------------------------------------------------------

    @property
    def reachable(self) -> bool:
        """The database answered the last poll (for GET /ready; no I/O here)."""
        return self._version is not None and not self._failing

    def count(self, now: dt.datetime, events: tuple[tuple[str, str], ...], talk_seconds: int | None = None) -> None:
        if events:
            self.buffer.add(self._hour(now), with_talk(events, talk_seconds))
            self.dials.add(events, now)

    def tried_last(self, after: int) -> frozenset[str]:
        """The lines with `after` or more dials in a row without a talk, on any host, as last
        read (worked out once per read, not per request)."""
        runs, seen_after, lines = self._tried_last
        if runs is not self.runs or seen_after != after:
            lines = dead_lines.tried_last(self.runs, after)
            self._tried_last = (self.runs, after, lines)
        return lines

    def _hour(self, now: dt.datetime) -> dt.datetime:
        """The local wall-clock hour of `now`, worked out once per minute."""
        minute = now.replace(second=0, microsecond=0)
        seen, hour = self._hour_of
        if seen != minute:
            hour = now.astimezone(self.zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
            self._hour_of = (minute, hour)
        return hour

    # -- the background thread -----------------------------------------------------------------

    def poll(self) -> None:
        """Re-read the closures if their version moved; work out which are in force now."""
        try:
            with self.engine.connect() as connection:
                version = closures.version(connection)
                if version != self._version:
                    self._closures = closures.all_closures(connection)
                    self._version = version
        except Exception as error:
            if not self._failing:
                log.error("cannot read the live closures (%s); still obeying the last ones known: %s",
                          type(error).__name__, ", ".join(sorted(self.closed)) or "none")
            self._failing = True
        else:
            if self._failing:
                log.warning("the live closures can be read again")
            self._failing = False
        now = self.clock()
        closed = frozenset(c.line_id for c in self._closures if c.active(now))
        if closed != self.closed:
            self.closed = closed  # one assignment: a request sees the old set or the new one
        self.sync_dials()

    def sync_dials(self) -> None:
        """Add this worker's dial outcomes to the shared runs, then read every host's."""
        taken = self.dials.take()
        try:
            dead_lines.write(self.engine, taken, self.clock())
            runs = dead_lines.read_all(self.engine)
        except Exception as error:
            self.dials.put_back(taken)
            if not self._dials_failing:
                log.error("cannot share the lines' dials without a talk (%s); trying again", type(error).__name__)
            self._dials_failing = True
            return
        self._dials_failing = False
        self.runs = runs  # swapped whole, like the closures
        if self.on_runs is not None:
            try:
                self.on_runs(runs)
            except Exception as error:  # a figure lost, never the store thread
                log.warning("could not show the lines' dials without a talk: %s", type(error).__name__)

    def flush(self) -> int:
        return counts.flush(self.engine, self.buffer)

    def prune(self) -> int:
        today = self.clock().astimezone(self.zone).date()
        try:
            return counts.prune(self.engine, today - dt.timedelta(days=self.keep_hourly_days))
        except Exception as error:
            log.warning("could not fold old hourly counts (%s); trying again tomorrow", type(error).__name__)
            return 0

    def start(self) -> Live:
        self.poll()  # obey the closures from the first request on
        self._thread = threading.Thread(target=self._run, name="ivr-store", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        last_flush, last_prune = 0.0, 60.0 - PRUNE_SECONDS  # the first fold a minute after start
        elapsed = 0.0
        while not self._stop.wait(self.poll_seconds):
            elapsed += self.poll_seconds
            self.poll()
            if elapsed - last_flush >= self.flush_seconds:
                last_flush = elapsed
                self.flush()
            if elapsed - last_prune >= PRUNE_SECONDS:
                last_prune = elapsed
                self.prune()

    def stop(self) -> None:
        """At shutdown: stop polling and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
        self.sync_dials()
        self.engine.dispose()
