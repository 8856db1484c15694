"""Helpers for the call-flow tests: read TwiML as elements, sign requests as Twilio does, build
the app with a pinned clock, and walk a call webhook by webhook.

Kept out of conftest.py (which others edit) and imported by name: pytest puts tests/ on sys.path.
"""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, urljoin, urlsplit

import yaml
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from ivr.config.settings import Settings, bundled_dir
from ivr.config.loading import Config, load_config
from ivr.serve.web import create_app

TOKEN = "call-flow-test-token"
BASE = "http://localhost"  # what the Flask test client requests by default
SERVICE_NUMBER = "+4930901820123"  # the call's To: the service's own number
CALLER_NUMBER = "+4917612398745"  # the call's From/Caller: must never reach a log or a Dial

# Spoken groups of every number the service reads out, as data/hotlines.yaml prints them.
SPOKEN = {
    "kids-line": ("116", "111"),
    "parents-line": ("0800", "111", "0", "550"),
    "hateaid": ("030", "25208838"),
    "abuse-helpline": ("0800", "22", "55", "530"),
    "police": ("110",),
    "emergency": ("112",),
}
PHONE = {
    "kids-line": "+49116111",
    "parents-line": "+498001110550",
    "hateaid": "+493025208838",
    "abuse-helpline": "+498002255530",
}
NAME_DE = {
    "kids-line": "Nummer gegen Kummer – Kinder- und Jugendtelefon",
    "parents-line": "Nummer gegen Kummer – Elterntelefon",
    "hateaid": "HateAid – Beratung für Betroffene digitaler Gewalt",
    "abuse-helpline": "Hilfetelefon Sexueller Missbrauch",
}
NAME_EN = {
    "kids-line": "Nummer gegen Kummer – helpline for children and young people",
    "parents-line": "Nummer gegen Kummer – parents' helpline",
    "hateaid": "HateAid – counselling for people affected by digital violence",
    "abuse-helpline": "Sexual abuse helpline",
}
VOICE = {"de": ("de-DE", "Polly.Vicki-Neural"), "en": ("en-GB", "Polly.Amy-Neural"),
         "tr": ("tr-TR", "Polly.Burcu-Neural"), "ar": ("arb", "Polly.Zeina"), "ru": ("ru-RU", "Polly.Tatyana"),
         "uk": ("uk-UA", "Google.uk-UA-Standard-A"), "pl": ("pl-PL", "Polly.Ola-Neural")}
# How the German start names the five other languages, each in its own voice, with key 8
LANGUAGE_NAMES = [("Türkçe 8", *VOICE["tr"]), ("العربية 8", *VOICE["ar"]), ("Русский 8", *VOICE["ru"]),
                  ("Українська 8", *VOICE["uk"]), ("Polski 8", *VOICE["pl"])]
# Web addresses as people say them (rule 10 of issue 7: never "minus"), per language.
WEB = {
    "de": {"web_juuuport": "juuuport Punkt de",
           "web_women_counselling": "aktiv gegen digitale gewalt, mit Bindestrichen, Punkt de",
           "web_jugendschutz_net": "jugendschutz Punkt net",
           "web_internet_beschwerdestelle": "internet beschwerdestelle, mit Bindestrich, Punkt de"},
    "en": {"web_juuuport": "juuuport dot D E",
           "web_women_counselling": "aktiv gegen digitale gewalt, with hyphens, dot D E",
           "web_jugendschutz_net": "jugendschutz dot net",
           "web_internet_beschwerdestelle": "internet beschwerdestelle, with a hyphen, dot D E"},
}
for _lang, (_dot, _hyphen, _hyphens) in {  # the five other languages: dot, one hyphen, hyphens
        "tr": ("nokta", "kısa çizgiyle", "kısa çizgilerle"), "ar": ("دوت", "مع شَرطة", "مع شَرطات"),
        "ru": ("точка", "через дефис", "через дефисы"), "uk": ("крапка", "через дефіс", "через дефіси"),
        "pl": ("kropka", "z myślnikiem", "z myślnikami")}.items():
    WEB[_lang] = {"web_juuuport": f"juuuport {_dot} de",
                  "web_women_counselling": f"aktiv gegen digitale gewalt, {_hyphens}, {_dot} de",
                  "web_jugendschutz_net": f"jugendschutz {_dot} net",
                  "web_internet_beschwerdestelle": f"internet beschwerdestelle, {_hyphen}, {_dot} de"}


@cache
def _prompts_file(lang: str) -> dict[str, Any]:
    """prompts/<lang>.yaml as written, read here on its own (not through ivr's loader)."""
    return yaml.safe_load((bundled_dir("prompts") / f"{lang}.yaml").read_text(encoding="utf-8"))


def prompt(lang: str, key: str, /, *, young: bool = False, **values: str) -> str:
    """The sentence for `key` exactly as the prompts file has it, the way the caller hears it:
    one line, placeholders filled (110/112, web addresses as spoken, and `values`). With `young`,
    the `young:` version where there is one. The wording lives in the YAML, so tests that
    compare with this stay exact when an operator rewords a sentence."""
    data = _prompts_file(lang)
    text = ((data.get("young") or {}).get(key) if young else None) or data["prompts"][key]
    fill = {"police": "110", "emergency": "112", **WEB[lang], **values}
    spoken = re.sub(r"\{(\w+)\}", lambda m: fill[m.group(1)], text)
    return " ".join(spoken.split())


@cache
def bundled_config() -> Config:
    """data/ and prompts/ as `ivr serve` loads them; loaded once per test session."""
    settings = Settings.from_env({})
    return load_config(settings.data_dir, settings.prompts_dir)


# -- reading TwiML ---------------------------------------------------------------------------

def parse(response: Any) -> ET.Element:
    """The answer of a webhook as a <Response> element; anything else fails the test."""
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "text/xml", response.mimetype
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    """The top-level verbs, in order."""
    return [child.tag for child in root]


def say_text(say: ET.Element) -> str:
    """What a <Say> speaks, as one line: digit groups kept apart where a pause is."""
    parts = [say.text or ""]
    for child in say:
        if child.tag == "say-as":
            parts.append(child.text or "")
        elif child.tag == "break":
            parts.append(" ")
        else:
            raise AssertionError(f"unexpected SSML element <{child.tag}> in a <Say>")
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def says(root: ET.Element) -> list[tuple[str, str | None, str | None]]:
    """Every <Say> in document order (also inside a Gather) as (text, language, voice)."""
    return [(say_text(s), s.get("language"), s.get("voice")) for s in root.iter("Say")]


def texts(root: ET.Element) -> list[str]:
    return [text for text, _, _ in says(root)]


def spoken_numbers(say: ET.Element) -> list[tuple[str, ...]]:
    """The numbers in a <Say>: runs of <say-as interpret-as="digits"> joined by <break/>s.

    A group followed by a break continues the same number; text in between ends it."""
    numbers: list[tuple[str, ...]] = []
    current: list[str] = []
    pending_break = False
    for child in say:
        if child.tag == "say-as":
            assert child.get("interpret-as") == "digits", ET.tostring(child)
            if current and not pending_break:
                numbers.append(tuple(current))
                current = []
            current.append(child.text or "")
            pending_break = False
        elif child.tag == "break":
            assert current and not pending_break, "a pause outside a number"
            pending_break = True
        if (child.tail or "").strip():
            assert not pending_break, "a pause followed by text, not by the next digit group"
            if current:
                numbers.append(tuple(current))
                current = []
    assert not pending_break, "a number ends with a pause"
    if current:
        numbers.append(tuple(current))
    return numbers


@dataclass(frozen=True)
class GatherInfo:
    action: str
    method: str | None
    num_digits: str | None
    timeout: str | None
    finish_on_key: str | None
    input: str | None


def gather(root: ET.Element) -> GatherInfo | None:
    element = root.find("Gather")
    if element is None:
        return None
    return GatherInfo(element.get("action", ""), element.get("method"), element.get("numDigits"),
                      element.get("timeout"), element.get("finishOnKey"), element.get("input"))


def redirect(root: ET.Element) -> str | None:
    element = root.find("Redirect")
    return None if element is None else (element.text or "").strip()


def dial(root: ET.Element) -> ET.Element | None:
    return root.find("Dial")


def dial_numbers(element: ET.Element) -> list[str]:
    return [(n.text or "").strip() for n in element.findall("Number")]


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# -- requests as Twilio makes them -----------------------------------------------------------

def sign(url: str, form: Mapping[str, str], token: str = TOKEN) -> str:
    """X-Twilio-Signature for the full URL and the POSTed form, as Twilio computes it."""
    return RequestValidator(token).compute_signature(url, dict(form))


def make_app(at: str | None, *, token: str | None = TOKEN, config: Config | None = None,
             extra_env: Mapping[str, str] | None = None, live: Any = None) -> Flask:
    """The real app, its clock pinned the way operators pin it: IVR_NOW (naive = Berlin);
    `live`: the store's link (closures and counts), as `ivr serve` gives it."""
    env = {"TWILIO_AUTH_TOKEN": token or "", "IVR_NOW": at or "", **(extra_env or {})}
    return create_app(config or bundled_config(), Settings.from_env(env), live=live)


def twilio_form(**extra: str) -> dict[str, str]:
    """The fields Twilio posts with every voice webhook, the caller's number among them."""
    return {
        "AccountSid": "AC00000000000000000000000000000000",
        "CallSid": "CA11111111111111111111111111111111",
        "ApiVersion": "2010-04-01",
        "Direction": "inbound",
        "CallStatus": "in-progress",
        "To": SERVICE_NUMBER,
        "Called": SERVICE_NUMBER,
        "From": CALLER_NUMBER,
        "Caller": CALLER_NUMBER,
        "FromCity": "BERLIN",
        "FromCountry": "DE",
        **extra,
    }


def post(client: FlaskClient, path: str, form: Mapping[str, str], token: str | None = TOKEN) -> Any:
    """POST `form` to `path` (with its query), signed for BASE + path when a token is given."""
    headers = {"X-Twilio-Signature": sign(BASE + path, form, token)} if token else {}
    return client.post(path, data=dict(form), headers=headers)


@dataclass
class Call:
    """One call, webhook by webhook, following the URLs the TwiML hands back as Twilio would:
    each resolved against the URL it last requested (relative URLs keep a path prefix)."""

    client: Any  # a FlaskClient, or a werkzeug Client around a mounted app
    token: str | None = TOKEN
    to: str = SERVICE_NUMBER
    root: ET.Element | None = None
    history: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base: str = BASE + "/"  # the service's root as Twilio knows it: the call starts at base + "voice"
    # what a proxy in front does: the URL Twilio requested -> the URL the app receives
    forward: Callable[[str], str] | None = None
    url: str | None = None  # the URL last requested

    def _post(self, target: str, **fields: str) -> ET.Element:
        self.url = urljoin(self.url or self.base, target)
        form = twilio_form(To=self.to, Called=self.to, **fields)
        self.history.append((self.url, form))
        headers = {"X-Twilio-Signature": sign(self.url, form, self.token)} if self.token else {}
        received = self.forward(self.url) if self.forward else self.url
        self.root = parse(self.client.post(received, data=form, headers=headers))
        return self.root

    def start(self) -> ET.Element:
        return self._post("voice")

    def press(self, key: str) -> ET.Element:
        info = gather(self._current())
        assert info is not None, f"no menu to press {key} in: {verbs(self._current())}"
        return self._post(info.action, Digits=key)

    def silence(self) -> ET.Element:
        url = redirect(self._current())
        assert url, f"nothing happens on silence: {verbs(self._current())}"
        return self._post(url)

    def dial_ends(self, status: str, seconds: str | None = "0") -> ET.Element:
        """Twilio reports the end of the Dial: its status and how long the hotline's leg lasted
        (`None`: no DialCallDuration at all)."""
        element = dial(self._current())
        assert element is not None, f"no dial to end: {verbs(self._current())}"
        duration = {} if seconds is None else {"DialCallDuration": seconds}
        return self._post(element.get("action", ""), DialCallStatus=status, **duration)

    def _current(self) -> ET.Element:
        assert self.root is not None, "the call has not started"
        return self.root


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock instant in the directory's zone."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=bundled_config().directory.timezone)
