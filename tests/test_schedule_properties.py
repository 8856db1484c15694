"""Rules of the schedule that hold for every instant and every directory (hypothesis).

- OpenIndex.open_lines(at, audience) is exactly the naive scan
  `[l for l in directory.ranked(audience) if is_open(l, at)]`, for the bundled directory over
  2025-2028 and for generated directories (hours crossing midnight, closures, extra openings,
  national and regional holidays, two time zones).
- next_opening(line, t) is at or after t, the line is open then and was not open just before,
  and no opening lies strictly between t and it; a line closed at t stays closed until then.
- current_period agrees with is_open.
- An instant without a UTC offset is refused everywhere.

"Nothing opens in between" is checked exactly, not by sampling: a line can only go from closed to
open at a local wall time where one of its intervals starts (00:00 for tails and for days after a
closure) or while the clocks change, so is_open is evaluated at every such instant.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ivr.directory.directory import ANYONE, AUDIENCES, Closure, Directory, ExtraOpening, Interval, Line
from ivr.directory.schedule import (
    NaiveInstantError,
    OpenIndex,
    current_period,
    is_open,
    next_opening,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.timezone.utc
PLUS5 = dt.timezone(dt.timedelta(hours=5))
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Days when something happens: clock changes in both zones, holidays (national, Berlin's
# Women's Day, Bavarian and US ones), year ends.
INTERESTING_DAYS = [dt.date.fromisoformat(d) for d in (
    "2025-03-30", "2025-10-26", "2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31",
    "2028-03-26", "2028-10-29",  # Europe/Berlin
    "2025-03-09", "2025-11-02", "2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07",
    "2028-03-12", "2028-11-05",  # America/New_York
    "2026-12-24", "2026-12-31", "2027-03-08", "2026-10-03", "2027-05-06", "2026-07-04",
    "2026-11-26", "2028-02-29", "2026-01-06", "2026-06-04", "2027-11-01", "2026-07-03",
)]


# -- strategies -----------------------------------------------------------------------------------
# Built once at import: building strategies inside a draw is what makes hypothesis slow.

# A local minute of day: mostly whole and half hours, as real hours are, sometimes any, often
# around the hours the clocks change (01:00-03:00 local in both zones).
BOUNDARIES = st.one_of(st.integers(0, 47).map(lambda h: h * 30), st.integers(0, 24 * 60 - 1),
                       st.integers(50, 190))
ENDS = BOUNDARIES | st.just(24 * 60)
HOLIDAY_RULES = st.sampled_from([("DE", None), ("DE", "BE"), ("DE", "BY"), ("US", "NY")])
ZONES = st.sampled_from([BERLIN, NEW_YORK])
SERVES = st.sets(st.sampled_from(AUDIENCES), min_size=1)
NEAR = st.integers(-10, 20)  # days from the anchor, for closures and extra openings
ANCHORS = st.sampled_from(INTERESTING_DAYS) | st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31))


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    """One weekly interval; one whose end is before its start crosses midnight ("+1")."""
    start = draw(BOUNDARIES)
    end = draw(ENDS)
    if end == start:  # "10:00-10:00" is refused by the loader: make it "10:00-24:00"
        end = 24 * 60 if start else 12 * 60
    return Interval(start, end + 24 * 60 if end < start else end)


WEEKS = st.lists(st.lists(intervals(), max_size=2).map(tuple), min_size=7, max_size=7).map(tuple)


@st.composite
def lines(draw: st.DrawFn, line_id: str, anchor: dt.date) -> Line:
    """A line with random weekly hours, closures and extra openings near `anchor`, a holiday
    rule and one of two zones."""
    closures = []
    for offset in draw(st.lists(NEAR, max_size=2)):
        first = anchor + dt.timedelta(days=offset)
        closures.append(Closure(first, first + dt.timedelta(days=draw(st.integers(0, 6))), "test"))
    extras = []
    for offset in draw(st.lists(NEAR, max_size=2)):
        start = draw(BOUNDARIES)
        end = min(start + draw(st.integers(1, 10 * 60)), 24 * 60)
        extras.append(ExtraOpening(anchor + dt.timedelta(days=offset), Interval(start, end), "test"))
    country, subdivision = draw(HOLIDAY_RULES)
    return Line(
        id=line_id, name={"de": line_id, "en": line_id}, phone="+4930123456", spoken="030 123456",
        serves=frozenset(draw(SERVES)), timezone=draw(ZONES), weekly=draw(WEEKS),
        public_holidays=draw(st.sampled_from(("closed", "open", "unknown"))), holiday_country=country,
        holiday_subdivision=subdivision, closures=tuple(closures), extra_openings=tuple(extras),
    )


@st.composite
def directories(draw: st.DrawFn) -> tuple[Directory, dt.date]:
    """A directory of 1-6 generated lines, best-fit orders shuffled; and the day it centres on."""
    anchor = draw(ANCHORS)
    count = draw(st.integers(1, 6))
    generated = [draw(lines(f"line-{n}", anchor)) for n in range(count)]
    best_fit = {}
    for audience in AUDIENCES:
        serving = [line.id for line in generated if audience in line.serves]
        best_fit[audience] = tuple(draw(st.permutations(serving)))
    everyone = draw(st.permutations([line.id for line in generated]))
    best_fit[ANYONE] = tuple(everyone[: draw(st.integers(1, count))])  # "anyone" may list fewer
    return Directory(BERLIN, tuple(generated), best_fit, (), {l.id: l for l in generated}), anchor


def _near(anchor: dt.date, day: int, minute: int, second: int, zone: dt.tzinfo, fold: int) -> dt.datetime:
    return dt.datetime.combine(anchor + dt.timedelta(days=day),
                               dt.time(minute // 60, minute % 60, second, tzinfo=zone, fold=fold))


WALL_TIMES = st.tuples(
    st.integers(-12, 24) | st.integers(-1, 0),  # days from the anchor; often the day itself
    st.integers(0, 24 * 60 - 1) | st.just(0),  # minute of day; midnight is where tails begin
    st.sampled_from([0, 0, 0, 30, 59]),  # second
    st.sampled_from([BERLIN, NEW_YORK, UTC, PLUS5]),  # the zone the instant is written in
    st.integers(0, 1),  # fold: the first or second 02:30 when the clocks go back
)


def instants_near(anchor: dt.date) -> st.SearchStrategy[dt.datetime]:
    """Aware instants within a few weeks of `anchor`, written in one of four zones (folds too)."""
    return WALL_TIMES.map(lambda parts: _near(anchor, *parts))


any_instant = st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2028, 12, 31, 23, 59),
                           timezones=st.sampled_from([BERLIN, UTC, PLUS5, NEW_YORK]))


def u(instant: dt.datetime) -> dt.datetime:
    """In UTC. Datetimes of one zone compare and add by wall time, which skips and repeats an
    hour when the clocks change: 03:00 CEST minus one second is not 01:59:59 CET in Python."""
    return instant.astimezone(UTC)


def naive_open(directory: Directory, at: dt.datetime, audience: str) -> list[str]:
    return [line.id for line in directory.ranked(audience) if is_open(line, at)]


# -- OpenIndex equals the naive scan --------------------------------------------------------------

@pytest.fixture(scope="module")
def index(directory: Directory) -> OpenIndex:
    """Built once: hypothesis calls each test many times."""
    return OpenIndex(directory)


@settings(max_examples=300, deadline=None)
@given(at=any_instant | ANCHORS.flatmap(instants_near))
def test_open_index_equals_naive_scan_for_bundled_directory(directory: Directory, index: OpenIndex,
                                                            at: dt.datetime) -> None:
    for audience in (*AUDIENCES, ANYONE):
        assert [line.id for line in index.open_lines(at, audience)] == naive_open(directory, at, audience)
    assert [line.id for line in index.open_lines(at)] == naive_open(directory, at, ANYONE)


@FAST
@given(data=st.data(), generated=directories())
def test_open_index_equals_naive_scan_for_generated_directories(data: st.DataObject,
                                                                generated: tuple[Directory, dt.date]) -> None:
    directory, anchor = generated
    index = OpenIndex(directory)
    drawn = data.draw(st.lists(instants_near(anchor) | any_instant, min_size=1, max_size=25))
    for at in [*drawn, *edge_instants(directory, anchor)]:
        for audience in (*AUDIENCES, ANYONE):
            assert [l.id for l in index.open_lines(at, audience)] == naive_open(directory, at, audience), (at, audience)


def edge_instants(directory: Directory, anchor: dt.date) -> list[dt.datetime]:
    """Where index and scan are most likely to part: the first and last minute of every extra
    opening and just after it, and every interval boundary on the anchor day (often a holiday)."""
    found = []
    for line in directory.lines:
        for extra in line.extra_openings:
            for minute in (extra.interval.start, extra.interval.end - 1, extra.interval.end):
                found.append((extra.day, minute, line.timezone))
        for iv in line.weekly[anchor.weekday()]:
            for minute in (iv.start, min(iv.end, 24 * 60) - 1):
                found.append((anchor, minute, line.timezone))
    return [dt.datetime.combine(day + dt.timedelta(days=minute // (24 * 60)),
                                dt.time(minute % (24 * 60) // 60, minute % 60, tzinfo=zone))
            for day, minute, zone in found]


# -- next_opening and current_period against is_open ----------------------------------------------

def opening_candidates(line: Line, lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
    """Every instant in (lo, hi) where `line` could go from closed to open.

    Between these instants is_open cannot change from False to True: local wall time only moves
    forward through a minute that starts none of the line's intervals, on the same local date."""
    zone = line.timezone
    found: set[dt.datetime] = set()
    day, last = lo.astimezone(zone).date() - DAY, hi.astimezone(zone).date() + DAY
    while day <= last:
        starts = {0} | {iv.start for iv in line.weekly[day.weekday()]}
        starts |= {x.interval.start for x in line.extra_openings if x.day == day}
        for minute in starts:
            wall = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
            for fold in (0, 1):
                found.add(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC))
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        following = dt.datetime.combine(day + DAY, dt.time(), tzinfo=zone)
        if midnight.utcoffset() != following.utcoffset():  # clocks change today: every quarter hour
            base = midnight.astimezone(UTC)
            found.update(base + dt.timedelta(minutes=15 * q) for q in range(26 * 4))
        day += DAY
    return sorted(c for c in found if u(lo) < c < u(hi))


@st.composite
def line_and_instant(draw: st.DrawFn) -> tuple[Line, dt.datetime]:
    anchor = draw(ANCHORS)
    line = draw(lines("l0", anchor))
    return line, draw(instants_near(anchor))


@FAST
@given(line_and_instant())
def test_next_opening_is_the_first_opening_at_or_after_t(case: tuple[Line, dt.datetime]) -> None:
    line, t = case
    found = next_opening(line, t)
    if found is None:
        # nothing opens in the weeks we can check either
        assert not any(is_open(line, c) for c in [t, *opening_candidates(line, t, t + 60 * DAY)])
        return
    assert u(found) >= u(t)
    assert is_open(line, found)
    assert not is_open(line, u(found) - SECOND)  # a real opening, not the middle of a period
    between = opening_candidates(line, t, found)
    if not is_open(line, t):
        # closed at t, closed at every instant where it could have opened: closed over [t, found)
        assert not any(is_open(line, c) for c in between)
    else:
        # open at t: it may close in between, but nothing opens strictly between t and found
        assert not any(is_open(line, c) and not is_open(line, c - SECOND) for c in between)


@FAST
@given(line_and_instant())
def test_current_period_agrees_with_is_open(case: tuple[Line, dt.datetime]) -> None:
    line, t = case
    period = current_period(line, t)
    assert (period is not None) == is_open(line, t)
    if period is None:
        return
    assert u(period.opens) <= u(t) < u(period.closes)
    assert is_open(line, period.opens) and is_open(line, u(period.closes) - SECOND)
    assume(u(period.closes) - u(t) < dt.timedelta(days=365))  # open for ever: closes is the search end
    assert not is_open(line, period.closes)
    start_of_search = dt.datetime.combine(t.astimezone(line.timezone).date() - DAY, dt.time(),
                                          tzinfo=line.timezone)
    if u(period.opens) != u(start_of_search):  # periods are read from the day before t on
        assert not is_open(line, u(period.opens) - SECOND)
    nxt = next_opening(line, t)
    # the period after this one; at the very opening instant, this one (it is not past yet)
    assert nxt is None or u(nxt) >= u(period.closes) or u(nxt) == u(period.opens) == u(t)


@settings(max_examples=40, deadline=None)
@given(naive=st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2028, 12, 31)))
def test_naive_instants_are_refused_everywhere(directory: Directory, index: OpenIndex,
                                               naive: dt.datetime) -> None:
    line = directory.lines[0]
    for call in (lambda: is_open(line, naive), lambda: next_opening(line, naive),
                 lambda: current_period(line, naive), lambda: index.open_lines(naive),
                 lambda: index.open_lines(naive, "parent")):
        with pytest.raises(NaiveInstantError):
            call()


# -- hours that start or end inside the hour the clocks skip or repeat ----------------------------

def _sunday_line(hours: str) -> Line:
    start, end = (int(h[:2]) * 60 + int(h[3:]) for h in hours.split("-"))
    weekly = ((),) * 6 + ((Interval(start, end),),)
    return Line("night", {"de": "n", "en": "n"}, "+4930123456", "030 123456", frozenset(AUDIENCES),
                BERLIN, weekly, public_holidays="open")


def test_hours_inside_the_skipped_spring_hour_are_never_the_next_opening() -> None:
    line = _sunday_line("02:00-03:00")  # 02:00-03:00 does not exist on 29 March 2026
    found = next_opening(line, dt.datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert found is not None and is_open(line, found)


def test_hours_ending_inside_the_repeated_autumn_hour() -> None:
    line = _sunday_line("01:00-02:30")
    second_two_oclock = dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 02:00 CET, the second time
    assert is_open(line, second_two_oclock)
    assert current_period(line, second_two_oclock + dt.timedelta(minutes=10)) is not None
    found = next_opening(line, dt.datetime(2026, 10, 25, 0, 45, tzinfo=UTC))
    assert found is not None and u(found) == second_two_oclock
