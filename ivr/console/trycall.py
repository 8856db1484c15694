"""Try a call: one webhook of the real call, played in-process at a chosen instant.

The answer comes from the same Answers the webhooks use (same flow, same TwiML, live closures
applied), but through `Answers.twiml`, which never counts: a simulated call leaves no trace in
the counts. The page holds the call's next URLs, as Twilio would."""
from __future__ import annotations

import datetime as dt

from ..answers import DIALED, MENU, VOICE, Answers, Webhook
from ..terminal_call import DIAL_STATUSES, SERVICE_NUMBER, Turn, parse_turn
from ..twiml import DIALED_PATH, MENU_PATH

_PATHS = {"/voice": VOICE, MENU_PATH: MENU, DIALED_PATH: DIALED}


class NotAStep(ValueError):
    """A URL that is not one of the call's webhooks."""


def play(answers: Answers, url: str, at: dt.datetime, closed: frozenset[str], *, digits: str = "",
         status: str = "") -> Turn:
    path, _, query = url.partition("?")
    name = _PATHS.get("/" + path.lstrip("/"))
    if name is None:
        raise NotAStep(f"{url!r} is not a step of the call; expected one of {', '.join(_PATHS)}")
    if status and status not in DIAL_STATUSES:
        raise NotAStep(f"{status!r} is not a dial status; expected one of {', '.join(DIAL_STATUSES)}")
    hook = Webhook(name=name, query=query, digits=digits[:20], dial_status=status, service_number=SERVICE_NUMBER)
    return parse_turn(answers.twiml(hook, at, closed))
