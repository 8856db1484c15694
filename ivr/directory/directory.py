"""The hotline directory as frozen, validated data. Built by `loading`, read by `schedule`."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping
from zoneinfo import ZoneInfo

AUDIENCES: tuple[str, ...] = ("young_person", "parent", "adult", "supporter")
ANYONE = "anyone"  # a caller who has not said who they are: only lines that serve every audience
# What a line does on a public holiday. The seed gives weekly hours only: where the source is
# silent the rule is "unknown", and unknown is not closed (the weekly hours are dialled; a
# no-answer falls through as always; the caller may hear that hours can differ on holidays).
HOLIDAY_CLOSED, HOLIDAY_OPEN, HOLIDAY_UNKNOWN = "closed", "open", "unknown"
HOLIDAY_RULES = (HOLIDAY_CLOSED, HOLIDAY_OPEN, HOLIDAY_UNKNOWN)
# In a line's `languages`: counselling in the caller's language may be possible there.
MULTILINGUAL = "multilingual"
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Interval:
    """Local wall-clock minutes since midnight, half-open; `end` may exceed 1440 (crosses midnight)."""

    start: int
    end: int

    def label(self) -> str:
        end = self.end % MINUTES_PER_DAY if self.end != MINUTES_PER_DAY else self.end
        return f"{_hhmm(self.start)}-{_hhmm(end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Closure:
    first: dt.date
    last: dt.date  # inclusive
    reason: str
    source: str = ""  # who said the line is closed then (a dated closure is always obeyed)

    def covers(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class ExtraOpening:
    day: dt.date
    interval: Interval  # never crosses midnight
    reason: str


@dataclass(frozen=True)
class Line:
    """A phone line the service may forward a caller to."""

    id: str
    name: Mapping[str, str]  # language -> name
    phone: str  # E.164, what is dialled
    spoken: str  # the printed grouping, read digit by digit
    serves: frozenset[str]
    timezone: ZoneInfo
    # weekly[d]: intervals starting on weekday d (0 = Monday), as written in the file
    weekly: tuple[tuple[Interval, ...], ...]
    public_holidays: str = HOLIDAY_CLOSED  # closed | open | unknown
    holiday_country: str = "DE"
    holiday_subdivision: str | None = None
    closures: tuple[Closure, ...] = ()
    extra_openings: tuple[ExtraOpening, ...] = ()
    languages: tuple[str, ...] = ()
    free_of_charge: bool | None = None
    anonymous: bool | None = None
    web: str | None = None
    email: str | None = None
    source: str = ""

    def name_in(self, lang: str) -> str:
        """The line's name in `lang`; where the file gives none, its German name, the one the
        line answers with."""
        return self.name.get(lang) or self.name["de"]

    @property
    def closed_on_public_holidays(self) -> bool:
        return self.public_holidays == HOLIDAY_CLOSED

    def serves_all(self) -> bool:
        """Serves every audience: the only kind of line for a caller who has not said who they are."""
        return all(audience in self.serves for audience in AUDIENCES)

    def may_serve(self, audience: str) -> bool:
        """May be dialled for this caller: a line that serves them, or for a caller who has not
        said who they are ("anyone"), only a line that serves every audience."""
        return self.serves_all() if audience == ANYONE else audience in self.serves

    def speaks(self, lang: str) -> bool:
        """Counselling in `lang` is listed, or may be possible (multilingual)."""
        return lang in self.languages or MULTILINGUAL in self.languages


@dataclass(frozen=True)
class Resource:
    """Named to callers, never dialled: online advice, removal services, reporting offices, 110/112."""

    id: str
    kind: str  # online | removal | reporting | emergency
    name: Mapping[str, str]
    serves: frozenset[str]
    web: str | None = None
    phone: str | None = None
    source: str = ""


SHORT_TALK_SECONDS = 30  # a "completed" dial shorter than this may have been a voicemail
TRY_LAST_AFTER = 5  # dials in a row without a talk after which a line is tried last


@dataclass(frozen=True)
class ServiceNumber:
    """The number callers dial, as the operator describes it."""

    # True only when calling it costs the caller nothing (a German 0800 number): only then does
    # the greeting say "kostenlos"; a promise the service cannot keep is never spoken
    free_to_call: bool = False
    # Shown to the hotlines instead of the number the caller dialled (the call's To): a number
    # the Twilio account owns. None: the dialled number. Never the caller's.
    caller_id: str | None = None
    short_talk_seconds: int = SHORT_TALK_SECONDS
    # A line whose last this-many dials all ended without a talk (a changed number, an
    # outage) is tried last, never dropped, until a talk on it; counted by the store.
    try_last_after: int = TRY_LAST_AFTER


@dataclass(frozen=True)
class Directory:
    timezone: ZoneInfo
    lines: tuple[Line, ...]
    best_fit: Mapping[str, tuple[str, ...]]  # audience (or "anyone") -> line ids, best first
    resources: tuple[Resource, ...] = ()
    by_id: Mapping[str, Line] = field(default_factory=dict)
    service: ServiceNumber = ServiceNumber()
    # a number published for one language community (the call's To, E.164) -> the language the
    # call starts in; any other number starts in the menu's first language
    numbers: Mapping[str, str] = field(default_factory=dict)

    def line(self, line_id: str) -> Line:
        return self.by_id[line_id]

    def ranked(self, audience: str) -> tuple[Line, ...]:
        """Every line that serves `audience`, best fit first (open or not)."""
        return tuple(self.by_id[i] for i in self.best_fit[audience])

    def every_line(self) -> tuple[Line, ...]:
        """Every line, to read out to anyone: the lines for everyone first (best fit), then the
        rest in the file's order (their names say whom they serve)."""
        first = self.ranked(ANYONE)
        return (*first, *(line for line in self.lines if line not in first))
