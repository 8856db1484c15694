"""A call in the terminal, through the real webhooks: prints what is said, reads keys, shows
where the call would be dialled. Talks to the Flask app in-process, or to a running server."""
from __future__ import annotations

import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

from twilio.request_validator import RequestValidator

SILENCE = ("", "-", "silence")
PHONE_KEYS = frozenset("0123456789*#")  # all a caller can send: Twilio's Digits, one per Gather here


class NotAKey(ValueError):
    """A scripted key that no phone can press ("busy" where no dial came, "x", "12")."""
SERVICE_NUMBER = "+490000000000"  # what the call pretends was dialled (the `To`); obviously fake
MAX_TURNS = 200


class Transport(Protocol):
    base: str  # the service's root URL, ending in "/": the call starts at base + "voice"

    def post(self, url: str, form: dict[str, str]) -> str: ...  # url: absolute


@dataclass
class FlaskTransport:
    """Posts to the app in this process, signed when the app checks signatures."""

    client: object
    token: str | None = None
    base: str = "http://localhost/"

    def post(self, url: str, form: dict[str, str]) -> str:
        headers = _signature(self.token, url, form)
        response = self.client.post(url, data=form, headers=headers)  # type: ignore[attr-defined]
        return response.get_data(as_text=True)


@dataclass
class HttpTransport:
    """Posts to a running server; `base` may carry a path (http://host:port/helpline)."""

    base: str
    token: str | None = None

    def __post_init__(self) -> None:
        # without the trailing "/", "voice" would replace the prefix's last segment
        self.base = self.base if self.base.endswith("/") else self.base + "/"

    def post(self, url: str, form: dict[str, str]) -> str:
        data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(url, data=data, headers=_signature(self.token, url, form))
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()


def _signature(token: str | None, url: str, form: dict[str, str]) -> dict[str, str]:
    if not token:
        return {}
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


@dataclass
class Turn:
    """What happened at one webhook: the sentences, then a wait for a key, a dial, or the end."""

    said: list[tuple[str, str]] = field(default_factory=list)  # (language, text)
    gather_url: str | None = None
    silence_url: str | None = None
    dial_number: str | None = None
    dial_caller_id: str | None = None
    dial_url: str | None = None
    hangup: bool = False


def parse_turn(xml: str) -> Turn:
    turn = Turn()
    root = ET.fromstring(xml)
    for element in root:
        if element.tag == "Say":
            turn.said.append((element.get("language", ""), say_text(element)))
        elif element.tag == "Gather":
            turn.gather_url = element.get("action")
            turn.said.extend((s.get("language", ""), say_text(s)) for s in element.iter("Say"))
        elif element.tag == "Redirect":
            turn.silence_url = (element.text or "").strip()
        elif element.tag == "Dial":
            turn.dial_url = element.get("action")
            turn.dial_caller_id = element.get("callerId")
            number = element.find("Number")
            turn.dial_number = (number.text if number is not None else element.text or "").strip()
        elif element.tag == "Hangup":
            turn.hangup = True
    return turn


def say_text(element: ET.Element) -> str:
    """The words of a <Say>, with digit groups kept apart as they are spoken."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "say-as":
            parts.append(child.text or "")
        elif child.tag == "break":
            parts.append(" ")
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


TALK_SECONDS = 240  # "completed" alone: a talk of four minutes


def _dial_result(answer: str) -> tuple[str, int]:
    """"busy" -> (busy, 0); "completed" -> a four-minute talk; "completed:12" -> a talk of
    12 seconds (maybe a voicemail); anything else ("BUSY", "weird") is sent as typed, to
    see what the service makes of a status it does not know. Empty (Enter) means "completed",
    and so does "-", which stands for Enter in a script (`--keys 3,-`), as it does at a menu."""
    status, _, seconds = answer.partition(":")
    status = "completed" if status in ("", "-") else status
    if seconds.isdigit():
        return status, int(seconds)
    return status, TALK_SECONDS if status == "completed" else 0


def run_call(transport: Transport, keys: Iterator[str], out: Callable[[str], None],
             to: str = SERVICE_NUMBER, ask_again: bool = False) -> list[Turn]:
    """Walk one call. `keys` yields a key (or "" for silence) at each menu and a dial status
    at each dial; the call ends at a hang-up or when `keys` runs out. Each URL in the TwiML is
    resolved against the URL just requested, as Twilio does. A key no phone has is never sent
    (Twilio could not send it): with `ask_again` (a person typing) the next key is read,
    otherwise (a script, now out of step with the call) NotAKey is raised."""
    form = {"To": to, "CallStatus": "in-progress", "Direction": "inbound"}
    turns: list[Turn] = []
    url: str | None = "voice"
    requested = transport.base
    data = dict(form)
    while url and len(turns) < MAX_TURNS:
        requested = urllib.parse.urljoin(requested, url)
        turn = parse_turn(transport.post(requested, data))
        turns.append(turn)
        for lang, text in turn.said:
            out(f"[{lang}] {text}")
        if turn.hangup:
            out("(the call ends)")
            break
        if turn.dial_number:
            out(f"(dialling {turn.dial_number}, shown to the hotline as {turn.dial_caller_id})")
            status = next(keys, None)
            if status is None:
                break
            status, seconds = _dial_result(status)
            out(f"(the dial ended: {status} after {seconds} s)")
            url, data = turn.dial_url, {**form, "DialCallStatus": status, "DialCallDuration": str(seconds)}
            continue
        if turn.gather_url:
            key = next(keys, None)
            while key is not None and key not in SILENCE and key not in PHONE_KEYS:
                if not ask_again:
                    raise NotAKey(key)
                out(f"({key!r} is not a key of a phone: one of 0-9, * or #, or Enter for silence)")
                key = next(keys, None)
            if key is None:
                break
            if key in SILENCE:
                out("(silence)")
                url, data = turn.silence_url, dict(form)
            else:
                out(f"(key {key})")
                url, data = turn.gather_url, {**form, "Digits": key}
            continue
        url = turn.silence_url
        data = dict(form)
    return turns
