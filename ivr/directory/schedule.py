"""Opening hours: who is open at an instant, and when a line opens next.

Pure: no clock, no I/O. Every function takes an aware instant. Hours are local wall-clock time
in the line's zone, so clock changes need no special case; a public holiday or a dated closure
closes a line for the whole local date of the instant (also the after-midnight tail of an
interval that began the evening before)."""
from __future__ import annotations

import bisect
import datetime as dt
import heapq
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterator
from zoneinfo import ZoneInfo

import holidays

from ivr.directory.directory import (
    ANYONE,
    HOLIDAY_OPEN,
    MINUTES_PER_DAY,
    Directory,
    Interval,
    Line,
)

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
    """Open periods from `start_day` (local) on, in order; stretches across midnight are joined.

    Built in UTC, so that a period holds exactly the instants `is_open` says are open: on the
    spring clock change the skipped wall hour holds no instant, and in autumn the repeated hour
    is open twice when the hours cover it. Periods are given in the line's zone."""
    zone = line.timezone
    pending: tuple[dt.datetime, dt.datetime] | None = None
    for offset in range(days):
        day = start_day + dt.timedelta(days=offset)
        for iv in day_ranges(line, day):
            for opens, closes in _utc_spans(day, iv, zone):
                if pending and opens <= pending[1]:
                    pending = (pending[0], max(closes, pending[1]))
                    continue
                if pending:
                    yield Period(pending[0].astimezone(zone), pending[1].astimezone(zone))
                pending = (opens, closes)
    if pending:
        yield Period(pending[0].astimezone(zone), pending[1].astimezone(zone))


def _utc_spans(day: dt.date, iv: Interval, zone: ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
    """The UTC instants whose local wall time on `day` lies in `iv`: one span on most days, none
    or a shorter one in the skipped spring hour, two when the autumn hour repeats."""
    midnight = dt.datetime.combine(day, dt.time())
    wall_start = midnight + dt.timedelta(minutes=iv.start)
    wall_end = midnight + dt.timedelta(minutes=iv.end)
    spans = []
    for utc_offset, region_start, region_end in _offset_regions(day, zone):
        opens = max((wall_start - utc_offset).replace(tzinfo=UTC), region_start)
        closes = min((wall_end - utc_offset).replace(tzinfo=UTC), region_end)
        if opens < closes:
            spans.append((opens, closes))
    return spans


_FAR_PAST = dt.datetime.min.replace(tzinfo=UTC)
_FAR_FUTURE = dt.datetime.max.replace(tzinfo=UTC)


@lru_cache(maxsize=4096)
def _offset_regions(day: dt.date, zone: ZoneInfo) -> tuple[tuple[dt.timedelta, dt.datetime, dt.datetime], ...]:
    """The zone's UTC offsets during one local date, each with the UTC range where it holds
    (one offset on most days; two on a clock-change day, split at the change)."""
    midnight = dt.datetime.combine(day, dt.time())
    before = _offset(midnight.replace(tzinfo=zone))
    after = _offset((midnight + dt.timedelta(days=1)).replace(tzinfo=zone))
    if before == after:
        return ((before, _FAR_PAST, _FAR_FUTURE),)
    # Bisect, in UTC, for the first instant that has the new offset; changes fall on whole seconds.
    low = int((midnight - before).replace(tzinfo=UTC).timestamp())
    high = int((midnight + dt.timedelta(days=1) - after).replace(tzinfo=UTC).timestamp())
    while high - low > 1:
        mid = (low + high) // 2
        if _offset(dt.datetime.fromtimestamp(mid, zone)) == before:
            low = mid
        else:
            high = mid
    change = dt.datetime.fromtimestamp(high, UTC)
    return ((before, _FAR_PAST, change), (after, change, _FAR_FUTURE))


def _offset(at: dt.datetime) -> dt.timedelta:
    offset = at.utcoffset()
    assert offset is not None  # every ZoneInfo datetime has one
    return offset


def next_opening(line: Line, at: dt.datetime) -> dt.datetime | None:
    """The start of the line's next open period at or after `at` (None if none in SEARCH_DAYS).

    At the very minute a period opens, that minute; while a period is open, the start of the one
    after it."""
    moment = _local(at, line.timezone).astimezone(UTC)  # compare in UTC: wall times repeat
    for period in periods(line, _local(at, line.timezone).date() - dt.timedelta(days=1)):
        if period.opens.astimezone(UTC) >= moment:
            return period.opens
    return None


def current_period(line: Line, at: dt.datetime) -> Period | None:
    """The open period containing `at`, or None when the line is closed then."""
    local = _local(at, line.timezone)
    moment = local.astimezone(UTC)
    for period in periods(line, local.date() - dt.timedelta(days=1)):
        if period.opens.astimezone(UTC) > moment:
            return None
        if moment < period.closes.astimezone(UTC):
            return period
    return None


class OpenIndex:
    """Answers "who is open now, best fit first" for a whole directory with one table lookup.

    Built once per directory: for every audience and zone, the regular week cut into stretches
    in which nobody opens or closes, each with its open lines already in best-fit order. A query
    finds its stretch by bisection; only on a date with exceptions (a holiday, a closure, an
    extra opening) does it filter or add lines, with the date's closed set worked out once."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._zones = tuple(sorted({line.timezone.key for line in directory.lines}))
        self._zone_objects = tuple((key, ZoneInfo(key)) for key in self._zones)
        self._rank = {audience: {line_id: n for n, line_id in enumerate(ids)}
                      for audience, ids in directory.best_fit.items()}
        self._weeks = {
            (audience, zone): _WeekTable.build([directory.by_id[i] for i in ids
                                                if directory.by_id[i].timezone.key == zone])
            for audience, ids in directory.best_fit.items() for zone in self._zones
        }
        # holiday calendar -> lines it closes; (zone, date) -> closed line ids / extra openings
        self._holiday_groups: dict[tuple[str, str | None, str], set[str]] = {}
        self._closure_days: dict[tuple[str, dt.date], set[str]] = {}
        self._extras: dict[tuple[str, dt.date], list[tuple[Line, Interval]]] = {}
        self._closed_on: dict[tuple[str, dt.date], frozenset[str]] = {}
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

    def next_opening(self, line: Line, at: dt.datetime) -> dt.datetime | None:
        """When `line` opens next (see `next_opening`); an index of live closures says otherwise."""
        return next_opening(line, at)

    def open_lines(self, at: dt.datetime, audience: str = ANYONE) -> tuple[Line, ...]:
        """Lines open at `at` listed for `audience` in best_fit (for "anyone": the lines that
        serve every audience), best fit first."""
        per_zone: list[tuple[Line, ...]] = []
        for zone_key, zone in self._zone_objects:
            local = _local(at, zone)
            day = local.date()
            minute = local.hour * 60 + local.minute
            found = self._weeks[(audience, zone_key)].at(day.weekday() * MINUTES_PER_DAY + minute)
            closed = self._closed_ids(zone_key, day)
            if closed:
                found = tuple(line for line in found if line.id not in closed)
            extras = self._extras.get((zone_key, day))
            if extras:
                found = self._add_extras(found, extras, minute, audience)
            per_zone.append(found)
        if len(per_zone) == 1:
            return per_zone[0]
        rank = self._rank[audience]
        return tuple(heapq.merge(*per_zone, key=lambda line: rank[line.id]))

    def _add_extras(self, found: tuple[Line, ...], extras: list[tuple[Line, Interval]], minute: int,
                    audience: str) -> tuple[Line, ...]:
        rank = self._rank[audience]
        have = {line.id for line in found}
        merged = list(found)
        for line, iv in extras:
            if line.id in rank and line.id not in have and iv.start <= minute < iv.end:
                bisect.insort(merged, line, key=lambda other: rank[other.id])
                have.add(line.id)
        return tuple(merged)

    def _closed_ids(self, zone_key: str, day: dt.date) -> frozenset[str]:
        """Lines of the zone shut all day on `day` by a holiday or a dated closure."""
        key = (zone_key, day)
        closed = self._closed_on.get(key)
        if closed is None:
            ids = set(self._closure_days.get(key, ()))
            for (country, subdivision, zone), group in self._holiday_groups.items():
                if zone == zone_key and day in _holiday_calendar(country, subdivision):
                    ids |= group
            if len(self._closed_on) > 4096:  # a long-running process sees one new date a day
                self._closed_on.clear()
            closed = self._closed_on[key] = frozenset(ids)
        return closed


@dataclass(frozen=True)
class _WeekTable:
    """The regular week (minute 0 = Monday 00:00 local) as stretches with the same open lines.

    `starts[i]` is the first minute of stretch i; `open[i]` its open lines, in the order given."""

    starts: tuple[int, ...]
    open: tuple[tuple[Line, ...], ...]

    @classmethod
    def build(cls, lines: list[Line]) -> _WeekTable:
        ranges = {line.id: _regular_week(line) for line in lines}
        starts = sorted({0} | {m for week in ranges.values() for a, b in week for m in (a, b)
                               if m < 7 * MINUTES_PER_DAY})
        stretches: list[list[Line]] = [[] for _ in starts]
        for line in lines:  # in best-fit order, so every stretch is too
            for a, b in ranges[line.id]:
                for i in range(bisect.bisect_left(starts, a), bisect.bisect_left(starts, b)):
                    stretches[i].append(line)
        # neighbours with the same lines share one stretch: fewer, and one tuple each
        kept_starts: list[int] = []
        kept: list[tuple[Line, ...]] = []
        for start, found in zip(starts, stretches):
            as_tuple = tuple(found)
            if kept and kept[-1] == as_tuple:
                continue
            kept_starts.append(start)
            kept.append(as_tuple)
        return cls(tuple(kept_starts), tuple(kept))

    def at(self, minute_of_week: int) -> tuple[Line, ...]:
        return self.open[bisect.bisect_right(self.starts, minute_of_week) - 1]


def _regular_week(line: Line) -> list[tuple[int, int]]:
    """The line's open minutes of a week without exceptions, as (start, end) minute-of-week
    ranges; tails past Sunday midnight land on Monday morning."""
    regular = replace(line, public_holidays=HOLIDAY_OPEN, closures=(), extra_openings=())
    week = []
    for weekday in range(7):
        base = weekday * MINUTES_PER_DAY
        for iv in day_ranges(regular, _A_MONDAY + dt.timedelta(days=weekday)):
            week.append((base + iv.start, base + iv.end))
    return week


_A_MONDAY = dt.date(2001, 1, 1)  # any Monday: the weekly pattern without exceptions
