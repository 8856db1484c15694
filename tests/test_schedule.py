"""Opening hours as tables: local time -> the set of lines open, for the bundled seed directory
and for small directories written for one rule each (midnight, holidays, closures, extras).

Every table row is checked twice: by is_open line by line, and by OpenIndex.open_lines (what the
call flow uses), which must agree. Times are Europe/Berlin wall-clock unless they end in Z."""
from __future__ import annotations

import datetime as dt
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import pytest

from ivr.directory.directory import ANYONE, AUDIENCES, Directory
from ivr.directory.schedule import (
    NaiveInstantError,
    OpenIndex,
    Period,
    current_period,
    is_holiday,
    is_open,
    next_opening,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.timezone.utc
PLUS5 = dt.timezone(dt.timedelta(hours=5))

KIDS, PARENTS, HATEAID, ABUSE = "kids-line", "parents-line", "hateaid", "abuse-helpline"
ALL4 = {KIDS, PARENTS, HATEAID, ABUSE}


def at(text: str) -> dt.datetime:
    """"2026-11-23 09:00" is Berlin wall time; a text with Z or an offset is that instant."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=BERLIN)


_INDEXES: dict[int, tuple[Directory, OpenIndex]] = {}  # holds the directory: its id stays unique


def open_ids(directory: Directory, instant: dt.datetime) -> set[str]:
    """The ids open at `instant`, computed line by line and by the index; both must agree."""
    naive = [line.id for line in directory.lines if is_open(line, instant)]
    if id(directory) not in _INDEXES:
        _INDEXES[id(directory)] = (directory, OpenIndex(directory))
    index = _INDEXES[id(directory)][1]
    for audience in (*AUDIENCES, ANYONE):
        assert ([line.id for line in index.open_lines(instant, audience)]
                == [line.id for line in directory.ranked(audience) if is_open(line, instant)])
    return set(naive)


# -- an ordinary week: Monday 23 to Sunday 29 November 2026 -------------------------------------

WEEK = [  # (Berlin wall time, lines open)
    ("2026-11-23 08:59", set()),
    ("2026-11-23 09:00", {PARENTS, ABUSE}),
    ("2026-11-23 09:59", {PARENTS, ABUSE}),
    ("2026-11-23 10:00", {PARENTS, ABUSE, HATEAID}),
    ("2026-11-23 12:59", {PARENTS, ABUSE, HATEAID}),
    ("2026-11-23 13:00", {PARENTS, ABUSE}),
    ("2026-11-23 13:59", {PARENTS, ABUSE}),
    ("2026-11-23 14:00", {PARENTS, KIDS}),
    ("2026-11-23 16:59", {PARENTS, KIDS}),
    ("2026-11-23 17:00", {KIDS}),
    ("2026-11-23 19:59", {KIDS}),
    ("2026-11-23 20:00", set()),
    ("2026-11-24 08:59", set()),
    ("2026-11-24 09:00", {PARENTS}),
    ("2026-11-24 13:59", {PARENTS}),
    ("2026-11-24 14:00", {PARENTS, KIDS}),
    ("2026-11-24 14:59", {PARENTS, KIDS}),
    ("2026-11-24 15:00", ALL4),
    ("2026-11-24 17:59", ALL4),
    ("2026-11-24 18:00", {PARENTS, KIDS, ABUSE}),
    ("2026-11-24 18:59", {PARENTS, KIDS, ABUSE}),
    ("2026-11-24 19:00", {KIDS, ABUSE}),
    ("2026-11-24 19:59", {KIDS, ABUSE}),
    ("2026-11-24 20:00", set()),
    ("2026-11-25 08:59", set()),
    ("2026-11-25 09:00", {PARENTS, ABUSE}),
    ("2026-11-25 13:59", {PARENTS, ABUSE}),
    ("2026-11-25 14:00", {PARENTS, KIDS}),
    ("2026-11-25 18:59", {PARENTS, KIDS}),
    ("2026-11-25 19:00", {KIDS}),
    ("2026-11-25 19:59", {KIDS}),
    ("2026-11-25 20:00", set()),
    ("2026-11-26 08:59", set()),
    ("2026-11-26 09:00", {PARENTS}),
    ("2026-11-26 13:59", {PARENTS}),
    ("2026-11-26 14:00", {PARENTS, KIDS}),
    ("2026-11-26 14:59", {PARENTS, KIDS}),
    ("2026-11-26 15:00", {PARENTS, KIDS, ABUSE}),
    ("2026-11-26 15:59", {PARENTS, KIDS, ABUSE}),
    ("2026-11-26 16:00", ALL4),
    ("2026-11-26 18:59", ALL4),
    ("2026-11-26 19:00", {KIDS, ABUSE}),
    ("2026-11-26 19:59", {KIDS, ABUSE}),
    ("2026-11-26 20:00", set()),
    ("2026-11-27 08:59", set()),
    ("2026-11-27 09:00", {PARENTS, ABUSE}),
    ("2026-11-27 13:59", {PARENTS, ABUSE}),
    ("2026-11-27 14:00", {PARENTS, KIDS}),
    ("2026-11-27 16:59", {PARENTS, KIDS}),
    ("2026-11-27 17:00", {KIDS}),
    ("2026-11-27 19:59", {KIDS}),
    ("2026-11-27 20:00", set()),
    ("2026-11-28 08:59", set()),
    ("2026-11-28 13:59", set()),
    ("2026-11-28 14:00", {KIDS}),
    ("2026-11-28 19:59", {KIDS}),
    ("2026-11-28 20:00", set()),
    ("2026-11-29 00:00", set()),
    ("2026-11-29 12:00", set()),
    ("2026-11-29 23:59", set()),
]


@pytest.mark.parametrize(("local", "expected"), WEEK, ids=[row[0] for row in WEEK])
@pytest.mark.parametrize("written", ["berlin", "utc", "plus5"])
def test_ordinary_week(directory: Directory, local: str, expected: set[str], written: str) -> None:
    """The same instant written in Berlin time, in UTC or with +05:00 gives the same answer."""
    instant = at(local)
    instant = {"berlin": instant, "utc": instant.astimezone(UTC), "plus5": instant.astimezone(PLUS5)}[written]
    assert open_ids(directory, instant) == expected


# Each line's seed hours as written in the seed; every boundary of each gets four rows.
SEED_HOURS = [  # (line, days, opens, closes)
    (KIDS, "Mon-Sat", "14:00", "20:00"),
    (PARENTS, "Mon", "09:00", "17:00"),
    (PARENTS, "Tue-Thu", "09:00", "19:00"),
    (PARENTS, "Fri", "09:00", "17:00"),
    (HATEAID, "Mon", "10:00", "13:00"),
    (HATEAID, "Tue", "15:00", "18:00"),
    (HATEAID, "Thu", "16:00", "19:00"),
    (ABUSE, "Mon,Wed,Fri", "09:00", "14:00"),
    (ABUSE, "Tue,Thu", "15:00", "20:00"),
]
WEEK_OF_23_NOV = {"Mon": 23, "Tue": 24, "Wed": 25, "Thu": 26, "Fri": 27, "Sat": 28}


def _days(spec: str) -> list[str]:
    names = list(WEEK_OF_23_NOV)
    days: list[str] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        days += names[names.index(first): names.index(last or first) + 1]
    return days


def _minus_minute(hhmm: str) -> str:
    return (dt.datetime.strptime(hhmm, "%H:%M") - dt.timedelta(minutes=1)).strftime("%H:%M")


BOUNDARIES = [
    pytest.param(line, f"2026-11-{WEEK_OF_23_NOV[day]} {time}", is_open_then,
                 id=f"{line}-{day}-{time}-{'open' if is_open_then else 'closed'}")
    for line, spec, opens, closes in SEED_HOURS
    for day in _days(spec)
    for time, is_open_then in ((_minus_minute(opens), False), (opens, True),
                               (_minus_minute(closes), True), (closes, False))
]


@pytest.mark.parametrize(("line_id", "local", "expected"), BOUNDARIES)
def test_every_seed_boundary(directory: Directory, line_id: str, local: str, expected: bool) -> None:
    """Opening minute open, the minute before closed; closing minute closed, the one before open."""
    assert is_open(directory.line(line_id), at(local)) is expected
    assert (line_id in open_ids(directory, at(local))) is expected


def test_boundaries_cover_every_interval_of_the_bundled_file(directory: Directory) -> None:
    """The table above leaves out no interval of data/hotlines.yaml (and invents none)."""
    written = {(line, WEEK_OF_23_NOV[day] - 23, opens, closes)
               for line, spec, opens, closes in SEED_HOURS for day in _days(spec)}
    loaded = {(line.id, weekday, f"{iv.start // 60:02d}:{iv.start % 60:02d}",
               f"{iv.end // 60:02d}:{iv.end % 60:02d}")
              for line in directory.lines for weekday, ivs in enumerate(line.weekly) for iv in ivs}
    assert loaded == written


# -- clock changes: Sunday 29 March and Sunday 25 October 2026, and the Mondays after -----------

CLOCK_CHANGES = [  # (instant in UTC, the Berlin wall time it is, lines open)
    # spring forward: 02:00 CET becomes 03:00 CEST
    ("2026-03-23T08:00Z", "2026-03-23 09:00+01:00", {PARENTS, ABUSE}),  # the Monday before: 09:00 is 08:00Z
    ("2026-03-28T12:59Z", "2026-03-28 13:59+01:00", set()),
    ("2026-03-28T13:00Z", "2026-03-28 14:00+01:00", {KIDS}),
    ("2026-03-29T00:59Z", "2026-03-29 01:59+01:00", set()),
    ("2026-03-29T01:00Z", "2026-03-29 03:00+02:00", set()),
    ("2026-03-29T12:00Z", "2026-03-29 14:00+02:00", set()),  # Sunday: nothing is open
    ("2026-03-30T06:59Z", "2026-03-30 08:59+02:00", set()),
    ("2026-03-30T07:00Z", "2026-03-30 09:00+02:00", {PARENTS, ABUSE}),  # 09:00 is now 07:00Z
    ("2026-03-30T07:30Z", "2026-03-30 09:30+02:00", {PARENTS, ABUSE}),
    ("2026-03-30T08:00Z", "2026-03-30 10:00+02:00", {PARENTS, ABUSE, HATEAID}),
    ("2026-03-30T10:59Z", "2026-03-30 12:59+02:00", {PARENTS, ABUSE, HATEAID}),
    ("2026-03-30T11:00Z", "2026-03-30 13:00+02:00", {PARENTS, ABUSE}),
    ("2026-03-30T12:00Z", "2026-03-30 14:00+02:00", {PARENTS, KIDS}),
    ("2026-03-30T17:59Z", "2026-03-30 19:59+02:00", {KIDS}),
    ("2026-03-30T18:00Z", "2026-03-30 20:00+02:00", set()),
    # fall back: 03:00 CEST becomes 02:00 CET; 02:00-03:00 happens twice
    ("2026-10-19T07:00Z", "2026-10-19 09:00+02:00", {PARENTS, ABUSE}),  # the Monday before
    ("2026-10-24T12:00Z", "2026-10-24 14:00+02:00", {KIDS}),
    ("2026-10-24T17:59Z", "2026-10-24 19:59+02:00", {KIDS}),
    ("2026-10-24T18:00Z", "2026-10-24 20:00+02:00", set()),
    ("2026-10-25T00:30Z", "2026-10-25 02:30+02:00", set()),
    ("2026-10-25T01:30Z", "2026-10-25 02:30+01:00", set()),
    ("2026-10-25T13:00Z", "2026-10-25 14:00+01:00", set()),
    ("2026-10-26T07:00Z", "2026-10-26 08:00+01:00", set()),  # a week earlier this was 09:00
    ("2026-10-26T07:59Z", "2026-10-26 08:59+01:00", set()),
    ("2026-10-26T08:00Z", "2026-10-26 09:00+01:00", {PARENTS, ABUSE}),
    ("2026-10-26T08:30Z", "2026-10-26 09:30+01:00", {PARENTS, ABUSE}),
    ("2026-10-26T09:00Z", "2026-10-26 10:00+01:00", {PARENTS, ABUSE, HATEAID}),
    ("2026-10-26T13:00Z", "2026-10-26 14:00+01:00", {PARENTS, KIDS}),
    ("2026-10-26T18:59Z", "2026-10-26 19:59+01:00", {KIDS}),
    ("2026-10-26T19:00Z", "2026-10-26 20:00+01:00", set()),
]


@pytest.mark.parametrize(("utc", "wall", "expected"), CLOCK_CHANGES, ids=[r[0] for r in CLOCK_CHANGES])
def test_clock_changes_follow_the_wall_clock(directory: Directory, utc: str, wall: str,
                                             expected: set[str]) -> None:
    instant = at(utc)
    # the row says which wall time it is (compared as text: PEP 495 makes an instant in the
    # repeated hour unequal to any other zone's datetime)
    assert instant.astimezone(BERLIN).isoformat(sep=" ", timespec="minutes") == wall
    for written in (instant, instant.astimezone(BERLIN), instant.astimezone(PLUS5)):
        assert open_ids(directory, written) == expected


def test_monday_after_spring_change_at_half_past_nine(directory: Directory) -> None:
    """09:30 on Monday 30 March 2026 is 07:30 UTC (summer time), not 08:30."""
    assert open_ids(directory, at("2026-03-30 09:30")) == {PARENTS, ABUSE}
    assert at("2026-03-30 09:30") == at("2026-03-30T07:30Z") == at("2026-03-30T12:30+05:00")
    assert open_ids(directory, at("2026-03-30T08:30Z")) == {PARENTS, ABUSE, HATEAID}  # 10:30


# -- holidays and dated closures in the bundled directory ---------------------------------------

# The seed gives weekly hours only: every bundled line's holiday rule is "unknown", and unknown
# is not closed. Holidays keep the weekly hours (a no-answer falls through as always); the
# holiday rules "closed" and "open" are tested on small directories below.
HOLIDAYS = [  # (Berlin wall time, lines open, why)
    ("2026-12-18 10:00", {PARENTS, ABUSE}, "an ordinary Friday, for comparison"),
    ("2026-12-25 10:00", {PARENTS, ABUSE}, "Christmas Day (Friday): unknown, the Friday hours"),
    ("2026-12-26 15:00", {KIDS}, "Second Day of Christmas (Saturday): the Saturday hours"),
    ("2026-10-03 15:00", {KIDS}, "German Unity Day (Saturday): the Saturday hours"),
    ("2026-12-17 16:30", ALL4, "an ordinary Thursday, for comparison"),
    ("2026-12-24 16:30", ALL4, "Christmas Eve: no closure has a source, the Thursday hours"),
    ("2026-12-24 09:30", {PARENTS}, "Christmas Eve morning"),
    ("2026-12-31 16:30", ALL4, "New Year's Eve: the Thursday hours"),
    ("2027-01-01 10:00", {PARENTS, ABUSE}, "New Year's Day (Friday): the Friday hours"),
    ("2027-03-08 11:00", {PARENTS, ABUSE, HATEAID}, "Women's Day, a Berlin holiday: unknown, open too"),
]


@pytest.mark.parametrize(("local", "expected", "why"), HOLIDAYS, ids=[r[0] for r in HOLIDAYS])
def test_holidays_and_closures(directory: Directory, local: str, expected: set[str], why: str) -> None:
    assert open_ids(directory, at(local)) == expected, why


def test_berlin_holiday_only_for_the_line_with_subdivision_be(directory: Directory) -> None:
    womens_day = dt.date(2027, 3, 8)
    assert womens_day.weekday() == 0  # a Monday: HateAid would be open 10:00-13:00
    assert is_holiday(directory.line(HATEAID), womens_day)
    assert not is_holiday(directory.line(ABUSE), womens_day)
    assert not is_holiday(directory.line(PARENTS), womens_day)


# -- next_opening and current_period ------------------------------------------------------------

NEXT = [  # (from, line, next opening as Berlin wall time with its offset)
    ("2026-11-28 21:00", KIDS, "2026-11-30 14:00+01:00"),  # Saturday night -> Monday
    ("2026-11-28 21:00", PARENTS, "2026-11-30 09:00+01:00"),
    ("2026-11-28 21:00", HATEAID, "2026-11-30 10:00+01:00"),
    ("2026-11-28 21:00", ABUSE, "2026-11-30 09:00+01:00"),
    ("2026-11-24 16:30", KIDS, "2026-11-25 14:00+01:00"),  # open now: the period after this one
    ("2026-11-24 16:30", PARENTS, "2026-11-25 09:00+01:00"),
    ("2026-11-24 16:30", HATEAID, "2026-11-26 16:00+01:00"),
    ("2026-11-24 16:30", ABUSE, "2026-11-25 09:00+01:00"),
    ("2026-11-23 12:59", HATEAID, "2026-11-24 15:00+01:00"),
    ("2026-11-23 13:00", HATEAID, "2026-11-24 15:00+01:00"),
    ("2026-11-29 08:59:59", PARENTS, "2026-11-30 09:00+01:00"),
    # Christmas and New Year: the holiday rules are unknown, so the weekly hours hold
    ("2026-12-23 20:00", KIDS, "2026-12-24 14:00+01:00"),
    ("2026-12-23 20:00", PARENTS, "2026-12-24 09:00+01:00"),
    ("2026-12-23 20:00", HATEAID, "2026-12-24 16:00+01:00"),
    ("2026-12-23 20:00", ABUSE, "2026-12-24 15:00+01:00"),
    ("2026-12-24 20:00", ABUSE, "2026-12-25 09:00+01:00"),  # Christmas Day, a Friday
    ("2026-12-30 20:00", KIDS, "2026-12-31 14:00+01:00"),
    ("2026-12-31 20:00", PARENTS, "2027-01-01 09:00+01:00"),
    # across the spring clock change: Monday is summer time
    ("2026-03-28 21:00", KIDS, "2026-03-30 14:00+02:00"),
    ("2026-03-28 21:00", ABUSE, "2026-03-30 09:00+02:00"),
    ("2026-10-24 21:00", PARENTS, "2026-10-26 09:00+01:00"),
    # Women's Day 2027 (Berlin): HateAid's rule is unknown, its Monday hours hold
    ("2027-03-07 12:00", HATEAID, "2027-03-08 10:00+01:00"),
    ("2027-03-07 12:00", ABUSE, "2027-03-08 09:00+01:00"),
]


@pytest.mark.parametrize(("start", "line_id", "expected"), NEXT, ids=[f"{r[0]}-{r[1]}" for r in NEXT])
def test_next_opening(directory: Directory, start: str, line_id: str, expected: str) -> None:
    found = next_opening(directory.line(line_id), at(start))
    assert found == at(expected)
    assert found.utcoffset() == at(expected).utcoffset()  # given in the line's zone
    assert is_open(directory.line(line_id), found)


def test_next_opening_at_the_opening_minute_is_that_minute(directory: Directory) -> None:
    """At 09:00 sharp the line has just opened: that opening is not in the past yet."""
    assert next_opening(directory.line(PARENTS), at("2026-11-30 09:00")) == at("2026-11-30 09:00")
    assert next_opening(directory.line(PARENTS), at("2026-11-30 09:00:01")) == at("2026-12-01 09:00")


def test_next_opening_from_utc_and_plus5_is_the_same_instant(directory: Directory) -> None:
    start = at("2026-11-28 21:00")
    for written in (start, start.astimezone(UTC), start.astimezone(PLUS5)):
        assert next_opening(directory.line(KIDS), written) == at("2026-11-30 14:00")


CURRENT = [  # (at, line, the period it is in, or None when closed)
    ("2026-11-23 11:00", HATEAID, ("2026-11-23 10:00", "2026-11-23 13:00")),
    ("2026-11-23 11:00", PARENTS, ("2026-11-23 09:00", "2026-11-23 17:00")),
    ("2026-11-23 11:00", ABUSE, ("2026-11-23 09:00", "2026-11-23 14:00")),
    ("2026-11-23 11:00", KIDS, None),
    ("2026-11-24 16:30", HATEAID, ("2026-11-24 15:00", "2026-11-24 18:00")),
    ("2026-11-24 15:00", HATEAID, ("2026-11-24 15:00", "2026-11-24 18:00")),
    ("2026-11-24 17:59:59", HATEAID, ("2026-11-24 15:00", "2026-11-24 18:00")),
    ("2026-11-24 18:00", HATEAID, None),
    ("2026-12-24 16:30", HATEAID, ("2026-12-24 16:00", "2026-12-24 19:00")),  # no closure: open
    ("2026-03-30 09:30", PARENTS, ("2026-03-30 09:00", "2026-03-30 17:00")),
]


@pytest.mark.parametrize(("when", "line_id", "expected"), CURRENT, ids=[f"{r[0]}-{r[1]}" for r in CURRENT])
def test_current_period(directory: Directory, when: str, line_id: str,
                        expected: tuple[str, str] | None) -> None:
    found = current_period(directory.line(line_id), at(when))
    assert found == (Period(at(expected[0]), at(expected[1])) if expected else None)


# -- midnight: hours written with "+1" ----------------------------------------------------------

Build = Callable[..., Directory]


def rows(directory: Directory, table: Iterable[tuple[str, bool]]) -> None:
    for when, expected in table:
        assert is_open(directory.lines[0], at(when)) is expected, when
        assert (directory.lines[0].id in open_ids(directory, at(when))) is expected, when


def test_friday_night_into_saturday(one_line_directory: Build) -> None:
    directory = one_line_directory({"fri": "22:00-02:00+1"})
    rows(directory, [
        ("2026-11-27 21:59", False),
        ("2026-11-27 22:00", True),
        ("2026-11-27 23:59", True),
        ("2026-11-28 00:00", True),
        ("2026-11-28 01:59", True),
        ("2026-11-28 02:00", False),
        ("2026-11-28 22:00", False),  # Saturday has no hours of its own
        ("2026-11-26 23:00", False),  # nor Thursday
        ("2026-11-27 01:00", False),  # Friday early morning: Thursday had no evening
    ])
    line = directory.lines[0]
    # one period across midnight, not two
    assert current_period(line, at("2026-11-28 01:00")) == Period(at("2026-11-27 22:00"), at("2026-11-28 02:00"))
    assert current_period(line, at("2026-11-27 23:00")) == Period(at("2026-11-27 22:00"), at("2026-11-28 02:00"))
    assert next_opening(line, at("2026-11-27 23:00")) == at("2026-12-04 22:00")
    assert next_opening(line, at("2026-11-28 02:00")) == at("2026-12-04 22:00")
    # midnight inside the period is no opening
    assert next_opening(line, at("2026-11-28 00:00")) == at("2026-12-04 22:00")
    assert current_period(line, at("2026-11-28 00:00")) == Period(at("2026-11-27 22:00"), at("2026-11-28 02:00"))


def test_sunday_night_into_monday_wraps_the_week(one_line_directory: Build) -> None:
    directory = one_line_directory({"sun": "23:00-01:00+1"})
    rows(directory, [
        ("2026-11-29 22:59", False),
        ("2026-11-29 23:00", True),
        ("2026-11-30 00:00", True),
        ("2026-11-30 00:59", True),
        ("2026-11-30 01:00", False),
        ("2026-11-23 00:30", True),  # the tail of Sunday 22 November, in the week before
        ("2026-11-28 23:30", False),
    ])
    assert next_opening(directory.lines[0], at("2026-11-30 00:30")) == at("2026-12-06 23:00")


def test_closure_closes_its_own_date_including_the_tail_of_the_evening_before(
        one_line_directory: Build) -> None:
    """Saturday closed: Friday evening is open, the tail after midnight (Saturday) is closed."""
    directory = one_line_directory({"fri": "22:00-02:00+1"}, closures=[
        {"from": dt.date(2026, 11, 28), "to": dt.date(2026, 11, 28), "reason": "test"}])
    rows(directory, [("2026-11-27 23:00", True), ("2026-11-27 23:59", True),
                     ("2026-11-28 00:00", False), ("2026-11-28 01:00", False)])
    line = directory.lines[0]
    assert current_period(line, at("2026-11-27 23:00")) == Period(at("2026-11-27 22:00"), at("2026-11-28 00:00"))


def test_tail_after_midnight_stays_open_when_only_the_evening_before_is_closed(
        one_line_directory: Build) -> None:
    """Friday closed: Friday evening is closed, the tail on Saturday (not closed) opens at 00:00."""
    directory = one_line_directory({"fri": "22:00-02:00+1"}, closures=[
        {"from": dt.date(2026, 11, 27), "to": dt.date(2026, 11, 27), "reason": "test"}])
    rows(directory, [("2026-11-27 23:00", False), ("2026-11-28 00:00", True), ("2026-11-28 01:59", True),
                     ("2026-11-28 02:00", False)])
    assert next_opening(directory.lines[0], at("2026-11-27 21:00")) == at("2026-11-28 00:00")


def test_holiday_closes_the_tail_after_midnight_on_its_own_date(one_line_directory: Build) -> None:
    """Thursday 31 December 22:00-02:00+1: open on New Year's Eve, closed after midnight (1 Jan)."""
    directory = one_line_directory({"thu": "22:00-02:00+1"}, public_holidays="closed")
    rows(directory, [("2026-12-31 22:00", True), ("2026-12-31 23:59", True),
                     ("2027-01-01 00:00", False), ("2027-01-01 01:00", False),
                     ("2026-12-24 23:00", True),  # Christmas Eve is no public holiday
                     ("2026-12-25 01:00", False)])  # but Christmas Day is


@pytest.mark.parametrize(("rule", "open_on_christmas_day"), [("closed", False), ("open", True), ("unknown", True)])
def test_holiday_rules(one_line_directory: Build, rule: str, open_on_christmas_day: bool) -> None:
    """closed shuts the line on a public holiday; open and unknown keep its weekly hours (unknown
    is not closed); a dated closure closes the line whatever the rule."""
    directory = one_line_directory({"mon-fri": "09:00-17:00"}, public_holidays=rule, closures=[
        {"from": dt.date(2026, 12, 24), "to": dt.date(2026, 12, 24), "reason": "team day",
         "source": "the line's website"}])
    rows(directory, [("2026-12-25 10:00", open_on_christmas_day), ("2026-12-24 10:00", False),
                     ("2026-12-23 10:00", True)])


# -- extra openings ------------------------------------------------------------------------------

def test_extra_opening_on_a_sunday(one_line_directory: Build) -> None:
    directory = one_line_directory({"mon-fri": "09:00-17:00"}, extra_openings=[
        {"date": dt.date(2026, 11, 29), "hours": "10:00-14:00", "reason": "campaign day"}])
    rows(directory, [("2026-11-29 09:59", False), ("2026-11-29 10:00", True), ("2026-11-29 13:59", True),
                     ("2026-11-29 14:00", False), ("2026-12-06 10:00", False)])
    assert next_opening(directory.lines[0], at("2026-11-28 12:00")) == at("2026-11-29 10:00")
    assert current_period(directory.lines[0], at("2026-11-29 12:00")) == Period(
        at("2026-11-29 10:00"), at("2026-11-29 14:00"))


def test_extra_opening_on_a_holiday_opens_only_its_own_hours(one_line_directory: Build) -> None:
    directory = one_line_directory({"mon-fri": "09:00-17:00"}, public_holidays="closed", extra_openings=[
        {"date": dt.date(2026, 12, 25), "hours": "10:00-12:00", "reason": "Christmas shift"}])
    rows(directory, [("2026-12-25 09:30", False), ("2026-12-25 10:00", True), ("2026-12-25 11:59", True),
                     ("2026-12-25 12:00", False), ("2026-12-25 15:00", False)])
    assert next_opening(directory.lines[0], at("2026-12-24 18:00")) == at("2026-12-25 10:00")


def test_extra_opening_on_a_closure_date(one_line_directory: Build) -> None:
    directory = one_line_directory(
        {"mon-fri": "09:00-17:00"},
        closures=[{"from": dt.date(2026, 12, 24), "to": dt.date(2026, 12, 24), "reason": "Christmas Eve"}],
        extra_openings=[{"date": dt.date(2026, 12, 24), "hours": "09:00-12:00", "reason": "morning shift"}])
    rows(directory, [("2026-12-24 09:00", True), ("2026-12-24 11:59", True), ("2026-12-24 12:00", False),
                     ("2026-12-24 16:00", False), ("2026-12-23 16:00", True)])


def test_extra_opening_adjoining_regular_hours_makes_one_period(one_line_directory: Build) -> None:
    directory = one_line_directory({"mon-fri": "09:00-17:00"}, extra_openings=[
        {"date": dt.date(2026, 11, 30), "hours": "17:00-18:00", "reason": "longer on Monday"}])
    rows(directory, [("2026-11-30 17:30", True), ("2026-11-30 18:00", False), ("2026-12-01 17:30", False)])
    line = directory.lines[0]
    assert current_period(line, at("2026-11-30 16:00")) == Period(at("2026-11-30 09:00"), at("2026-11-30 18:00"))
    assert next_opening(line, at("2026-11-30 17:30")) == at("2026-12-01 09:00")


# -- ranking and refusals ------------------------------------------------------------------------

def test_open_lines_are_in_best_fit_order(directory: Directory) -> None:
    index = OpenIndex(directory)
    when = at("2026-11-24 16:30")  # all four open
    assert [line.id for line in index.open_lines(when)] == [ABUSE, HATEAID]  # only lines for everyone
    assert [line.id for line in index.open_lines(when, "young_person")] == [KIDS, ABUSE, HATEAID]
    assert [line.id for line in index.open_lines(when, "parent")] == [PARENTS, ABUSE, HATEAID]
    assert [line.id for line in index.open_lines(when, "adult")] == [HATEAID, ABUSE]
    assert [line.id for line in index.open_lines(when, "supporter")] == [HATEAID, ABUSE, PARENTS]
    assert index.open_lines(at("2026-11-29 12:00"), "adult") == ()


@pytest.mark.parametrize("call", [
    lambda d, t: is_open(d.line(KIDS), t),
    lambda d, t: next_opening(d.line(KIDS), t),
    lambda d, t: current_period(d.line(KIDS), t),
    lambda d, t: OpenIndex(d).open_lines(t),
    lambda d, t: OpenIndex(d).open_lines(t, "adult"),
], ids=["is_open", "next_opening", "current_period", "open_lines", "open_lines-adult"])
def test_naive_instant_is_refused(directory: Directory, call: Callable[..., object]) -> None:
    """A server's local now() without an offset must never decide who is open."""
    with pytest.raises(NaiveInstantError) as caught:
        call(directory, dt.datetime(2026, 11, 24, 15, 0))
    assert str(caught.value) == "2026-11-24T15:00:00 has no UTC offset; expected an aware instant"
