"""Opening hours: who is open at an instant, and when a line opens next.

Pure: no clock, no I/O. Every function takes an aware instant. Hours are local wall-clock time
in the line's zone, so clock changes need no special case; a public holiday or a dated closure
closes a line for the whole local date of the instant (also the after-midnight tail of an
interval that began the evening before)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterator
from zoneinfo import ZoneInfo

import holidays

from .directory import ANYONE, MINUTES_PER_DAY, Directory, Interval, Line

SEARCH_DAYS = 800  # how far next_opening looks: beyond a year of closures and holidays
UTC = dt.timezone.utc


class NaiveInstantError(ValueError):
    """Raised for an instant without offset: a server's local now() must never decide who is open."""


def _local(at: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveInstantError(f"{at.isoformat()} has no UTC offset; expected an aware instant")
    return at.astimezone(zone)


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    # The holidays package fills years lazily on lookup, and caches them in the object.
    return holidays.country_holidays(country, subdiv=subdivision)


def is_holiday(line: Line, day: dt.date) -> bool:
    return day in _holiday_calendar(line.holiday_country, line.holiday_subdivision)


def closed_all_day(line: Line, day: dt.date) -> bool:
    """True when a holiday or a dated closure shuts the line's regular hours on this local date."""
    if line.closed_on_public_holidays and is_holiday(line, day):
        return True
    return any(closure.covers(day) for closure in line.closures)


def day_ranges(line: Line, day: dt.date) -> tuple[Interval, ...]:
    """The line's open minutes on one local date, within 00:00-24:00, merged and sorted."""
    pieces: list[tuple[int, int]] = []
    if not closed_all_day(line, day):
        weekday = day.weekday()
        for iv in line.weekly[weekday]:
            pieces.append((iv.start, min(iv.end, MINUTES_PER_DAY)))
        for iv in line.weekly[(weekday - 1) % 7]:  # tails of yesterday's intervals past midnight
            if iv.end > MINUTES_PER_DAY:
                pieces.append((0, iv.end - MINUTES_PER_DAY))
    pieces.extend((x.interval.start, x.interval.end) for x in line.extra_openings if x.day == day)
    return _merge(pieces)


def _merge(pieces: list[tuple[int, int]]) -> tuple[Interval, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple(Interval(s, e) for s, e in merged)


def is_open(line: Line, at: dt.datetime) -> bool:
    local = _local(at, line.timezone)
    minute = local.hour * 60 + local.minute
    return any(iv.start <= minute < iv.end for iv in day_ranges(line, local.date()))


@dataclass(frozen=True)
class Period:
    """One stretch of time a line is open without a break."""

    opens: dt.datetime
    closes: dt.datetime


def periods(line: Line, start_day: dt.date, days: int = SEARCH_DAYS) -> Iterator[Period]:
    """Open periods from `start_day` (local) on, in order; stretches across midnight are joined."""
    pending: Period | None = None
    for offset in range(days):
        day = start_day + dt.timedelta(days=offset)
        for iv in day_ranges(line, day):
            opens = _instant(day, iv.start, line.timezone)
            closes = _instant(day, iv.end, line.timezone)
            if pending and opens <= pending.closes:
                pending = Period(pending.opens, max(closes, pending.closes))
                continue
            if pending:
                yield pending
            pending = Period(opens, closes)
    if pending:
        yield pending


def _instant(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    """The first instant whose local wall time on `day` is at or after `minute`.

    Plain localisation is right except in the spring gap (02:00-03:00 does not exist): there the
    first existing instant at or after the wall time is the moment the clocks jump."""
    if minute >= MINUTES_PER_DAY:
        day, minute = day + dt.timedelta(days=minute // MINUTES_PER_DAY), minute % MINUTES_PER_DAY
    wall = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    candidate = wall.replace(tzinfo=zone).astimezone(UTC)
    if candidate.astimezone(zone).replace(tzinfo=None) == wall:
        return candidate.astimezone(zone)
    # In a gap: fold=1 maps to an instant before the jump, fold=0 to one after; bisect between.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = candidate
    if low > high:
        low, high = high, low
    while high - low > dt.timedelta(minutes=1):
        mid = low + (high - low) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return _ceil_minute(high).astimezone(zone)


def _ceil_minute(at: dt.datetime) -> dt.datetime:
    floored = at.replace(second=0, microsecond=0)
    return floored if floored == at else floored + dt.timedelta(minutes=1)


def next_opening(line: Line, at: dt.datetime) -> dt.datetime | None:
    """The start of the line's next open period at or after `at` (None if none in SEARCH_DAYS).

    If the line is open at `at`, that is the period after the current one."""
    local = _local(at, line.timezone)
    for period in periods(line, local.date() - dt.timedelta(days=1)):
        if period.opens >= at:
            return period.opens
    return None


def current_period(line: Line, at: dt.datetime) -> Period | None:
    """The open period containing `at`, or None when the line is closed then."""
    local = _local(at, line.timezone)
    for period in periods(line, local.date() - dt.timedelta(days=1)):
        if period.opens > at:
            return None
        if at < period.closes:
            return period
    return None


class OpenIndex:
    """Answers "who is open now, best fit first" for a whole directory in well under a millisecond.

    Built once per directory: for every hour of the week and every audience, the lines regularly
    open during that hour, in best-fit order, with the minute ranges of lines open for only part
    of it. A query looks at one bucket and applies the date's exceptions (holidays, closures,
    extra openings), which are looked up, not computed per line."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._zones = tuple(sorted({line.timezone.key for line in directory.lines}))
        self._zone_objects = tuple((key, ZoneInfo(key)) for key in self._zones)
        self._rank = {audience: {line_id: n for n, line_id in enumerate(ids)}
                      for audience, ids in directory.best_fit.items()}
        self._buckets = {
            (audience, zone): _hour_buckets([directory.by_id[i] for i in ids
                                             if directory.by_id[i].timezone.key == zone])
            for audience, ids in directory.best_fit.items() for zone in self._zones
        }
        # holiday calendar -> lines it closes; (zone, date) -> closed line ids / extra openings
        self._holiday_groups: dict[tuple[str, str | None, str], set[str]] = {}
        self._closure_days: dict[tuple[str, dt.date], set[str]] = {}
        self._extras: dict[tuple[str, dt.date], list[tuple[Line, Interval]]] = {}
        for line in directory.lines:
            zone = line.timezone.key
            if line.closed_on_public_holidays:
                key = (line.holiday_country, line.holiday_subdivision, zone)
                self._holiday_groups.setdefault(key, set()).add(line.id)
            for closure in line.closures:
                for n in range((closure.last - closure.first).days + 1):
                    day = closure.first + dt.timedelta(days=n)
                    self._closure_days.setdefault((zone, day), set()).add(line.id)
            for extra in line.extra_openings:
                self._extras.setdefault((zone, extra.day), []).append((line, extra.interval))

    def open_lines(self, at: dt.datetime, audience: str = ANYONE) -> tuple[Line, ...]:
        """Lines open at `at` that serve `audience` (any line for "anyone"), best fit first."""
        found: list[Line] = []
        needs_sort = len(self._zones) > 1
        for zone_key, zone in self._zone_objects:
            local = _local(at, zone)
            day = local.date()
            minute = local.hour * 60 + local.minute
            closed = self._closed_ids(day, zone_key)
            for line, ranges in self._buckets[(audience, zone_key)][day.weekday() * 24 + local.hour]:
                if line.id not in closed and (not ranges or any(a <= minute < b for a, b in ranges)):
                    found.append(line)
            extras = self._extras.get((zone_key, day))
            if extras:
                rank = self._rank[audience]
                have = {line.id for line in found}
                for line, iv in extras:
                    if line.id in rank and line.id not in have and iv.start <= minute < iv.end:
                        found.append(line)
                        have.add(line.id)
                        needs_sort = True
        if needs_sort:
            rank = self._rank[audience]
            found.sort(key=lambda line: rank[line.id])
        return tuple(found)

    def _closed_ids(self, day: dt.date, zone_key: str) -> set[str] | frozenset[str]:
        closed: set[str] | frozenset[str] = self._closure_days.get((zone_key, day), frozenset())
        for (country, subdivision, zone), ids in self._holiday_groups.items():
            if zone == zone_key and day in _holiday_calendar(country, subdivision):
                closed = closed | ids
        return closed


Bucket = tuple[tuple[Line, tuple[tuple[int, int], ...]], ...]


def _hour_buckets(lines: list[Line]) -> list[Bucket]:
    """168 buckets (Monday 00:00 first) of (line, partial minute-of-day ranges, or () if open
    the whole hour), in the order given."""
    buckets: list[list[tuple[Line, tuple[tuple[int, int], ...]]]] = [[] for _ in range(7 * 24)]
    for line in lines:
        regular = replace(line, closed_on_public_holidays=False, closures=(), extra_openings=())
        week: list[tuple[int, int]] = []
        for weekday in range(7):
            # a regular day of this weekday: its own intervals and the tails of the day before
            base = weekday * MINUTES_PER_DAY
            for iv in day_ranges(regular, _A_MONDAY + dt.timedelta(days=weekday)):
                week.append((base + iv.start, base + iv.end))
        for hour in range(7 * 24):
            lo, hi = hour * 60, hour * 60 + 60
            if any(a <= lo and b >= hi for a, b in week):
                buckets[hour].append((line, ()))
                continue
            day_base = (hour // 24) * MINUTES_PER_DAY
            parts = tuple((max(a, lo) - day_base, min(b, hi) - day_base) for a, b in week if a < hi and b > lo)
            if parts:
                buckets[hour].append((line, parts))
    return [tuple(b) for b in buckets]


_A_MONDAY = dt.date(2001, 1, 1)  # any Monday: the weekly pattern without exceptions
