"""One worker's link to the store: the lines closed now, and the counts on their way.

The request path only reads `closed` (a frozenset, swapped whole) and adds to the CountBuffer;
a daemon thread (a greenlet in the gevent workers, which psycopg waits in cooperatively) does
all I/O: it asks for the closures' version every POLL_SECONDS (re-reading the closures only
when it changed), flushes counts every FLUSH_SECONDS, and folds old hourly rows once a day.
A database that is down, frozen or locked only delays that thread: what a caller hears is
decided from the last closures known.

What survives which fault (README, "Storage: counts and live closures"):
- closures read once are kept in a file under IVR_STATE_DIR (closures_cache), so a worker that
  starts while the database is away (crash, timeout, reload) obeys them from its first call;
- counts the database cannot take are spooled to files under IVR_STATE_DIR (spool) at once and
  replayed by whichever worker flushes next; only what neither can keep is lost, and logged;
- in the gevent workers every store query runs under a client-side deadline (query_timeout):
  a frozen PostgreSQL answers nothing, and its connection is dropped, never reused;
- when the last closures check and the last flush that succeeded (in any worker: readiness)
  are older than a limit, /ready says so."""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from pathlib import Path
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from . import closures, closures_cache, counts, dead_lines, spool
from ivr.call.live_closed import NOTHING_CLOSED, Closed
from .database import QUERY_TIMEOUT, StoreSettings, describe, make_engine
from .events import with_talk
from .readiness import CHECKED, FLUSHED, STALE_SECONDS, ReadyBoard, verdict

log = logging.getLogger("ivr.store")

POLL_SECONDS = 2.0  # closures are obeyed within this plus the time to read them: well under 10 s
# Counts not yet written die with a worker killed outright (kill -9, out of memory): at most
# this many seconds of one worker's calls (bench/README.md measures it).
FLUSH_SECONDS = 2.0
PRUNE_SECONDS = 24 * 3600.0

Clock = Callable[[], dt.datetime]
T = TypeVar("T")


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class StoreTimeout(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")


def _cooperative() -> bool:
    """True in a gevent worker: its waits on the network can be given a deadline."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("socket"))


class Live:
    def __init__(self, engine: Engine, zone: ZoneInfo, keep_hourly_days: int = 400, *,
                 clock: Clock = system_clock, poll_seconds: float = POLL_SECONDS,
                 flush_seconds: float = FLUSH_SECONDS, max_keys: int = counts.MAX_KEYS,
                 state_dir: Path | None = None, board: ReadyBoard | None = None,
                 query_timeout: float = QUERY_TIMEOUT, stale_seconds: float = STALE_SECONDS) -> None:
        self.engine = engine
        self.zone = zone
        self.keep_hourly_days = keep_hourly_days
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.flush_seconds = flush_seconds
        self.buffer = counts.CountBuffer(max_keys)
        # The closures in force, each line with its end: what every answer obeys (swapped whole)
        self.closed_until: Closed = NOTHING_CLOSED
        # Without a state folder (tests of one part), nothing is kept on disk.
        self.cache_path = closures_cache.path_in(state_dir) if state_dir else None
        self.spool_dir = spool.dir_in(state_dir) if state_dir else None
        self.board = board if board is not None else ReadyBoard()
        self.query_timeout = query_timeout
        self.stale_seconds = stale_seconds
        self._version: int | None = None
        self._closures: tuple[closures.LiveClosure, ...] = ()
        self._failing = False
        self._cache_failing = False
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
    def from_settings(cls, settings: StoreSettings, zone: ZoneInfo, clock: Clock = system_clock,
                      board: ReadyBoard | None = None) -> Live:
        return cls(make_engine(settings, serving=True), zone, settings.keep_hourly_days, clock=clock,
                   state_dir=settings.state_dir, board=board, query_timeout=settings.query_timeout,
                   stale_seconds=settings.ready_stale_seconds)

    # -- the request path: no I/O --------------------------------------------------------------

    @property
    def closed(self) -> frozenset[str]:
        """The ids of the lines closed now."""
        return frozenset(line_id for line_id, _ in self.closed_until)

    def ready(self) -> tuple[bool, str]:
        """(ready?, when the store last worked) for GET /ready: the same in every worker."""
        return verdict(self.board, self.stale_seconds)

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

    def _bounded(self, work: Callable[[], T]) -> T:
        """`work` under the client-side deadline, where one can be kept (gevent workers; sqlite3
        waits in C, where its near-zero busy timeout is the bound instead). The deadline is a
        gevent.Timeout, which SQLAlchemy treats as a lost connection: it is closed, not reused."""
        if not _cooperative():
            return work()
        import gevent
        deadline = gevent.Timeout(self.query_timeout)
        deadline.start()
        try:
            return work()
        except gevent.Timeout as expired:
            if expired is not deadline:
                raise
            raise StoreTimeout(self.query_timeout) from None
        except Exception as error:
            if not deadline.pending:  # the deadline fired, and cleaning up raised something else
                raise StoreTimeout(self.query_timeout) from error
            raise
        finally:
            deadline.close()

    def poll(self) -> None:
        """Re-read the closures if their version moved; work out which are in force now."""
        def read() -> tuple[int, tuple[closures.LiveClosure, ...] | None]:
            with self.engine.connect() as connection:
                version = closures.version(connection)
                return version, (closures.all_closures(connection) if version != self._version else None)
        try:
            version, found = self._bounded(read)
        except Exception as error:
            self.engine.dispose()  # a connection cut off mid-query must never be handed out again
            if not self._failing:
                log.error("cannot read the live closures (%s); still obeying the last ones known: %s",
                          describe(error), ", ".join(sorted(self.closed)) or "none")
            self._failing = True
        else:
            self.board.mark(CHECKED)
            if found is not None:
                self._closures, self._version = found, version
                self._keep_closures(version, found)
            if self._failing:
                log.warning("the live closures can be read again")
            self._failing = False
        now = self.clock()
        closed = closures.in_force(self._closures, now)
        if closed != self.closed_until:
            self.closed_until = closed  # one assignment: a request sees the old set or the new one
        self.sync_dials()

    def sync_dials(self) -> None:
        """Add this worker's dial outcomes to the shared runs, then read every host's."""
        taken = self.dials.take()

        def share() -> dict[str, dead_lines.Run]:
            dead_lines.write(self.engine, taken, self.clock())
            return dead_lines.read_all(self.engine)
        try:
            runs = self._bounded(share)
        except Exception as error:
            self.dials.put_back(taken)
            if not self._dials_failing:
                log.error("cannot share the lines' dials without a talk (%s); trying again", describe(error))
            self._dials_failing = True
            return
        self._dials_failing = False
        self.runs = runs  # swapped whole, like the closures
        if self.on_runs is not None:
            try:
                self.on_runs(runs)
            except Exception as error:  # a figure lost, never the store thread
                log.warning("could not show the lines' dials without a talk: %s", type(error).__name__)

    def _keep_closures(self, version: int, found: tuple[closures.LiveClosure, ...]) -> None:
        if self.cache_path is None:
            return
        try:
            closures_cache.save(self.cache_path, version, found)
        except OSError as error:
            if not self._cache_failing:
                log.error("cannot keep the live closures in %s (%s); a worker started while the "
                          "database is away would not know them", self.cache_path, error)
            self._cache_failing = True
        else:
            self._cache_failing = False

    def recall_closures(self) -> None:
        """The closures kept by any worker, until the database answers (a worker's start)."""
        if self.cache_path is not None:
            _, kept = closures_cache.load(self.cache_path)
            self._closures = kept
            now = self.clock()
            self.closed_until = closures.in_force(kept, now)

    def flush(self) -> int:
        """Write this worker's counts, with every spooled count this worker can claim, in one
        transaction. When the database cannot take them, they go to a new spool file (or, when
        the folder cannot take them either, back into memory). Returns the keys written."""
        taken = self.buffer.take()
        with self._claim() as claimed:
            combined = spool.merge(spool.merge({}, taken), claimed.counts)
            if combined:
                try:
                    self._bounded(lambda: counts.write(self.engine, combined))
                except Exception as error:
                    self._keep_unwritten(taken, combined, claimed, error)
                    counts.log_dropped(self.buffer)
                    return 0
                claimed.done()
                if claimed.paths:
                    log.warning("replayed %d spooled counts from %d file(s) into the database",
                                spool.total(claimed.counts), len(claimed.paths))
        self.board.mark(FLUSHED)
        counts.log_dropped(self.buffer)
        return len(combined)

    def _claim(self) -> contextlib.AbstractContextManager[spool.Claim]:
        return spool.claim(self.spool_dir) if self.spool_dir is not None else spool.nothing()

    def _keep_unwritten(self, taken: spool.Counts, combined: spool.Counts, claimed: spool.Claim,
                        error: Exception) -> None:
        # A connection that failed to write may be a read-only SQLite handle (opened while the
        # folder was not writable) or a half-dead socket: none is reused.
        self.engine.dispose()
        reason = describe(error)
        if self.spool_dir is not None:
            try:
                where = spool.write(self.spool_dir, combined)
            except OSError as spool_error:
                log.error("cannot spool counts to %s (%s); keeping them in memory",
                          self.spool_dir, spool_error)
            else:
                claimed.done()  # their counts are in the new file now
                log.warning("could not add %d counts to the database (%s); spooled to %s",
                            spool.total(combined), reason, where)
                return
        self.buffer.put_back(taken)  # the claimed files stay where they are
        log.warning("could not add %d counts to the database (%s); kept in memory",
                    spool.total(taken), reason)

    def prune(self) -> int:
        today = self.clock().astimezone(self.zone).date()
        try:
            return self._bounded(lambda: counts.prune(self.engine, today - dt.timedelta(days=self.keep_hourly_days)))
        except Exception as error:
            log.warning("could not fold old hourly counts (%s); trying again tomorrow", describe(error))
            return 0

    def start(self) -> Live:
        self.recall_closures()
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
        """At shutdown: stop polling and write what is left (to the spool, when the database
        cannot take it). Counts that neither can keep are lost: one ERROR line says how many."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
        self.sync_dials()
        lost = self.buffer.take()
        if lost:
            log.error("lost %d counts: this worker stops, the database could not take them and "
                      "%s could not keep them", spool.total(lost), self.spool_dir or "no spool folder")
        self.engine.dispose()
