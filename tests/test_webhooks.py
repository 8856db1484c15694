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
import re
import xml.etree.ElementTree as ET
from functools import cache

import pytest
import yaml
from flask.testing import FlaskClient

from ivr.call import flow
from ivr.config.settings import bundled_dir, parse_instant
from ivr.config.loading import load_config
from ivr.call.twiml import Renderer
from twiml_helpers import (BASE, CALLER_NUMBER, LANGUAGE_NAMES, NAME_DE, PHONE, SERVICE_NUMBER, SPOKEN, TOKEN, VOICE,
                           Call, bundled_config, dial, dial_numbers, gather, make_app, parse, post, prompt,
                           redirect, say_text, says, sign, spoken_numbers, texts, twilio_form, verbs)

C = bundled_config()
TUE = "2026-11-24T15:30"
SAT_AFTERNOON = "2026-11-28T15:00"
SAT_NIGHT = "2026-11-28T22:00"
DST_MONDAY = "2026-03-30T09:30"
LONG_TALK = "600"  # DialCallDuration of a real conversation


def de(key: str, /, young: bool = False, **values: str) -> str:
    return prompt("de", key, young=young, **values)


def spoken(line_id: str) -> str:
    return " ".join(SPOKEN[line_id])


def line_de(key: str, line_id: str, /, **values: str) -> str:
    return de(key, name=NAME_DE[line_id], number=spoken(line_id), **values)


MAIN_DE = [de("main.connect"), de("emergency"), de("main.choices")]
# at the start, the five other languages come after the options for the young and for parents
_CONNECT = re.split(r"(?<=[.!?])\s+", de("main.connect"))
CONNECT_FIRST, CONNECT_REST = " ".join(_CONNECT[:2]), " ".join(_CONNECT[2:])
GREETING_DE = [de("greeting"), prompt("en", "language.offer", key="9"), CONNECT_FIRST,
               *(text for text, _, _ in LANGUAGE_NAMES), CONNECT_REST, *MAIN_DE[1:]]
GOODBYE_DE = [de("emergency"), de("goodbye")]  # every end without a talk: 110/112, then goodbye


def assert_every_say_is_voiced(root: ET.Element) -> None:
    """Rule 8: each <Say> names its language and a voice for that language."""
    for text, language, voice in says(root):
        assert (language, voice) in VOICE.values(), (text, language, voice)
        assert text, "an empty <Say>"


def client_at(at: str, token: str | None = TOKEN, config=None) -> FlaskClient:
    return make_app(at, token=token, config=config).test_client()


def call_at(at: str, to: str = SERVICE_NUMBER, config=None) -> Call:
    call = Call(client_at(at, config=config), to=to)
    call.start()
    return call


def assert_menu(root: ET.Element, action: str, said_before: int = 0) -> None:
    """A menu: one Gather listening for one key, # and * not swallowed, silence redirected;
    `said_before` <Say>s first (why a dial did not work: not interruptible by a key)."""
    assert verbs(root) == ["Say"] * said_before + ["Gather", "Redirect"], verbs(root)
    info = gather(root)
    assert info is not None
    wait = "2" if action.startswith("menu?n=main&") else "5"  # the main menu's own wait (menu.yaml)
    assert (info.action, info.method, info.num_digits, info.timeout, info.finish_on_key, info.input) == (
        action, "POST", "1", wait, "", "dtmf")
    assert redirect(root) == action
    assert root.find("Redirect").get("method") == "POST"
    assert_every_say_is_voiced(root)


def assert_dial(root: ET.Element, line_id: str, action: str, to: str = SERVICE_NUMBER) -> None:
    """Rule 7: the hotline sees the service's number; nothing is recorded. The German ring."""
    assert verbs(root)[-1] == "Dial" and verbs(root).count("Dial") == 1, verbs(root)
    element = dial(root)
    assert element.get("action") == action and element.get("method") == "POST"
    assert 20 <= int(element.get("timeout")) <= 25
    assert element.get("callerId") == to
    assert element.get("record") == "do-not-record"
    assert element.get("ringTone") == "de"
    assert dial_numbers(element) == [PHONE[line_id]]
    assert not (element.text or "").strip()
    assert_every_say_is_voiced(root)


def assert_goodbye(root: ET.Element, before: list[str] | None = None, young: bool = False) -> None:
    """The end of a call without a talk: `before`, then 110/112 once more, then goodbye."""
    said = [*(before or []), de("emergency"), de("goodbye", young=young)]
    assert verbs(root) == ["Say"] * len(said) + ["Hangup"], verbs(root)
    assert texts(root) == said
    assert spoken_numbers(list(root.iter("Say"))[-2]) == [("110",), ("112",)]
    assert_every_say_is_voiced(root)


# -- (a) Tuesday afternoon: all four lines open ---------------------------------------------

def test_tuesday_afternoon_greeting_english_then_a_person_first() -> None:
    call = call_at(TUE)
    assert_menu(call.root, "menu?n=main&l=de")
    assert texts(call.root) == GREETING_DE
    # English is offered second, in English (rule 10); then, after the keys for the young and
    # for parents, the five other languages, each in its own voice
    assert says(call.root)[1] == ("For English, press 9.", *VOICE["en"])
    assert CONNECT_REST == "Alle anderen: die 3."
    assert says(call.root)[3:8] == LANGUAGE_NAMES


def test_tuesday_afternoon_list_of_open_lines_then_0() -> None:
    call = call_at(TUE)
    root = call.press("5")
    assert_menu(root, "menu?n=hotlines&l=de")
    assert texts(root) == [
        de("hotlines.open_now"),
        line_de("hotlines.line_open", "kids-line", until="20 Uhr"), de("line.free_anonymous"),
        line_de("hotlines.line_open", "parents-line", until="19 Uhr"), de("line.free_anonymous"),
        line_de("hotlines.line_open", "hateaid", until="18 Uhr"), de("line.free"),
        line_de("hotlines.line_open", "abuse-helpline", until="20 Uhr"), de("line.free_anonymous"),
        de("service.anonymous"),
        de("hotlines.keys"),
        de("keys.common"),
    ]
    root = call.press("0")
    assert texts(root) == [de("connect.now")]  # short, without the hotline's name
    assert_dial(root, "abuse-helpline", "dialed?n=hotlines&l=de&t=abuse-helpline")


@pytest.mark.parametrize("key, audience, line_id", [("1", "young_person", "kids-line"),
                                                    ("2", "parent", "parents-line"),
                                                    ("3", "adult", "hateaid")])
def test_tuesday_afternoon_the_main_menus_keys_dial_the_best_fit_at_once(key: str, audience: str,
                                                                         line_id: str) -> None:
    call = call_at(TUE)
    root = call.press(key)
    assert verbs(root) == ["Say", "Dial"] and texts(root) == [de("connect.now")]
    assert_dial(root, line_id, f"dialed?n=main&l=de&a={audience}&t={line_id}")


# -- (b) exactly one line open ------------------------------------------------------------------

ONLY_SOME_DE = [
    line_de("only_some.young_person", "kids-line"),
    line_de("only_some.next_all", "abuse-helpline", when="am Montag um 9 Uhr"),
    de("only_some.keys"),
    de("keys.common_closed"),
]


@pytest.mark.parametrize("first", ["0", "silence"])
def test_saturday_afternoon_nobody_said_who_is_calling_hears_who_can_reach_the_open_line(first: str) -> None:
    """Only the children's line is open: a caller who has not said who they are (0, or silence
    at the main menu) is not put through to it, but hears it with the key for young callers, and
    when a line for everyone opens. Silence again: the numbers, 110/112 and goodbye."""
    call = call_at(SAT_AFTERNOON)
    root = call.press("0") if first == "0" else call.silence()
    assert dial(root) is None
    assert_menu(root, "menu?n=only_some&l=de")
    assert texts(root) == ONLY_SOME_DE
    end = call.silence()
    assert dial(end) is None and verbs(end)[-1] == "Hangup"
    assert texts(end)[:2] == [de("closed.none_open"),
                              line_de("closed.next", "abuse-helpline", when="am Montag um 9 Uhr")]
    assert texts(end)[-2:] == GOODBYE_DE
    assert line_de("closed.line", "kids-line", hours="Montag bis Samstag 14 Uhr bis 20 Uhr") in texts(end)


def test_saturday_afternoon_the_one_open_line_then_its_number_when_busy() -> None:
    call = call_at(SAT_AFTERNOON)
    call.press("0")
    root = call.press("1")  # under 18, the key named for the open line
    assert_dial(root, "kids-line", "dialed?n=only_some&l=de&a=young_person&t=kids-line")
    root = call.dial_ends("busy")
    assert_menu(root, "menu?n=unreachable&l=de&a=young_person", said_before=1)
    assert texts(root) == [
        de("connect.busy"),
        de("unreachable.intro", young=True),
        line_de("unreachable.line", "kids-line"),
        # the other lines for young callers are closed: what the directory says about them
        de("closed.about.abuse-helpline", young=True),
        de("closed.about.hateaid", young=True),
        de("unreachable.keys"),
        de("keys.common"),
    ]
    assert_menu(call.silence(), "menu?n=unreachable&l=de&a=young_person&r=1")  # repeated once
    assert_goodbye(call.silence(), young=True)


def test_saturday_afternoon_an_adult_is_never_put_through_to_the_childrens_line() -> None:
    call = call_at(SAT_AFTERNOON)
    root = call.press("3")
    assert dial(root) is None
    assert_menu(root, "menu?n=closed&l=de&a=adult")
    assert texts(root)[:5] == [
        de("closed.none_open"),
        line_de("closed.next", "abuse-helpline", when="am Montag um 9 Uhr"),
        de("closed.about.hateaid"),
        de("closed.about.abuse-helpline"),
        de("closed.online.women-counselling"),
    ]
    # the web address as people say it, never "minus"
    assert texts(root)[4].endswith(": aktiv gegen digitale gewalt, mit Bindestrichen, Punkt de.")


# -- (c) Saturday night: nothing open -----------------------------------------------------------

CLOSED_DE = [
    de("closed.none_open"),
    line_de("closed.next", "abuse-helpline", when="am Montag um 9 Uhr"),
    de("closed.about.abuse-helpline"),
    de("closed.about.hateaid"),
    de("closed.online.juuuport"),
    de("closed.online.women-counselling"),
]


def test_saturday_night_0_says_when_the_next_line_opens_and_offers_guidance() -> None:
    call = call_at(SAT_NIGHT)
    said = texts(call.root)  # no promise of a connection; the languages after its first sentence
    assert f"{said[2]} {said[8]}" == de("main.connect_closed") and said[3:8] == [t for t, _, _ in LANGUAGE_NAMES]
    root = call.press("0")
    assert dial(root) is None
    assert_menu(root, "menu?n=closed&l=de")
    assert texts(root) == [
        *CLOSED_DE,
        de("closed.keys"),
        # no "0 connects you" while nothing is open: it could not be kept
        de("keys.common_closed"),
    ]
    # the number in the sentence: digit groups with a short pause between them
    next_say = list(root.iter("Say"))[1]
    assert [(child.tag, child.text if child.tag == "say-as" else child.get("time")) for child in next_say] == [
        ("say-as", "0800"), ("break", "250ms"), ("say-as", "22"), ("break", "250ms"),
        ("say-as", "55"), ("break", "250ms"), ("say-as", "530")]
    assert_menu(call.press("1"), "menu?n=guidance&l=de")


# Rule 3: before the call ends with nothing open, the numbers to call later, best fit first.
NUMBERS_FOR_LATER_DE = [
    de("closed.numbers"),
    line_de("closed.line", "abuse-helpline",
            hours="Montag 9 Uhr bis 14 Uhr; Dienstag 15 Uhr bis 20 Uhr; Mittwoch 9 Uhr bis 14 Uhr; "
                  "Donnerstag 15 Uhr bis 20 Uhr; Freitag 9 Uhr bis 14 Uhr"),
    de("line.free_anonymous"),
    line_de("closed.line", "hateaid",
            hours="Montag 10 Uhr bis 13 Uhr; Dienstag 15 Uhr bis 18 Uhr; Donnerstag 16 Uhr bis 19 Uhr"),
    de("line.free"),
    # then the lines for some callers: their names say whom they serve
    line_de("closed.line", "kids-line", hours="Montag bis Samstag 14 Uhr bis 20 Uhr"),
    de("line.free_anonymous"),
    line_de("closed.line", "parents-line",
            hours="Montag 9 Uhr bis 17 Uhr; Dienstag bis Donnerstag 9 Uhr bis 19 Uhr; Freitag 9 Uhr bis 17 Uhr"),
    de("line.free_anonymous"),
]


def test_saturday_night_one_silence_reads_when_the_numbers_110_112_then_goodbye() -> None:
    """Rule 3 and 6: the main menu is played once; silence then ends the call kindly, with the
    emergency numbers right before the goodbye."""
    call = call_at(SAT_NIGHT)
    assert_goodbye(call.silence(), [*CLOSED_DE, *NUMBERS_FOR_LATER_DE])


# -- (d) the Monday after the spring clock change -------------------------------------------------

def test_monday_after_the_spring_change_at_half_past_nine() -> None:
    call = call_at(DST_MONDAY)
    root = call.press("5")
    assert [t for t in texts(root) if not t.startswith(("Anonym", "Die Beratung ist"))][:6] == [
        de("hotlines.open_now"),
        line_de("hotlines.line_open", "parents-line", until="17 Uhr"),
        line_de("hotlines.line_open", "abuse-helpline", until="14 Uhr"),
        de("hotlines.later"),
        line_de("hotlines.line_closed", "kids-line", when="heute um 14 Uhr",
                hours="Montag bis Samstag 14 Uhr bis 20 Uhr"),
        line_de("hotlines.line_closed", "hateaid", when="heute um 10 Uhr",
                hours="Montag 10 Uhr bis 13 Uhr; Dienstag 15 Uhr bis 18 Uhr; Donnerstag 16 Uhr bis 19 Uhr"),
    ]
    call.press("*")
    root = call.press("3")  # an adult: HateAid opens at 10, so the abuse helpline it is
    assert_dial(root, "abuse-helpline", "dialed?n=main&l=de&a=adult&t=abuse-helpline")


@pytest.mark.parametrize("pinned, open_for_adult", [
    ("2026-03-30T07:30Z", "abuse-helpline"),  # the same instant, written in UTC
    ("2026-03-30T09:30+02:00", "abuse-helpline"),
    ("2026-03-30T08:30Z", "hateaid"),  # an hour later: the mistake of keeping winter time
])
def test_ivr_now_in_utc_or_with_an_offset_is_the_same_instant(pinned: str, open_for_adult: str) -> None:
    call = call_at(pinned)
    assert dial_numbers(dial(call.press("3"))) == [PHONE[open_for_adult]]


# -- (e) English, by the language key -----------------------------------------------------------

def test_english_by_the_language_key() -> None:
    call = call_at(TUE)
    root = call.press("9")
    assert_menu(root, "menu?n=main&l=en")
    en = [prompt("en", key) for key in ("main.connect", "emergency", "main.choices")]
    assert says(root) == [
        (prompt("en", "greeting"), *VOICE["en"]),
        (prompt("de", "language.offer", key="9"), *VOICE["de"]),  # offered in the other language
        *((text, *VOICE["en"]) for text in en),
    ]
    assert spoken_numbers(list(root.iter("Say"))[3]) == [("110",), ("112",)]
    root = call.press("0")
    assert says(root) == [(prompt("en", "connect.now"), *VOICE["en"])]
    assert_dial(root, "abuse-helpline", "dialed?n=main&l=en&t=abuse-helpline")
    root = call.dial_ends("completed", LONG_TALK)
    assert says(root) == [(prompt("en", "connect.done"), *VOICE["en"])]
    assert verbs(root) == ["Say", "Hangup"]


def test_4_at_the_main_menu_is_the_guidance_in_either_language() -> None:
    call = call_at(TUE)
    assert_menu(call.press("4"), "menu?n=guidance&l=de")
    call = call_at(TUE)
    call.press("9")
    assert_menu(call.press("4"), "menu?n=guidance&l=en")


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
    assert texts(root)[0] == de("unreachable.intro")
    # a caller who has not said who they are: only the lines for everyone
    assert [n for say in list(root.iter("Say"))[1:3] for n in spoken_numbers(say)] == [
        SPOKEN["abuse-helpline"], SPOKEN["hateaid"]]


OWN_CALLER_ID = "+4930555000111"


@pytest.fixture(scope="module")
def with_caller_id(tmp_path_factory: pytest.TempPathFactory):
    """The bundled config, with `service.caller_id` set in hotlines.yaml."""
    data = tmp_path_factory.mktemp("data")
    for source in bundled_dir("data").iterdir():
        if source.is_file():
            (data / source.name).write_bytes(source.read_bytes())
    hotlines = yaml.safe_load((data / "hotlines.yaml").read_text(encoding="utf-8"))
    hotlines.setdefault("service", {})["caller_id"] = OWN_CALLER_ID
    (data / "hotlines.yaml").write_text(yaml.safe_dump(hotlines, sort_keys=False, allow_unicode=True),
                                        encoding="utf-8")
    return load_config(data, bundled_dir("prompts"))


@pytest.mark.parametrize("to", [SERVICE_NUMBER, "anonymous"])
def test_a_service_caller_id_from_the_directory_is_what_the_hotline_sees(with_caller_id, to: str) -> None:
    """Rule 7: the operator's caller ID replaces the called number, and still never the caller's;
    with it, a call whose To is unusable is put through too."""
    call = call_at(TUE, to=to, config=with_caller_id)
    root = call.press("0")
    assert_dial(root, "abuse-helpline", "dialed?n=main&l=de&t=abuse-helpline", to=OWN_CALLER_ID)
    root = call.dial_ends("busy")
    assert dial(root).get("callerId") == OWN_CALLER_ID
    assert CALLER_NUMBER not in ET.tostring(root, "unicode")


# -- (g) the fallback chain through /dialed ----------------------------------------------------------

def test_busy_no_answer_failed_canceled_walk_the_open_lines_then_read_the_numbers() -> None:
    call = call_at(TUE)
    call.press("0")
    # nobody said who is calling: only the lines for everyone, never the parents' or children's
    root = call.dial_ends("busy")
    # why, then that the next is tried: short, not interruptible, no hotline name
    assert texts(root) == [de("connect.busy"), de("connect.next")]
    assert_dial(root, "hateaid", "dialed?n=main&l=de&t=abuse-helpline%2Chateaid")
    root = call.dial_ends("no-answer")
    assert_menu(root, "menu?n=unreachable&l=de", said_before=1)
    assert texts(root)[:4] == [
        de("connect.no_answer"),
        de("unreachable.intro"),
        *(line_de("unreachable.line", i) for i in ("abuse-helpline", "hateaid")),
    ]


def test_a_parent_walks_the_lines_for_parents_then_reads_the_numbers() -> None:
    call = call_at(TUE)
    call.press("2")
    chain = [("busy", "connect.busy", "abuse-helpline", "parents-line%2Cabuse-helpline"),
             ("no-answer", "connect.no_answer", "hateaid", "parents-line%2Cabuse-helpline%2Chateaid")]
    for status, reason, line_id, tried in chain:
        root = call.dial_ends(status)
        assert texts(root) == [de(reason), de("connect.next")]
        assert_dial(root, line_id, f"dialed?n=main&l=de&a=parent&t={tried}")
    root = call.dial_ends("canceled")
    assert_menu(root, "menu?n=unreachable&l=de&a=parent", said_before=1)
    assert texts(root)[:5] == [
        de("connect.failed"),
        de("unreachable.intro"),
        *(line_de("unreachable.line", i) for i in ("parents-line", "abuse-helpline", "hateaid")),
    ]


@pytest.mark.parametrize("status", ["completed", "answered"])
@pytest.mark.parametrize("seconds", ["30", LONG_TALK])
def test_a_talk_of_some_length_ends_the_call_politely(status: str, seconds: str) -> None:
    call = call_at(TUE)
    call.press("0")
    root = call.dial_ends(status, seconds)
    assert verbs(root) == ["Say", "Hangup"]
    assert texts(root) == [de("connect.done")]


@pytest.mark.parametrize("status", ["completed", "answered"])
@pytest.mark.parametrize("seconds", ["0", "29", None, "", "12s", "-5"])
def test_a_short_completed_dial_offers_the_next_line_and_the_numbers(status: str, seconds: str | None) -> None:
    """Rule 4: a short "completed" (or one whose length Twilio did not say) may have been a
    voicemail: the caller hears the open lines' numbers and 1 tries the next line."""
    call = call_at(TUE)
    call.press("3")  # an adult: HateAid first
    root = call.dial_ends(status, seconds)
    assert_menu(root, "menu?n=short_talk&l=de&a=adult&t=hateaid")
    assert texts(root) == [de("short_talk.intro"), line_de("unreachable.line", "hateaid"),
                           line_de("unreachable.line", "abuse-helpline"), de("short_talk.keys"),
                           de("keys.common")]
    root = call.press("1")
    assert texts(root) == [de("connect.next")]
    assert_dial(root, "abuse-helpline", "dialed?n=short_talk&l=de&a=adult&t=hateaid%2Cabuse-helpline")
    assert texts(call.dial_ends("completed", LONG_TALK)) == [de("connect.done")]


@pytest.mark.parametrize("status", [None, "", "BUSY", "weird", "Completed", "no_answer"])
def test_a_dial_result_that_is_not_clearly_a_talk_tries_the_next_line(status: str | None) -> None:
    client = client_at(TUE)
    path = "dialed?n=main&l=de&t=abuse-helpline"
    form = twilio_form(DialCallDuration=LONG_TALK, **({} if status is None else {"DialCallStatus": status}))
    root = parse(post(client, path, form))
    assert texts(root) == [de("connect.failed"), de("connect.next")]
    assert_dial(root, "hateaid", "dialed?n=main&l=de&t=abuse-helpline%2Chateaid")


# -- (h) every <Say>, on every path of the call ------------------------------------------------------

DIAL_RESULTS = [("completed", 600), ("completed", 0), ("answered", None), ("busy", 0), ("no-answer", 0),
                ("failed", 0), ("canceled", 0), ("BUSY", 0)]


@cache
def every_answer(at: str) -> tuple[ET.Element, ...]:
    """Every distinct TwiML answer reachable from /voice at `at`: all choice keys, one unknown
    key, 0 * #, silence, and every dial result. Walked in-process (flow + renderer, the same
    code the webhooks call) because thousands of HTTP round trips would cost seconds."""
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
            for key in [*C.menu.node(then.state.node).keys, "7", "0", "*", "#"]:
                todo.append(flow.key_pressed(C, then.state, key, now))
            todo.append(flow.silence(C, then.state, now))
        elif isinstance(then, flow.Dial):
            for status, seconds in DIAL_RESULTS:
                todo.append(flow.dial_ended(C, then.state, status, seconds, now))
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


@pytest.mark.parametrize("at", INSTANTS)
def test_no_web_address_is_read_with_minus(at: str) -> None:
    said = {text for root in every_answer(at) for text, _, _ in says(root)}
    assert not [text for text in said if "minus" in text.lower()]


def test_the_emergency_numbers_come_in_the_first_sentences_after_the_key_for_a_person() -> None:
    """Rule 6: 110 and 112 in the first sentences (right after the first option, rule 1), and
    the service never dials them."""
    root = call_at(TUE).root
    numbers = [spoken_numbers(say) for say in root.iter("Say")]
    emergency = numbers.index([("110",), ("112",)])
    # right after the keys for a person (the five languages are named among them)
    assert texts(root)[emergency - 1] == CONNECT_REST and texts(root).index(CONNECT_FIRST) == 2
    for at in INSTANTS:
        for answer in every_answer(at):
            for element in answer.iter("Dial"):
                assert dial_numbers(element)[0] in PHONE.values()


@pytest.mark.parametrize("at", INSTANTS)
def test_every_end_without_a_talk_says_110_and_112_right_before_goodbye(at: str) -> None:
    """Rule 6, on every path: a hang-up follows either a talk (connect.done) or 110/112 and
    the goodbye."""
    done = {prompt(lang, "connect.done", young=young) for lang in VOICE for young in (False, True)}
    goodbye = {prompt(lang, "goodbye", young=young) for lang in VOICE for young in (False, True)}
    ends = [root for root in every_answer(at) if verbs(root)[-1:] == ["Hangup"]]
    assert ends
    without_talk = 0
    for root in ends:
        said = list(root.iter("Say"))
        if len(said) == 1 and say_text(said[0]) in done:
            continue  # after a talk of some length: thanks, nothing more
        assert say_text(said[-1]) in goodbye, texts(root)
        assert spoken_numbers(said[-2]) == [("110",), ("112",)], texts(root)
        without_talk += 1
    assert without_talk


# -- (i) signatures ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["missing", "wrong-token", "other-url", "other-digits"])
def test_requests_not_signed_by_twilio_for_this_url_and_form_get_403(case: str) -> None:
    client = client_at(TUE)
    path = "menu?n=main&l=de"
    form = twilio_form(Digits="0")
    good = sign(BASE + path, form)
    signature = {
        "missing": None,
        "wrong-token": sign(BASE + path, form, token="not-" + TOKEN),
        "other-url": sign(BASE + "menu?n=guidance&l=de", form),  # a state the caller was never in
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
    call.press("5")
    call.press("7")  # no such key here
    call.press("*")
    call.press("2")
    call.dial_ends("busy")
    call.dial_ends("completed", "4")  # short: maybe a voicemail
    call.press("1")
    call.dial_ends("completed", LONG_TALK)
    client = client_at(TUE)
    client.post("/voice", data=twilio_form())  # refused: unsigned, and logged as such
    assert len(call.history) == 9
    assert verbs(call.root) == ["Say", "Hangup"]
    assert any("IVR_NOW" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    for record in caplog.records:
        seen = " ".join([record.getMessage(), str(record.msg), repr(record.args), record.name,
                         repr(getattr(record, "exc_text", None))])
        for value in (CALLER_NUMBER, CALLER_NUMBER.lstrip("+"), "BERLIN"):
            assert value not in seen, f"{record.name} logged {value!r}: {record.getMessage()}"


# -- (k) the fallback -------------------------------------------------------------------------------

def test_fallback_answers_every_number_in_every_language() -> None:
    """Rule 6: in the fallback, 110/112 come first (in each language), then every line."""
    client = client_at(SAT_NIGHT)
    root = parse(post(client, "/fallback", twilio_form(ErrorCode="11200")))
    assert verbs(root)[-1] == "Hangup" and set(verbs(root)[:-1]) == {"Say"}
    assert_every_say_is_voiced(root)
    by_language: dict[str, list[tuple[str, ...]]] = {}
    for say in root.iter("Say"):
        by_language.setdefault(say.get("language"), []).extend(spoken_numbers(say))
    # the lines for everyone first, then the others (their names say whom they serve)
    expected = [SPOKEN[i] for i in ("abuse-helpline", "hateaid", "kids-line", "parents-line")]
    assert by_language == {"de-DE": [("110",), ("112",), *expected],
                           "en-GB": [("110",), ("112",), *expected]}
    assert texts(root)[:2] == [de("emergency"), de("error.apology")]
    assert texts(root)[2] == line_de("error.line", "abuse-helpline",
                                     hours="Montag 9 Uhr bis 14 Uhr; Dienstag 15 Uhr bis 20 Uhr; Mittwoch 9 Uhr "
                                           "bis 14 Uhr; Donnerstag 15 Uhr bis 20 Uhr; Freitag 9 Uhr bis 14 Uhr")
    english = [text for text, language, _ in says(root) if language == "en-GB"]
    assert english[:2] == [prompt("en", "emergency"), prompt("en", "error.apology")]
    # a goodbye that fits every caller, a child too: no "Sie", no "du"
    assert english[-1] == prompt("en", "error.goodbye") and texts(root)[-1] == prompt("en", "error.goodbye")
    german_goodbye = [text for text, language, _ in says(root) if language == "de-DE"][-1]
    assert german_goodbye == de("error.goodbye")
    assert not re.search(r"\b(Sie|Ihnen|Ihr\w*|du|dich|dir|dein\w*)\b", german_goodbye)


def test_the_last_resort_answer_is_voiced_too() -> None:
    from ivr.serve.webhooks import EMERGENCY_TWIML
    root = ET.fromstring(EMERGENCY_TWIML.encode())
    assert_every_say_is_voiced(root)
