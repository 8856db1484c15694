"""Weekday and month names, day periods and the short time pattern from CLDR (Babel), per locale.

Pure and cached: Babel reads its locale data once per locale. Grammar CLDR does not hold (a
weekday's case after a preposition) is written in the prompts file instead (`weekdays_on`)."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_time, get_day_names, get_month_names, get_period_id, get_period_names


def known(locale: str) -> bool:
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return False
    return True


@lru_cache(maxsize=64)
def _weekdays(locale: str) -> tuple[str, ...]:
    names = get_day_names("wide", "stand-alone", locale=locale)
    return tuple(names[day] for day in range(7))  # Babel counts Monday as 0


def weekdays(locale: str) -> list[str]:
    return list(_weekdays(locale))


@lru_cache(maxsize=64)
def _months(locale: str) -> tuple[str, ...]:
    names = get_month_names("wide", "format", locale=locale)  # the form inside a date
    return tuple(names[month] for month in range(1, 13))


def months(locale: str) -> list[str]:
    return list(_months(locale))


@lru_cache(maxsize=4096)
def clock_words(hour: int, minute: int, locale: str) -> tuple[str, str]:
    """(the day period, e.g. Arabic "صباحًا"; the short time, e.g. "9:00", without a leading
    zero: "09:00" reads as "zero nine" in some voices). 24:00 is midnight."""
    time = dt.time(hour % 24, minute)
    names = get_period_names("wide", "format", locale=locale)
    period = names.get(get_period_id(time, locale=locale), "")
    short = format_time(time, "short", locale=locale)
    if short.startswith("0") and short[1:2].isdigit():
        short = short[1:]
    if hour == 24 and short.startswith("0"):
        short = "24" + short[1:]
    return period, short
