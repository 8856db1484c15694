"""The oracle of issue 13: the right line for every caller, at every quarter hour of three weeks.

For every 15 minutes of the week of the spring clock change, the week of the autumn one, and
Christmas Eve to New Year's Eve, for every way a caller reaches a person (1, 2, 3 at the main
menu, 0, silence, 1 in the numbers menu, a supporter's 0) in each language, the whole fallback
chain is played with every dial failing (busy, no answer, failed, a short "completed" and 1 for
the next). Checked against the hours themselves (schedule.is_open line by line, not the index the
flow uses) and the directory's `serves` and `languages`:
- every dialled line is open and serves that caller (a caller who has not said who they are:
  only lines that serve every audience);
- the first dialled line speaks the caller's language (or may: multilingual) where one is open;
- the chain tries every suitable open line once, then reads the numbers; nobody is dialled when
  none is open for the caller;
- a young caller whose call ends without a talk while the children's line is closed has heard
  116 111 and its hours.
"""
from __future__ import annotations

import datetime as dt
import itertools

import pytest

from ivr.call import flow
from ivr.directory.directory import ANYONE, Line
from ivr.call.flow import CallState, Dial, Gather, Hangup, Step
from ivr.directory.schedule import is_open
from ivr.call.speech import Phone, WeeklyHours
from twiml_helpers import berlin, bundled_config

C = bundled_config()
ZONE = C.directory.timezone
LANGS = C.menu.languages
KIDS = C.directory.line("kids-line")
WEEKS = [  # (first local day, days): both clock changes, and 24-26 and 31 December
    (dt.date(2026, 3, 23), 8),  # Mon 23 March to Mon 30: summer time from Sun 29, 02:00
    (dt.date(2026, 10, 19), 8),  # Mon 19 October to Mon 26: winter time from Sun 25, 03:00
    (dt.date(2026, 12, 24), 8),  # Thu 24 December to Thu 31: Christmas and New Year's Eve
]


def quarter_hours() -> list[dt.datetime]:
    """Every 15 minutes, in UTC steps, so that the repeated autumn hour is there twice and the
    skipped spring hour not at all."""
    out = []
    for first, days in WEEKS:
        start = dt.datetime.combine(first, dt.time(), tzinfo=ZONE).astimezone(dt.timezone.utc)
        end = dt.datetime.combine(first + dt.timedelta(days=days), dt.time(), tzinfo=ZONE).astimezone(dt.timezone.utc)
        at = start
        while at < end:
            out.append(at.astimezone(ZONE))
            at += dt.timedelta(minutes=15)
    return out


INSTANTS = quarter_hours()


def suitable(at: dt.datetime, audience: str) -> set[str]:
    """The oracle: open now by the line's own hours, and meant for this caller."""
    def serves(line: Line) -> bool:
        return all(a in line.serves for a in ("young_person", "parent", "adult", "supporter")) \
            if audience == ANYONE else audience in line.serves
    return {line.id for line in C.directory.lines if is_open(line, at) and serves(line)}


def speaks(line_id: str, lang: str) -> bool:
    languages = C.directory.line(line_id).languages
    return lang in languages or "multilingual" in languages


# How a caller asks for a person: (name, the steps from the main menu) -> the first step that
# dials or not, with the audience that caller is.
def _key(key: str):
    return lambda state, at: flow.key_pressed(C, state, key, at)


PATHS = {
    "1": ("young_person", [_key("1")]),
    "2": ("parent", [_key("2")]),
    "3": ("adult", [_key("3")]),
    "0": (ANYONE, [_key("0")]),
    "silence": (ANYONE, [lambda state, at: flow.silence(C, state, at)]),
    "numbers-menu-1": (ANYONE, [_key("5"), _key("1")]),
    "supporter-0": ("supporter", [_key("0")]),
}


def _first(name: str, lang: str, at: dt.datetime) -> tuple[str, Step]:
    audience, steps = PATHS[name]
    state = CallState(C.menu.start, lang, "supporter" if name == "supporter-0" else ANYONE)
    step: Step | None = None
    for do in steps:
        step = do(state, at)
        if isinstance(step.then, Gather):
            state = step.then.state
    assert step is not None
    return audience, step


FAILURES = ("busy", "no-answer", "failed", "short")  # "short": a completed dial of 5 s, then 1


def _fail(step: Step, n: int, at: dt.datetime) -> Step:
    assert isinstance(step.then, Dial)
    how = FAILURES[n % len(FAILURES)]
    if how != "short":
        return flow.dial_ended(C, step.then.state, how, 0, at)
    offered = flow.dial_ended(C, step.then.state, "completed", 5, at)  # maybe a voicemail
    assert isinstance(offered.then, Gather) and offered.then.state.node == flow.SHORT_TALK_NODE
    return flow.key_pressed(C, offered.then.state, "1", at)  # the next line


def _numbers(steps: list[Step]) -> set[tuple[str, object]]:
    """(spoken number, its hours or None) of every sentence of a call that names a number."""
    found = set()
    for step in steps:
        says = (*step.say, *(step.then.say if isinstance(step.then, Gather) else ()))
        for say in says:
            args = dict(say.args)
            if isinstance(args.get("number"), Phone):
                hours = args.get("hours")
                found.add((args["number"].spoken, hours.weekly if isinstance(hours, WeeklyHours) else None))
    return found


def _play_out(step: Step, at: dt.datetime) -> list[Step]:
    """A call that did not reach a person: silence until it ends (never more than a few)."""
    steps = [step]
    for _ in range(4):
        if not isinstance(step.then, Gather):
            break
        step = flow.silence(C, step.then.state, at)
        steps.append(step)
    assert isinstance(step.then, Hangup), step
    return steps


def check(at: dt.datetime, name: str, lang: str) -> None:
    audience, step = _first(name, lang, at)
    expected = suitable(at, audience)
    dialled: list[str] = []
    heard = [step]
    n = 0
    while isinstance(step.then, Dial):
        line_id = step.then.line_id
        assert line_id in expected, (at.isoformat(), name, lang, line_id, expected)
        assert line_id not in dialled, (at.isoformat(), name, lang, dialled)
        dialled.append(line_id)
        step = _fail(step, n, at)
        heard.append(step)
        n += 1
    where = (at.isoformat(), name, lang, dialled, expected)
    assert set(dialled) == expected, where  # every suitable open line, each once
    if any(speaks(line_id, lang) for line_id in expected):
        assert speaks(dialled[0], lang), where
    some_open = any(is_open(line, at) for line in C.directory.lines)
    if name == "silence" and not some_open:  # a silent caller at night: when, numbers, goodbye
        assert isinstance(step.then, Hangup) and step.say[-2].key == "emergency", where
        return
    assert isinstance(step.then, Gather), where  # then the numbers, or when one opens
    if not expected:
        # a caller who has not said who they are while only lines for some callers are open:
        # those lines with their keys; otherwise when the next line for them opens
        node = flow.ONLY_SOME_NODE if audience == ANYONE and some_open else flow.CLOSED_NODE
        assert step.then.state.node == node, where
    else:
        assert step.then.state.node == flow.UNREACHABLE_NODE, where
    if audience == "young_person" and not is_open(KIDS, at):
        # rule 5: a young caller always hears 116 111 and its hours before the call ends
        assert (KIDS.spoken, KIDS.weekly) in _numbers([*heard, *_play_out(step, at)]), where


def test_the_weeks_hold_both_clock_changes_and_the_days_around_christmas() -> None:
    offsets = {at.utcoffset() for at in INSTANTS}
    assert offsets == {dt.timedelta(hours=1), dt.timedelta(hours=2)}
    days = {at.date() for at in INSTANTS}
    assert {dt.date(2026, 3, 29), dt.date(2026, 10, 25), *(dt.date(2026, 12, d) for d in (24, 25, 26, 31))} <= days
    # the skipped spring hour is not there, the repeated autumn hour twice
    assert not [at for at in INSTANTS if at.date() == dt.date(2026, 3, 29) and at.hour == 2]
    assert len([at for at in INSTANTS if at.date() == dt.date(2026, 10, 25) and at.hour == 2]) == 8
    assert len(INSTANTS) == 3 * 8 * 96 - 4 + 4


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(PATHS))
def test_every_dialled_line_serves_the_caller_and_speaks_their_language_first(name: str, lang: str) -> None:
    for at in INSTANTS:
        check(at, name, lang)


def test_the_oracle_sees_the_cases_that_matter() -> None:
    """The weeks hold instants where only lines for some callers are open, where the English
    caller's first line differs from the German one's, and where nothing is open."""
    only_some = [at for at in INSTANTS if not suitable(at, ANYONE) and suitable(at, "young_person") | suitable(at, "parent")]
    english_first = [at for at in INSTANTS
                     if (s := suitable(at, "adult")) and any(speaks(i, "en") for i in s)
                     and not all(speaks(i, "en") for i in s)]
    nothing = [at for at in INSTANTS if not any(is_open(line, at) for line in C.directory.lines)]
    assert len(only_some) > 100 and len(english_first) > 20 and len(nothing) > 1000
    # Christmas Day and New Year's Eve: unknown holiday rules keep the weekly hours
    assert suitable(berlin(2026, 12, 25, 10), "adult") == {"abuse-helpline"}
    assert suitable(berlin(2026, 12, 31, 16, 30), "adult") == {"hateaid", "abuse-helpline"}


def test_a_whole_failing_chain_for_an_english_adult() -> None:
    """Thursday 16:30, both lines for adults open: the multilingual one first, then HateAid."""
    at = berlin(2026, 12, 3, 16, 30)
    step = flow.key_pressed(C, CallState("main", "en"), "3", at)
    order = []
    for n in itertools.count():
        if not isinstance(step.then, Dial):
            break
        order.append(step.then.line_id)
        step = _fail(step, n, at)
    assert order == ["abuse-helpline", "hateaid"]
    german = flow.key_pressed(C, CallState("main", "de"), "3", at)
    assert german.then.line_id == "hateaid"  # best fit; every line speaks German
