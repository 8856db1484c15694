"""Refused console logins and forms, logged as a summary: the first at once, then at most one line per
INTERVAL with the counts since the line before. A flood of guesses costs a few lines a minute,
never one line per guess; the names tried are never logged (they could be anything typed)."""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Callable

INTERVAL = 60.0  # seconds
REASONS = {"wrong": "wrong name or password", "waiting": "tried before its wait was over",
           "busy": "this process had checked too many passwords just then",
           "csrf": "forms without a valid CSRF token"}


class RefusalLog:
    def __init__(self, log: logging.Logger, interval: float = INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log, self._interval, self._clock = log, interval, clock
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._next: float | None = None  # when the next line may be written; None: at once

    def refused(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] += 1
            now = self._clock()
            if self._next is not None and now < self._next:
                return
            counts, self._counts = self._counts, Counter()
            self._next = now + self._interval
        total = sum(counts.values())
        parts = ", ".join(f"{counts[key]} {words}" for key, words in REASONS.items() if counts[key])
        self._log.warning("console logins and forms refused: %d since the last such line (%s); at "
                          "most one such line every %d s", total, parts, self._interval)
