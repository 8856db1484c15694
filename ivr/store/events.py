"""What a webhook's answer counts, derived from what was decided: pure, no clock, no I/O.

Each answer yields (event, dimension) pairs; they are cached with the TwiML, so a cached answer
counts like a fresh one. Nothing here sees the caller's number or the call's id, and no event
carries anything that could link it to another event of the same call."""
from __future__ import annotations

import datetime as dt

from ivr.call import flow
from ivr.call.answers import DIALED, MENU, VOICE, Event, Webhook, query_params
from ivr.directory.directory import ANYONE
from ivr.config.loading import Config
from ivr.call.menu import GLOBAL_KEYS
from ivr.directory.schedule import next_opening

# Event names, as stored in the counts tables' `event` column.
CALL = "call"  # dimension "started"
LANGUAGE = "language"  # the caller switched to this language
MAIN_CHOICE = "main_choice"  # a key pressed at the main menu ("other" for a key that does nothing)
AUDIENCE = "audience"  # who is calling, as the caller said
GUIDANCE = "guidance"  # a guidance chunk (menu node) was read
DIAL_ATTEMPT = "dial_attempt"  # line
DIAL_OUTCOME = "dial_outcome"  # line/completed|busy|no_answer|failed|short_completed
TALK = "talk"  # line; its `seconds` add up DialCallDuration
UNMET = "unmet"  # audience/within_hour|later: wanted a person, no suitable line open
NO_CONNECTION = "no_connection"  # why a call ended without a connection
# A node's menu was played (its Gather), and a webhook came back from that Gather (a key or
# silence). Entered minus left, summed over a span, is the calls that ended at that node: two
# independent counts, nothing links the one to the other.
ENTERED, LEFT = "entered", "left"  # dimension: the menu node's id
DROPPED = "counts_dropped"  # counts lost while the database could not take them

OUTCOMES = ("completed", "busy", "no_answer", "failed", "short_completed")
_TALKED = flow.TALKED  # statuses that mean the hotline's leg was answered
_STATUS = {"busy": "busy", "no-answer": "no_answer"}  # anything else that is no talk: failed

# Why a call ended without a connection (dimension of NO_CONNECTION)
NOTHING_OPEN, NONE_ANSWERED, NO_CALLER_ID = "nothing_open", "none_answered", "no_caller_id"
AFTER_SHORT_TALK, OTHER = "after_short_talk", "other"  # a short "completed": maybe a voicemail


def derive(config: Config, hook: Webhook, step: flow.Step, now: dt.datetime) -> tuple[Event, ...]:
    """The events of one answer. `config` is the one the step was decided with (live closures
    applied), `now` the instant it was decided for."""
    events: list[Event] = []
    incoming = None if hook.name == VOICE else flow.parse_state(config, query_params(hook.query))
    then = step.then
    outgoing = then.state if isinstance(then, (flow.Gather, flow.Dial)) else None
    if hook.name == VOICE:
        events.append((CALL, "started"))
    if hook.name == MENU and incoming is not None:  # every /menu webhook answers a Gather of ours
        events.append((LEFT, incoming.node))
    if incoming is not None and outgoing is not None:
        if outgoing.lang != incoming.lang:
            events.append((LANGUAGE, outgoing.lang))
        if incoming.audience == ANYONE and outgoing.audience != ANYONE:
            events.append((AUDIENCE, outgoing.audience))
    if hook.name == MENU and incoming is not None and incoming.node == config.menu.start and hook.digits:
        known = hook.digits in GLOBAL_KEYS or config.menu.action(incoming.node, hook.digits)
        events.append((MAIN_CHOICE, hook.digits if known else "other"))
    if isinstance(then, flow.Gather) and _is_guidance(config, then.state.node) and (
            incoming is None or incoming.node != then.state.node):
        events.append((GUIDANCE, then.state.node))
    if hook.name == DIALED and incoming is not None and incoming.tried:
        line = incoming.tried[-1]
        if hook.dial_status in _TALKED:
            # shorter than the flow's threshold: maybe a voicemail (the caller is offered more)
            long = hook.dial_seconds is not None and hook.dial_seconds >= config.directory.service.short_talk_seconds
            events.append((DIAL_OUTCOME, f"{line}/{'completed' if long else 'short_completed'}"))
            events.append((TALK, line))  # its seconds: see with_talk
        else:
            events.append((DIAL_OUTCOME, f"{line}/{_STATUS.get(hook.dial_status, 'failed')}"))
    if isinstance(then, flow.Dial):
        events.append((DIAL_ATTEMPT, then.line_id))
    if isinstance(then, flow.Gather):
        events.append((ENTERED, then.state.node))
    said = _said(step)
    came_from = incoming.node if incoming is not None else None
    # nobody for this caller: the closed menu, or (a caller who has not said who they are) only
    # lines for some callers open; counted once, where the call first got there
    nobody = (flow.CLOSED_NODE, flow.ONLY_SOME_NODE)
    reached_closed = (outgoing is not None and outgoing.node in nobody) or (
        isinstance(then, flow.Hangup) and "closed.none_open" in said)
    if reached_closed and came_from not in nobody:
        audience = (outgoing or incoming or flow.CallState("", "")).audience
        events.append((UNMET, f"{audience}/{_soon(config, audience, now)}"))
    if isinstance(then, flow.Hangup) and not (hook.name == DIALED and hook.dial_status in _TALKED):
        events.append((NO_CONNECTION, _why_unconnected(hook, came_from, said)))
    return tuple(events)


def with_talk(events: tuple[Event, ...], talk_seconds: int | None) -> list[tuple[str, str, int]]:
    """(event, dimension, seconds) to add: a talk carries its seconds (DialCallDuration), the
    only value that is not a count; every other event adds 0 seconds."""
    seconds = max(talk_seconds or 0, 0)
    return [(event, dimension, seconds if event == TALK else 0) for event, dimension in events]


def _is_guidance(config: Config, node_id: str) -> bool:
    """A node that reads guidance: not the start, no live part (hotlines, closed...), and not a
    question whose every key connects (such as "who is calling")."""
    node = config.menu.nodes.get(node_id)
    if node is None or node.show is not None or node_id == config.menu.start:
        return False
    return not (node.keys and all(action.kind == "connect" for action in node.keys.values()))


def _said(step: flow.Step) -> frozenset[str]:
    keys = [say.key for say in step.say]
    if isinstance(step.then, flow.Gather):
        keys += [say.key for say in step.then.say]
    return frozenset(keys)


def _soon(config: Config, audience: str, now: dt.datetime) -> str:
    """Whether a suitable line opens within the hour (staffing: a short gap or a long one)."""
    horizon = now + dt.timedelta(hours=1)
    for line in config.directory.ranked(audience):
        opens = next_opening(line, now)
        if opens is not None and opens <= horizon:
            return "within_hour"
    return "later"


def _why_unconnected(hook: Webhook, came_from: str | None, said: frozenset[str]) -> str:
    if "closed.none_open" in said or came_from == flow.CLOSED_NODE:
        return NOTHING_OPEN
    if hook.service_number is None:  # lines were open, but dialling would show the caller's number
        return NO_CALLER_ID
    if "unreachable.intro" in said or came_from == flow.UNREACHABLE_NODE:
        return NONE_ANSWERED
    if came_from == flow.SHORT_TALK_NODE:
        return AFTER_SHORT_TALK
    return OTHER
