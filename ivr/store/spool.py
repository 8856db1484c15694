"""Counts the database could not take, kept in files under IVR_STATE_DIR/spool until it can.

A worker whose flush fails writes what it holds to a new spool file at once, instead of only
keeping it in memory: a worker that then exits, is replaced or is killed loses none of it.
At every flush, the one worker that gets the spool's lock (an flock, released by the kernel
even when its holder is killed) reads every spool file, adds them to its own counts, and
deletes them once the database has them.

The files hold what the database would: (local hour, event, dimension) -> count, seconds."""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Iterator

log = logging.getLogger("ivr.store.counts")

DIR_NAME = "spool"
SUFFIX = ".counts.json"
Key = tuple[dt.datetime, str, str]
Counts = dict[Key, list[int]]


def dir_in(state_dir: Path) -> Path:
    return state_dir / DIR_NAME


def total(counts: Counts) -> int:
    """How many counts (not keys): what a log line about lost counts must say."""
    return sum(count for count, _ in counts.values())


def merge(into: Counts, more: Counts) -> Counts:
    for key, (count, seconds) in more.items():
        found = into.setdefault(key, [0, 0])
        found[0] += count
        found[1] += seconds
    return into


def write(spool: Path, counts: Counts) -> Path:
    """A new spool file with `counts`, complete or not at all (temporary file, then rename).
    Raises OSError when the folder cannot take it."""
    spool.mkdir(parents=True, exist_ok=True)
    rows = [[hour.isoformat(), event, dimension, count, seconds]
            for (hour, event, dimension), (count, seconds) in sorted(counts.items())]
    fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=spool)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(rows, out)
            out.flush()
            os.fsync(out.fileno())  # spooled means on disk: a crash right after must not lose it
        final = spool / f"{os.getpid()}-{Path(temporary).stem.lstrip('.')}{SUFFIX}"
        os.replace(temporary, final)
        return final
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read(path: Path) -> Counts:
    counts: Counts = {}
    for hour, event, dimension, count, seconds in json.loads(path.read_text(encoding="utf-8")):
        merge(counts, {(dt.datetime.fromisoformat(hour), event, dimension): [int(count), int(seconds)]})
    return counts


class Claim:
    """The spool files one flush took: their counts, and `done()` to delete them once written."""

    def __init__(self, paths: list[Path], counts: Counts) -> None:
        self.paths = paths
        self.counts = counts

    def done(self) -> None:
        for path in self.paths:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def nothing() -> Iterator[Claim]:
    """No spool at all (a store without a state folder): an empty claim."""
    yield Claim([], {})


@contextlib.contextmanager
def claim(spool: Path) -> Iterator[Claim]:
    """Every spool file, while this process holds the spool's lock; an empty claim when another
    process holds it (that one replays them) or there are none. Never waits."""
    if not spool.is_dir():
        yield Claim([], {})
        return
    try:
        lock = os.open(spool / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # a folder that cannot be written: nothing was spooled in it by us either
        yield Claim([], {})
        return
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield Claim([], {})
            return
        paths, counts = [], {}
        for path in sorted(spool.glob("*" + SUFFIX)):
            try:
                merge(counts, _read(path))
            except (OSError, ValueError, TypeError) as error:
                log.error("cannot replay the spooled counts in %s (%s: %s); renamed to *.bad for "
                          "an operator to inspect", path, type(error).__name__, error)
                with contextlib.suppress(OSError):
                    path.rename(path.with_name(path.name + ".bad"))
                continue
            paths.append(path)
        yield Claim(paths, counts)
    finally:
        os.close(lock)  # releases the flock
