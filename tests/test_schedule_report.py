"""`ivr schedule` output: the JSON other tools rely on, and the table operators read."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest

from ivr.directory.directory import Directory
from ivr.directory.schedule import NaiveInstantError
from ivr.directory.schedule_report import schedule_json, schedule_table

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.timezone.utc
IDS = ["kids-line", "parents-line", "hateaid", "abuse-helpline"]  # directory order


def as_json(directory: Directory, at: dt.datetime) -> dict[str, Any]:
    """Through json.dumps and back, as a script reading `ivr schedule --json` sees it."""
    return json.loads(json.dumps(schedule_json(directory, at)))


def berlin(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN)


# -- JSON -----------------------------------------------------------------------------------------

def test_json_when_all_four_are_open(directory: Directory) -> None:
    report = as_json(directory, berlin("2026-11-24 16:30"))
    assert set(report) == {"at", "open", "next"}
    assert report["at"] == "2026-11-24T16:30:00+01:00"
    assert [entry["id"] for entry in report["open"]] == IDS
    assert {entry["id"]: entry["closes_at"] for entry in report["open"]} == {
        "kids-line": "2026-11-24T20:00:00+01:00",
        "parents-line": "2026-11-24T19:00:00+01:00",
        "hateaid": "2026-11-24T18:00:00+01:00",
        "abuse-helpline": "2026-11-24T20:00:00+01:00",
    }
    hateaid = report["open"][2]
    assert hateaid == {
        "id": "hateaid",
        "phone": "+493025208838",
        "name": {"de": "HateAid – Beratung für Betroffene digitaler Gewalt",
                 "en": "HateAid – counselling for people affected by digital violence"},
        "serves": ["young_person", "parent", "adult", "supporter"],
        "closes_at": "2026-11-24T18:00:00+01:00",
    }
    assert report["next"] == [
        {"id": "kids-line", "phone": "+49116111", "opens_at": "2026-11-25T14:00:00+01:00"},
        {"id": "parents-line", "phone": "+498001110550", "opens_at": "2026-11-25T09:00:00+01:00"},
        {"id": "hateaid", "phone": "+493025208838", "opens_at": "2026-11-26T16:00:00+01:00"},
        {"id": "abuse-helpline", "phone": "+498002255530", "opens_at": "2026-11-25T09:00:00+01:00"},
    ]


def test_json_when_none_is_open(directory: Directory) -> None:
    report = as_json(directory, berlin("2026-11-28 21:00"))  # Saturday night
    assert report["open"] == []
    assert {e["id"]: e["opens_at"] for e in report["next"]} == {
        "kids-line": "2026-11-30T14:00:00+01:00",
        "parents-line": "2026-11-30T09:00:00+01:00",
        "hateaid": "2026-11-30T10:00:00+01:00",
        "abuse-helpline": "2026-11-30T09:00:00+01:00",
    }


@pytest.mark.parametrize("written", [
    dt.datetime(2026, 11, 24, 15, 30, tzinfo=UTC),
    dt.datetime(2026, 11, 24, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    berlin("2026-11-24 16:30"),
])
def test_json_instants_are_in_the_directory_zone_whatever_the_input(directory: Directory,
                                                                     written: dt.datetime) -> None:
    report = as_json(directory, written)
    assert report["at"] == "2026-11-24T16:30:00+01:00"
    assert report == as_json(directory, berlin("2026-11-24 16:30"))


def test_json_instants_carry_their_own_offset_across_the_clock_change(directory: Directory) -> None:
    report = as_json(directory, berlin("2026-03-28 21:00"))  # winter time, Monday is summer time
    assert report["at"] == "2026-03-28T21:00:00+01:00"
    assert {e["id"]: e["opens_at"] for e in report["next"]}["abuse-helpline"] == "2026-03-30T09:00:00+02:00"
    for text in [report["at"], *(e["opens_at"] for e in report["next"])]:
        parsed = dt.datetime.fromisoformat(text)
        assert parsed.utcoffset() is not None


def test_json_across_christmas(directory: Directory) -> None:
    # the seed gives no holiday rules: unknown, so Christmas Eve and Day keep their weekly hours
    report = as_json(directory, berlin("2026-12-24 20:00"))
    assert {e["id"]: e["opens_at"] for e in report["next"]} == {
        "kids-line": "2026-12-25T14:00:00+01:00",
        "parents-line": "2026-12-25T09:00:00+01:00",
        "hateaid": "2026-12-28T10:00:00+01:00",
        "abuse-helpline": "2026-12-25T09:00:00+01:00",
    }


def test_json_closes_at_after_midnight(one_line_directory: Callable[..., Directory]) -> None:
    directory = one_line_directory({"fri": "22:00-02:00+1"})
    report = as_json(directory, berlin("2026-11-27 23:00"))
    assert report["open"][0]["closes_at"] == "2026-11-28T02:00:00+01:00"
    assert report["next"][0]["opens_at"] == "2026-12-04T22:00:00+01:00"


def test_json_line_open_around_the_clock_has_no_closing_time(
        one_line_directory: Callable[..., Directory]) -> None:
    directory = one_line_directory({"mon-sun": "00:00-24:00"}, public_holidays="open")
    report = as_json(directory, berlin("2026-11-24 12:00"))
    assert report["open"][0]["closes_at"] is None
    assert report["next"][0]["opens_at"] is None


def test_json_refuses_a_naive_instant(directory: Directory) -> None:
    with pytest.raises(NaiveInstantError):
        schedule_json(directory, dt.datetime(2026, 11, 24, 16, 30))


# -- table ----------------------------------------------------------------------------------------

def test_table_who_is_open_and_until_when(directory: Directory) -> None:
    rows = schedule_table(directory, berlin("2026-11-24 16:30")).splitlines()
    assert rows[0] == "Schedule at Tue 24 Nov 2026 16:30 (Europe/Berlin, UTC+01:00)"
    assert rows[2].split() == ["Line", "Number", "Now", "Opens", "next"]
    assert rows[3].split("  ")[0] == "kids-line"
    assert " ".join(rows[3].split()) == "kids-line 116 111 open until 20:00 Wed 25 Nov 14:00"
    assert " ".join(rows[4].split()) == "parents-line 0800 111 0 550 open until 19:00 Wed 25 Nov 09:00"
    assert " ".join(rows[5].split()) == "hateaid 030 25208838 open until 18:00 Thu 26 Nov 16:00"
    assert " ".join(rows[6].split()) == "abuse-helpline 0800 22 55 530 open until 20:00 Wed 25 Nov 09:00"
    assert "4 of 4 lines open." in rows


def test_table_columns_line_up(directory: Directory) -> None:
    rows = schedule_table(directory, berlin("2026-11-24 16:30")).splitlines()[2:7]
    for header in ("Number", "Now", "Opens next"):
        column = rows[0].index(header)
        assert all(row[column - 2: column] == "  " and row[column] != " " for row in rows)


def test_table_when_none_is_open_says_which_opens_first(directory: Directory) -> None:
    text = schedule_table(directory, berlin("2026-11-28 21:00"))
    assert "No line is open. Next opening Mon 30 Nov 09:00: parents-line, abuse-helpline." in text.splitlines()
    assert " ".join(text.splitlines()[3].split()) == "kids-line 116 111 closed Mon 30 Nov 14:00"


def test_table_regular_week_and_hours_with_no_line_open(directory: Directory) -> None:
    rows = schedule_table(directory, berlin("2026-11-24 16:30")).splitlines()
    week = rows[rows.index("Regular week (hours as written; no holidays, closures or extra openings):") + 1:]
    tidy = [" ".join(row.split()) for row in week[: week.index("")]]
    assert tidy == [
        "Mon kids-line 14:00-20:00", "parents-line 09:00-17:00", "hateaid 10:00-13:00",
        "abuse-helpline 09:00-14:00", "none open 00:00-09:00, 20:00-24:00",
        "Tue kids-line 14:00-20:00", "parents-line 09:00-19:00", "hateaid 15:00-18:00",
        "abuse-helpline 15:00-20:00", "none open 00:00-09:00, 20:00-24:00",
        "Wed kids-line 14:00-20:00", "parents-line 09:00-19:00", "abuse-helpline 09:00-14:00",
        "none open 00:00-09:00, 20:00-24:00",
        "Thu kids-line 14:00-20:00", "parents-line 09:00-19:00", "hateaid 16:00-19:00",
        "abuse-helpline 15:00-20:00", "none open 00:00-09:00, 20:00-24:00",
        "Fri kids-line 14:00-20:00", "parents-line 09:00-17:00", "abuse-helpline 09:00-14:00",
        "none open 00:00-09:00, 20:00-24:00",
        "Sat kids-line 14:00-20:00", "none open 00:00-14:00, 20:00-24:00",
        "Sun no line open all day",
    ]


def test_table_week_ignores_holidays_in_the_week_shown(directory: Directory) -> None:
    """The week of Christmas still shows the regular Friday and Saturday."""
    rows = [" ".join(r.split()) for r in schedule_table(directory, berlin("2026-12-24 10:00")).splitlines()]
    assert "Fri kids-line 14:00-20:00" in rows
    assert "Sat kids-line 14:00-20:00" in rows


def test_table_no_holidays_in_the_next_two_weeks(directory: Directory) -> None:
    rows = schedule_table(directory, berlin("2026-11-24 16:30")).splitlines()
    at = rows.index("Holidays, closures and extra openings, Tue 24 Nov to Mon 7 Dec:")
    assert rows[at + 1:] == ["  none"]


def test_table_lists_christmas_and_new_year(directory: Directory) -> None:
    rows = schedule_table(directory, berlin("2026-12-20 12:00")).splitlines()
    at = rows.index("Holidays, closures and extra openings, Sun 20 Dec to Sat 2 Jan:")
    unknown = "holiday, hours may differ (rule unknown, dialled as usual)"
    assert [" ".join(r.split()) for r in rows[at + 1:]] == [
        # HateAid has no Friday hours and the kids' line alone has Saturdays: only who has hours
        f"Fri 25 Dec {unknown}: kids-line, parents-line, abuse-helpline (Christmas Day)",
        f"Sat 26 Dec {unknown}: kids-line (Second Day of Christmas)",
        f"Fri 1 Jan {unknown}: kids-line, parents-line, abuse-helpline (New Year's Day)",
    ]


def test_table_lists_a_berlin_holiday_for_hateaid_only(directory: Directory) -> None:
    rows = [" ".join(r.split()) for r in schedule_table(directory, berlin("2027-03-01 12:00")).splitlines()]
    assert ("Mon 8 Mar holiday, hours may differ (rule unknown, dialled as usual): hateaid (Women's Day)"
            in rows)


def test_table_lists_extra_openings_and_closures(one_line_directory: Callable[..., Directory]) -> None:
    directory = one_line_directory(
        {"mon-fri": "09:00-17:00"},
        closures=[{"from": dt.date(2026, 12, 1), "to": dt.date(2026, 12, 2), "reason": "team training"}],
        extra_openings=[{"date": dt.date(2026, 11, 29), "hours": "10:00-14:00", "reason": "campaign day"}])
    rows = [" ".join(r.split()) for r in schedule_table(directory, berlin("2026-11-27 12:00")).splitlines()]
    first = rows.index("Holidays, closures and extra openings, Fri 27 Nov to Thu 10 Dec:")
    assert rows[first + 1:] == [
        "Sun 29 Nov extra hours 10:00-14:00: test-line (campaign day)",
        "Tue 1 Dec closed: test-line (team training)",
        "Wed 2 Dec closed: test-line (team training)",
    ]


def test_table_open_across_midnight_names_the_day_it_closes(
        one_line_directory: Callable[..., Directory]) -> None:
    directory = one_line_directory({"fri": "22:00-02:00+1"})
    rows = schedule_table(directory, berlin("2026-11-27 23:00")).splitlines()
    assert " ".join(rows[3].split()) == "test-line 030 12345678 open until Sat 28 Nov 02:00 Fri 4 Dec 22:00"
    week = [" ".join(r.split()) for r in rows]
    assert "Fri test-line 22:00-24:00" in week
    assert "Sat test-line 00:00-02:00" in week
    assert "none open 02:00-24:00" in week
    assert "Mon no line open all day" in week


def test_table_in_german(directory: Directory) -> None:
    rows = schedule_table(directory, berlin("2026-12-20 12:00"), lang="de").splitlines()
    tidy = [" ".join(r.split()) for r in rows]
    assert rows[0] == "Stand: So 20. Dez 2026 12:00 (Europe/Berlin, UTC+01:00)"
    assert tidy[2] == "Leitung Nummer Jetzt Öffnet wieder"
    assert tidy[3] == "kids-line 116 111 geschlossen Mo 21. Dez 14:00"
    assert "Keine Leitung offen. Nächste Öffnung Mo 21. Dez 09:00: parents-line, abuse-helpline." in tidy
    assert "Mo kids-line 14:00-20:00" in tidy
    assert "keine offen 00:00-09:00, 20:00-24:00" in tidy
    assert "So den ganzen Tag keine Leitung offen" in tidy
    assert ("Fr 25. Dez Feiertag, Zeiten können abweichen (Regel unbekannt, wird wie sonst verbunden): "
            "kids-line, parents-line, abuse-helpline (Erster Weihnachtstag)") in tidy


def test_table_refuses_unknown_language_and_naive_instant(directory: Directory) -> None:
    with pytest.raises(ValueError) as caught:
        schedule_table(directory, berlin("2026-11-24 16:30"), lang="fr")
    assert str(caught.value) == "'fr' is not a report language; expected one of en, de"
    with pytest.raises(NaiveInstantError):
        schedule_table(directory, dt.datetime(2026, 11, 24, 16, 30))
