"""Turning values into speakable pieces per language: phone numbers digit by digit in their
printed groups, clock times as times, moments as "morgen um 9 Uhr", weekly hours as words.

Pure: the words come from the language's prompts file, the instants from the caller of these
functions."""
from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass
from typing import Mapping, Union

from ivr.call import cldr
from ivr.directory.directory import DAYS, MINUTES_PER_DAY, Interval


@dataclass(frozen=True)
class Digits:
    """A phone number: read digit by digit, group by group, with a short pause between groups."""

    groups: tuple[str, ...]


Piece = Union[str, Digits]


@dataclass(frozen=True)
class Phone:
    spoken: str  # the printed grouping, e.g. "0800 111 0 550"


@dataclass(frozen=True)
class Clock:
    hour: int  # 0-24
    minute: int


@dataclass(frozen=True)
class Moment:
    """When something happens, relative to now: today, tomorrow, a weekday this week, or a date."""

    relation: str  # today | tomorrow | weekday | date
    weekday: int
    day: int
    month: int
    clock: Clock


@dataclass(frozen=True)
class WeeklyHours:
    weekly: tuple[tuple[Interval, ...], ...]


@dataclass(frozen=True)
class Key:
    key: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Web:
    address: str  # as printed, e.g. www.aktiv-gegen-digitale-gewalt.de/de/


Value = Union[Phone, Clock, Moment, WeeklyHours, Key, Text, Web]

WORD_KEYS = (
    "weekdays", "months", "today", "tomorrow", "weekday", "date", "time_full_hour",
    "time_minutes", "hours_range", "days_range", "list_and", "key_star", "key_hash",
    "web_dot", "web_hyphen", "web_hyphens", "key_named",
)
# Words a language may give: how the two letters at the end of a web address are said, with
# {code} ("de") or {letters} ("D E": spelled, for English ears, where "de" is no word). Without
# it, as written.
OPTIONAL_WORD_KEYS: Mapping[str, frozenset[str]] = {"web_country_code": frozenset({"code", "letters"})}
# Words a prompts file may leave out. Weekday and month names then come from CLDR (Babel, by
# `locale`); `weekdays_on` is a weekday as said after "on" where a language inflects it or its
# preposition (Russian "во вторник", Polish "we wtorek"), which CLDR does not cover.
CLDR_WORD_KEYS = ("locale", "weekdays_on", "am_pm")
# What each word template is given to fill: a clock time, a moment, a range.
CLOCK_FIELDS = ("hour", "hour12", "minute", "ampm", "period", "short")


def placeholders(template: str) -> tuple[str, ...]:
    """The {names} used in a template, in order."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)


def fill(template: str, args: Mapping[str, Value], words: Mapping[str, object]) -> tuple[Piece, ...]:
    """The template as pieces of text and digit groups; adjacent text is joined."""
    pieces: list[Piece] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            _add_text(pieces, literal)
        if name is None:
            continue
        value = args[name]
        if isinstance(value, Phone):
            pieces.append(phone_digits(value.spoken))
        else:
            _add_text(pieces, as_text(value, words))
    return tuple(pieces)


def _add_text(pieces: list[Piece], text: str) -> None:
    if pieces and isinstance(pieces[-1], str):
        if pieces[-1].endswith(".") and text.startswith("."):
            text = text[1:]  # "... 8 p.m." + "." reads as one full stop, not two
        pieces[-1] += text
    else:
        pieces.append(text)


def phone_digits(spoken: str) -> Digits:
    return Digits(tuple(spoken.split()))


def as_text(value: Value, words: Mapping[str, object]) -> str:
    if isinstance(value, Text):
        return value.text
    if isinstance(value, Clock):
        return clock_text(value, words)
    if isinstance(value, Moment):
        return moment_text(value, words)
    if isinstance(value, WeeklyHours):
        return weekly_text(value.weekly, words)
    if isinstance(value, Key):
        return {"*": str(words["key_star"]), "#": str(words["key_hash"])}.get(value.key, value.key)
    if isinstance(value, Web):
        return web_text(value.address, words)
    if isinstance(value, Phone):  # only where digits cannot be marked up (plain text output)
        return value.spoken
    raise TypeError(f"cannot speak {value!r}")


def web_text(address: str, words: Mapping[str, object]) -> str:
    """A web address as people say it: no "www", no path, dashes named once, never "minus":
    "aktiv gegen digitale gewalt, mit Bindestrichen, Punkt de"."""
    host = address.split("://", 1)[-1].split("/", 1)[0]
    if host.lower().startswith("www."):
        host = host[4:]
    spoken = []
    labels = host.split(".")
    for n, label in enumerate(labels):
        parts = label.split("-")
        if len(parts) > 1:
            hyphens = words["web_hyphen"] if len(parts) == 2 else words["web_hyphens"]
            spoken.append(f"{' '.join(parts)}, {hyphens},")
        elif n == len(labels) - 1 and n and len(label) == 2 and label.isalpha() and "web_country_code" in words:
            spoken.append(str(words["web_country_code"]).format(code=label, letters=" ".join(label.upper())))
        else:
            spoken.append(label)
    return f" {words['web_dot']} ".join(spoken)


def clock_text(clock: Clock, words: Mapping[str, object]) -> str:
    hour12 = clock.hour % 12 or 12
    am_pm = words.get("am_pm") or ("a.m.", "p.m.")
    assert isinstance(am_pm, (list, tuple))
    template = str(words["time_full_hour"] if clock.minute == 0 else words["time_minutes"])
    fields = {
        "hour": str(clock.hour),
        "hour12": str(hour12),
        "minute": f"{clock.minute:02d}",
        "ampm": am_pm[0] if clock.hour % 24 < 12 else am_pm[1],
    }
    if "{period}" in template or "{short}" in template:  # CLDR's, only where a file asks for them
        fields["period"], fields["short"] = cldr.clock_words(clock.hour, clock.minute, _locale(words))
    return template.format(**fields)


def _locale(words: Mapping[str, object]) -> str:
    return str(words.get("locale") or "en")


def weekday_names(words: Mapping[str, object]) -> list[str]:
    """Monday first: the file's own list, or CLDR's stand-alone names for its locale."""
    names = words.get("weekdays")
    return list(names) if isinstance(names, list) else cldr.weekdays(_locale(words))


def month_names(words: Mapping[str, object]) -> list[str]:
    """January first: the file's own list, or CLDR's names as used in a date ("24 декабря")."""
    names = words.get("months")
    return list(names) if isinstance(names, list) else cldr.months(_locale(words))


def clock_of(minutes: int) -> Clock:
    return Clock(minutes // 60, minutes % 60)


def moment(at: dt.datetime, now: dt.datetime) -> Moment:
    """`at` relative to `now`; both are aware and in the same (the directory's) zone."""
    days = (at.date() - now.date()).days
    relation = "today" if days <= 0 else "tomorrow" if days == 1 else "weekday" if days < 7 else "date"
    return Moment(relation, at.weekday(), at.day, at.month, Clock(at.hour, at.minute))


def moment_text(value: Moment, words: Mapping[str, object]) -> str:
    on = words.get("weekdays_on")
    weekdays = list(on) if isinstance(on, list) else weekday_names(words)
    return str(words[value.relation]).format(
        time=clock_text(value.clock, words),
        weekday=weekdays[value.weekday],
        day=value.day,
        month=month_names(words)[value.month - 1],
    )


def weekly_text(weekly: tuple[tuple[Interval, ...], ...], words: Mapping[str, object]) -> str:
    """Regular hours as words, consecutive days with the same hours grouped:
    "Montag bis Samstag 14 Uhr bis 20 Uhr"."""
    weekdays = weekday_names(words)
    groups: list[tuple[int, int, tuple[Interval, ...]]] = []
    for day in range(len(DAYS)):
        if not weekly[day]:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == weekly[day]:
            groups[-1] = (groups[-1][0], day, weekly[day])
        else:
            groups.append((day, day, weekly[day]))
    parts = []
    for first, last, intervals in groups:
        days = weekdays[first] if first == last else str(words["days_range"]).format(
            first=weekdays[first], last=weekdays[last])
        spans = str(words["list_and"]).join(
            str(words["hours_range"]).format(
                **{"from": clock_text(clock_of(iv.start), words),
                   "to": clock_text(clock_of(iv.end % MINUTES_PER_DAY or MINUTES_PER_DAY), words)})
            for iv in intervals)
        parts.append(f"{days} {spans}")
    return "; ".join(parts)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentence_slice(text: str, start: int, stop: int | None) -> str:
    """Some sentences of a prompt: (0, 2) the first two, (2, None) the rest ("" if none)."""
    return " ".join(_SENTENCE_END.split(text)[start:stop])


def plain(pieces: tuple[Piece, ...]) -> str:
    """Pieces as one line of text, digits in their groups (for terminals and logs)."""
    return "".join(p if isinstance(p, str) else " ".join(p.groups) for p in pieces)
