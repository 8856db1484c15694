"""The call rules of DESIGN.md ("The call, as a caller meets it"), one test or table each, on the
pure flow: (state, what the caller did, an explicit instant) -> Step. No Flask, no clock.

Instants used (Europe/Berlin wall clock, see data/hotlines.yaml):
- Tue 2026-11-24 15:30: all four lines open.
- Sat 2026-11-28 15:00: only the children's line (kids-line) open.
- Sat 2026-11-28 22:00: nothing open; the next opening is Monday 09:00.
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace

import pytest

from ivr import flow, schedule
from ivr.directory import ANYONE, AUDIENCES
from ivr.flow import CallState, Dial, Gather, Hangup, Say, Step
from ivr.speech import Key, Text
from ivr.twiml import Renderer
from twiml_helpers import NAME_DE, NAME_EN, PHONE, berlin, bundled_config

C = bundled_config()
R = Renderer(C)
NODES = sorted(C.menu.nodes)
END_NODES = (flow.CLOSED_NODE, flow.UNREACHABLE_NODE)  # give-up there ends the call kindly
ALL_OPEN = berlin(2026, 11, 24, 15, 30)
ONLY_KIDS = berlin(2026, 11, 28, 15, 0)
NONE_OPEN = berlin(2026, 11, 28, 22, 0)
NAMES = {"de": NAME_DE, "en": NAME_EN}
WHO_KEY = {"young_person": "1", "parent": "2", "adult": "3", "supporter": "4"}
# best fit per audience when every line is open (data/hotlines.yaml, best_fit)
BEST_FIT = {
    ANYONE: ["abuse-helpline", "hateaid", "parents-line", "kids-line"],
    "young_person": ["kids-line", "abuse-helpline", "hateaid"],
    "parent": ["parents-line", "abuse-helpline", "hateaid"],
    "adult": ["hateaid", "abuse-helpline"],
    "supporter": ["hateaid", "abuse-helpline", "parents-line"],
}


def heard(step: Step) -> list[Say]:
    """Everything the caller hears in this step: before the verb, then inside the Gather."""
    return [*step.say, *(step.then.say if isinstance(step.then, Gather) else ())]


def keys(step: Step) -> list[str]:
    return [item.key for item in heard(step)]


def sentence(step: Step, key: str) -> str:
    """The one sentence said for prompt `key` in this step, as plain text."""
    found = [R.text(item, step.lang) for item in heard(step) if item.key == key]
    assert len(found) == 1, (key, keys(step))
    return found[0]


def connect_now(line_id: str, lang: str = "de") -> Say:
    return Say("connect.now", (("name", Text(NAMES[lang][line_id])),))


def node_prompts(node_id: str, nothing_open: bool = False) -> list[str]:
    """The prompt keys a node reads when nothing time-dependent is shown (menu.yaml); while
    nothing is open, its say_when_closed and the common keys without "0 connects"."""
    node = C.menu.node(node_id)
    extra = ["language.offer"] if node.offer_language else []
    common = [] if node_id == C.menu.start else ["keys.common_closed" if nothing_open else "keys.common"]
    return [*node.prompts(nothing_open), *extra, *common]


# -- rule 1: a person within one key press --------------------------------------------------

def test_greeting_is_followed_first_by_how_to_reach_a_person() -> None:
    step = flow.start(C, ALL_OPEN)
    assert step.say == () and isinstance(step.then, Gather)
    assert step.then.state == CallState("main", "de")
    assert keys(step) == ["greeting", "main.connect", "main.choices", "language.offer"]
    offer = step.then.say[-1]
    assert offer.lang == "en" and offer.args == (("key", Key("4")),)


def test_at_night_the_first_option_says_nothing_is_open_and_how_to_hear_when() -> None:
    step = flow.start(C, NONE_OPEN)
    assert keys(step) == ["greeting", "main.connect_closed", "main.choices_closed", "language.offer"]
    assert sentence(step, "main.connect_closed") == "Gerade ist keine Beratungsstelle am Telefon erreichbar."
    assert sentence(step, "main.choices_closed").startswith("Mit der 1 hören Sie, wann die nächste erreichbar ist.")
    # and 1 keeps that promise: who is calling, then when their line opens
    who = flow.key_pressed(C, step.then.state, "1", NONE_OPEN)
    closed = flow.key_pressed(C, who.then.state, "3", NONE_OPEN)
    assert keys(closed)[:2] == ["closed.none_open", "closed.next"]


def test_the_hotline_list_at_night_offers_when_not_a_connection() -> None:
    step = flow.key_pressed(C, CallState("main", "en"), "3", NONE_OPEN)
    assert keys(step)[-2:] == ["hotlines.keys_closed", "keys.common_closed"]
    assert sentence(step, "hotlines.keys_closed") == "Press 1 to hear when the next service opens. Press 2 for guidance."


# -- rule 2: same keys everywhere ------------------------------------------------------------

@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("node", NODES)
def test_0_connects_to_the_best_open_line_from_any_node(node: str, lang: str) -> None:
    """0 asks nothing: whatever was chosen or tried before, the best line for anyone."""
    state = CallState(node, lang, audience="young_person", tries=2, tried=("abuse-helpline",))
    step = flow.key_pressed(C, state, "0", ALL_OPEN)
    assert step == Step(lang, (connect_now("abuse-helpline", lang),),
                        Dial("abuse-helpline", PHONE["abuse-helpline"],
                             CallState(node, lang, ANYONE, 0, ("abuse-helpline",)), timeout=22))


@pytest.mark.parametrize("node", NODES)
def test_star_goes_back_to_the_main_menu_from_any_node(node: str) -> None:
    state = CallState(node, "en", audience="parent", tries=2, tried=("parents-line",))
    step = flow.key_pressed(C, state, "*", ALL_OPEN)
    assert step.say == () and isinstance(step.then, Gather)
    assert step.then.state == CallState("main", "en", "parent")
    assert keys(step) == ["main.connect", "main.choices", "language.offer"]  # no second greeting


def true_at(node: str, at: dt.datetime) -> bool:
    """The closed menu is only reached when no line is open, the unreachable one only when some
    are; a state that says otherwise is re-decided (see the tests of calls that outlive it)."""
    return {flow.CLOSED_NODE: at == NONE_OPEN, flow.UNREACHABLE_NODE: at != NONE_OPEN}.get(node, True)


SITUATIONS = [pytest.param(node, at, id=f"{node}-{name}") for node in NODES
              for name, at in (("all-open", ALL_OPEN), ("none-open", NONE_OPEN)) if true_at(node, at)]


@pytest.mark.parametrize("node, at", SITUATIONS)
def test_hash_repeats_the_node_and_resets_its_count(node: str, at: dt.datetime) -> None:
    state = CallState(node, "de", audience="adult", tries=2)
    step = flow.key_pressed(C, state, "#", at)
    assert step.say == () and isinstance(step.then, Gather)
    assert step.then.state == replace(state, tries=0)
    assert step.then.say == flow.silence(C, replace(state, tries=0), at).then.say  # the same words
    if C.menu.node(node).show is None:
        assert keys(step) == node_prompts(node, nothing_open=at == NONE_OPEN)


# -- rule 3: silence is not a hang-up; unknown keys; never loop for ever ----------------------

@pytest.mark.parametrize("node", [n for n in NODES if n not in END_NODES])
def test_silence_repeats_once_then_connects(node: str) -> None:
    state = CallState(node, "de")
    first = flow.silence(C, state, ALL_OPEN)
    assert first.say == () and isinstance(first.then, Gather)
    assert first.then.state == replace(state, tries=1)
    assert first.then.say == flow.key_pressed(C, state, "#", ALL_OPEN).then.say
    second = flow.silence(C, first.then.state, ALL_OPEN)
    assert second.then == Dial("abuse-helpline", PHONE["abuse-helpline"],
                               CallState(node, "de", ANYONE, 0, ("abuse-helpline",)))


def test_silence_twice_connects_by_the_audience_already_known() -> None:
    state = CallState("guidance", "de", audience="adult")
    step = flow.silence(C, flow.silence(C, state, ALL_OPEN).then.state, ALL_OPEN)
    assert isinstance(step.then, Dial) and step.then.line_id == "hateaid"


@pytest.mark.parametrize("node", [n for n in NODES if n not in END_NODES])
def test_silence_twice_when_none_is_open_says_when_and_goodbye(node: str) -> None:
    first = flow.silence(C, CallState(node, "de"), NONE_OPEN)
    step = flow.silence(C, first.then.state, NONE_OPEN)
    assert isinstance(step.then, Hangup)
    assert keys(step) == ["closed.none_open", "closed.next", "closed.online.juuuport",
                          "closed.online.women-counselling", "closed.numbers",
                          *["closed.line"] * len(C.directory.lines), "goodbye"]
    assert sentence(step, "closed.next") == (
        "Die nächste ist am Montag um 9 Uhr erreichbar: Hilfetelefon Sexueller Missbrauch, "
        "Telefon 0800 22 55 530.")


@pytest.mark.parametrize("node, at", [s for s in SITUATIONS if s.values[0] in END_NODES])
def test_silence_twice_where_the_numbers_were_just_read_ends_kindly(node: str, at: dt.datetime) -> None:
    first = flow.silence(C, CallState(node, "en"), at)
    assert isinstance(first.then, Gather) and first.then.state.tries == 1
    assert flow.silence(C, first.then.state, at) == Step("en", (Say("goodbye"),), Hangup())


UNKNOWN = [(node, key) for node in NODES for key in "123456789"
           if key not in C.menu.node(node).keys]


@pytest.mark.parametrize("node, key", UNKNOWN)
def test_unknown_key_is_named_and_the_menu_repeated(node: str, key: str) -> None:
    state = CallState(node, "de")
    at = ALL_OPEN if true_at(node, ALL_OPEN) else NONE_OPEN
    step = flow.key_pressed(C, state, key, at)
    assert isinstance(step.then, Gather) and step.then.state == replace(state, tries=1)
    assert step.then.say[0] == Say("key.unknown", (("key", Key(key)),))
    assert step.then.say[1:] == flow.silence(C, state, at).then.say


@pytest.mark.parametrize("lang, text", [("de", "Die Taste 9 ist hier nicht belegt."),
                                        ("en", "The key 9 has no function here.")])
def test_unknown_key_sentence(lang: str, text: str) -> None:
    step = flow.key_pressed(C, CallState("main", lang), "9", ALL_OPEN)
    assert sentence(step, "key.unknown") == text


@pytest.mark.parametrize("node, at", SITUATIONS)
def test_unknown_keys_in_a_row_are_bounded(node: str, at: dt.datetime) -> None:
    """Two unknown keys are answered with the menu; the third moves on for the caller."""
    state = CallState(node, "de")
    for tries in (1, 2):
        step = flow.key_pressed(C, state, "9", at)
        assert isinstance(step.then, Gather) and step.then.state == replace(state, tries=tries)
        state = step.then.state
    final = flow.key_pressed(C, state, "9", at)
    assert final == flow.silence(C, replace(state, tries=1), at)  # the same give-up as silence
    assert not isinstance(final.then, Gather)


@pytest.mark.parametrize("at", [ALL_OPEN, ONLY_KIDS, NONE_OPEN], ids=["all-open", "only-kids", "none-open"])
@pytest.mark.parametrize("node", NODES)
def test_no_mix_of_silence_and_unknown_keys_loops(node: str, at: dt.datetime) -> None:
    for inputs in itertools.product(["silence", "9"], repeat=3):
        state = CallState(node, "de")
        for n, what in enumerate(inputs, 1):
            step = (flow.silence(C, state, at) if what == "silence"
                    else flow.key_pressed(C, state, what, at))
            if not isinstance(step.then, Gather):
                break
            state = step.then.state
        else:
            pytest.fail(f"{node}: {inputs} is still in a menu")
        assert isinstance(step.then, (Dial, Hangup))


# -- rule 4: only open lines, best fit first; the fallback chain ------------------------------

def _sweep() -> list[dt.datetime]:
    """Every hour and half hour of an ordinary week, plus a closure, holidays, the clock change."""
    week = [berlin(2026, 11, 23, 0) + dt.timedelta(minutes=30 * n) for n in range(7 * 48)]
    special = [berlin(2026, 12, 24, 15), berlin(2026, 12, 25, 10), berlin(2026, 12, 31, 16),
               berlin(2026, 3, 30, 9, 30), berlin(2026, 10, 26, 9, 30), berlin(2026, 4, 3, 10)]
    return [at.astimezone(C.directory.timezone) for at in (*week, *special)]


def test_only_open_lines_are_dialled_best_fit_first() -> None:
    """Against schedule.is_open directly (not the index the flow uses), for every audience."""
    checked = 0
    for at in _sweep():
        cases = [(ANYONE, CallState("main", "de"), "0")]
        cases += [(a, CallState(flow.WHO_NODE, "de"), WHO_KEY[a]) for a in AUDIENCES]
        for audience, state, key in cases:
            step = flow.key_pressed(C, state, key, at)
            open_now = [line.id for line in C.directory.ranked(audience) if schedule.is_open(line, at)]
            if open_now:
                assert isinstance(step.then, Dial), (at, audience)
                assert step.then.line_id == open_now[0], (at.isoformat(), audience, open_now)
                assert step.then.phone == PHONE[open_now[0]]
                checked += 1
            else:
                assert isinstance(step.then, Gather), (at, audience)
                assert step.then.state == CallState(flow.CLOSED_NODE, "de", audience)
    assert checked > 300  # the sweep did reach open lines


@pytest.mark.parametrize("audience, node, key", [
    (ANYONE, "main", "0"),
    *((a, flow.WHO_NODE, k) for a, k in WHO_KEY.items()),
])
def test_fallback_chain_tries_every_open_line_in_order_then_reads_numbers(
        audience: str, node: str, key: str) -> None:
    statuses = itertools.cycle(["busy", "no-answer", "failed", "canceled"])
    reasons = {"busy": "connect.busy", "no-answer": "connect.no_answer", "failed": "connect.failed",
               "canceled": "connect.failed"}
    step = flow.key_pressed(C, CallState(node, "de"), key, ALL_OPEN)
    chain = BEST_FIT[audience]
    assert step.say == (connect_now(chain[0]),)
    for n, line_id in enumerate(chain):
        assert isinstance(step.then, Dial)
        assert (step.then.line_id, step.then.phone) == (line_id, PHONE[line_id])
        assert step.then.state == CallState(node, "de", audience, 0, tuple(chain[:n + 1]))
        status = next(statuses)
        step = flow.dial_ended(C, step.then.state, status, ALL_OPEN)
        if n + 1 < len(chain):
            assert step.say == (Say(reasons[status]), Say("connect.next"), connect_now(chain[n + 1]))
    # none left: the numbers of the open lines, to dial directly; the caller may try again
    assert step.say == (Say(reasons[status]),)
    assert isinstance(step.then, Gather)
    assert step.then.state == CallState(flow.UNREACHABLE_NODE, "de", audience)
    assert keys(step)[1:] == ["unreachable.intro", *["unreachable.line"] * len(chain),
                              "unreachable.keys", "keys.common"]
    lines = [R.text(item, "de") for item in step.then.say if item.key == "unreachable.line"]
    assert lines[0] == f"{NAME_DE[chain[0]]}: {' '.join(C.directory.line(chain[0]).spoken.split())}."
    assert [line.split(":")[0] for line in lines] == [NAME_DE[i] for i in chain]


@pytest.mark.parametrize("status", ["completed", "answered"])
def test_a_talk_that_took_place_ends_politely(status: str) -> None:
    state = CallState("who", "en", "adult", 0, ("hateaid",))
    assert flow.dial_ended(C, state, status, ALL_OPEN) == Step("en", (Say("connect.done"),), Hangup())


def test_the_next_line_is_chosen_at_the_time_the_dial_ended() -> None:
    """HateAid closes at 18:00: busy there at 18:01 goes on to the abuse helpline; busy there
    after 20:00 leaves nothing open: when the next line opens (no dial of a closed line)."""
    step = flow.key_pressed(C, CallState("who", "de"), "3", berlin(2026, 11, 24, 17, 59))
    assert step.then.line_id == "hateaid"
    step = flow.dial_ended(C, step.then.state, "busy", berlin(2026, 11, 24, 18, 1))
    assert step.then.line_id == "abuse-helpline" and step.then.state.tried == ("hateaid", "abuse-helpline")
    step = flow.dial_ended(C, step.then.state, "no-answer", berlin(2026, 11, 24, 20, 1))
    assert step.say == (Say("connect.no_answer"),)
    assert isinstance(step.then, Gather) and step.then.state == CallState("closed", "de", "adult")
    assert sentence(step, "closed.next") == (
        "Die nächste ist morgen um 9 Uhr erreichbar: Hilfetelefon Sexueller Missbrauch, "
        "Telefon 0800 22 55 530.")


def test_without_the_services_own_number_the_numbers_are_read_instead_of_dialled() -> None:
    """can_dial=False: a Dial would show the caller's number to the hotline (rule 7)."""
    step = flow.key_pressed(C, CallState("main", "de"), "0", ALL_OPEN, can_dial=False)
    assert isinstance(step.then, Gather) and step.then.state.node == flow.UNREACHABLE_NODE
    assert keys(step).count("unreachable.line") == 4
    final = flow.silence(C, CallState("main", "de", tries=1), ALL_OPEN, can_dial=False)
    assert isinstance(final.then, Hangup) and "unreachable.line" in keys(final)


def test_the_question_who_is_calling_comes_once() -> None:
    ask = flow.key_pressed(C, CallState("main", "de"), "1", ALL_OPEN)
    assert ask.then.state == CallState("who", "de") and keys(ask) == ["who.question", "keys.common"]
    known = flow.key_pressed(C, CallState("guide_young_help", "de", "parent"), "1", ALL_OPEN)
    assert isinstance(known.then, Dial) and known.then.line_id == "parents-line"


def test_exactly_one_line_open_and_it_does_not_serve_the_caller() -> None:
    """Saturday afternoon only the children's line is open: 0 reaches it, an adult is told when."""
    zero = flow.key_pressed(C, CallState("main", "de"), "0", ONLY_KIDS)
    assert isinstance(zero.then, Dial) and zero.then.line_id == "kids-line"
    adult = flow.key_pressed(C, CallState("who", "de"), "3", ONLY_KIDS)
    assert isinstance(adult.then, Gather) and adult.then.state == CallState("closed", "de", "adult")


# -- rule 5: closed is not a dead end ---------------------------------------------------------

@pytest.mark.parametrize("audience, line_id, online", [
    (ANYONE, "abuse-helpline", ["juuuport", "women-counselling"]),
    ("young_person", "abuse-helpline", ["juuuport"]),
    ("parent", "parents-line", ["juuuport"]),  # ties at 09:00 go to the better fit
    ("adult", "abuse-helpline", ["women-counselling"]),
    ("supporter", "abuse-helpline", ["women-counselling"]),
])
def test_closed_names_the_next_line_the_online_options_and_offers_guidance(
        audience: str, line_id: str, online: list[str]) -> None:
    state = CallState("main", "de", audience)
    step = flow.key_pressed(C, state, "0" if audience == ANYONE else "1", NONE_OPEN)
    assert isinstance(step.then, Gather) and step.then.state == CallState("closed", "de", audience)
    assert keys(step) == ["closed.none_open", "closed.next", *[f"closed.online.{o}" for o in online],
                          "closed.keys", "keys.common_closed"]
    spoken = " ".join(C.directory.line(line_id).spoken.split())
    assert sentence(step, "closed.next") == (
        f"Die nächste ist am Montag um 9 Uhr erreichbar: {NAME_DE[line_id]}, Telefon {spoken}.")
    # the guidance and all the numbers are one key away
    guidance = flow.key_pressed(C, step.then.state, "1", NONE_OPEN)
    assert guidance.then.state == CallState("guidance", "de", audience)
    numbers = flow.key_pressed(C, step.then.state, "2", NONE_OPEN)
    assert numbers.then.state == CallState("hotlines", "de", audience)


@pytest.mark.parametrize("at, audience, lang, text", [
    (berlin(2026, 11, 24, 10), "adult", "de",
     "Die nächste ist heute um 15 Uhr erreichbar: HateAid – Beratung für Betroffene digitaler Gewalt, "
     "Telefon 030 25208838."),
    (berlin(2026, 11, 24, 10), "adult", "en",
     "The next one opens today at 3 p.m.: HateAid – counselling for people affected by digital violence, "
     "phone 030 25208838."),
    (berlin(2026, 11, 24, 21), ANYONE, "de",
     "Die nächste ist morgen um 9 Uhr erreichbar: Hilfetelefon Sexueller Missbrauch, Telefon 0800 22 55 530."),
    (berlin(2026, 11, 29, 12), "young_person", "de",  # Sunday: kids-line Monday 14:00 is later
     "Die nächste ist morgen um 9 Uhr erreichbar: Hilfetelefon Sexueller Missbrauch, Telefon 0800 22 55 530."),
    (NONE_OPEN, ANYONE, "en",
     "The next one opens on Monday at 9 a.m.: Sexual abuse helpline, phone 0800 22 55 530."),
    (berlin(2026, 12, 24, 15), "parent", "de",  # closure, two holidays, a Sunday
     "Die nächste ist am Montag um 9 Uhr erreichbar: Nummer gegen Kummer – Elterntelefon, "
     "Telefon 0800 111 0 550."),
])
def test_next_opening_in_plain_words(at: dt.datetime, audience: str, lang: str, text: str) -> None:
    state = CallState("main", lang, audience)
    step = flow.key_pressed(C, state, "0" if audience == ANYONE else "1", at)
    assert step.then.state.node == flow.CLOSED_NODE
    assert sentence(step, "closed.next") == text


# -- languages ---------------------------------------------------------------------------------

def test_the_language_key_switches_and_greets_again() -> None:
    step = flow.key_pressed(C, CallState("main", "de"), "4", ALL_OPEN)
    assert step.lang == "en" and step.then.state == CallState("main", "en")
    assert keys(step) == ["greeting", "main.connect", "main.choices", "language.offer"]
    assert step.then.say[-1].lang == "de"
    back = flow.key_pressed(C, step.then.state, "4", ALL_OPEN)
    assert back.lang == "de" and back.then.state == CallState("main", "de")


# -- a call that outlives an opening or a closing ------------------------------------------------

OPENED = berlin(2026, 11, 23, 9, 0) + dt.timedelta(seconds=30)  # Monday: two lines opened at 09:00
CLOSED_AGAIN = berlin(2026, 11, 24, 20, 0) + dt.timedelta(seconds=30)  # Tuesday: the last closed at 20:00


def test_the_closed_menu_after_a_line_opened_connects_instead_of_saying_none_is_open() -> None:
    state = flow.key_pressed(C, CallState("main", "de"), "0", berlin(2026, 11, 23, 8, 59)).then.state
    assert state == CallState(flow.CLOSED_NODE, "de")
    repeated = flow.key_pressed(C, state, "#", OPENED)
    assert "closed.none_open" not in keys(repeated), sentence(repeated, "closed.next")
    final = flow.silence(C, replace(state, tries=1), OPENED)
    assert isinstance(final.then, Dial) and final.then.line_id == "abuse-helpline"


def test_the_unreachable_menu_after_closing_time_still_gives_a_number() -> None:
    state = CallState(flow.UNREACHABLE_NODE, "de", "adult")
    for step in (flow.key_pressed(C, state, "#", CLOSED_AGAIN), flow.silence(C, state, CLOSED_AGAIN)):
        assert any(name == "number" for item in heard(step) for name, _ in item.args), keys(step)


@pytest.mark.parametrize("audience, line_id", [(ANYONE, "abuse-helpline"), ("adult", "hateaid")])
def test_trying_again_after_every_line_failed_asks_nothing(audience: str, line_id: str) -> None:
    """At the unreachable menu, 1 tries again for the same caller: after 0 that is "anyone",
    never a question first; the tried lines start afresh."""
    state = CallState(flow.UNREACHABLE_NODE, "de", audience, tries=1, tried=("abuse-helpline", "hateaid"))
    step = flow.key_pressed(C, state, "1", ALL_OPEN)
    assert isinstance(step.then, Dial) and step.then.line_id == line_id
    assert step.then.state == CallState(flow.UNREACHABLE_NODE, "de", audience, 0, (line_id,))
