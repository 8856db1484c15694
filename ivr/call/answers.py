"""A webhook's whole answer from exactly what it depends on, memoised per minute.

Which webhook was called, the call state in its query string, the key pressed or how the dial
ended, the service's own number, and the minute: nothing else changes the TwiML, because opening
hours are whole minutes. Many callers at the same menu in the same minute get the same answer,
so it is decided (flow) and rendered (twiml) once. Pure: no Flask, no clock."""
from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from typing import Callable, NamedTuple
from urllib.parse import parse_qsl

from ivr.call import flow
from ivr.call.live_closed import NOTHING_CLOSED, NOTHING_DEMOTED, Closed, without_closed
from ivr.config.loading import Config
from ivr.call.twiml import CACHE_SIZE, Renderer

VOICE, MENU, DIALED = "voice", "menu", "dialed"
log = logging.getLogger("ivr.answers")
_MAX_QUERY = 2000  # our own state URLs are far shorter; a longer query is not ours


class Webhook(NamedTuple):
    """One request as the answer sees it: never the caller's number. (A named tuple, not a
    dataclass: it is built and hashed on every request, and tuples do both in C.)"""

    name: str  # VOICE, MENU or DIALED
    query: str  # the raw query string, where the call's state travels
    digits: str = ""
    dial_status: str = ""
    service_number: str | None = None  # the number the caller dialled, if usable as callerId
    dial_seconds: int | None = None  # DialCallDuration: how long the hotline's leg lasted


Event = tuple[str, str]  # (event, dimension): what the operators' counts add up
EventsOf = Callable[[Config, Webhook, flow.Step, dt.datetime], tuple[Event, ...]]


class Answer(NamedTuple):
    twiml: str
    events: tuple[Event, ...] = ()  # cached with the TwiML, so cached answers count too


def no_events(config: Config, hook: Webhook, step: flow.Step, now: dt.datetime) -> tuple[Event, ...]:
    return ()


class Answers:
    """Answers for one loaded Config; the cache lives and dies with it (a reload starts afresh).

    `closed`, the lines an operator closed live with each closure's end, is part of what an
    answer depends on, so a closing, a reopening or a new end is obeyed from the next request
    on, never served stale from the cache;
    so is `demoted`, the lines tried last after many dials in a row without a talk."""

    def __init__(self, config: Config, renderer: Renderer | None = None,
                 events: EventsOf = no_events) -> None:
        self.config = config
        self.renderer = renderer or Renderer(config)
        self.events = events
        self._twiml = lru_cache(maxsize=CACHE_SIZE)(self._decide_and_render)

    def twiml(self, hook: Webhook, now: dt.datetime, closed: Closed = NOTHING_CLOSED) -> str:
        return self._twiml(hook, now.replace(second=0, microsecond=0), closed).twiml

    def answer(self, hook: Webhook, now: dt.datetime, closed: Closed = NOTHING_CLOSED,
               demoted: frozenset[str] = NOTHING_DEMOTED) -> Answer:
        return self._twiml(hook, now.replace(second=0, microsecond=0), closed, demoted)

    def _decide_and_render(self, hook: Webhook, minute: dt.datetime, closed: Closed,
                           demoted: frozenset[str] = NOTHING_DEMOTED) -> Answer:
        config = without_closed(self.config, closed, demoted)
        step = decide(config, hook, minute)
        twiml = self.renderer.render(step, self.config.directory.service.caller_id or hook.service_number)
        try:
            events = self.events(config, hook, step, minute)
        except Exception as error:  # what is counted never changes what the caller hears
            log.error("could not tell what an answer of %s counts: %s", hook.name, type(error).__name__)
            events = ()
        return Answer(twiml, events)


def decide(config: Config, hook: Webhook, now: dt.datetime) -> flow.Step:
    """What happens next in the call, for this webhook at this instant."""
    if hook.name == VOICE:  # a number published for one language starts the call in it
        return flow.start(config, now, config.directory.numbers.get(hook.service_number or ""))
    state = flow.parse_state(config, query_params(hook.query))
    # Without a number of the service's own as callerId, Twilio would show the caller's number
    # to the hotline. Then the numbers are read out instead.
    can_dial = hook.service_number is not None or config.directory.service.caller_id is not None
    if hook.name == DIALED:
        return flow.dial_ended(config, state, hook.dial_status, hook.dial_seconds, now, can_dial=can_dial)
    if hook.digits:
        return flow.key_pressed(config, state, hook.digits, now, can_dial=can_dial)
    return flow.silence(config, state, now, can_dial=can_dial)


def query_params(query: str) -> dict[str, str]:
    """The first value of each name, as a form would give it; a query too long to be ours is
    read as empty (the state then falls back to its safe defaults)."""
    params: dict[str, str] = {}
    if len(query) <= _MAX_QUERY:
        for name, value in parse_qsl(query, keep_blank_values=True):
            params.setdefault(name, value)
    return params
