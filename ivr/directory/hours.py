"""Parsing the directory's written forms of days and hours ("tue-thu", "09:00-17:00")."""
from __future__ import annotations

import re

from ivr.directory.directory import DAYS, MINUTES_PER_DAY, Interval

_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*(\+1)?\s*$")

INTERVAL_EXPECTED = (
    'expected "HH:MM-HH:MM" (hours 00-24, minutes 00-59), with "+1" after the end for hours '
    'that cross midnight, e.g. "22:00-02:00+1"'
)
DAYS_EXPECTED = 'expected a day (mon, tue, wed, thu, fri, sat, sun), a range like "tue-thu", or a comma list'


class HoursError(ValueError):
    """A written interval or day set that cannot be read; the message says what was expected."""


def parse_interval(text: object, *, may_cross_midnight: bool = True) -> Interval:
    if not isinstance(text, str):
        raise HoursError(f"{text!r} is not a time interval; {INTERVAL_EXPECTED}")
    match = _INTERVAL.match(text)
    if not match:
        raise HoursError(f"{text!r} is not a time interval; {INTERVAL_EXPECTED}")
    sh, sm, eh, em, next_day = match.groups()
    start = _minutes(text, int(sh), int(sm), is_end=False)
    end = _minutes(text, int(eh), int(em), is_end=True)
    if next_day:
        if not may_cross_midnight:
            raise HoursError(f"{text!r} crosses midnight; expected an interval within one day")
        if end >= start:
            raise HoursError(f"{text!r} is marked +1 but ends after it starts; drop the \"+1\"")
        return Interval(start, end + MINUTES_PER_DAY)
    if end == start:
        raise HoursError(f"{text!r} is empty; expected an end after the start")
    if end < start:
        raise HoursError(
            f"{text!r} ends before it starts; expected an end after the start, or \"+1\" after "
            f'the end if it crosses midnight on purpose, e.g. "22:00-02:00+1"'
        )
    return Interval(start, end)


def _minutes(text: str, hour: int, minute: int, *, is_end: bool) -> int:
    if minute > 59 or hour > 24 or (hour == 24 and (minute != 0 or not is_end)):
        raise HoursError(f"{text!r} has no such time {hour:02d}:{minute:02d}; {INTERVAL_EXPECTED}")
    return hour * 60 + minute


def parse_days(text: object) -> tuple[int, ...]:
    """"mon" -> (0,), "tue-thu" -> (1, 2, 3), "mon, wed" -> (0, 2); Monday is 0."""
    if not isinstance(text, str) or not text.strip():
        raise HoursError(f"{text!r} is not a day; {DAYS_EXPECTED}")
    days: list[int] = []
    for part in text.split(","):
        bounds = [b.strip().lower() for b in part.split("-")]
        if len(bounds) > 2 or any(b not in DAYS for b in bounds):
            raise HoursError(f"{text!r} is not a day; {DAYS_EXPECTED}")
        first, last = DAYS.index(bounds[0]), DAYS.index(bounds[-1])
        if last < first:
            raise HoursError(f"{text!r} runs backwards; {DAYS_EXPECTED}, e.g. \"mon-fri\"")
        days.extend(range(first, last + 1))
    return tuple(days)
