"""Validating `hotlines.yaml` into a frozen Directory, reporting every problem at once."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from ivr.directory.directory import (
    SHORT_TALK_SECONDS,
    TRY_LAST_AFTER,
    ANYONE,
    AUDIENCES,
    HOLIDAY_RULES,
    MULTILINGUAL,
    HOLIDAY_UNKNOWN,
    Closure,
    Directory,
    ExtraOpening,
    Interval,
    Line,
    Resource,
    ServiceNumber,
)
from ivr.directory.hours import HoursError, parse_days, parse_interval
from ivr.config.yamlfile import YamlDoc, join
from ivr.config.yamlfile import check_text as _text, describe as _kind, is_not as _not

LANGUAGES_REQUIRED = ("de", "en")
RESOURCE_KINDS = ("online", "removal", "reporting", "emergency")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
_LINE_KEYS = {
    "id", "name", "phone", "spoken", "serves", "hours", "timezone", "public_holidays",
    "holiday_subdivision", "closures", "extra_openings", "languages", "free_of_charge",
    "anonymous", "web", "email", "source",
}
_RESOURCE_KEYS = {"id", "kind", "name", "serves", "web", "phone", "source"}
_TOP_KEYS = {"timezone", "public_holidays", "service", "numbers", "best_fit", "lines", "resources"}
_SERVICE_KEYS = {"free_to_call", "caller_id", "short_talk_seconds", "try_last_after"}



@lru_cache(maxsize=None)
def _supported_countries() -> dict[str, list[str]]:
    return holidays.list_supported_countries()


def build_directory(doc: YamlDoc) -> Directory | None:
    """The Directory, or None with the problems recorded in `doc.errors`."""
    data = doc.data
    if not isinstance(data, dict):
        doc.problem("", f"holds {_kind(data)}; expected a mapping with timezone, lines and best_fit")
        return None
    doc.unknown_keys("", data, _TOP_KEYS)
    zone = _zone(doc, "timezone", data.get("timezone", "Europe/Berlin")) or ZoneInfo("Europe/Berlin")
    country = _holiday_country(doc, data.get("public_holidays"))
    lines = _lines(doc, data.get("lines"), zone, country)
    best_fit = _best_fit(doc, data.get("best_fit"), lines)
    resources = _resources(doc, data.get("resources", []))
    service = _service(doc, data.get("service"))
    numbers = _numbers(doc, data.get("numbers"))
    if doc.errors:
        return None
    by_id = {line.id: line for line in lines}
    return Directory(zone, tuple(lines), best_fit, tuple(resources), by_id, service, numbers)


def _numbers(doc: YamlDoc, value: Any) -> dict[str, str]:
    """numbers: {"+4930...": tr}: the language a call to that number starts in."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        doc.problem("numbers", f"holds {_kind(value)}; expected a mapping of called numbers (E.164) to "
                               "languages, e.g. {\"+4930901820124\": tr}")
        return {}
    numbers: dict[str, str] = {}
    for number, lang in value.items():
        path = join("numbers", str(number))
        if not isinstance(number, str) or not _E164.match(number):
            doc.problem(path, f"{number!r} is not a phone number in E.164; expected the number callers dial, "
                              "in quotes, e.g. \"+4930901820124\"")
        elif not isinstance(lang, str) or not re.fullmatch(r"[a-z]{2}", lang):
            doc.problem(path, f"{lang!r} is not a language; expected one of the languages of data/menu.yaml, e.g. tr")
        else:
            numbers[number] = lang
    return numbers


def _service(doc: YamlDoc, value: Any) -> ServiceNumber:
    if value is None:
        return ServiceNumber()
    if not isinstance(value, dict):
        doc.problem("service", f"holds {_kind(value)}; expected a mapping with {', '.join(sorted(_SERVICE_KEYS))}")
        return ServiceNumber()
    doc.unknown_keys("service", value, _SERVICE_KEYS)
    caller_id = value.get("caller_id")
    if caller_id is not None and (not isinstance(caller_id, str) or not _E164.match(caller_id)):
        doc.problem("service.caller_id", f"{caller_id!r} is not a phone number in E.164; expected "
                                         "a number the Twilio account owns, e.g. \"+4930901820123\", or nothing")
        caller_id = None
    seconds = value.get("short_talk_seconds", SHORT_TALK_SECONDS)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= 600:
        doc.problem("service.short_talk_seconds", f"{seconds!r} is not a number of seconds; expected "
                                                  "a whole number from 0 to 600, e.g. 30")
        seconds = SHORT_TALK_SECONDS
    free = _flag(doc, "service.free_to_call", value.get("free_to_call"), False)
    after = value.get("try_last_after", TRY_LAST_AFTER)
    if isinstance(after, bool) or not isinstance(after, int) or not 1 <= after <= 1000:
        doc.problem("service.try_last_after", f"{after!r} is not a number of dials; expected a whole "
                                              "number from 1 to 1000, e.g. 5")
        after = TRY_LAST_AFTER
    return ServiceNumber(bool(free), caller_id, seconds, after)


# -- small checks ---------------------------------------------------------------------------

def _flag(doc: YamlDoc, path: str, value: Any, default: bool | None) -> bool | None:
    if value is None:
        return default
    if not isinstance(value, bool):
        doc.problem(path, f"{_not(value, 'yes/no')}; expected true or false")
        return default
    return value


def _zone(doc: YamlDoc, path: str, value: Any) -> ZoneInfo | None:
    if isinstance(value, str):  # anything else is a problem too, not a silent fall-back
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
            pass
    doc.problem(path, f"{_not(value, 'a time zone')}; expected an IANA name like \"Europe/Berlin\"")
    return None


def _names(doc: YamlDoc, path: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        doc.problem(path, f"holds {_kind(value)}; expected a mapping with a name per language (de, en)")
        return {}
    for lang in LANGUAGES_REQUIRED:
        if lang not in value:
            doc.problem(path, f"has no {lang!r} name; expected names in {', '.join(LANGUAGES_REQUIRED)}")
    return {str(k): v for k, v in value.items() if _text(doc, join(path, str(k)), v)}


def _audiences(doc: YamlDoc, path: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        doc.problem(path, f"holds {_kind(value)}; expected a list of audiences ({', '.join(AUDIENCES)})")
        return frozenset()
    good = set()
    for i, item in enumerate(value):
        if item in AUDIENCES:
            good.add(item)
        else:
            doc.problem(join(path, i), f"{item!r} is not an audience; expected one of {', '.join(AUDIENCES)}")
    return frozenset(good)


def _languages(doc: YamlDoc, path: str, value: Any) -> tuple[str, ...]:
    """Language codes as the prompts files name them (de, en, tr) or multilingual.

    A typo ("deutsch", "DE") would be silent at call time: the line would simply never be
    offered first to that language's callers, so it is refused here."""
    good = []
    for i, item in enumerate(_list(doc, path, value, "languages")):
        lang = _text(doc, join(path, i), item)  # not text at all: said as such
        if lang is None:
            continue
        if _LANGUAGE_CODE.match(lang) or lang == MULTILINGUAL:
            good.append(lang)
        else:
            doc.problem(join(path, i), f"{lang!r} is not a language; expected a two-letter language code "
                                       f"in lower case (de, en, tr, ...) or {MULTILINGUAL}")
    return tuple(good)


def _list(doc: YamlDoc, path: str, value: Any, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        doc.problem(path, f"holds {_kind(value)}; expected a list of {what}")
        return []
    return value


def _date(doc: YamlDoc, path: str, value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    doc.problem(path, f"{_not(value, 'a date')}; expected YYYY-MM-DD, e.g. 2026-12-24")
    return None


# -- parts ----------------------------------------------------------------------------------

def _holiday_country(doc: YamlDoc, value: Any) -> str:
    path = "public_holidays"
    if value is None:
        return "DE"
    if not isinstance(value, dict):
        doc.problem(path, f"holds {_kind(value)}; expected a mapping like {{country: DE}}")
        return "DE"
    doc.unknown_keys(path, value, {"country"})
    country = value.get("country", "DE")
    if not isinstance(country, str) or country not in _supported_countries():
        doc.problem(join(path, "country"),
                    f"{country!r} is not a country the holidays package knows; expected an ISO code like \"DE\"")
        return "DE"
    return country


def _weekly(doc: YamlDoc, path: str, value: Any) -> tuple[tuple[Interval, ...], ...]:
    week: list[list[Interval]] = [[] for _ in range(7)]
    if not isinstance(value, dict) or not value:
        doc.problem(path, f"holds {_kind(value)}; expected a mapping of days to hours, e.g. {{mon-fri: \"09:00-17:00\"}}")
        return tuple(tuple(d) for d in week)
    seen: dict[int, str] = {}
    for day_spec, hours in value.items():
        day_path = join(path, str(day_spec))
        try:
            days = parse_days(day_spec)
        except HoursError as exc:
            doc.problem(day_path, str(exc))
            continue
        texts = hours if isinstance(hours, list) else [hours]
        intervals = []
        for text in texts:
            try:
                intervals.append(parse_interval(text))
            except HoursError as exc:
                doc.problem(day_path, str(exc))
        for day in days:
            if day in seen:
                doc.problem(day_path, f"{day_spec!r} repeats a day already given by {seen[day]!r}; "
                            "expected each day once (give a list for several intervals)")
                continue
            seen[day] = str(day_spec)
            week[day].extend(intervals)
    return tuple(tuple(sorted(d, key=lambda iv: iv.start)) for d in week)


def _entries(doc: YamlDoc, path: str, value: Any, what: str, keys: tuple[str, ...],
             example: str) -> Iterator[tuple[str, dict]]:
    """The mappings of a list, each with its path; anything else is reported, not yielded."""
    for i, item in enumerate(_list(doc, path, value, what)):
        p = join(path, i)
        if not isinstance(item, dict):
            doc.problem(p, f"holds {_kind(item)}; expected {example}")
            continue
        doc.unknown_keys(p, item, set(keys))
        yield p, item


def _closures(doc: YamlDoc, path: str, value: Any) -> list[Closure]:
    out = []
    for p, item in _entries(doc, path, value, "closures", ("from", "to", "reason", "source"),
                            "{from: YYYY-MM-DD, to: YYYY-MM-DD, reason: ..., source: ...}"):
        first = _date(doc, join(p, "from"), item.get("from"))
        last = _date(doc, join(p, "to"), item.get("to", item.get("from")))
        reason = _text(doc, join(p, "reason"), item.get("reason")) or ""
        source = _text(doc, join(p, "source"), item.get("source"), required=False) or ""
        if first and last:
            if last < first:
                doc.problem(join(p, "to"), f"{last} is before from {first}; expected a date on or after it")
            else:
                out.append(Closure(first, last, reason, source))
    return out


def _extras(doc: YamlDoc, path: str, value: Any) -> list[ExtraOpening]:
    out = []
    for p, item in _entries(doc, path, value, "extra openings", ("date", "hours", "reason"),
                            '{date: YYYY-MM-DD, hours: "HH:MM-HH:MM", reason: ...}'):
        day = _date(doc, join(p, "date"), item.get("date"))
        reason = _text(doc, join(p, "reason"), item.get("reason")) or ""
        try:
            interval = parse_interval(item.get("hours"), may_cross_midnight=False)
        except HoursError as exc:
            doc.problem(join(p, "hours"), str(exc))
            continue
        if day:
            out.append(ExtraOpening(day, interval, reason))
    return out


def _phone(doc: YamlDoc, path: str, value: Any) -> str | None:
    if isinstance(value, str) and _E164.match(value):
        return value
    hint = " in quotes" if isinstance(value, int) else ""  # unquoted +49... reads as a number
    doc.problem(path, f"{_not(value, 'a phone number in E.164')}; expected \"+\" and digits{hint}, "
                      "e.g. \"+498001110550\"")
    return None


def _spoken(doc: YamlDoc, path: str, value: Any, phone: str | None) -> str | None:
    text = _text(doc, path, value)
    if text is None:
        return None
    if not re.fullmatch(r"[0-9]+( [0-9]+)*", text):
        doc.problem(path, f"{text!r} is not a printed number; expected digit groups separated by single spaces, e.g. \"0800 111 0 550\"")
        return None
    digits = text.replace(" ", "")
    national = "49" + (digits[1:] if digits.startswith("0") else digits)
    if phone and phone.startswith("+49") and phone[1:] != national:
        doc.problem(path, f"{text!r} does not match phone {phone!r}; expected the same number as printed in Germany")
    return text


def _lines(doc: YamlDoc, value: Any, zone: ZoneInfo, country: str) -> list[Line]:
    items = _list(doc, "lines", value, "lines")
    if not items:
        doc.problem("lines", "has no lines; expected at least one phone line to forward callers to")
    lines: list[Line] = []
    first_seen: dict[str, str] = {}
    subdivisions = _supported_countries().get(country, [])
    for i, item in enumerate(items):
        p = join("lines", i)
        if not isinstance(item, dict):
            doc.problem(p, f"holds {_kind(item)}; expected a mapping describing one line")
            continue
        doc.unknown_keys(p, item, _LINE_KEYS)
        line_id = item.get("id")
        if not isinstance(line_id, str) or not _ID.match(line_id):
            doc.problem(join(p, "id"), f"{_not(line_id, 'an id')}; expected lower-case letters, digits and dashes")
            line_id = None
        elif line_id in first_seen:
            doc.problem(join(p, "id"), f"{line_id!r} is a duplicate id; first used at {first_seen[line_id]}; expected each id once")
        else:
            first_seen[line_id] = p
        phone = _phone(doc, join(p, "phone"), item.get("phone"))
        spoken = _spoken(doc, join(p, "spoken"), item.get("spoken"), phone)
        line_zone = _zone(doc, join(p, "timezone"), item["timezone"]) if "timezone" in item else zone
        subdivision = item.get("holiday_subdivision")
        if subdivision is not None and subdivision not in subdivisions:
            doc.problem(join(p, "holiday_subdivision"),
                        f"{subdivision!r} is not a subdivision of {country}; expected one of {', '.join(subdivisions)}")
            subdivision = None
        languages = _languages(doc, join(p, "languages"), item.get("languages"))
        line = Line(
            id=line_id or f"#{i}",
            name=_names(doc, join(p, "name"), item.get("name")),
            phone=phone or "",
            spoken=spoken or "",
            serves=_audiences(doc, join(p, "serves"), item.get("serves")),
            timezone=line_zone or zone,
            weekly=_weekly(doc, join(p, "hours"), item.get("hours")),
            public_holidays=_holiday_rule(doc, join(p, "public_holidays"), item.get("public_holidays")),
            holiday_country=country,
            holiday_subdivision=subdivision,
            closures=tuple(_closures(doc, join(p, "closures"), item.get("closures"))),
            extra_openings=tuple(_extras(doc, join(p, "extra_openings"), item.get("extra_openings"))),
            languages=languages,
            free_of_charge=_flag(doc, join(p, "free_of_charge"), item.get("free_of_charge"), None),
            anonymous=_flag(doc, join(p, "anonymous"), item.get("anonymous"), None),
            web=_text(doc, join(p, "web"), item.get("web"), required=False),
            email=_text(doc, join(p, "email"), item.get("email"), required=False),
            source=_text(doc, join(p, "source"), item.get("source")) or "",
        )
        lines.append(line)
    return lines


def _holiday_rule(doc: YamlDoc, path: str, value: Any) -> str:
    """closed, open or unknown; left out, unknown (the line's own hours, never assumed closed)."""
    if value is None:
        return HOLIDAY_UNKNOWN
    if value in HOLIDAY_RULES:
        return str(value)
    doc.problem(path, f"{_not(value, 'a holiday rule')}; expected one of {', '.join(HOLIDAY_RULES)} "
                      "(unknown where the source does not say; an unknown line is dialled in its weekly hours)")
    return HOLIDAY_UNKNOWN


def _best_fit(doc: YamlDoc, value: Any, lines: list[Line]) -> dict[str, tuple[str, ...]]:
    path = "best_fit"
    wanted = (*AUDIENCES, ANYONE)
    if not isinstance(value, dict):
        doc.problem(path, f"holds {_kind(value)}; expected a mapping of {', '.join(wanted)} to lists of line ids")
        return {}
    doc.unknown_keys(path, value, set(wanted))
    known = {line.id: line for line in lines}
    result: dict[str, tuple[str, ...]] = {}
    for audience in wanted:
        p = join(path, audience)
        ids = value.get(audience)
        if not isinstance(ids, list) or not ids:
            doc.problem(p, f"holds {_kind(ids)}; expected a list of at least one line id for {audience}")
            continue
        for i, line_id in enumerate(ids):
            if not isinstance(line_id, str) or line_id not in known:
                doc.problem(join(p, i), f"{line_id!r} is not a line id; expected one of {', '.join(known)}")
            elif audience != ANYONE and audience not in known[line_id].serves:
                doc.problem(join(p, i), f"{line_id!r} does not serve {audience}; expected only lines whose serves lists it")
            elif audience == ANYONE and not known[line_id].serves_all():
                missing = ", ".join(a for a in AUDIENCES if a not in known[line_id].serves)
                doc.problem(join(p, i), f"{line_id!r} does not serve {missing}; expected only lines that "
                                        f"serve every audience ({', '.join(AUDIENCES)}): a caller who has not "
                                        "said who they are may be anyone")
            if ids.count(line_id) > 1 and ids.index(line_id) == i:
                doc.problem(join(p, i), f"{line_id!r} is listed twice; expected each line once")
        for line in lines:
            serves = line.serves_all() if audience == ANYONE else audience in line.serves
            if serves and line.id not in ids:
                doc.problem(p, f"lacks {line.id!r}, which serves {audience if audience != ANYONE else 'every audience'}; "
                               f"expected every line that serves {audience if audience != ANYONE else 'every audience'}")
        result[audience] = tuple(i for i in ids if isinstance(i, str) and i in known)
    return result


def _resources(doc: YamlDoc, value: Any) -> list[Resource]:
    out: list[Resource] = []
    seen: set[str] = set()
    for i, item in enumerate(_list(doc, "resources", value, "resources")):
        p = join("resources", i)
        if not isinstance(item, dict):
            doc.problem(p, f"holds {_kind(item)}; expected a mapping describing one resource")
            continue
        doc.unknown_keys(p, item, _RESOURCE_KEYS)
        rid = item.get("id")
        if not isinstance(rid, str) or not _ID.match(rid):
            doc.problem(join(p, "id"), f"{_not(rid, 'an id')}; expected lower-case letters, digits and dashes")
        elif rid in seen:
            doc.problem(join(p, "id"), f"{rid!r} is a duplicate id; expected each id once")
        seen.add(str(rid))
        kind = item.get("kind")
        if kind not in RESOURCE_KINDS:
            doc.problem(join(p, "kind"), f"{_not(kind, 'a resource kind')}; expected one of {', '.join(RESOURCE_KINDS)}")
        out.append(Resource(
            id=str(rid),
            kind=str(kind),
            name=_names(doc, join(p, "name"), item.get("name")),
            serves=_audiences(doc, join(p, "serves"), item.get("serves")),
            web=_text(doc, join(p, "web"), item.get("web"), required=False),
            phone=_text(doc, join(p, "phone"), item.get("phone"), required=False),
            source=_text(doc, join(p, "source"), item.get("source")) or "",
        ))
    return out
