"""The written forms of hours and days ("09:00-17:00", "22:00-02:00+1", "tue-thu") as ivr.directory.hours reads them.

Every refusal is asserted with its exact message: it is what an operator sees from `ivr check`."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.directory.directory import Interval
from ivr.directory.hours import HoursError, parse_days, parse_interval

EXPECTED = ('expected "HH:MM-HH:MM" (hours 00-24, minutes 00-59), with "+1" after the end for '
            'hours that cross midnight, e.g. "22:00-02:00+1"')
DAYS_EXPECTED = ('expected a day (mon, tue, wed, thu, fri, sat, sun), a range like "tue-thu", '
                 'or a comma list')


@pytest.mark.parametrize(("text", "start", "end"), [
    ("09:00-17:00", 9 * 60, 17 * 60),
    ("9:00-17:00", 9 * 60, 17 * 60),  # one-digit hour, as people write it
    (" 09:00 - 17:00 ", 9 * 60, 17 * 60),  # spaces are forgiven
    ("14:00-20:00", 14 * 60, 20 * 60),
    ("00:00-24:00", 0, 24 * 60),  # the whole day
    ("10:15-13:45", 10 * 60 + 15, 13 * 60 + 45),
    ("22:00-02:00+1", 22 * 60, 26 * 60),  # crosses midnight: the end lies on the next day
    ("23:00-01:00+1", 23 * 60, 25 * 60),
    ("23:00-00:00+1", 23 * 60, 24 * 60),  # up to midnight, written as a crossing
    ("10:00-09:00+1", 10 * 60, 33 * 60),  # 23 hours
])
def test_interval_is_read_as_local_minutes(text: str, start: int, end: int) -> None:
    assert parse_interval(text) == Interval(start, end)


@pytest.mark.parametrize(("text", "message"), [
    ("25:00-26:00", f"'25:00-26:00' has no such time 25:00; {EXPECTED}"),
    ("09:60-10:00", f"'09:60-10:00' has no such time 09:60; {EXPECTED}"),
    ("12:00-24:30", f"'12:00-24:30' has no such time 24:30; {EXPECTED}"),
    ("24:00-01:00+1", f"'24:00-01:00+1' has no such time 24:00; {EXPECTED}"),
    ("13:00-10:00", "'13:00-10:00' ends before it starts; expected an end after the start, or "
                    '"+1" after the end if it crosses midnight on purpose, e.g. "22:00-02:00+1"'),
    ("10:00-10:00", "'10:00-10:00' is empty; expected an end after the start"),
    ("09:00-17:00+1", "'09:00-17:00+1' is marked +1 but ends after it starts; drop the \"+1\""),
    ("9-17", f"'9-17' is not a time interval; {EXPECTED}"),
    ("9am-5pm", f"'9am-5pm' is not a time interval; {EXPECTED}"),
    ("", f"'' is not a time interval; {EXPECTED}"),
    (None, f"None is not a time interval; {EXPECTED}"),
    (900, f"900 is not a time interval; {EXPECTED}"),
])
def test_interval_refusal_names_value_and_expectation(text: object, message: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_interval(text)
    assert str(caught.value) == message


def test_extra_opening_may_not_cross_midnight() -> None:
    with pytest.raises(HoursError) as caught:
        parse_interval("22:00-02:00+1", may_cross_midnight=False)
    assert str(caught.value) == "'22:00-02:00+1' crosses midnight; expected an interval within one day"
    assert parse_interval("22:00-24:00", may_cross_midnight=False) == Interval(22 * 60, 24 * 60)


@pytest.mark.parametrize(("text", "days"), [
    ("mon", (0,)),
    ("Mon", (0,)),
    ("sun", (6,)),
    ("tue-thu", (1, 2, 3)),
    ("mon-sat", (0, 1, 2, 3, 4, 5)),
    ("mon, wed", (0, 2)),
    ("mon-fri,sun", (0, 1, 2, 3, 4, 6)),
    ("sat-sun", (5, 6)),
])
def test_days_are_read_monday_first(text: str, days: tuple[int, ...]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(("text", "message"), [
    ("mo", f"'mo' is not a day; {DAYS_EXPECTED}"),
    ("monday", f"'monday' is not a day; {DAYS_EXPECTED}"),
    ("mon-tue-wed", f"'mon-tue-wed' is not a day; {DAYS_EXPECTED}"),
    ("mon,", f"'mon,' is not a day; {DAYS_EXPECTED}"),
    ("", f"'' is not a day; {DAYS_EXPECTED}"),
    (None, f"None is not a day; {DAYS_EXPECTED}"),
    ("fri-mon", f"'fri-mon' runs backwards; {DAYS_EXPECTED}, e.g. \"mon-fri\""),
])
def test_day_refusal_names_value_and_expectation(text: object, message: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_days(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(("interval", "label"), [
    (Interval(9 * 60, 17 * 60), "09:00-17:00"),
    (Interval(0, 24 * 60), "00:00-24:00"),
    (Interval(22 * 60, 26 * 60), "22:00-02:00"),
    (Interval(23 * 60, 24 * 60), "23:00-24:00"),
])
def test_interval_label(interval: Interval, label: str) -> None:
    assert interval.label() == label


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 24 * 60 - 1), st.integers(1, 24 * 60 - 1))
def test_every_written_interval_reads_back(start: int, length: int) -> None:
    """Any start and length under a day, written as the file would, gives the same minutes back."""
    end = start + length
    crossing = end > 24 * 60  # ending at 24:00 is written as 24:00, not +1
    shown_end = end - 24 * 60 if crossing else end
    text = f"{start // 60:02d}:{start % 60:02d}-{shown_end // 60:02d}:{shown_end % 60:02d}"
    text += "+1" if crossing else ""
    assert parse_interval(text) == Interval(start, end)
