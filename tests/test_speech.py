"""Filling prompt templates: what the voice will read."""
from __future__ import annotations

import pytest

from ivr.config.settings import bundled_dir
from ivr.directory.directory import Interval
from ivr.config.loading import load_config
from ivr.call.speech import Digits, Phone, Text, WeeklyHours, fill

CONFIG = load_config(bundled_dir("data"), bundled_dir("prompts"))
MON_TO_SAT_2_TO_8 = WeeklyHours(((Interval(14 * 60, 20 * 60),),) * 6 + ((),))


@pytest.mark.parametrize("lang, expected", [
    ("en", "Hours: Monday to Saturday 2 p.m. to 8 p.m."),
    ("de", "Sprechzeiten: Montag bis Samstag 14 Uhr bis 20 Uhr."),
])
def test_a_value_ending_in_a_full_stop_is_not_followed_by_a_second(lang: str, expected: str) -> None:
    words = CONFIG.prompts[lang].words
    label = "Hours" if lang == "en" else "Sprechzeiten"
    assert fill(label + ": {hours}.", {"hours": MON_TO_SAT_2_TO_8}, words) == (expected,)


def test_phone_numbers_become_digit_groups_between_text() -> None:
    words = CONFIG.prompts["de"].words
    pieces = fill("{name}: {number}. Danke.", {"name": Text("Elterntelefon"),
                                               "number": Phone("0800 111 0 550")}, words)
    assert pieces == ("Elterntelefon: ", Digits(("0800", "111", "0", "550")), ". Danke.")


# -- the five other languages: CLDR's names and time patterns, grammar from the prompts file ----

import datetime as dt  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from ivr.call import cldr  # noqa: E402
from ivr.call.speech import Clock, clock_text, moment, moment_text  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
SAT_NIGHT = dt.datetime(2026, 11, 28, 22, 0, tzinfo=BERLIN)


@pytest.mark.parametrize("lang, days, expected", [
    # (the weekday a line opens, days from Saturday night) -> the moment as said
    ("tr", 2, "Pazartesi saat 9"), ("tr", 1, "yarın saat 9"), ("tr", 0, "bugün saat 9"),
    ("pl", 2, "w poniedziałek o 9"), ("pl", 3, "we wtorek o 9"), ("pl", 4, "w środę o 9"),
    ("ru", 3, "во вторник в 9"), ("ru", 4, "в среду в 9"), ("ru", 6, "в пятницу в 9"),
    ("uk", 4, "у середу о 9"), ("uk", 6, "у пʼятницю о 9"), ("uk", 1, "завтра о 9"),
    ("ar", 2, "الاثنين الساعة 9"), ("ar", 1, "غدًا الساعة 9"),
])
def test_moments_are_said_the_way_each_language_says_them(lang: str, days: int, expected: str) -> None:
    at = (SAT_NIGHT + dt.timedelta(days=days)).replace(hour=9, minute=0)
    assert moment_text(moment(at, SAT_NIGHT), CONFIG.prompts[lang].words) == expected


@pytest.mark.parametrize("lang, expected", [
    ("tr", "Pazartesi ile Cumartesi arasında 14 ile 20 arası"),
    ("pl", "poniedziałek – sobota od 14 do 20"),
    ("ru", "понедельник – суббота с 14 до 20"),
    ("uk", "понеділок – субота з 14 до 20"),
    ("ar", "الاثنين إلى السبت 14 إلى 20"),
])
def test_weekly_hours_take_their_weekday_names_from_cldr(lang: str, expected: str) -> None:
    assert "weekdays" not in CONFIG.prompts[lang].words  # not written by hand: CLDR's, via Babel
    assert fill("{hours}", {"hours": MON_TO_SAT_2_TO_8}, CONFIG.prompts[lang].words) == (expected,)


def test_a_date_further_away_uses_cldrs_month_name_in_the_form_a_date_needs() -> None:
    at = dt.datetime(2026, 12, 24, 9, 30, tzinfo=BERLIN)
    assert moment_text(moment(at, SAT_NIGHT), CONFIG.prompts["ru"].words) == "24 декабря в 9:30"  # genitive
    assert moment_text(moment(at, SAT_NIGHT), CONFIG.prompts["pl"].words) == "24 grudnia o 9:30"
    assert moment_text(moment(at, SAT_NIGHT), CONFIG.prompts["tr"].words) == "24 Aralık saat 9:30"


def test_cldr_gives_the_short_time_without_a_leading_zero_and_the_day_period() -> None:
    assert cldr.clock_words(9, 30, "ru") == ("утра", "9:30")
    assert cldr.clock_words(17, 5, "pl")[1] == "17:05"
    assert cldr.clock_words(9, 0, "ar")[0] == "صباحًا"
    assert cldr.clock_words(24, 0, "tr")[1] == "24:00"  # a line that closes at midnight
    words = {"time_full_hour": "{hour12} {period}", "time_minutes": "{short}", "locale": "ar"}
    assert clock_text(Clock(9, 0), words) == "9 صباحًا"
    assert cldr.weekdays("pl")[2] == "środa" and cldr.months("uk")[0] == "січня"
    assert cldr.known("tr") and not cldr.known("xx-klingon")
