"""Try a call: one webhook of the real call, played in-process at a chosen instant.

The answer comes from the same Answers the webhooks use (same flow, same TwiML, live closures
applied), but through `Answers.twiml`, which never counts: a simulated call leaves no trace in
the counts. The page holds the call's next URLs, as Twilio would."""
from __future__ import annotations

import datetime as dt

from ivr.call.answers import DIALED, MENU, VOICE, Answers, Webhook
from ivr.call.live_closed import Closed
from ivr.serve.terminal_call import SERVICE_NUMBER, Turn, parse_turn
from ivr.call.twiml import DIALED_PATH, MENU_PATH

_PATHS = {"/voice": VOICE, MENU_PATH: MENU, DIALED_PATH: DIALED}
# How a dial can end, as the page offers it: (DialCallStatus, DialCallDuration in seconds).
# A short "completed" may have been a voicemail or an announcement.
OUTCOMES = {"completed": ("completed", 600), "completed-short": ("completed", 12), "busy": ("busy", 0),
            "no-answer": ("no-answer", 0), "failed": ("failed", 0)}


class NotAStep(ValueError):
    """A URL that is not one of the call's webhooks."""


def play(answers: Answers, url: str, at: dt.datetime, closed: Closed, *, digits: str = "",
         outcome: str = "") -> Turn:
    path, _, query = url.partition("?")
    name = _PATHS.get("/" + path.lstrip("/"))
    if name is None:
        raise NotAStep(f"{url!r} is not a step of the call; expected one of {', '.join(_PATHS)}")
    if outcome and outcome not in OUTCOMES:
        raise NotAStep(f"{outcome!r} is not a dial outcome; expected one of {', '.join(OUTCOMES)}")
    status, seconds = OUTCOMES.get(outcome, ("", 0))
    fields = {"name": name, "query": query, "digits": digits[:20], "dial_status": status,
              "service_number": SERVICE_NUMBER}
    if "dial_seconds" in Webhook._fields:  # where the call tells short talks apart by their length
        fields["dial_seconds"] = seconds if status else None
    return parse_turn(answers.twiml(Webhook(**fields), at, closed))
