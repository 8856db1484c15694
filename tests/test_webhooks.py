"""Whole calls through the Flask app, as Twilio makes them: signed POSTs, the clock pinned with
IVR_NOW, each answer parsed as TwiML and checked element by element.

Which lines are open when (data/hotlines.yaml, Europe/Berlin):
- Tue 2026-11-24 15:30: all four (kids-line until 20, parents-line until 19, HateAid until 18,
  abuse helpline until 20).
- Sat 2026-11-28 15:00: only kids-line (Mon-Sat 14-20).
- Sat 2026-11-28 22:00: none; Monday 09:00 the abuse helpline and the parents' line open.
- Mon 2026-03-30 09:30 (the Monday after the spring clock change, +02:00): parents-line and the
  abuse helpline; HateAid opens at 10:00, kids-line at 14:00.
"""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from functools import cache

import pytest
from flask.testing import FlaskClient

from ivr import flow
from ivr.config import parse_instant
from ivr.twiml import Renderer
from twiml_helpers import (BASE, CALLER_NUMBER, NAME_DE, PHONE, SERVICE_NUMBER, SPOKEN, TOKEN, VOICE,
                           Call, bundled_config, dial, dial_numbers, gather, make_app, parse, post,
                           redirect, say_text, says, sign, spoken_numbers, texts, twilio_form, verbs)

C = bundled_config()
TUE = "2026-11-24T15:30"
SAT_AFTERNOON = "2026-11-28T15:00"
SAT_NIGHT = "2026-11-28T22:00"
DST_MONDAY = "2026-03-30T09:30"

GREETING_DE = ("Infotelefon bei Gewalt mit intimen Bildern: kostenlos, anonym, ohne Aufzeichnung. "
               "In akuter Gefahr: auflegen und 110 oder 112 wählen.")
CONNECT_DE = "Mit der 1 verbinden wir Sie mit einer unabhängigen Beratungsstelle."
GOODBYE_DE = "Danke, dass Sie angerufen haben. Sie müssen das nicht allein durchstehen. Auf Wiederhören."
UNREACHABLE_DE = ("Wir konnten Sie gerade leider nicht verbinden. "
                  "Sie können diese Nummern auch selbst wählen:")


def connecting(line_id: str) -> str:
    return (f"Wir verbinden Sie jetzt mit: {NAME_DE[line_id]}. "
            "Bitte bleiben Sie dran, das kann einen Moment dauern.")


def spoken(line_id: str) -> str:
    return " ".join(SPOKEN[line_id])


def assert_every_say_is_voiced(root: ET.Element) -> None:
    """Rule 8: each <Say> names its language and a voice for that language."""
    for text, language, voice in says(root):
        assert (language, voice) in VOICE.values(), (text, language, voice)
        assert text, "an empty <Say>"


def client_at(at: str, token: str | None = TOKEN) -> FlaskClient:
    return make_app(at, token=token).test_client()


def call_at(at: str, to: str = SERVICE_NUMBER) -> Call:
    call = Call(client_at(at), to=to)
    call.start()
    return call


def assert_menu(root: ET.Element, action: str, said_before: int = 0) -> None:
    """A menu: one Gather listening for one key, # and * not swallowed, silence redirected;
    `said_before` <Say>s first (why a dial did not work: not interruptible by a key)."""
    assert verbs(root) == ["Say"] * said_before + ["Gather", "Redirect"], verbs(root)
    info = gather(root)
    assert info is not None
    assert (info.action, info.method, info.num_digits, info.timeout, info.finish_on_key, info.input) == (
        action, "POST", "1", "6", "", "dtmf")
    assert redirect(root) == action
    assert root.find("Redirect").get("method") == "POST"
    assert_every_say_is_voiced(root)


def assert_dial(root: ET.Element, line_id: str, action: str, to: str = SERVICE_NUMBER) -> None:
    """Rule 7: the hotline sees the service's number; nothing is recorded."""
    assert verbs(root)[-1] == "Dial" and verbs(root).count("Dial") == 1, verbs(root)
    element = dial(root)
    assert element.get("action") == action and element.get("method") == "POST"
    assert 20 <= int(element.get("timeout")) <= 25
    assert element.get("callerId") == to
    assert element.get("record") == "do-not-record"
    assert dial_numbers(element) == [PHONE[line_id]]
    assert not (element.text or "").strip()
    assert_every_say_is_voiced(root)


# -- (a) Tuesday afternoon: all four lines open ---------------------------------------------

def test_tuesday_afternoon_greeting_then_a_person_first() -> None:
    call = call_at(TUE)
    assert_menu(call.root, "menu?n=main&l=de")
    assert texts(call.root) == [
        GREETING_DE, CONNECT_DE,
        "Mit der 2 hören Sie Hinweise, was Sie jetzt tun können. Mit der 3 hören Sie, welche "
        "Beratungsstellen wann erreichbar sind. Mit der 0 verbinden wir Sie jederzeit sofort. "
        "Ihre Nummer wird dabei nicht weitergegeben.",
        "For English, press 4.",
    ]


def test_tuesday_afternoon_list_of_open_lines_then_0() -> None:
    call = call_at(TUE)
    root = call.press("3")
    assert_menu(root, "menu?n=hotlines&l=de")
    assert texts(root)[:5] == [
        "Jetzt erreichbar:",
        f"{NAME_DE['kids-line']}, bis 20 Uhr. Telefon 116 111.",
        f"{NAME_DE['parents-line']}, bis 19 Uhr. Telefon 0800 111 0 550.",
        f"{NAME_DE['hateaid']}, bis 18 Uhr. Telefon 030 25208838.",
        f"{NAME_DE['abuse-helpline']}, bis 20 Uhr. Telefon 0800 22 55 530.",
    ]
    root = call.press("0")
    assert texts(root) == [connecting("abuse-helpline")]
    assert_dial(root, "abuse-helpline", "dialed?n=hotlines&l=de&t=abuse-helpline")


@pytest.mark.parametrize("who, line_id", [("1", "kids-line"), ("2", "parents-line"), ("3", "hateaid"),
                                          ("4", "hateaid")])
def test_tuesday_afternoon_the_best_fit_for_who_is_calling(who: str, line_id: str) -> None:
    call = call_at(TUE)
    root = call.press("1")
    assert_menu(root, "menu?n=who&l=de")
    audience = ["young_person", "parent", "adult", "supporter"][int(who) - 1]
    root = call.press(who)
    assert_dial(root, line_id, f"dialed?n=who&l=de&a={audience}&t={line_id}")


# -- (b) exactly one line open ------------------------------------------------------------------

def test_saturday_afternoon_the_one_open_line_then_its_number_when_busy() -> None:
    call = call_at(SAT_AFTERNOON)
    root = call.press("0")
    assert_dial(root, "kids-line", "dialed?n=main&l=de&t=kids-line")
    root = call.dial_ends("busy")
    assert_menu(root, "menu?n=unreachable&l=de", said_before=1)
    assert texts(root) == [
        "Dort ist gerade besetzt.",
        UNREACHABLE_DE,
        f"{NAME_DE['kids-line']}: 116 111.",
        "Mit der 1 versuchen wir es noch einmal, mit der 2 hören Sie Hinweise.",
        "Mit der 0 verbinden wir Sie, mit der Sterntaste kommen Sie zum Hauptmenü, "
        "mit der Rautetaste hören Sie alles noch einmal.",
    ]
    assert_menu(call.silence(), "menu?n=unreachable&l=de&r=1")  # repeated once
    root = call.silence()
    assert verbs(root) == ["Say", "Hangup"] and texts(root) == [GOODBYE_DE]


def test_saturday_afternoon_an_adult_is_never_put_through_to_the_childrens_line() -> None:
    call = call_at(SAT_AFTERNOON)
    call.press("1")
    root = call.press("3")
    assert dial(root) is None
    assert_menu(root, "menu?n=closed&l=de&a=adult")
    assert texts(root)[:3] == [
        "Gerade ist leider keine passende Beratungsstelle am Telefon erreichbar.",
        "Die nächste ist am Montag um 9 Uhr erreichbar: Hilfetelefon Sexueller Missbrauch, "
        "Telefon 0800 22 55 530.",
        "Im Internet finden Sie Hilfe beim Bundesverband der Frauenberatungsstellen und "
        "Frauennotrufe: aktiv minus gegen minus digitale minus gewalt punkt de.",
    ]


# -- (c) Saturday night: nothing open -----------------------------------------------------------

CLOSED_DE = [
    "Gerade ist leider keine passende Beratungsstelle am Telefon erreichbar.",
    "Die nächste ist am Montag um 9 Uhr erreichbar: Hilfetelefon Sexueller Missbrauch, Telefon 0800 22 55 530.",
    "Bei Juuuport beraten junge Menschen andere junge Menschen online, per WhatsApp oder E-Mail: "
    "juuuport punkt de.",
    "Im Internet finden Sie Hilfe beim Bundesverband der Frauenberatungsstellen und Frauennotrufe: "
    "aktiv minus gegen minus digitale minus gewalt punkt de.",
]


def test_saturday_night_0_says_when_the_next_line_opens_and_offers_guidance() -> None:
    call = call_at(SAT_NIGHT)
    root = call.press("0")
    assert dial(root) is None
    assert_menu(root, "menu?n=closed&l=de")
    assert texts(root) == [
        *CLOSED_DE,
        "Mit der 1 hören Sie Hinweise, was Sie jetzt schon tun können. "
        "Mit der 2 hören Sie alle Nummern und Sprechzeiten.",
        # no "0 connects you" while nothing is open: it could not be kept
        "Mit der Sterntaste kommen Sie zum Hauptmenü, mit der Rautetaste hören Sie alles noch einmal.",
    ]
    # the number in the sentence: digit groups with a short pause between them
    next_say = list(root.iter("Say"))[1]
    assert [(child.tag, child.text if child.tag == "say-as" else child.get("time")) for child in next_say] == [
        ("say-as", "0800"), ("break", "250ms"), ("say-as", "22"), ("break", "250ms"),
        ("say-as", "55"), ("break", "250ms"), ("say-as", "530")]
    assert_menu(call.press("1"), "menu?n=guidance&l=de")


# Rule 3: before the call ends with nothing open, the numbers to call later, best fit first.
NUMBERS_FOR_LATER_DE = [
    "Damit Sie später selbst anrufen können, hier die Nummern und Sprechzeiten:",
    "Hilfetelefon Sexueller Missbrauch: 0800 22 55 530. Sprechzeiten: Montag 9 Uhr bis 14 Uhr; "
    "Dienstag 15 Uhr bis 20 Uhr; Mittwoch 9 Uhr bis 14 Uhr; Donnerstag 15 Uhr bis 20 Uhr; "
    "Freitag 9 Uhr bis 14 Uhr.",
    "HateAid – Beratung für Betroffene digitaler Gewalt: 030 25208838. Sprechzeiten: Montag 10 Uhr "
    "bis 13 Uhr; Dienstag 15 Uhr bis 18 Uhr; Donnerstag 16 Uhr bis 19 Uhr.",
    "Nummer gegen Kummer – Elterntelefon: 0800 111 0 550. Sprechzeiten: Montag 9 Uhr bis 17 Uhr; "
    "Dienstag bis Donnerstag 9 Uhr bis 19 Uhr; Freitag 9 Uhr bis 17 Uhr.",
    "Nummer gegen Kummer – Kinder- und Jugendtelefon: 116 111. Sprechzeiten: Montag bis Samstag "
    "14 Uhr bis 20 Uhr.",
]


def test_saturday_night_silence_twice_reads_when_then_goodbye() -> None:
    call = call_at(SAT_NIGHT)
    assert_menu(call.silence(), "menu?n=main&l=de&r=1")
    root = call.silence()
    assert verbs(root) == ["Say"] * 10 + ["Hangup"]
    assert texts(root) == [*CLOSED_DE, *NUMBERS_FOR_LATER_DE, GOODBYE_DE]
    assert_every_say_is_voiced(root)


# -- (d) the Monday after the spring clock change -------------------------------------------------

def test_monday_after_the_spring_change_at_half_past_nine() -> None:
    call = call_at(DST_MONDAY)
    root = call.press("3")
    assert texts(root)[:5] == [
        "Jetzt erreichbar:",
        f"{NAME_DE['parents-line']}, bis 17 Uhr. Telefon 0800 111 0 550.",
        f"{NAME_DE['abuse-helpline']}, bis 14 Uhr. Telefon 0800 22 55 530.",
        f"{NAME_DE['kids-line']}, wieder heute um 14 Uhr. Telefon 116 111. "
        "Sprechzeiten: Montag bis Samstag 14 Uhr bis 20 Uhr.",
        f"{NAME_DE['hateaid']}, wieder heute um 10 Uhr. Telefon 030 25208838. "
        "Sprechzeiten: Montag 10 Uhr bis 13 Uhr; Dienstag 15 Uhr bis 18 Uhr; Donnerstag 16 Uhr bis 19 Uhr.",
    ]
    call.press("*")
    call.press("1")
    root = call.press("3")  # an adult: HateAid opens at 10, so the abuse helpline it is
    assert_dial(root, "abuse-helpline", "dialed?n=who&l=de&a=adult&t=abuse-helpline")


@pytest.mark.parametrize("pinned, open_for_adult", [
    ("2026-03-30T07:30Z", "abuse-helpline"),  # the same instant, written in UTC
    ("2026-03-30T09:30+02:00", "abuse-helpline"),
    ("2026-03-30T08:30Z", "hateaid"),  # an hour later: the mistake of keeping winter time
])
def test_ivr_now_in_utc_or_with_an_offset_is_the_same_instant(pinned: str, open_for_adult: str) -> None:
    call = call_at(pinned)
    call.press("1")
    assert dial_numbers(dial(call.press("3"))) == [PHONE[open_for_adult]]


# -- (e) English, by the language key -----------------------------------------------------------

def test_english_by_the_language_key() -> None:
    call = call_at(TUE)
    root = call.press("4")
    assert_menu(root, "menu?n=main&l=en")
    assert says(root) == [
        ("Helpline on abuse with intimate images: free, anonymous, nothing recorded. "
         "In immediate danger, hang up and dial 110 or 112.", *VOICE["en"]),
        ("Press 1 to reach an independent counselling service.", *VOICE["en"]),
        ("Press 2 for guidance on what you can do now. Press 3 to hear which counselling services can "
         "be reached, and when. Press 0 at any time to be connected straight away. Your number is not "
         "passed on.", *VOICE["en"]),
        ("Für Deutsch drücken Sie die 4.", *VOICE["de"]),  # offered in the other language
    ]
    root = call.press("0")
    assert says(root) == [("We are connecting you now to: Sexual abuse helpline. Please stay on the line, "
                           "this may take a moment.", *VOICE["en"])]
    assert_dial(root, "abuse-helpline", "dialed?n=main&l=en&t=abuse-helpline")
    root = call.dial_ends("completed")
    assert says(root) == [("Thank you for calling. If you need support again, you are welcome to call "
                           "back. Goodbye.", *VOICE["en"])]
    assert verbs(root) == ["Say", "Hangup"]


# -- (f) the Dial --------------------------------------------------------------------------------

@pytest.mark.parametrize("to", [SERVICE_NUMBER, "+4989998877665"])
def test_dial_shows_the_called_service_number_not_the_callers(to: str) -> None:
    call = call_at(TUE, to=to)
    root = call.press("0")
    assert_dial(root, "abuse-helpline", "dialed?n=main&l=de&t=abuse-helpline", to=to)
    assert CALLER_NUMBER not in ET.tostring(root, "unicode")


def test_without_a_usable_to_nothing_is_dialled_and_the_numbers_are_read() -> None:
    call = call_at(TUE, to="anonymous")
    root = call.press("0")
    assert dial(root) is None
    assert_menu(root, "menu?n=unreachable&l=de")
    assert texts(root)[0] == UNREACHABLE_DE
    assert [n for say in list(root.iter("Say"))[1:5] for n in spoken_numbers(say)] == [
        SPOKEN["abuse-helpline"], SPOKEN["hateaid"], SPOKEN["parents-line"], SPOKEN["kids-line"]]


# -- (g) the fallback chain through /dialed ----------------------------------------------------------

def test_busy_no_answer_failed_canceled_walk_the_open_lines_then_read_the_numbers() -> None:
    call = call_at(TUE)
    call.press("0")
    chain = [("busy", "Dort ist gerade besetzt.", "hateaid", "abuse-helpline%2Chateaid"),
             ("no-answer", "Dort hat gerade niemand abgenommen.", "parents-line",
              "abuse-helpline%2Chateaid%2Cparents-line"),
             ("failed", "Diese Verbindung hat leider nicht geklappt.", "kids-line",
              "abuse-helpline%2Chateaid%2Cparents-line%2Ckids-line")]
    for status, reason, line_id, tried in chain:
        root = call.dial_ends(status)
        assert texts(root) == [reason, "Wir versuchen es bei einer anderen Stelle.", connecting(line_id)]
        assert_dial(root, line_id, f"dialed?n=main&l=de&t={tried}")
    root = call.dial_ends("canceled")
    assert_menu(root, "menu?n=unreachable&l=de", said_before=1)
    assert texts(root)[:6] == [
        "Diese Verbindung hat leider nicht geklappt.",
        UNREACHABLE_DE,
        f"{NAME_DE['abuse-helpline']}: 0800 22 55 530.",
        f"{NAME_DE['hateaid']}: 030 25208838.",
        f"{NAME_DE['parents-line']}: 0800 111 0 550.",
        f"{NAME_DE['kids-line']}: 116 111.",
    ]


def test_completed_ends_the_call_politely() -> None:
    call = call_at(TUE)
    call.press("0")
    root = call.dial_ends("completed")
    assert verbs(root) == ["Say", "Hangup"]
    assert texts(root) == ["Danke für Ihren Anruf. Wenn Sie wieder Unterstützung brauchen, rufen Sie "
                           "gern erneut an. Auf Wiederhören."]


def test_a_dial_result_without_a_status_counts_as_failed() -> None:
    client = client_at(TUE)
    path = "/dialed?n=main&l=de&t=abuse-helpline"
    root = parse(post(client, path, twilio_form()))
    assert texts(root)[0] == "Diese Verbindung hat leider nicht geklappt."
    assert_dial(root, "hateaid", "dialed?n=main&l=de&t=abuse-helpline%2Chateaid")


# -- (h) every <Say>, on every path of the call ------------------------------------------------------

@cache
def every_answer(at: str) -> tuple[ET.Element, ...]:
    """Every distinct TwiML answer reachable from /voice at `at`: all choice keys, one unknown
    key, 0 * #, silence, and every dial result. Walked in-process (flow + renderer, the same
    code the webhooks call) because ~6000 HTTP round trips would cost seconds."""
    renderer = Renderer(C)
    now = parse_instant(at, C.directory.timezone)  # as IVR_NOW is read
    seen: dict[str, ET.Element] = {}
    todo = [flow.start(C, now)]
    while todo:
        step = todo.pop()
        xml = renderer.render(step, SERVICE_NUMBER)
        if xml in seen:
            continue
        seen[xml] = ET.fromstring(xml)
        then = step.then
        if isinstance(then, flow.Gather):
            for key in [*C.menu.node(then.state.node).keys, "9", "0", "*", "#"]:
                todo.append(flow.key_pressed(C, then.state, key, now))
            todo.append(flow.silence(C, then.state, now))
        elif isinstance(then, flow.Dial):
            for status in ("completed", "busy", "no-answer", "failed", "canceled"):
                todo.append(flow.dial_ended(C, then.state, status, now))
    return tuple(seen.values())


INSTANTS = [TUE, SAT_AFTERNOON, SAT_NIGHT]
KNOWN_NUMBERS = set(SPOKEN.values())


@pytest.mark.parametrize("at", INSTANTS)
def test_every_say_names_language_and_voice(at: str) -> None:
    answers = every_answer(at)
    assert len(answers) > 300  # the walk went everywhere
    for root in answers:
        assert_every_say_is_voiced(root)


@pytest.mark.parametrize("at", INSTANTS)
def test_numbers_are_only_ever_spoken_as_digit_groups(at: str) -> None:
    """Rule 8: every number is one of the printed ones, group by group; none as a cardinal."""
    for root in every_answer(at):
        for say in root.iter("Say"):
            for number in spoken_numbers(say):
                assert number in KNOWN_NUMBERS, (number, say_text(say))
                assert all(group.isdigit() for group in number)
            plain = (say.text or "") + "".join(child.tail or "" for child in say)
            assert not any(len(word.strip(".,:;")) >= 3 and word.strip(".,:;").isdigit()
                           for word in plain.split()), plain


@pytest.mark.parametrize("at", INSTANTS)
def test_no_sentence_has_a_doubled_full_stop(at: str) -> None:
    """English times end in "p.m."; a prompt's own full stop after one must not double it."""
    doubled = sorted({text for root in every_answer(at) for text, _, _ in says(root) if ".." in text})
    assert not doubled, doubled[:3]


def test_the_emergency_numbers_come_early_in_the_greeting() -> None:
    """Rule 6: 110 and 112 in the first <Say>, and the service never dials them."""
    root = call_at(TUE).root
    first = next(root.iter("Say"))
    assert spoken_numbers(first) == [("110",), ("112",)]
    for at in INSTANTS:
        for answer in every_answer(at):
            for element in answer.iter("Dial"):
                assert dial_numbers(element)[0] in PHONE.values()


# -- (i) signatures ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["missing", "wrong-token", "other-url", "other-digits"])
def test_requests_not_signed_by_twilio_for_this_url_and_form_get_403(case: str) -> None:
    client = client_at(TUE)
    path = "/menu?n=main&l=de"
    form = twilio_form(Digits="0")
    good = sign(BASE + path, form)
    signature = {
        "missing": None,
        "wrong-token": sign(BASE + path, form, token="not-" + TOKEN),
        "other-url": sign(BASE + "/menu?n=who&l=de", form),  # a state the caller was never in
        "other-digits": sign(BASE + path, twilio_form(Digits="1")),
    }[case]
    assert signature != good
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = client.post(path, data=form, headers=headers)
    assert response.status_code == 403
    assert response.get_data(as_text=True) == "Forbidden\n"
    # the control: the same request, signed right, is answered
    assert client.post(path, data=form, headers={"X-Twilio-Signature": good}).status_code == 200


# -- (j) nothing of the caller's in the log ---------------------------------------------------------

def test_a_whole_call_logs_nothing_of_the_callers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger that propagates
    call = call_at(TUE)
    call.press("3")
    call.press("1")
    call.press("9")
    call.press("3")
    call.dial_ends("busy")
    call.dial_ends("completed")
    client = client_at(TUE)
    client.post("/voice", data=twilio_form())  # refused: unsigned, and logged as such
    assert len(call.history) == 7
    assert any("IVR_NOW" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    for record in caplog.records:
        seen = " ".join([record.getMessage(), str(record.msg), repr(record.args), record.name,
                         repr(getattr(record, "exc_text", None))])
        for value in (CALLER_NUMBER, CALLER_NUMBER.lstrip("+"), "BERLIN"):
            assert value not in seen, f"{record.name} logged {value!r}: {record.getMessage()}"


# -- (k) the fallback -------------------------------------------------------------------------------

def test_fallback_answers_every_number_in_every_language() -> None:
    client = client_at(SAT_NIGHT)
    root = parse(post(client, "/fallback", twilio_form(ErrorCode="11200")))
    assert verbs(root)[-1] == "Hangup" and set(verbs(root)[:-1]) == {"Say"}
    assert_every_say_is_voiced(root)
    by_language: dict[str, list[tuple[str, ...]]] = {}
    for say in root.iter("Say"):
        by_language.setdefault(say.get("language"), []).extend(spoken_numbers(say))
    expected = [SPOKEN[i] for i in ("abuse-helpline", "hateaid", "parents-line", "kids-line")]
    assert by_language == {"de-DE": [*expected, ("110",), ("112",)],
                           "en-GB": [*expected, ("110",), ("112",)]}
    assert texts(root)[0] == ("Entschuldigung, hier ist gerade ein technischer Fehler aufgetreten. "
                              "Sie können diese Beratungsstellen direkt anrufen:")


def test_the_last_resort_answer_is_voiced_too() -> None:
    from ivr.web import EMERGENCY_TWIML
    root = ET.fromstring(EMERGENCY_TWIML.encode())
    assert_every_say_is_voiced(root)
