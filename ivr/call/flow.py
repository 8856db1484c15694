"""The call, decided: (call state, what the caller did, the time) -> the next Step.

Pure: no Flask, no clock. The Step is plain, hashable data; `twiml` renders it. Everything a
call needs between webhooks is in CallState, which travels in the URLs Twilio calls back."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Mapping, Union

from ivr.directory.directory import ANYONE, AUDIENCES, HOLIDAY_UNKNOWN, Line
from ivr.config.loading import Config
from ivr.call.menu import (
    CALLER,
    GATHER_WAIT,
    KEY_MAIN,
    KEY_PERSON,
    KEY_REPEAT,
    NEXT,
    SILENCE_CONNECT,
    Node,
)
from ivr.directory.schedule import current_period, is_holiday
from ivr.call.speech import Clock, Key, Moment, Phone, Text, Value, WeeklyHours, moment

MAX_TRIES = 3  # unknown keys in a row before the call moves on by itself (never loop for ever)
DIAL_TIMEOUT = 22  # seconds a hotline may ring before the next one is tried
MAX_TRIED = 10  # bound on the lines remembered in the URL
# The only statuses that mean somebody talked. Everything else Twilio may report (busy,
# no-answer, failed, canceled), and anything unexpected (mis-cased, empty, new), tries on.
TALKED = ("completed", "answered")
CLOSED_NODE, UNREACHABLE_NODE, SHORT_TALK_NODE = "closed", "unreachable", "short_talk"
# A caller who has not said who they are, while only lines for some callers are open: who can
# reach whom now, with the key for them
ONLY_SOME_NODE = "only_some"
ONLY_SOME_PROMPT = "only_some.{audience}"  # per audience a key of the only_some node connects
# Said about a line whenever it is closed and a caller it serves ends up without a talk
# (116 111, its hours, its chat and e-mail advice for a young caller at night); optional per line
ABOUT_PROMPT = "closed.about.{line}"
YOUNG = "young_person"  # said they are under 18: spoken to with "du" from then on
FREE_PROMPT = "service.free"  # said only when calling the service costs nothing


@dataclass(frozen=True)
class CallState:
    node: str
    lang: str
    audience: str = ANYONE  # who is calling, as the caller's key said; "anyone" until then
    tries: int = 0  # silences and unknown keys in a row at this node
    tried: tuple[str, ...] = ()  # lines already dialled in this attempt to connect


@dataclass(frozen=True)
class Say:
    key: str
    args: tuple[tuple[str, Value], ...] = ()
    lang: str | None = None  # another language than the step's (the language offer)
    # only these sentences of the prompt, (start, stop) as in a slice: the language names go
    # between the first options of the main menu and the rest
    sentences: tuple[int, int | None] | None = None


@dataclass(frozen=True)
class Gather:
    """Read `say` while listening for one key; the key (or silence) comes back with `state`."""

    say: tuple[Say, ...]
    state: CallState
    wait: int = GATHER_WAIT  # seconds of silence before the menu counts as unanswered


@dataclass(frozen=True)
class Dial:
    line_id: str
    phone: str
    state: CallState  # the dial result comes back with this state
    timeout: int = DIAL_TIMEOUT


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Step:
    lang: str
    say: tuple[Say, ...]  # read before `then`, not interruptible
    then: Union[Gather, Dial, Hangup]
    young: bool = False  # the caller said they are under 18: their sentences, with "du"


# -- events -------------------------------------------------------------------------------

def start(config: Config, now: dt.datetime, lang: str | None = None) -> Step:
    """The call arrives: greeting and the main menu, in the first language, or in `lang` (a
    number published for one language community, hotlines.yaml `numbers:`)."""
    lang = lang if lang in config.menu.languages else config.menu.languages[0]
    return _menu_step(config, CallState(config.menu.start, lang), now, greet=True)


def key_pressed(config: Config, state: CallState, key: str, now: dt.datetime, *,
                can_dial: bool = True) -> Step:
    """One key at a menu node. `can_dial` is False when the call's own number is unknown:
    dialling then would show the caller's number to the hotline, so numbers are read instead."""
    if key == KEY_PERSON:  # a person now, the best line for the caller as known so far
        return _connect(config, replace(state, tried=(), tries=0), now, can_dial=can_dial)
    if key == KEY_MAIN:
        return _menu_step(config, CallState(config.menu.start, state.lang, state.audience), now)
    if key == KEY_REPEAT:
        return _menu_step(config, replace(state, tries=0), now)
    action = config.menu.action(state.node, key)
    if action is None:
        return _unknown_key(config, state, key, now, can_dial=can_dial)
    if action.kind == "goto":
        return _menu_step(config, CallState(action.target, state.lang, state.audience), now)
    if action.kind == "language":
        lang = config.menu.switch(state.lang, action)
        return _menu_step(config, CallState(config.menu.start, lang, state.audience), now, greet=True)
    if action.target == NEXT:  # the same caller, the lines not dialled yet in this attempt
        return _connect(config, replace(state, tries=0), now, can_dial=can_dial)
    audience = state.audience if action.target == CALLER else action.target
    return _connect(config, replace(state, audience=audience, tried=(), tries=0), now,
                    can_dial=can_dial)


def silence(config: Config, state: CallState, now: dt.datetime, *, can_dial: bool = True) -> Step:
    """No key: move on for the caller, at once where the node says so (the main menu: a person
    within 40 s), elsewhere after playing the node once more."""
    if state.tries >= 1 or config.menu.node(state.node).silence == SILENCE_CONNECT:
        return _give_up(config, state, now, can_dial=can_dial)
    return _menu_step(config, replace(state, tries=state.tries + 1), now)


def dial_ended(config: Config, state: CallState, status: str, seconds: int | None,
               now: dt.datetime, *, can_dial: bool = True) -> Step:
    """Twilio reports how the Dial ended. A talk of some length ends politely. A short
    "completed" may have been a voicemail or a closed-line announcement: the caller is offered
    the next line and the numbers. Anything else tries the next line."""
    if status in TALKED:
        if seconds is not None and seconds >= config.directory.service.short_talk_seconds:
            return _step(state, (Say("connect.done"),), Hangup())
        return _menu_step(config, replace(state, node=SHORT_TALK_NODE, tries=0), now)
    reason = Say({"busy": "connect.busy", "no-answer": "connect.no_answer"}.get(status, "connect.failed"))
    step = _connect(config, state, now, can_dial=can_dial)
    return replace(step, say=(reason, *step.say))


# -- who may be dialled ---------------------------------------------------------------------

def suitable_open(config: Config, now: dt.datetime, audience: str, lang: str) -> tuple[Line, ...]:
    """The lines that may be dialled for this caller now: open, serving the caller (for a caller
    who has not said who they are, only lines that serve everyone), those that speak the
    caller's language (or may: multilingual) first, each group in best-fit order."""
    lines = [line for line in config.index.open_lines(now, audience) if line.may_serve(audience)]
    return tuple(sorted(lines, key=lambda line: not line.speaks(lang)))  # stable: best fit kept


def open_for_someone(config: Config, now: dt.datetime) -> tuple[Line, ...]:
    """Every line open now for some audience, in the directory's order."""
    ids = {line.id for audience in AUDIENCES for line in config.index.open_lines(now, audience)}
    return tuple(line for line in config.directory.lines if line.id in ids)


def _end_node(config: Config, state: CallState, now: dt.datetime) -> str:
    """Where a caller who is not put through hears what helps: a line for them is open (every
    dial failed), only lines for other callers are open, or none is."""
    if suitable_open(config, now, state.audience, state.lang):
        return UNREACHABLE_NODE
    if state.audience == ANYONE and open_for_someone(config, now):
        return ONLY_SOME_NODE
    return CLOSED_NODE


# -- deciding -------------------------------------------------------------------------------

def _step(state: CallState, say: tuple[Say, ...], then: Union[Gather, Dial, Hangup]) -> Step:
    return Step(state.lang, say, then, young=state.audience == YOUNG)


def _farewell(state: CallState) -> Step:
    """The end of a call without a talk: the emergency numbers once more, then goodbye."""
    return _step(state, (Say("emergency"), Say("goodbye")), Hangup())


def _unknown_key(config: Config, state: CallState, key: str, now: dt.datetime, *,
                 can_dial: bool) -> Step:
    if state.tries + 1 >= MAX_TRIES:
        return _give_up(config, state, now, can_dial=can_dial)
    step = _menu_step(config, replace(state, tries=state.tries + 1), now)
    named = key if len(key) == 1 and key in "0123456789*#" else "?"
    notice = Say("key.unknown", (("key", Key(named)),))
    assert isinstance(step.then, Gather)
    return replace(step, then=replace(step.then, say=(notice, *step.then.say)))


# what helps was just read out there
_ENDS = (CLOSED_NODE, UNREACHABLE_NODE, SHORT_TALK_NODE, ONLY_SOME_NODE)


def _give_up(config: Config, state: CallState, now: dt.datetime, *, can_dial: bool) -> Step:
    """After silence or unknown keys: connect for the caller, or, where the numbers were just
    read out, a kind goodbye. Never another loop."""
    if state.node in _ENDS and _as_now(config, state, now).node == state.node:
        if state.node == ONLY_SOME_NODE:  # still nobody for everyone: when, the numbers, goodbye
            return _final(config, replace(state, node=CLOSED_NODE, tries=0, tried=()), now)
        return _farewell(state)
    # Elsewhere, or at the closed menu when a line has opened since: connect for the caller.
    return _connect(config, replace(state, tries=0), now, final=True, can_dial=can_dial)


def _as_now(config: Config, state: CallState, now: dt.datetime) -> CallState:
    """The closed, unreachable, short-talk and only-some menus describe the moment they were
    reached, and a call can outlive it: a line opens while the caller listens, or the last one
    closes. Pick the one that is true now."""
    if state.node not in _ENDS:
        return state
    node = _end_node(config, state, now)
    if state.node == SHORT_TALK_NODE:
        return state if node == UNREACHABLE_NODE else replace(state, node=node, tried=())
    return replace(state, node=node)


def _connect(config: Config, state: CallState, now: dt.datetime, *, final: bool = False,
             can_dial: bool = True) -> Step:
    """Dial the best open line for the caller that was not tried yet; otherwise say why not."""
    open_lines = suitable_open(config, now, state.audience, state.lang)
    untried = [line for line in open_lines if line.id not in state.tried]
    if untried and can_dial:
        line = untried[0]
        tried = (*state.tried, line.id)[-MAX_TRIED:]
        say = Say("connect.next" if state.tried else "connect.now")
        return _step(state, (say,), Dial(line.id, line.phone, replace(state, tried=tried, tries=0)))
    target = CallState(_end_node(config, state, now), state.lang, state.audience)
    # Only lines for some callers open: name them with their keys, even to a silent caller
    # (who is told the rest at the next silence).
    if final and target.node != ONLY_SOME_NODE:
        return _final(config, target, now)
    return _menu_step(config, target, now)


def _final(config: Config, target: CallState, now: dt.datetime) -> Step:
    """The caller has not answered: what helps, then 110/112 and goodbye."""
    say = _show(config, config.menu.node(target.node), target, now)
    if target.node == CLOSED_NODE:
        say += _numbers_for_later(config, target)
    farewell = _farewell(target)
    return replace(farewell, say=(*say, *farewell.say))


def _menu_step(config: Config, state: CallState, now: dt.datetime, *, greet: bool = False) -> Step:
    state = _as_now(config, state, now)
    node = config.menu.node(state.node)
    for_caller = suitable_open(config, now, state.audience, state.lang)
    # A caller who has not said who they are may be anyone: the keys that say who is calling
    # can still reach a line, so "nobody is there" only when no line at all is open.
    nothing_open = not (open_for_someone(config, now) if state.audience == ANYONE else for_caller)
    say: list[Say] = []
    if greet:  # the line's name, then at once the offer of the other language (within 8 s)
        say.append(Say("greeting"))
        say.extend(_language_offer(config, node, state))
    say.extend(_show(config, node, state, now))
    free = config.directory.service.free_to_call
    prompts = [Say(key) for key in node.prompts(nothing_open) if free or key != FREE_PROMPT]
    names = _language_names(config, node, state) if greet else ()
    if names and prompts:  # the first options (a person), then the languages, then the rest
        first = prompts.pop(0)
        after = node.languages_after_closed if nothing_open and node.say_when_closed else node.languages_after
        prompts[:0] = [replace(first, sentences=(0, after)), *names, replace(first, sentences=(after, None))]
    say.extend(prompts)
    if not greet:
        say.extend(_language_offer(config, node, state))
    if state.node != config.menu.start:
        say.append(Say("keys.common" if for_caller else "keys.common_closed"))
    return _step(state, (), Gather(tuple(say), state, node.wait))


def _language_offer(config: Config, node: Node, state: CallState) -> tuple[Say, ...]:
    """German <-> English by the offer key ("For English, press 9."); in any other language both,
    English by its own key, each as briefly as the language menu names them ("Deutsch: die 9.")."""
    if not node.offer_language:
        return ()
    menu = config.menu
    other = menu.next_language(state.lang)
    if state.lang in menu.languages[:2]:
        return (Say("language.offer", (("key", Key(node.offer_language)),), lang=other),)
    offers = [Say("language.name", (("key", Key(node.offer_language)),), lang=other)]
    for key, lang in menu.language_keys(node.id):
        if lang not in (state.lang, other):
            offers.append(Say("language.name", (("key", Key(key)),), lang=lang))
    return tuple(offers)


def _language_names(config: Config, node: Node, state: CallState) -> tuple[Say, ...]:
    """At the start in the first language: every language of the language menu, named in its own
    voice with the key that opens that menu ("Türkçe 8")."""
    if not node.name_languages or state.lang != config.menu.languages[0]:
        return ()
    offered = {state.lang, config.menu.next_language(state.lang)}
    target = node.keys[node.name_languages].target
    return tuple(Say("language.name", (("key", Key(node.name_languages)),), lang=lang)
                 for _, lang in config.menu.language_keys(target) if lang not in offered)


def _show(config: Config, node: Node, state: CallState, now: dt.datetime) -> tuple[Say, ...]:
    """The part of a node that depends on the time."""
    if node.show == "hotlines":
        return _hotlines(config, state.lang, now)
    if node.show == "languages":  # the language menu: each language in its own voice, its key
        return tuple(Say("language.name", (("key", Key(key)),), lang=lang)
                     for key, lang in config.menu.language_keys(node.id) if lang != state.lang)
    if node.show == "closed":
        return _closed(config, state, now)
    if node.show == "only_some":
        return _only_some(config, node, state, now)
    if node.show in ("unreachable", "short_talk"):
        lines = suitable_open(config, now, state.audience, state.lang)
        say = [Say(f"{node.show}.intro")]
        for line in lines:
            say += (Say("unreachable.line", _name_number(line, state.lang)), *_language_note(line, state.lang))
        return (*say, *_about_closed(config, state, now), *_holiday_note(config, lines, now))
    return ()


def _numbers_for_later(config: Config, state: CallState) -> tuple[Say, ...]:
    """Before the call ends with nobody open: every line for the caller with number and hours
    (for a caller who has not said who they are, the lines for everyone first, then the rest,
    whose names say whom they serve)."""
    lines = config.directory.every_line() if state.audience == ANYONE else config.directory.ranked(state.audience)
    say = [Say("closed.numbers")]
    for line in lines:
        say += (Say("closed.line", (*_name_number(line, state.lang), ("hours", WeeklyHours(line.weekly)))),
                *_line_notes(line, state.lang))
    return tuple(say)


def _name_number(line: Line, lang: str) -> tuple[tuple[str, Value], ...]:
    return (("name", Text(line.name_in(lang))), ("number", Phone(line.spoken)))


def _language_note(line: Line, lang: str) -> tuple[Say, ...]:
    """Which language a line counsels in, said where it is not the caller's: "counselling in
    your language may be possible there" (multilingual) or "counselling there is in German"."""
    if lang in line.languages:
        return ()
    return (Say("line.language.maybe" if line.speaks(lang) else "line.language.other"),)


def _line_notes(line: Line, lang: str) -> tuple[Say, ...]:
    """After a line in a list of numbers: free and anonymous where the directory says so, and
    its language where it is not the caller's."""
    terms = ("line.free_anonymous",) if line.free_of_charge and line.anonymous else \
        ("line.free",) if line.free_of_charge else ()
    return (*(Say(key) for key in terms), *_language_note(line, lang))


def _about_closed(config: Config, state: CallState, now: dt.datetime) -> tuple[Say, ...]:
    """What the directory says about each line for the caller that is closed now (116 111, its
    hours and its chat and e-mail advice for a young caller at night), where a prompt exists."""
    texts = config.prompts[state.lang].texts
    open_ids = {line.id for line in config.index.open_lines(now, state.audience)}
    return tuple(Say(key, (*_name_number(line, state.lang), ("hours", WeeklyHours(line.weekly))))
                 for line in config.directory.ranked(state.audience)
                 if line.id not in open_ids and (key := ABOUT_PROMPT.format(line=line.id)) in texts)


def _holiday_note(config: Config, lines: tuple[Line, ...], now: dt.datetime,
                  *later: dt.datetime) -> tuple[Say, ...]:
    """Once, where hours are read on a public holiday (today, or the day of an opening named)
    and a line's holiday rule is unknown: hours can differ on holidays."""
    zone = config.directory.timezone
    days = {now.astimezone(zone).date(), *(at.astimezone(zone).date() for at in later)}
    if any(line.public_holidays == HOLIDAY_UNKNOWN and is_holiday(line, day) for line in lines for day in days):
        return (Say("hours.holidays"),)
    return ()


def _when(at: dt.datetime, now: dt.datetime, config: Config) -> Moment:
    zone = config.directory.timezone
    return moment(at.astimezone(zone), now.astimezone(zone))


def _hotlines(config: Config, lang: str, now: dt.datetime) -> tuple[Say, ...]:
    open_ids = {line.id for line in open_for_someone(config, now)}
    say = [Say("hotlines.open_now" if open_ids else "hotlines.none_open")]
    for line in config.directory.lines:
        if line.id in open_ids:
            period = current_period(line, now)
            closes = period.closes.astimezone(config.directory.timezone) if period else now
            say.append(Say("hotlines.line_open", (*_name_number(line, lang),
                                                  ("until", Clock(closes.hour, closes.minute)))))
            say.extend(_line_notes(line, lang))
    openings = []
    closed = [line for line in config.directory.lines if line.id not in open_ids]
    if open_ids and closed:  # "open now:" must not head the lines that are not
        say.append(Say("hotlines.later"))
    for line in closed:
        opens = config.index.next_opening(line, now)
        args = (*_name_number(line, lang), ("hours", WeeklyHours(line.weekly)))
        if opens is None:
            say.append(Say("error.line", args))
        else:
            openings.append(opens)
            say.append(Say("hotlines.line_closed", (*args, ("when", _when(opens, now, config)))))
        say.extend(_line_notes(line, lang))
    return (*say, *_holiday_note(config, config.directory.lines, now, *openings))


def _next_for(config: Config, audience: str, lang: str, now: dt.datetime) -> tuple[dt.datetime, Line] | None:
    """The line for this caller that opens soonest (ties: the caller's language, then best fit)."""
    ranked = config.directory.ranked(audience)
    upcoming = [(opens, not line.speaks(lang), n, line) for n, line in enumerate(ranked)
                if (opens := config.index.next_opening(line, now)) is not None]
    if not upcoming:
        return None
    opens, _, _, line = min(upcoming, key=lambda item: item[:3])
    return opens, line


def _next_say(config: Config, key: str, audience: str, lang: str, now: dt.datetime) -> tuple[Say, ...]:
    """"The next one opens <when>: <name>, <number>", or that nobody can say when."""
    found = _next_for(config, audience, lang, now)
    if found is None:
        return (Say("closed.nothing_soon"),)
    opens, line = found
    return (Say(key, (*_name_number(line, lang), ("when", _when(opens, now, config)))),
            *_language_note(line, lang), *_holiday_note(config, (line,), now, opens))


def _only_some(config: Config, node: Node, state: CallState, now: dt.datetime) -> tuple[Say, ...]:
    """Only lines for some callers are open: each with the key of the callers it serves, then
    when a line for everyone opens."""
    say: list[Say] = []
    for line in open_for_someone(config, now):
        audience = next((action.target for action in node.keys.values()
                         if action.kind == "connect" and action.target in line.serves), None)
        if audience is not None:
            say.append(Say(ONLY_SOME_PROMPT.format(audience=audience), _name_number(line, state.lang)[:1]))
    return (*say, *_next_say(config, "only_some.next_all", ANYONE, state.lang, now))


def _closed(config: Config, state: CallState, now: dt.datetime) -> tuple[Say, ...]:
    say = [Say("closed.none_open"), *_next_say(config, "closed.next", state.audience, state.lang, now)]
    say += _about_closed(config, state, now)
    for resource in config.directory.resources:
        if resource.kind == "online" and (state.audience == ANYONE or state.audience in resource.serves):
            say.append(Say(f"closed.online.{resource.id}"))
    return tuple(say)


# -- the state in URLs ---------------------------------------------------------------------

STATE_KEYS = ("n", "l", "a", "r", "t")  # node, language, audience, tries, lines tried

def state_params(state: CallState) -> dict[str, str]:
    params = {"n": state.node, "l": state.lang}
    if state.audience != ANYONE:
        params["a"] = state.audience
    if state.tries:
        params["r"] = str(state.tries)
    if state.tried:
        params["t"] = ",".join(state.tried)
    return params


def parse_state(config: Config, params: Mapping[str, str]) -> CallState:
    """State from a URL's query. Never trusted: anything unknown falls back to a safe default,
    so a tampered or truncated URL still leads somewhere useful."""
    menu, directory = config.menu, config.directory
    node = params.get("n", "")
    lang = params.get("l", "")
    audience = params.get("a", ANYONE)
    try:
        tries = min(max(int(params.get("r", "0")[:3]), 0), MAX_TRIES)
    except ValueError:
        tries = 0
    tried = tuple(dict.fromkeys(i for i in params.get("t", "")[:1000].split(",") if i in directory.by_id))
    return CallState(
        node=node if node in menu.nodes else menu.start,
        lang=lang if lang in menu.languages else menu.languages[0],
        audience=audience if audience in (*AUDIENCES, ANYONE) else ANYONE,
        tries=tries,
        tried=tried[:MAX_TRIED],
    )
