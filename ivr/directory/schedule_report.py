"""What `ivr schedule` prints: who is open at an instant and until when, when each line opens
next, the regular week at a glance (with the hours when no line at all is open), and the
holidays, closures and extra openings of the next two weeks.

Pure formatting: the instant is an argument, nothing reads a clock or a file. Times are shown in
the directory's zone; JSON instants are ISO 8601 with their offset."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import lru_cache
from typing import Any, Sequence

import holidays

from ivr.directory.directory import (
    AUDIENCES,
    HOLIDAY_OPEN,
    HOLIDAY_UNKNOWN,
    MINUTES_PER_DAY,
    Directory,
    Interval,
    Line,
)
from ivr.directory.schedule import (
    SEARCH_DAYS,
    NaiveInstantError,
    closed_all_day,
    current_period,
    day_ranges,
    is_holiday,
    is_open,
    next_opening,
    periods,
)

from ivr.call.live_closed import LiveClosure, next_opening_after  # live closures: plain data from the store

UPCOMING_DAYS = 14  # how far ahead the table lists holidays, closures and extra openings

DAY_NAMES = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
}
MONTH_NAMES = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "de": ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"),
}
LABELS = {
    "en": {
        "title": "Schedule at {at}",
        "line": "Line", "number": "Number", "now": "Now", "next": "Opens next",
        "open_until": "open until {time}", "open": "open, no closing found",
        "closed": "closed", "never": "not within {days} days",
        "count": "{open} of {total} lines open.",
        "none_open": "No line is open. Next opening {at}: {ids}.",
        "none_ever": "No line is open, and none opens within {days} days.",
        "week": "Regular week (hours as written; no holidays, closures or extra openings):",
        "gap": "none open", "gap_all_day": "no line open all day",
        "covered": "some line open around the clock",
        "other_zone": "{ranges} (from {zone})",
        "upcoming": "Holidays, closures and extra openings, {first} to {last}:",
        "nothing_upcoming": "none",
        "closed_by": "closed: {ids}", "extra": "extra hours {hours}: {ids}",
        "holiday_unknown": "holiday, hours may differ (rule unknown, dialled as usual): {ids}",
        "closed_live": "closed live (below)",
        "live": "Closed now by an operator (ivr close), skipped by every call:",
        "live_row": "{id}: by {by}, {until}", "until": "until {time}", "reopened": "until reopened",
        "on_reopening": "when reopened by hand",
    },
    "de": {
        "title": "Stand: {at}",
        "line": "Leitung", "number": "Nummer", "now": "Jetzt", "next": "Öffnet wieder",
        "open_until": "offen bis {time}", "open": "offen, kein Ende gefunden",
        "closed": "geschlossen", "never": "nicht in den nächsten {days} Tagen",
        "count": "{open} von {total} Leitungen offen.",
        "none_open": "Keine Leitung offen. Nächste Öffnung {at}: {ids}.",
        "none_ever": "Keine Leitung offen, und keine öffnet in den nächsten {days} Tagen.",
        "week": "Normale Woche (Zeiten wie eingetragen; ohne Feiertage, Schließtage und Sonderöffnungen):",
        "gap": "keine offen", "gap_all_day": "den ganzen Tag keine Leitung offen",
        "covered": "rund um die Uhr eine Leitung offen",
        "other_zone": "{ranges} (aus {zone})",
        "upcoming": "Feiertage, Schließtage und Sonderöffnungen, {first} bis {last}:",
        "nothing_upcoming": "keine",
        "closed_by": "geschlossen: {ids}", "extra": "zusätzlich offen {hours}: {ids}",
        "holiday_unknown": "Feiertag, Zeiten können abweichen (Regel unbekannt, wird wie sonst verbunden): {ids}",
        "closed_live": "von Hand geschlossen (unten)",
        "live": "Jetzt von Hand geschlossen (ivr close), kein Anruf wird dorthin verbunden:",
        "live_row": "{id}: von {by}, {until}", "until": "bis {time}", "reopened": "bis zur Wiedereröffnung",
        "on_reopening": "wenn von Hand wieder geöffnet",
    },
}
_HOLIDAY_LANGUAGE = {"en": "en_US", "de": "de"}  # the holidays package's names for them


# -- JSON -------------------------------------------------------------------------------------

def schedule_json(directory: Directory, at: dt.datetime,
                  live: Sequence[LiveClosure] | None = None) -> dict[str, Any]:
    """{"at", "open": [{"id", "phone", "name", "serves", "closes_at"}], "next": [{"id", "phone",
    "opens_at"}]}: lines in directory order, instants as ISO 8601 with the directory's offset.

    closes_at is null for a line open beyond the search horizon (around the clock); opens_at is
    null when the line does not open within it. With `live` (the closures in force, from the
    store), lines closed live are left out of "open" and listed in "closed_live"."""
    _require_aware(at)
    zone = directory.timezone
    closed_live = {closure.line_id for closure in live or ()}
    opened = []
    for line in directory.lines:
        if is_open(line, at) and line.id not in closed_live:
            closes = _closes(line, at)
            opened.append({
                "id": line.id,
                "phone": line.phone,
                "name": dict(line.name),
                "serves": [audience for audience in AUDIENCES if audience in line.serves],
                "closes_at": _iso(closes, zone),
            })
    upcoming = [{"id": line.id, "phone": line.phone, "opens_at": _iso(_next(line, at, live), zone)}
                for line in directory.lines]
    out: dict[str, Any] = {"at": _iso(at, zone), "open": opened, "next": upcoming}
    if live is not None:
        out["closed_live"] = [{"id": c.line_id, "until": _iso(c.until, zone), "reason": c.reason,
                               "by": c.closed_by} for c in live]
    return out


def _next(line: Line, at: dt.datetime, live: Sequence[LiveClosure] | None) -> dt.datetime | None:
    """When the line opens next; a line closed by hand not before its closure ends (never while
    it is closed until reopened)."""
    for closure in live or ():
        if closure.line_id == line.id:
            return next_opening_after(line, at, closure.until)
    return next_opening(line, at)


def _iso(instant: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    return instant.astimezone(zone).isoformat(timespec="seconds") if instant else None


def _require_aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveInstantError(f"{at.isoformat()} has no UTC offset; expected an aware instant")


def _closes(line: Line, at: dt.datetime) -> dt.datetime | None:
    """When the open period around `at` ends; None if it runs to the end of the search (a line
    open around the clock) or cannot be told."""
    period = current_period(line, at)
    if period is None:
        return None
    local_day = at.astimezone(line.timezone).date()
    # periods() looks SEARCH_DAYS days ahead from the day before `at`; a period still open
    # at the end of that search has no closing time that we know of
    search_end = dt.datetime.combine(local_day + dt.timedelta(days=SEARCH_DAYS - 1), dt.time(),
                                     tzinfo=line.timezone)
    return None if period.closes.astimezone(dt.timezone.utc) >= search_end.astimezone(dt.timezone.utc) \
        else period.closes


# -- table ------------------------------------------------------------------------------------

def schedule_table(directory: Directory, at: dt.datetime, lang: str = "en",
                   live: Sequence[LiveClosure] = ()) -> str:
    """A readable report for operators: who is open at `at` until when, when each line opens
    next, the regular week with the hours when no line is open, and the next two weeks'
    holidays, closures and extra openings."""
    if lang not in LABELS:
        raise ValueError(f"{lang!r} is not a report language; expected one of {', '.join(LABELS)}")
    _require_aware(at)
    words = LABELS[lang]
    zone = directory.timezone
    local = at.astimezone(zone)
    offset = local.strftime("%z")
    out = [words["title"].format(at=f"{_date(local.date(), lang, year=True)} {local:%H:%M} "
                                     f"({zone.key}, UTC{offset[:3]}:{offset[3:]})"), ""]
    out += _now_table(directory, at, lang, live)
    out.append("")
    if live:
        out += _live(live, zone, lang, local.date())
        out.append("")
    out += _week(directory, local.date(), lang)
    out.append("")
    out += _upcoming(directory, local.date(), lang)
    return "\n".join(out) + "\n"


def _now_table(directory: Directory, at: dt.datetime, lang: str,
               live: Sequence[LiveClosure] = ()) -> list[str]:
    words, zone = LABELS[lang], directory.timezone
    closed_live = {closure.line_id for closure in live}
    local_day = at.astimezone(zone).date()
    rows = [(words["line"], words["number"], words["now"], words["next"])]
    open_count = 0
    openings: dict[dt.datetime, list[str]] = {}
    for line in directory.lines:
        if line.id in closed_live:
            now = words["closed_live"]
        elif is_open(line, at):
            open_count += 1
            closes = _closes(line, at)
            now = words["open_until"].format(time=_when(closes, zone, lang, local_day)) if closes else words["open"]
        else:
            now = words["closed"]
        opens = _next(line, at, live)
        if opens is not None:
            openings.setdefault(opens.astimezone(dt.timezone.utc), []).append(line.id)
        shown = (_when(opens, zone, lang) if opens else words["on_reopening"] if line.id in closed_live
                 else words["never"].format(days=SEARCH_DAYS))
        rows.append((line.id, line.spoken, now, shown))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3]
             for row in rows]
    lines.append("")
    if open_count:
        lines.append(words["count"].format(open=open_count, total=len(directory.lines)))
    elif openings:
        first = min(openings)
        lines.append(words["none_open"].format(at=_when(first, zone, lang), ids=", ".join(openings[first])))
    else:
        lines.append(words["none_ever"].format(days=SEARCH_DAYS))
    return lines


def _live(live: Sequence[LiveClosure], zone: dt.tzinfo, lang: str, today: dt.date) -> list[str]:
    words = LABELS[lang]
    out = [words["live"]]
    for c in live:
        until = words["until"].format(time=_when(c.until, zone, lang, today)) if c.until else words["reopened"]
        out.append("  " + words["live_row"].format(id=c.line_id, by=c.closed_by, until=until)
                   + (f" ({c.reason})" if c.reason else ""))
    return out


def _when(instant: dt.datetime, zone: dt.tzinfo, lang: str, today: dt.date | None = None) -> str:
    """"14:00" on `today`, otherwise "Wed 25 Nov 14:00" (weekday, date and time, local)."""
    local = instant.astimezone(zone)
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{_date(local.date(), lang)} {local:%H:%M}"


def _date(day: dt.date, lang: str, year: bool = False) -> str:
    weekday, month = DAY_NAMES[lang][day.weekday()], MONTH_NAMES[lang][day.month - 1]
    dot = "." if lang == "de" else ""
    return f"{weekday} {day.day}{dot} {month}" + (f" {day.year}" if year else "")


# -- the regular week -------------------------------------------------------------------------

def _regular(line: Line) -> Line:
    """The line's weekly hours alone: no holidays, closures or extra openings."""
    return replace(line, public_holidays=HOLIDAY_OPEN, closures=(), extra_openings=())


def _minutes_on(line: Line, day: dt.date, zone: dt.tzinfo) -> list[tuple[int, int]]:
    """The minutes of `day` (wall time in `zone`) when the line is open, merged and sorted."""
    if getattr(line.timezone, "key", None) == getattr(zone, "key", object()):
        return [(iv.start, iv.end) for iv in day_ranges(line, day)]
    # a line kept in another zone: its periods around `day`, cut to `day` in our zone
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    pieces = []
    for period in periods(line, day - dt.timedelta(days=2), 5):
        opens, closes = max(period.opens, start), min(period.closes, end)
        if opens < closes:
            pieces.append((_minute_of(opens, zone, day), _minute_of(closes, zone, day)))
    return _merge(pieces)


def _minute_of(instant: dt.datetime, zone: dt.tzinfo, day: dt.date) -> int:
    local = instant.astimezone(zone)
    return MINUTES_PER_DAY if local.date() > day else local.hour * 60 + local.minute


def _merge(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _ranges(pieces: list[tuple[int, int]]) -> str:
    return ", ".join(Interval(start, end).label() for start, end in pieces)


def _week(directory: Directory, today: dt.date, lang: str) -> list[str]:
    words, zone = LABELS[lang], directory.timezone
    monday = today - dt.timedelta(days=today.weekday())
    width = max([len(line.id) for line in directory.lines] + [len(words["gap"])])
    regular = [_regular(line) for line in directory.lines]
    out = [words["week"]]
    for weekday in range(7):
        day = monday + dt.timedelta(days=weekday)
        rows: list[tuple[str, str]] = []
        covered: list[tuple[int, int]] = []
        for line in regular:
            minutes = _minutes_on(line, day, zone)
            covered += minutes
            if minutes:
                shown = _ranges(minutes)
                if line.timezone.key != zone.key:
                    own = [(iv.start, iv.end) for iv in day_ranges(line, day)]
                    shown = words["other_zone"].format(ranges=shown, zone=f"{line.timezone.key} {_ranges(own)}".strip())
                rows.append((line.id, shown))
        gaps = _gaps(_merge(covered))
        name = DAY_NAMES[lang][weekday]
        if not rows:
            out.append(f"{name:<3} {words['gap_all_day']}")
            continue
        rows.append((words["gap"], _ranges(gaps)) if gaps else ("", words["covered"]))
        for n, (label, text) in enumerate(rows):
            out.append(f"{name if n == 0 else '':<3} {label:<{width}}  {text}".rstrip())
    return out


def _gaps(covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The minutes of a day outside `covered` (merged, sorted)."""
    gaps, cursor = [], 0
    for start, end in covered:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < MINUTES_PER_DAY:
        gaps.append((cursor, MINUTES_PER_DAY))
    return gaps


# -- the next two weeks' exceptions -----------------------------------------------------------

@lru_cache(maxsize=32)
def _holiday_names(country: str, subdivision: str | None, lang: str) -> holidays.HolidayBase:
    calendar = holidays.country_holidays(country, subdiv=subdivision)
    wanted = _HOLIDAY_LANGUAGE.get(lang)
    if wanted in getattr(calendar, "supported_languages", ()):
        calendar = holidays.country_holidays(country, subdiv=subdivision, language=wanted)
    return calendar


def _why_closed(line: Line, day: dt.date, lang: str) -> str:
    reasons = []
    if line.closed_on_public_holidays and is_holiday(line, day):
        reasons.append(str(_holiday_names(line.holiday_country, line.holiday_subdivision, lang).get(day)))
    reasons += [closure.reason for closure in line.closures if closure.covers(day) and closure.reason]
    return "; ".join(dict.fromkeys(reasons))


def _upcoming(directory: Directory, today: dt.date, lang: str) -> list[str]:
    words = LABELS[lang]
    last = today + dt.timedelta(days=UPCOMING_DAYS - 1)
    out = [words["upcoming"].format(first=_date(today, lang), last=_date(last, lang))]
    for offset in range(UPCOMING_DAYS):
        day = today + dt.timedelta(days=offset)
        # (what, why) -> line ids, in directory order
        events: dict[tuple[str, str], list[str]] = {}
        for line in directory.lines:
            if closed_all_day(line, day) and day_ranges(_regular(line), day):
                events.setdefault(("closed_by", _why_closed(line, day, lang)), []).append(line.id)
            elif (line.public_holidays == HOLIDAY_UNKNOWN and is_holiday(line, day)
                  and day_ranges(_regular(line), day)):
                name = str(_holiday_names(line.holiday_country, line.holiday_subdivision, lang).get(day))
                events.setdefault(("holiday_unknown", name), []).append(line.id)
            for extra in line.extra_openings:
                if extra.day == day:
                    events.setdefault((f"extra {extra.interval.label()}", extra.reason), []).append(line.id)
        for (what, why), ids in events.items():
            if what in ("closed_by", "holiday_unknown"):
                text = words[what].format(ids=", ".join(ids))
            else:
                text = words["extra"].format(hours=what.split(" ", 1)[1], ids=", ".join(ids))
            out.append(f"  {_date(day, lang):<11} {text}" + (f" ({why})" if why else ""))
    if len(out) == 1:
        out.append(f"  {words['nothing_upcoming']}")
    return out
