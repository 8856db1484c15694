"""Hardening of the webhooks: whatever arrives, Twilio gets valid, useful TwiML and never a 5xx.

Property tests drive every webhook with arbitrary forms and query strings (missing, empty, huge,
odd unicode, unknown keys, tampered call state) and check the answer is a TwiML <Response> that
ends usefully: a Gather that leads on, a Dial shown to the hotline as the service's own number,
or a hang-up: after a talk of some length, thanks; otherwise the numbers read out, then 110/112
right before the goodbye. Then the signature check (unsigned or wrongly signed:
403; odd URLs; TLS ending at a proxy), the body limit (413) and the global error handler
(fallback TwiML, nothing of the caller's in the log).

The apps are built once at module level (one per pinned instant), so hypothesis can reuse them.
"""
from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.call import flow
from ivr.serve import web
from ivr.call.flow import Say
from ivr.config.settings import Settings, parse_instant
from ivr.directory.directory import AUDIENCES, ANYONE
from ivr.config.loading import load_config

TOKEN = "hardening-test-token"
SERVICE_NUMBER = "+4930123456789"
CALLER_NUMBER = "+4917699887766"  # distinctive: must never show up in a log
E164 = re.compile(r"\+[1-9][0-9]{6,14}\Z")  # ITU-T E.164 as Twilio writes it
WEBHOOKS = ("/voice", "/menu", "/dialed", "/fallback")
TALKED = ("completed", "answered")  # the only statuses that may mean somebody talked
DIAL_STATUSES = (*TALKED, "busy", "no-answer", "failed", "canceled")
KEYS = tuple("0123456789*#")

SETTINGS = Settings.from_env({})
CONFIG = load_config(SETTINGS.data_dir, SETTINGS.prompts_dir)
ZONE = CONFIG.directory.timezone
LINE_PHONES = {line.phone for line in CONFIG.directory.lines}
LINE_IDS = [line.id for line in CONFIG.directory.lines]
NODES = sorted(CONFIG.menu.nodes)
LANGUAGES = tuple(CONFIG.menu.languages)
SAY_LANGUAGES = {CONFIG.prompts[lang].voice.language for lang in LANGUAGES}
ALLOWED_VERBS = {"Say", "Gather", "Redirect", "Dial", "Hangup"}
SHORT_TALK = CONFIG.directory.service.short_talk_seconds
END_NODES = (flow.CLOSED_NODE, flow.UNREACHABLE_NODE, flow.SHORT_TALK_NODE)  # numbers just read there

# Instants that cover the shapes of the call: many lines open, all closed at night, Sunday, a
# dated closure (Christmas Eve), and a Monday morning with only some lines open.
INSTANTS = {
    "tue-afternoon": "2026-11-24T16:30",
    "tue-night": "2026-11-24T03:00",
    "sunday": "2026-11-29T12:00",
    "christmas-eve": "2026-12-24T15:00",
    "mon-morning": "2026-11-23T11:00",
}


def _fixed(text: str):
    at = parse_instant(text, ZONE)
    return lambda: at


def _app(token: str | None = None, public_url: str | None = None, at: str = INSTANTS["tue-afternoon"]):
    env = {"TWILIO_AUTH_TOKEN": token or "", "IVR_PUBLIC_URL": public_url or ""}
    return web.create_app(CONFIG, Settings.from_env(env), clock=_fixed(at))


OPEN_APPS = {name: _app(at=at) for name, at in INSTANTS.items()}
SIGNED_APP = _app(token=TOKEN)
PROXIED_APP = _app(token=TOKEN, public_url="https://helpline.example.org")
RENDERER = OPEN_APPS["tue-afternoon"].extensions["ivr.service"].renderer
FALLBACK_XML = RENDERER.fallback()
# the last words of a call, in every language, to callers under 18 and to everyone else
DONE = {RENDERER.text(Say("connect.done"), lang, young) for lang in LANGUAGES for young in (False, True)}
GOODBYE = {RENDERER.text(Say("goodbye"), lang, young) for lang in LANGUAGES for young in (False, True)}


class _Errors(logging.Handler):
    """Collects what ivr.serve.web logs at ERROR: the error handler answering the fallback means a
    bug was hidden from the caller, and a property test must not let that pass."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


ERRORS = _Errors()
logging.getLogger("ivr.web").addHandler(ERRORS)


# -- strategies -----------------------------------------------------------------------------

NASTY = st.sampled_from([
    "", " ", "\x00", "\t\n", "\u202e1", "\ufeff", "💥", "١", "１", "<Say>x</Say>", "]]>", "&amp;",
    "%00", "%", "+", "a=b&c=d", "\r\nX-Injected: 1", "null", "None", "-1", "99999999999999999999",
    "1" * 300, "ß" * 70,
])
ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)  # no lone surrogates
HUGE = st.one_of(  # long values, mostly under the body limit, sometimes over it
    st.builds(lambda piece, n: piece * n, st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=3),
              st.integers(200, 2500)),
    st.builds(lambda piece, n: piece * n, st.sampled_from(["1", "a", "+", "%", " "]), st.integers(1000, 40000)),
)
ANY_VALUE = st.one_of(ODD_TEXT, NASTY, HUGE)
DIGITS = st.one_of(st.sampled_from(KEYS), st.sampled_from(["00", "12", "1#", "*#", "0 "]), ANY_VALUE)
DIAL_STATUS = st.one_of(st.sampled_from(DIAL_STATUSES),
                        st.sampled_from(["BUSY", " busy", "no_answer", "", "Completed", " completed ", "ANSWERED"]),
                        ANY_VALUE)
DURATIONS = ["0", "5", "29", "30", "31", "600", "", " 45 ", "-3", "1e3", "٣٠", "9999999", "30.5"]
DIAL_DURATION = st.one_of(st.sampled_from(DURATIONS), ANY_VALUE)
TO = st.one_of(
    st.just(SERVICE_NUMBER),
    st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
    st.sampled_from(["+49 30 123456", "004930123456", "+0123456789", "+491", "+4930123456\n", " +4930123456 ",
                     "+4930１23456", "+49301234567890123", "client:alice", "sip:x@example.org", "anonymous"]),
    ANY_VALUE,
)
KNOWN_FORM = st.fixed_dictionaries({}, optional={
    "Digits": DIGITS,
    "DialCallStatus": DIAL_STATUS,
    "DialCallDuration": DIAL_DURATION,
    "To": TO,
    "Called": TO,
    "From": st.one_of(st.just(CALLER_NUMBER), ANY_VALUE),
    "Caller": st.one_of(st.just(CALLER_NUMBER), ANY_VALUE),
    "CallSid": ANY_VALUE,
    "AccountSid": ANY_VALUE,
    "CallStatus": st.one_of(st.sampled_from(["ringing", "in-progress", "completed"]), ANY_VALUE),
    "Direction": ANY_VALUE,
    "FinishedOnKey": ANY_VALUE,
})
# Most forms look like Twilio's (so calls get far: dials, goodbyes); the rest are anything at all.
TWILIO_FORM = st.fixed_dictionaries({
    "To": st.one_of(st.just(SERVICE_NUMBER), st.from_regex(r"\+49[1-9][0-9]{6,11}", fullmatch=True)),
    "From": st.just(CALLER_NUMBER),
    "CallStatus": st.just("in-progress"),
}, optional={
    "Digits": st.sampled_from(KEYS),
    "DialCallStatus": st.sampled_from(DIAL_STATUSES),
    "DialCallDuration": st.sampled_from(DURATIONS),
    "Caller": st.just(CALLER_NUMBER),
    "Odd": ANY_VALUE,
})
ANY_FORM = st.one_of(TWILIO_FORM, TWILIO_FORM, KNOWN_FORM)
UNKNOWN_PAIRS = st.lists(st.tuples(st.one_of(ODD_TEXT, NASTY), ANY_VALUE), max_size=6)

TRIED = st.lists(st.one_of(st.sampled_from(LINE_IDS), ODD_TEXT), max_size=12).map(",".join)
KNOWN_QUERY = st.fixed_dictionaries({}, optional={
    "n": st.one_of(st.sampled_from(NODES), ANY_VALUE),
    "l": st.one_of(st.sampled_from(LANGUAGES), st.sampled_from(["DE", "fr", "de-DE"]), ANY_VALUE),
    "a": st.one_of(st.sampled_from((*AUDIENCES, ANYONE)), ANY_VALUE),
    "r": st.one_of(st.sampled_from(["0", "1", "2", "3", "4", "-1", "1e3", "0x1", " 1", "١", "9" * 40]),
                   ANY_VALUE),
    "t": st.one_of(TRIED, st.just(",".join(LINE_IDS * 400)), ANY_VALUE),
})
STATE_QUERY = st.fixed_dictionaries({"n": st.sampled_from(NODES), "l": st.sampled_from(LANGUAGES)}, optional={
    "a": st.sampled_from(AUDIENCES),
    "r": st.sampled_from(["1", "2"]),
    "t": st.lists(st.sampled_from(LINE_IDS), max_size=4).map(",".join),
})
ANY_QUERY = st.one_of(STATE_QUERY, KNOWN_QUERY)


@st.composite
def pairs(draw, known, unknown=UNKNOWN_PAIRS):
    """Known keys (sometimes repeated, the first one counts) mixed with unknown keys, in any order."""
    items = list(draw(known).items())
    items += draw(st.lists(st.sampled_from(items), max_size=2)) if items else []
    items += draw(unknown)
    return draw(st.permutations(items))


def _body(form: list[tuple[str, str]]) -> bytes:
    return urlencode(form).encode("utf-8")


def _first(items: list[tuple[str, str]], key: str) -> str | None:
    return next((value for name, value in items if name == key), None)


# -- what a useful answer looks like ---------------------------------------------------------

def parse_twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


def digit_groups(say: ET.Element) -> list[str]:
    return [(e.text or "").strip() for e in say if e.tag == "say-as" and e.get("interpret-as") == "digits"]


def _say_text(say: ET.Element) -> str:
    return " ".join("".join(say.itertext()).split())


def _seconds(text: str) -> int | None:
    """DialCallDuration as Twilio writes it: ASCII digits; anything else is no length at all."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else None


def assert_state_url(url: str | None, path: str) -> None:
    """The next webhook's URL carries a call state the app itself would read back unchanged."""
    # relative to the webhook (no leading "/"), so that a public URL's path prefix is kept
    assert url and url.startswith(path.lstrip("/") + "?"), url
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert params.get("n") in CONFIG.menu.nodes and params.get("l") in LANGUAGES, url
    state = flow.parse_state(CONFIG, params)
    assert flow.state_params(state) == params, url


def assert_useful(root: ET.Element, route: str, form: list[tuple[str, str]],
                  query: list[tuple[str, str]]) -> None:
    verbs = [child.tag for child in root]
    assert verbs and set(verbs) <= ALLOWED_VERBS, verbs
    for say in root.iter("Say"):
        assert say.get("language") in SAY_LANGUAGES, ET.tostring(say)
        assert _say_text(say), "an empty <Say>"

    if "Gather" in verbs:  # a menu: keys lead on, silence leads on too (never a dead end)
        assert verbs.count("Gather") == 1 and "Dial" not in verbs and "Hangup" not in verbs, verbs
        assert verbs[-2:] == ["Gather", "Redirect"], verbs
        gather, redirect = root[-2], root[-1]
        assert_state_url(gather.get("action"), web.MENU_PATH)
        assert gather.get("method") == "POST" and gather.get("finishOnKey") == ""
        assert gather.get("numDigits") == "1"
        assert gather.findall("Say"), "a Gather with nothing to hear"
        assert (redirect.text or "").strip() == gather.get("action")
        return

    if "Dial" in verbs:  # connected: the hotline sees the service's number, never the caller's
        assert verbs.count("Dial") == 1 and verbs[-1] == "Dial", verbs
        dial = root[-1]
        to = (_first(form, "To") or "").strip()
        caller_id = dial.get("callerId")
        assert caller_id and E164.match(caller_id), f"Dial with callerId {caller_id!r} for To {to!r}"
        assert to.startswith(caller_id), f"callerId {caller_id!r} is not the posted To {to!r}"
        if E164.match(to):
            assert caller_id == to
        assert caller_id != _first(form, "From") or caller_id == to
        numbers = [(n.text or "").strip() for n in dial.iter("Number")]
        assert len(numbers) == 1 and numbers[0] in LINE_PHONES, numbers
        assert dial.get("record", "do-not-record") == "do-not-record"
        assert dial.get("ringTone") == "de"  # the ring German callers know
        assert_state_url(dial.get("action"), web.DIALED_PATH)
        return

    # the end of the call: what was said, then a hang-up
    assert verbs[-1] == "Hangup" and verbs.count("Hangup") == 1, verbs
    assert set(verbs[:-1]) == {"Say"}, "a hang-up with nothing said first"
    says = root.findall("Say")
    cut = getattr(web, "_MAX_FIELD", 200)  # the app reads at most this much of a field
    status = (_first(form, "DialCallStatus") or "")[:cut].strip()
    seconds = _seconds((_first(form, "DialCallDuration") or "")[:cut].strip())
    shown = ET.tostring(root, "unicode")[:800]
    # Only exactly "completed"/"answered" of some length is a talk: then thanks, nothing more.
    if route == web.DIALED_PATH and status in TALKED and seconds is not None and seconds >= SHORT_TALK:
        assert [_say_text(say) for say in says] in [[text] for text in DONE], shown
        return
    # Every other end (rule 6): 110 and 112 right before a goodbye.
    assert route == web.MENU_PATH, f"{route}?{urlencode(query)} hangs up without a talk: {shown}"
    assert len(says) >= 2 and digit_groups(says[-2]) == ["110", "112"], shown
    assert _say_text(says[-1]) in GOODBYE, shown
    # And the numbers of the lines first, unless the menu just read them out (silence or unknown
    # keys again at the closed, unreachable or short-talk menu ends the call kindly).
    if _first(query, "n") in END_NODES:
        return
    line_numbers = [group for say in says[:-2] for group in digit_groups(say)]
    assert line_numbers, f"{route}?{urlencode(query)} hangs up without reading a number: {shown}"


def assert_fallback(root: ET.Element) -> None:
    """The apology with every hotline's number as digit groups, and 110/112, then a hang-up."""
    says = root.findall("Say")
    assert says and [child.tag for child in root][-1] == "Hangup"
    groups = [digit_groups(say) for say in says]
    for line in CONFIG.directory.lines:
        assert line.spoken.split() in groups, f"{line.id}'s number is not read as digits"
    spoken = {group for say_groups in groups for group in say_groups}
    assert {"110", "112"} <= spoken, "the emergency numbers are missing"


# -- every webhook answers any form ----------------------------------------------------------

@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.data_too_large])
@given(app_name=st.sampled_from(sorted(OPEN_APPS)), route=st.sampled_from(WEBHOOKS),
       form=pairs(ANY_FORM), query=pairs(ANY_QUERY))
def test_every_webhook_answers_any_form_with_useful_twiml(app_name, route, form, query):
    app = OPEN_APPS[app_name]
    body = _body(form)
    url = f"{route}?{urlencode(query)}" if query else route
    ERRORS.records.clear()
    response = app.test_client().post(url, data=body, content_type="application/x-www-form-urlencoded")
    if len(body) > web.MAX_BODY and route != "/fallback":
        assert response.status_code == 413
        event("body over the limit: 413")
        return
    root = parse_twiml(response)  # /fallback reads no form: its answer does not depend on one
    if route == "/fallback":
        assert response.get_data(as_text=True) == FALLBACK_XML
        assert_fallback(root)
        return
    assert not ERRORS.records, f"the error handler answered: {ERRORS.records[0].getMessage()}"
    assert_useful(root, route, form, query)
    event(f"{route} ends with {root[-1].tag}")  # see --hypothesis-show-statistics


@settings(max_examples=150, deadline=None)
@given(app_name=st.sampled_from(sorted(OPEN_APPS)), route=st.sampled_from((web.MENU_PATH, web.DIALED_PATH)),
       form=TWILIO_FORM.map(lambda f: list(f.items())), query=STATE_QUERY.map(lambda q: list(q.items())))
def test_every_call_state_ends_usefully(app_name, route, form, query):
    """The same property where calls get far: every node, language, audience, retry count and
    set of tried lines, with the keys and dial results Twilio sends."""
    body = _body(form)
    ERRORS.records.clear()
    response = OPEN_APPS[app_name].test_client().post(f"{route}?{urlencode(query)}", data=body,
                                                      content_type="application/x-www-form-urlencoded")
    if len(body) > web.MAX_BODY:
        assert response.status_code == 413
        return
    root = parse_twiml(response)
    assert not ERRORS.records, f"the error handler answered: {ERRORS.records[0].getMessage()}"
    assert_useful(root, route, form, query)
    event(f"{route} ends with {root[-1].tag}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(app_name=st.sampled_from(sorted(OPEN_APPS)), route=st.sampled_from(WEBHOOKS),
       query=pairs(ANY_QUERY, st.lists(st.tuples(ODD_TEXT, ODD_TEXT), max_size=4)),
       form=pairs(ANY_FORM, st.just([])))
def test_webhooks_configured_for_get_answer_too(app_name, route, query, form):
    """Twilio can be set to GET: then the form's fields arrive in the query string."""
    items = [*query, *form]
    ERRORS.records.clear()
    response = OPEN_APPS[app_name].test_client().get(f"{route}?{urlencode(items)}")
    root = parse_twiml(response)
    if route == "/fallback":
        assert_fallback(root)
        return
    assert not ERRORS.records, ERRORS.records[0].getMessage()
    assert_useful(root, route, items, items)


@pytest.mark.parametrize("duration", [None, *DURATIONS])
@pytest.mark.parametrize("status", [None, *DIAL_STATUSES, "BUSY", "Completed", " completed ", "weird", ""])
@pytest.mark.parametrize("app_name", ["tue-afternoon", "tue-night"])
def test_every_dial_result_as_twilio_may_report_it(app_name, status, duration):
    """Rule 4 at /dialed, deterministically: only completed/answered of some length end the call
    (with thanks); anything else tries the next line or offers the numbers, never a dead end."""
    form = [("To", SERVICE_NUMBER), ("From", CALLER_NUMBER)]
    form += [("DialCallStatus", status)] if status is not None else []
    form += [("DialCallDuration", duration)] if duration is not None else []
    query = [("n", "main"), ("l", "de"), ("a", "adult"), ("t", "hateaid")]
    ERRORS.records.clear()
    response = OPEN_APPS[app_name].test_client().post(f"{web.DIALED_PATH}?{urlencode(query)}", data=_body(form),
                                                      content_type="application/x-www-form-urlencoded")
    root = parse_twiml(response)
    assert not ERRORS.records, ERRORS.records[0].getMessage()
    assert_useful(root, web.DIALED_PATH, form, query)
    seconds = _seconds((duration or "").strip())
    talked = (status or "").strip() in TALKED and seconds is not None and seconds >= SHORT_TALK
    assert (root[-1].tag == "Hangup") == talked, (status, duration, [child.tag for child in root])


@pytest.mark.parametrize("body", [
    b"Digits=%FF%FE&To=%ED%A0%80&From=%C0%AF",  # invalid UTF-8, an encoded lone surrogate
    b"Digits=1&Digits=2&To=" + quote(SERVICE_NUMBER).encode(),
    b"&&&==&=&Digits",  # no values at all
    b"\x00\x01\x02\xff" * 100,
    b"Digits=1;To=+4930123456",
])
@pytest.mark.parametrize("route", WEBHOOKS)
def test_malformed_bodies_answer_twiml(route, body):
    ERRORS.records.clear()
    response = OPEN_APPS["tue-afternoon"].test_client().post(
        f"{route}?n=main&l=de", data=body, content_type="application/x-www-form-urlencoded")
    root = parse_twiml(response)
    assert not ERRORS.records, ERRORS.records[0].getMessage()
    if route != "/fallback":
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        assert_useful(root, route, form, [("n", "main"), ("l", "de")])


@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=xyz", "application/json", "text/plain", None])
@pytest.mark.parametrize("route", WEBHOOKS)
def test_other_content_types_answer_twiml(route, content_type):
    ERRORS.records.clear()
    headers = {"Content-Type": content_type} if content_type else {}
    response = OPEN_APPS["tue-afternoon"].test_client().post(route, data=b'{"Digits": "1"}', headers=headers)
    parse_twiml(response)
    assert not ERRORS.records, ERRORS.records[0].getMessage()


# -- the body limit --------------------------------------------------------------------------

@pytest.mark.parametrize("app", [OPEN_APPS["tue-afternoon"], SIGNED_APP], ids=["dev", "signed"])
@pytest.mark.parametrize("route", WEBHOOKS)
def test_a_body_over_the_limit_gets_413(app, route):
    form = [("To", SERVICE_NUMBER), ("Digits", "1"), ("Junk", "x" * web.MAX_BODY)]
    response = _post(app, route, form, _sign("http://localhost" + route, form))
    if route == "/fallback":
        # nothing reads the form there (it needs no signature): the static answer, still no 5xx
        assert response.get_data(as_text=True) == FALLBACK_XML
        return
    assert response.status_code == 413


def test_a_body_at_the_limit_is_still_answered():
    filler = "x" * (web.MAX_BODY - len(_body([("To", SERVICE_NUMBER), ("Junk", "")])))
    body = _body([("To", SERVICE_NUMBER), ("Junk", filler)])
    assert len(body) == web.MAX_BODY
    response = OPEN_APPS["tue-afternoon"].test_client().post(
        "/voice", data=body, content_type="application/x-www-form-urlencoded")
    parse_twiml(response)


# -- the signature ---------------------------------------------------------------------------

def _sign(url: str, form: list[tuple[str, str]] | dict[str, str], token: str = TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it, for the exact URL and every form value."""
    return RequestValidator(token).compute_signature(url, MultiDict(form))


def _post(app, path: str, form: list[tuple[str, str]], signature: str | None, base: str = "http://localhost"):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return app.test_client().post(path, data=_body(form), headers=headers, base_url=base,
                                  content_type="application/x-www-form-urlencoded")


SMALL_VALUE = st.one_of(ODD_TEXT, NASTY)
SMALL_FORM = pairs(st.fixed_dictionaries({}, optional={"Digits": DIGITS, "To": TO, "From": SMALL_VALUE,
                                                       "DialCallStatus": DIAL_STATUS,
                                                       "DialCallDuration": DIAL_DURATION}),
                   st.lists(st.tuples(SMALL_VALUE, SMALL_VALUE), max_size=4))
SIGNED_PATHS = st.sampled_from(["/voice", "/menu?n=main&l=de", "/menu?n=guidance&l=en&r=1",
                                "/menu?n=short_talk&l=de&a=young_person&t=kids-line",
                                "/dialed?n=main&l=de&a=adult&t=hateaid", "/fallback"])


@settings(max_examples=100, deadline=None)
@given(path=SIGNED_PATHS, form=SMALL_FORM, forged=st.one_of(
    st.none(), st.just(""), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60),
    st.sampled_from(["wrong-url", "extra-param", "other-token", "flipped"])))
def test_unsigned_or_wrongly_signed_requests_get_403(path, form, forged):
    good = _sign("http://localhost" + path, form)
    if forged == "wrong-url":
        signature = _sign("http://localhost" + path + ("&" if "?" in path else "?") + "x=1", form)
    elif forged == "extra-param":
        signature = _sign("http://localhost" + path, [*form, ("Injected", "1")])
    elif forged == "other-token":
        signature = _sign("http://localhost" + path, form, token="another-token")
    elif forged == "flipped":
        signature = ("A" if good[0] != "A" else "B") + good[1:]
    else:
        signature = forged
    if signature == good:
        return
    response = _post(SIGNED_APP, path, form, signature)
    if path == "/fallback":  # static public information: answered whatever the signature
        assert response.get_data(as_text=True) == FALLBACK_XML
        return
    if len(_body(form)) > web.MAX_BODY:  # too big to be Twilio's: refused before it is read
        assert response.status_code == 413
        return
    assert response.status_code == 403
    assert response.get_data(as_text=True).strip() == "Forbidden"  # no TwiML, no detail


@settings(max_examples=100, deadline=None)
@given(path=SIGNED_PATHS, form=SMALL_FORM)
def test_correctly_signed_requests_are_answered(path, form):
    response = _post(SIGNED_APP, path, form, _sign("http://localhost" + path, form))
    if len(_body(form)) > web.MAX_BODY and path != "/fallback":  # the fallback reads no form
        assert response.status_code == 413
        return
    root = parse_twiml(response)
    if not path.startswith("/fallback"):
        route = urlsplit(path).path
        assert_useful(root, route, form, parse_qsl(urlsplit(path).query))


@pytest.mark.parametrize("path", [
    "/menu?n=main&l=de&x=%C3%BC%E2%82%AC%F0%9F%92%A5",  # percent-encoded unicode
    "/menu?n=hotlines&l=de&to=%2B4930123456&plus=+49+30",  # an encoded '+', and '+' as space
    "/menu?n=who&l=de&a=adult",  # a node of the menu before the redesign: a call that outlived a deploy
    "/menu?n=main&l=en&q=a%20b&q=c+d",  # spaces as %20, repeated parameter
    "/menu?n=guidance&n=main&l=de&l=en",  # repeated state parameters: the first counts
    "/dialed?n=main&l=de&a=adult&t=hateaid%2Cabuse-helpline",
    "/dialed?n=main&l=de&a=adult&t=hateaid,abuse-helpline",  # the same, not encoded
    "/voice?empty=&flag",
    "/menu?n=main&l=de&x=%7E%27%28%29%2A%21",
])
def test_signature_holds_for_odd_urls_signed_exactly(path):
    form = [("To", SERVICE_NUMBER), ("Digits", "1"), ("From", CALLER_NUMBER)]
    response = _post(SIGNED_APP, path, form, _sign("http://localhost" + path, form))
    parse_twiml(response)


@pytest.mark.parametrize("signed, requested", [
    ("/menu?n=main&l=en&q=a%20b", "/menu?n=main&l=en&q=a+b"),
    ("/menu?n=main&l=de&x=%C3%BC", "/menu?n=main&l=de&x=%c3%bc"),
    ("/dialed?n=main&l=de&t=hateaid%2Cabuse-helpline", "/dialed?n=main&l=de&t=hateaid,abuse-helpline"),
    ("/menu?n=main&l=de", "/menu?l=de&n=main"),
])
def test_signature_is_for_the_exact_url(signed, requested):
    """The same query decoded differently is another URL: Twilio signed what it requested."""
    form = [("To", SERVICE_NUMBER)]
    response = _post(SIGNED_APP, requested, form, _sign("http://localhost" + signed, form))
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/voice", "/menu?n=main&l=de", "/dialed?n=main&l=de&a=adult&t=hateaid"])
def test_behind_a_tls_proxy_the_public_url_is_what_counts(path):
    """TLS ends at a proxy: the app sees http://internal:8000, Twilio signed https://helpline..."""
    form = [("To", SERVICE_NUMBER), ("Digits", "1"), ("DialCallStatus", "busy")]
    internal = "http://internal:8000"
    public = _post(PROXIED_APP, path, form, _sign("https://helpline.example.org" + path, form), base=internal)
    parse_twiml(public)
    seen = _post(PROXIED_APP, path, form, _sign(internal + path, form), base=internal)
    assert seen.status_code == 403
    unsigned = _post(PROXIED_APP, path, form, None, base=internal)
    assert unsigned.status_code == 403


def test_health_needs_no_signature():
    response = SIGNED_APP.test_client().get("/health")
    assert response.status_code == 200


@pytest.mark.parametrize("method, path", [("PUT", "/voice"), ("DELETE", "/menu"), ("POST", "/nope"),
                                          ("POST", "/voice/../admin"), ("POST", "/health")])
def test_other_paths_and_methods_are_client_errors_not_5xx(method, path):
    for app in (OPEN_APPS["tue-afternoon"], SIGNED_APP):
        response = app.test_client().open(path, method=method, data={"Digits": "1"})
        assert 400 <= response.status_code < 500, (method, path, response.status_code)


# -- the global error handler ----------------------------------------------------------------

class FlowBoom(RuntimeError):
    pass


DISTINCTIVE_FORM = {
    "From": CALLER_NUMBER, "Caller": CALLER_NUMBER, "To": SERVICE_NUMBER,
    "CallSid": "CA7f3c1e0d9b8a7f6e5d4c3b2a1f0e9d8c", "Digits": "7", "DialCallStatus": "busy",
    "CallerCity": "Quedlinburg-Süd", "CallerZip": "06484",
}


def _boom(*args, **kwargs):
    raise FlowBoom(f"exploded while handling {CALLER_NUMBER} / {DISTINCTIVE_FORM['CallSid']}")


def _assert_no_form_value(text: str) -> None:
    for key, value in DISTINCTIVE_FORM.items():
        if len(value) > 3:
            assert value not in text, f"the log carries the form's {key}"
    assert CALLER_NUMBER.lstrip("+") not in text


@pytest.mark.parametrize("route, function", [
    ("/voice", "start"),
    ("/menu?n=main&l=de", "key_pressed"),
    ("/menu?n=main&l=de", "parse_state"),
    ("/dialed?n=main&l=de&a=adult&t=hateaid", "dial_ended"),
])
def test_a_failing_flow_answers_the_fallback_and_logs_no_form_value(monkeypatch, caplog, route, function):
    monkeypatch.setattr(flow, function, _boom)
    caplog.set_level(logging.DEBUG)
    app = _app(token=TOKEN)
    form = dict(DISTINCTIVE_FORM)
    headers = {"X-Twilio-Signature": _sign("http://localhost" + route, form)}
    response = app.test_client().post(route, data=form, headers=headers)
    root = parse_twiml(response)
    assert response.get_data(as_text=True) == FALLBACK_XML
    assert_fallback(root)
    assert "FlowBoom" in caplog.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("ivr")]
    _assert_no_form_value(caplog.text)
    for record in caplog.records:  # also what a JSON or Sentry handler would see
        _assert_no_form_value(repr(record.args) + str(record.msg) + repr(getattr(record, "exc_text", "")))


def test_a_failing_renderer_answers_the_fallback(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    app = _app()
    renderer = app.extensions["ivr.service"].renderer
    monkeypatch.setattr(renderer, "render", _boom)
    response = app.test_client().post("/voice", data=DISTINCTIVE_FORM)
    assert_fallback(parse_twiml(response))
    assert "FlowBoom" in caplog.text
    _assert_no_form_value(caplog.text)


def test_when_even_the_fallback_fails_the_emergency_numbers_are_said(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    app = _app()
    renderer = app.extensions["ivr.service"].renderer
    monkeypatch.setattr(renderer, "render", _boom)
    monkeypatch.setattr(renderer, "fallback", _boom)
    response = app.test_client().post("/menu?n=main&l=de", data=DISTINCTIVE_FORM)
    root = parse_twiml(response)
    groups = [digit_groups(say) for say in root.iter("Say")]
    assert ["110", "112"] in groups or (["110"] in groups and ["112"] in groups)
    assert all(say.get("language") for say in root.iter("Say"))
    assert [child.tag for child in root][-1] == "Hangup"
    _assert_no_form_value(caplog.text)


@settings(max_examples=40, deadline=None)
@given(route=st.sampled_from(("/voice", "/menu", "/dialed")), form=pairs(ANY_FORM))
def test_any_failure_with_any_form_still_answers_the_fallback(route, form):
    """Whatever the form, a failure deep inside is answered with the fallback, never a 5xx."""
    app = _app(at=INSTANTS["tue-night"])  # its own app: nothing cached in front of the renderer
    app.extensions["ivr.service"].renderer.render = _boom
    response = app.test_client().post(route, data=_body(form), content_type="application/x-www-form-urlencoded")
    if len(_body(form)) > web.MAX_BODY:
        assert response.status_code == 413
    else:
        assert response.get_data(as_text=True) == FALLBACK_XML


@pytest.mark.parametrize("host", ["localhost:abc", "localhost:99999", "[::1", "exa mple", "a/b", "",
                                  "helpline.example.org@evil.example"])
def test_a_bogus_host_header_is_refused_not_an_error(host):
    form = [("To", SERVICE_NUMBER)]
    response = SIGNED_APP.test_client().post(
        "/voice", data=_body(form), content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": _sign("http://localhost/voice", form)},
        environ_overrides={"HTTP_HOST": host})
    assert response.status_code in (400, 403), response.status_code
