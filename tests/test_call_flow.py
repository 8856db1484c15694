"""The call rules of DESIGN.md ("The call, as a caller meets it"), one test or table each, on the
pure flow: (state, what the caller did, an explicit instant) -> Step. No Flask, no clock.

The main menu's keys carry who is calling (1 under 18, 2 parents or family, 3 everyone else): no
question ever comes before a person. 0 connects for the caller as known so far.

Instants used (Europe/Berlin wall clock, see data/hotlines.yaml):
- Tue 2026-11-24 15:30: all four lines open.
- Sat 2026-11-28 15:00: only the children's line (kids-line) open.
- Sat 2026-11-28 22:00: nothing open; the next opening is Monday 09:00.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import replace

import pytest

from ivr.call import flow
from ivr.directory import schedule
from ivr.directory.directory import ANYONE, AUDIENCES
from ivr.call.flow import CallState, Dial, Gather, Hangup, Say, Step
from ivr.config.loading import Config
from ivr.call.speech import Key
from ivr.call.twiml import Renderer
from twiml_helpers import NAME_DE, NAME_EN, PHONE, SPOKEN, berlin, bundled_config, prompt

C = bundled_config()
R = Renderer(C)
NODES = sorted(C.menu.nodes)
# give-up there ends the call kindly: what helps was just read out
END_NODES = (flow.CLOSED_NODE, flow.UNREACHABLE_NODE, flow.SHORT_TALK_NODE, flow.ONLY_SOME_NODE)
# nodes a silent caller hears once more before the call moves on (the main menu moves on at once)
REPEATING = [n for n in NODES if n not in END_NODES and C.menu.node(n).silence == "repeat"]
ALL_OPEN = berlin(2026, 11, 24, 15, 30)
ONLY_KIDS = berlin(2026, 11, 28, 15, 0)
NONE_OPEN = berlin(2026, 11, 28, 22, 0)
NAMES = {"de": NAME_DE, "en": NAME_EN}
MAIN_KEY = {"young_person": "1", "parent": "2", "adult": "3"}  # the main menu's keys for a person
UNKNOWN_KEY = "6"  # no node uses it
OTHERS = ["tr", "ar", "ru", "uk", "pl"]  # named at the greeting, each in its own voice
NAMED = ["language.name"] * len(OTHERS)
# best fit per audience when every line is open (data/hotlines.yaml, best_fit); a caller who has
# not said who they are reaches only the lines that serve everyone
BEST_FIT = {
    ANYONE: ["abuse-helpline", "hateaid"],
    "young_person": ["kids-line", "abuse-helpline", "hateaid"],
    "parent": ["parents-line", "abuse-helpline", "hateaid"],
    "adult": ["hateaid", "abuse-helpline"],
    "supporter": ["hateaid", "abuse-helpline", "parents-line"],
}
CONNECT = Say("connect.now")
MULTILINGUAL = {"abuse-helpline"}  # languages: [de, multilingual]: other languages may be possible


def dial_order(audience: str, lang: str) -> list[str]:
    """BEST_FIT as dialled in `lang`: every line speaks German; in English the multilingual line
    comes first, the rest keep their best-fit order."""
    order = BEST_FIT[audience]
    return order if lang == "de" else sorted(order, key=lambda line: line not in MULTILINGUAL)


def heard(step: Step) -> list[Say]:
    """Everything the caller hears in this step: before the verb, then inside the Gather."""
    return [*step.say, *(step.then.say if isinstance(step.then, Gather) else ())]


def keys(step: Step) -> list[str]:
    return [item.key for item in heard(step)]


def sentence(step: Step, key: str) -> str:
    """The one sentence said for prompt `key` in this step, as plain text."""
    found = [R.text(item, step.lang, step.young) for item in heard(step) if item.key == key]
    assert len(found) == 1, (key, keys(step))
    return found[0]


def spoken(line_id: str) -> str:
    return " ".join(SPOKEN[line_id])


def node_prompts(node_id: str, nothing_open: bool = False) -> list[str]:
    """The prompt keys a node reads when nothing time-dependent is shown (menu.yaml); while
    nothing is open, its say_when_closed and the common keys without "0 connects"."""
    node = C.menu.node(node_id)
    free = C.directory.service.free_to_call
    said = [key for key in node.prompts(nothing_open) if free or key != "service.free"]
    extra = ["language.offer"] if node.offer_language else []
    common = [] if node_id == C.menu.start else ["keys.common_closed" if nothing_open else "keys.common"]
    return [*said, *extra, *common]


def with_service(**changes: object) -> Config:
    """The bundled config with other `service:` settings of hotlines.yaml."""
    directory = C.directory
    return replace(C, directory=replace(directory, service=replace(directory.service, **changes)))


def dial_step(lang: str, line_id: str, state: CallState, say: tuple[Say, ...] = (CONNECT,)) -> Step:
    return Step(lang, say, Dial(line_id, PHONE[line_id], state), young=state.audience == "young_person")


# -- rule 1: a person within one key press --------------------------------------------------

def test_the_first_option_named_connects_right_after_the_greeting_and_the_english_offer() -> None:
    step = flow.start(C, ALL_OPEN)
    assert step.say == () and isinstance(step.then, Gather)
    assert step.then.state == CallState("main", "de")
    assert keys(step) == ["greeting", "language.offer", "main.connect", *NAMED, "main.connect", "emergency",
                          "main.choices"]
    offer = step.then.say[1]
    assert offer.lang == "en" and offer.args == (("key", Key("9")),)
    # the languages come after the options for the young and for parents, then everyone else
    first, *names, rest = step.then.say[2:9]
    assert [name.lang for name in names] == OTHERS and {name.args for name in names} == {(("key", Key("8")),)}
    assert [R.text(name, "de") for name in names] == ["Türkçe 8", "العربية 8", "Русский 8", "Українська 8", "Polski 8"]
    assert f"{R.text(first, 'de')} {R.text(rest, 'de')}" == prompt("de", "main.connect")
    assert R.text(rest, "de") == "Alle anderen: die 3."
    # rule 1: the first key named ("die 1") connects, without a second menu
    first_key = re.search(r"\bdie (\d)\b", R.text(first, "de")).group(1)
    assert C.menu.node("main").keys[first_key].kind == "connect"
    assert isinstance(flow.key_pressed(C, step.then.state, first_key, ALL_OPEN).then, Dial)


def test_free_is_said_only_when_the_directory_says_the_call_is_free() -> None:
    assert "service.free" not in keys(flow.start(C, ALL_OPEN))  # the bundled number: not free
    free = with_service(free_to_call=True)
    assert keys(flow.start(free, ALL_OPEN)) == ["greeting", "language.offer", "main.connect", *NAMED,
                                                "main.connect", "emergency", "service.free", "main.choices"]


@pytest.mark.parametrize("audience, key", MAIN_KEY.items())
def test_at_night_the_keys_for_a_person_say_when_their_line_opens(audience: str, key: str) -> None:
    step = flow.start(C, NONE_OPEN)
    assert keys(step) == ["greeting", "language.offer", "main.connect_closed", *NAMED, "main.connect_closed",
                          "emergency", "main.choices"]
    # at night the languages come right after "nobody can be reached by phone now"
    first, rest = (item for item in step.then.say if item.key == "main.connect_closed")
    assert first.sentences == (0, 1) and rest.sentences == (1, None)
    assert f"{R.text(first, 'de')} {R.text(rest, 'de')}" == prompt("de", "main.connect_closed")
    # and the key keeps that promise: no question, straight to when their line opens
    closed = flow.key_pressed(C, step.then.state, key, NONE_OPEN)
    assert isinstance(closed.then, Gather)
    assert closed.then.state == CallState(flow.CLOSED_NODE, "de", audience)
    assert keys(closed)[:2] == ["closed.none_open", "closed.next"]


def test_the_hotline_list_at_night_offers_when_not_a_connection() -> None:
    step = flow.key_pressed(C, CallState("main", "en"), "5", NONE_OPEN)
    assert step.then.state == CallState("hotlines", "en")
    assert keys(step)[-2:] == ["hotlines.keys_closed", "keys.common_closed"]
    assert sentence(step, "hotlines.keys_closed") == prompt("en", "hotlines.keys_closed")


# -- rule 2: same keys everywhere ------------------------------------------------------------

@pytest.mark.parametrize("audience", [ANYONE, "young_person", "supporter"])
@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("node", NODES)
def test_0_connects_to_the_best_open_line_for_the_caller_as_known(node: str, lang: str, audience: str) -> None:
    """0 asks nothing: whatever was tried before, the best line for whoever the caller said they
    are (the best for anyone if they said nothing); the lines tried start afresh."""
    state = CallState(node, lang, audience=audience, tries=2, tried=("abuse-helpline",))
    step = flow.key_pressed(C, state, "0", ALL_OPEN)
    best = dial_order(audience, lang)[0]
    assert step == dial_step(lang, best, CallState(node, lang, audience, 0, (best,)))


@pytest.mark.parametrize("node", NODES)
def test_star_goes_back_to_the_main_menu_from_any_node(node: str) -> None:
    state = CallState(node, "en", audience="parent", tries=2, tried=("parents-line",))
    step = flow.key_pressed(C, state, "*", ALL_OPEN)
    assert step.say == () and isinstance(step.then, Gather)
    assert step.then.state == CallState("main", "en", "parent")
    # no second greeting; the other language is offered after the menu
    assert keys(step) == ["main.connect", "emergency", "main.choices", "language.offer"]


def true_at(node: str, at: dt.datetime) -> bool:
    """The closed menu is only reached when no line is open, the unreachable and short-talk ones
    only when some are; a state that says otherwise is re-decided (see the tests of calls that
    outlive it)."""
    return {flow.CLOSED_NODE: at == NONE_OPEN, flow.UNREACHABLE_NODE: at != NONE_OPEN,
            flow.SHORT_TALK_NODE: at != NONE_OPEN,
            flow.ONLY_SOME_NODE: False}.get(node, True)  # only at ONLY_KIDS, tested on its own


SITUATIONS = [pytest.param(node, at, id=f"{node}-{name}") for node in NODES
              for name, at in (("all-open", ALL_OPEN), ("none-open", NONE_OPEN)) if true_at(node, at)]


def played_again(state: CallState, at: dt.datetime) -> tuple[Say, ...]:
    """What the node says when the caller arrives there afresh: the main menu via *, any other
    node via one silence (which repeats it)."""
    if state.node == C.menu.start:
        return flow.key_pressed(C, state, "*", at).then.say
    return flow.silence(C, state, at).then.say


@pytest.mark.parametrize("node, at", SITUATIONS)
def test_hash_repeats_the_node_and_resets_its_count(node: str, at: dt.datetime) -> None:
    state = CallState(node, "de", audience="adult", tries=2)
    step = flow.key_pressed(C, state, "#", at)
    assert step.say == () and isinstance(step.then, Gather)
    assert step.then.state == replace(state, tries=0)
    assert step.then.say == played_again(replace(state, tries=0), at)  # the same words
    if C.menu.node(node).show is None:
        assert keys(step) == node_prompts(node, nothing_open=at == NONE_OPEN)


# -- rule 3: silence is not a hang-up; unknown keys; never loop for ever ----------------------

def test_only_the_main_menu_connects_a_silent_caller_after_one_play() -> None:
    assert C.menu.node(C.menu.start).silence == "connect"
    assert set(NODES) - set(REPEATING) == {C.menu.start, *END_NODES}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_silence_at_the_main_menu_connects_at_once_to_the_best_line_for_anyone(lang: str) -> None:
    """Rule 3: a person within 40 s of the call's start for a caller who presses nothing: one
    play of the main menu, one Gather timeout, then the dial (not a second play)."""
    step = flow.silence(C, CallState("main", lang), ALL_OPEN)
    assert step == dial_step(lang, "abuse-helpline", CallState("main", lang, ANYONE, 0, ("abuse-helpline",)))


def test_silence_at_the_main_menu_connects_for_the_caller_as_known() -> None:
    """Back at the main menu with * after pressing 1: silence dials the children's line."""
    step = flow.silence(C, CallState("main", "de", "young_person"), ALL_OPEN)
    assert step == dial_step("de", "kids-line", CallState("main", "de", "young_person", 0, ("kids-line",)))


@pytest.mark.parametrize("node", REPEATING)
def test_silence_elsewhere_repeats_once_then_connects(node: str) -> None:
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


@pytest.mark.parametrize("node", [C.menu.start, *REPEATING])
def test_silence_when_none_is_open_says_when_the_numbers_110_112_and_goodbye(node: str) -> None:
    state = CallState(node, "de")
    if node in REPEATING:  # played once more first
        state = flow.silence(C, state, NONE_OPEN).then.state
    step = flow.silence(C, state, NONE_OPEN)
    assert isinstance(step.then, Hangup)
    # what the directory says about the closed lines for everyone, the online options, then
    # every number (the lines for everyone first; each line's name says whom it serves)
    assert keys(step) == ["closed.none_open", "closed.next", "closed.about.abuse-helpline",
                          "closed.about.hateaid", "closed.online.juuuport",
                          "closed.online.women-counselling", "closed.numbers",
                          "closed.line", "line.free_anonymous", "closed.line", "line.free",
                          "closed.line", "line.free_anonymous", "closed.line", "line.free_anonymous",
                          "emergency", "goodbye"]
    assert sentence(step, "closed.next") == prompt(
        "de", "closed.next", when="am Montag um 9 Uhr", name=NAME_DE["abuse-helpline"],
        number=spoken("abuse-helpline"))
    assert sentence(step, "emergency") == prompt("de", "emergency")


@pytest.mark.parametrize("node, at", [s for s in SITUATIONS if s.values[0] in END_NODES])
def test_silence_twice_where_the_numbers_were_just_read_ends_kindly(node: str, at: dt.datetime) -> None:
    first = flow.silence(C, CallState(node, "en"), at)
    assert isinstance(first.then, Gather) and first.then.state.tries == 1
    # 110/112 once more right before the goodbye (rule 6): the call ends without a talk
    assert flow.silence(C, first.then.state, at) == Step("en", (Say("emergency"), Say("goodbye")), Hangup())


UNKNOWN = [(node, key) for node in NODES for key in "123456789"
           if key not in C.menu.node(node).keys and node != flow.ONLY_SOME_NODE]


@pytest.mark.parametrize("node, key", UNKNOWN)
def test_unknown_key_is_named_and_the_menu_repeated(node: str, key: str) -> None:
    state = CallState(node, "de")
    at = ALL_OPEN if true_at(node, ALL_OPEN) else NONE_OPEN
    step = flow.key_pressed(C, state, key, at)
    assert isinstance(step.then, Gather) and step.then.state == replace(state, tries=1)
    assert step.then.say[0] == Say("key.unknown", (("key", Key(key)),))
    assert step.then.say[1:] == flow.key_pressed(C, state, "#", at).then.say


@pytest.mark.parametrize("lang", ["de", "en"])
def test_unknown_key_sentence(lang: str) -> None:
    step = flow.key_pressed(C, CallState("main", lang), UNKNOWN_KEY, ALL_OPEN)
    assert sentence(step, "key.unknown") == prompt(lang, "key.unknown", key=UNKNOWN_KEY)


@pytest.mark.parametrize("node, at", SITUATIONS)
def test_unknown_keys_in_a_row_are_bounded(node: str, at: dt.datetime) -> None:
    """Two unknown keys are answered with the menu; the third moves on for the caller."""
    state = CallState(node, "de")
    for tries in (1, 2):
        step = flow.key_pressed(C, state, UNKNOWN_KEY, at)
        assert isinstance(step.then, Gather) and step.then.state == replace(state, tries=tries)
        state = step.then.state
    final = flow.key_pressed(C, state, UNKNOWN_KEY, at)
    assert final == flow.silence(C, replace(state, tries=1), at)  # the same give-up as silence
    assert not isinstance(final.then, Gather)


@pytest.mark.parametrize("at", [ALL_OPEN, ONLY_KIDS, NONE_OPEN], ids=["all-open", "only-kids", "none-open"])
@pytest.mark.parametrize("node", NODES)
def test_no_mix_of_silence_and_unknown_keys_loops(node: str, at: dt.datetime) -> None:
    for inputs in itertools.product(["silence", UNKNOWN_KEY], repeat=3):
        state = CallState(node, "de")
        # only lines for some callers open: who can reach whom, and one more silence ends it
        for what in (*inputs, "silence") if at == ONLY_KIDS else inputs:
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


# How each audience reaches a person: its key at the main menu, or 0 once the audience is known
# (a supporter has no key of their own at the main menu; the state may still carry them).
REACH = [(ANYONE, CallState("main", "de"), "0"),
         *((a, CallState("main", "de"), k) for a, k in MAIN_KEY.items()),
         ("supporter", CallState("main", "de", "supporter"), "0")]


def test_every_audience_can_be_reached() -> None:
    assert {audience for audience, _, _ in REACH} == {*AUDIENCES, ANYONE}


def test_only_open_lines_are_dialled_best_fit_first() -> None:
    """Against schedule.is_open directly (not the index the flow uses), for every audience."""
    checked = 0
    for at in _sweep():
        for audience, state, key in REACH:
            step = flow.key_pressed(C, state, key, at)
            open_now = [line.id for line in C.directory.ranked(audience)
                        if schedule.is_open(line, at) and line.may_serve(audience)]
            if open_now:
                assert isinstance(step.then, Dial), (at, audience)
                assert step.then.line_id == open_now[0], (at.isoformat(), audience, open_now)
                assert step.then.phone == PHONE[open_now[0]]
                checked += 1
            else:
                some_open = any(schedule.is_open(line, at) for line in C.directory.lines)
                node = flow.ONLY_SOME_NODE if audience == ANYONE and some_open else flow.CLOSED_NODE
                assert isinstance(step.then, Gather), (at, audience)
                assert step.then.state == CallState(node, "de", audience)
    assert checked > 300  # the sweep did reach open lines


REASONS = {"busy": "connect.busy", "no-answer": "connect.no_answer", "failed": "connect.failed",
           "canceled": "connect.failed"}


@pytest.mark.parametrize("audience, state, key", REACH, ids=[a for a, _, _ in REACH])
def test_fallback_chain_tries_every_open_line_in_order_then_reads_numbers(
        audience: str, state: CallState, key: str) -> None:
    statuses = itertools.cycle(["busy", "no-answer", "failed", "canceled"])
    step = flow.key_pressed(C, state, key, ALL_OPEN)
    chain = BEST_FIT[audience]
    young = audience == "young_person"
    assert step.say == (CONNECT,)
    for n, line_id in enumerate(chain):
        assert isinstance(step.then, Dial) and step.young == young
        assert (step.then.line_id, step.then.phone) == (line_id, PHONE[line_id])
        assert step.then.state == CallState("main", "de", audience, 0, tuple(chain[:n + 1]))
        status = next(statuses)
        step = flow.dial_ended(C, step.then.state, status, 0, ALL_OPEN)
        if n + 1 < len(chain):  # why, then the next line, without naming it
            assert step.say == (Say(REASONS[status]), Say("connect.next"))
    # none left: the numbers of the open lines, to dial directly; the caller may try again
    assert step.say == (Say(REASONS[status]),) and step.young == young
    assert isinstance(step.then, Gather)
    assert step.then.state == CallState(flow.UNREACHABLE_NODE, "de", audience)
    assert keys(step)[1:] == ["unreachable.intro", *["unreachable.line"] * len(chain),
                              "unreachable.keys", "keys.common"]
    lines = [R.text(item, "de") for item in step.then.say if item.key == "unreachable.line"]
    assert lines == [prompt("de", "unreachable.line", name=NAME_DE[i], number=spoken(i)) for i in chain]


@pytest.mark.parametrize("status", ["BUSY", "Completed", "weird", "", "no_answer", "in-progress"])
def test_any_status_that_is_not_clearly_a_talk_tries_the_next_line(status: str) -> None:
    """Rule 4: mis-cased, empty, unknown: a failure, and the next suitable open line."""
    state = CallState("main", "de", "adult", 0, ("hateaid",))
    step = flow.dial_ended(C, state, status, 120, ALL_OPEN)
    assert step == dial_step("de", "abuse-helpline", CallState("main", "de", "adult", 0, ("hateaid", "abuse-helpline")),
                             say=(Say("connect.failed"), Say("connect.next")))


@pytest.mark.parametrize("seconds", [30, 31, 3600])
@pytest.mark.parametrize("status", ["completed", "answered"])
def test_a_talk_of_some_length_ends_politely(status: str, seconds: int) -> None:
    assert C.directory.service.short_talk_seconds == 30
    state = CallState("main", "en", "adult", 0, ("hateaid",))
    assert flow.dial_ended(C, state, status, seconds, ALL_OPEN) == Step("en", (Say("connect.done"),), Hangup())


@pytest.mark.parametrize("seconds", [0, 1, 29, None])
@pytest.mark.parametrize("status", ["completed", "answered"])
def test_a_short_talk_may_have_been_a_voicemail_the_next_line_and_the_numbers_are_offered(
        status: str, seconds: int | None) -> None:
    """Rule 4: a "completed" dial that was short (or of unknown length) may have reached a
    voicemail or a closed-line announcement: the caller stays, hears the open lines' numbers, and
    1 tries the next line, the one just dialled skipped."""
    state = CallState("main", "de", "adult", 0, ("hateaid",))
    step = flow.dial_ended(C, state, status, seconds, ALL_OPEN)
    assert step.say == () and isinstance(step.then, Gather)
    assert step.then.state == CallState(flow.SHORT_TALK_NODE, "de", "adult", 0, ("hateaid",))
    assert keys(step) == ["short_talk.intro", "unreachable.line", "unreachable.line", "short_talk.keys",
                          "keys.common"]
    assert sentence(step, "short_talk.intro") == prompt("de", "short_talk.intro")
    assert sentence(step, "short_talk.keys") == prompt("de", "short_talk.keys")
    lines = [R.text(item, "de") for item in heard(step) if item.key == "unreachable.line"]
    assert lines == [prompt("de", "unreachable.line", name=NAME_DE[i], number=spoken(i))
                     for i in BEST_FIT["adult"]]
    following = flow.key_pressed(C, step.then.state, "1", ALL_OPEN)
    assert following == dial_step("de", "abuse-helpline",
                                  CallState(flow.SHORT_TALK_NODE, "de", "adult", 0, ("hateaid", "abuse-helpline")),
                                  say=(Say("connect.next"),))
    guidance = flow.key_pressed(C, step.then.state, "2", ALL_OPEN)
    assert guidance.then.state == CallState("guidance", "de", "adult")


def test_after_a_short_talk_with_every_line_tried_the_numbers_are_read() -> None:
    state = CallState(flow.SHORT_TALK_NODE, "de", "adult", 0, ("hateaid", "abuse-helpline"))
    step = flow.key_pressed(C, state, "1", ALL_OPEN)
    assert isinstance(step.then, Gather) and step.then.state == CallState(flow.UNREACHABLE_NODE, "de", "adult")
    assert keys(step).count("unreachable.line") == 2


@pytest.mark.parametrize("limit, seconds, short", [(90, 60, True), (90, 90, False), (0, 0, False), (0, None, True)])
def test_how_short_a_talk_is_comes_from_the_directory(limit: int, seconds: int | None, short: bool) -> None:
    config = with_service(short_talk_seconds=limit)
    step = flow.dial_ended(config, CallState("main", "de", "adult", 0, ("hateaid",)), "completed", seconds, ALL_OPEN)
    assert isinstance(step.then, Gather if short else Hangup)


def test_the_next_line_is_chosen_at_the_time_the_dial_ended() -> None:
    """HateAid closes at 18:00: busy there at 18:01 goes on to the abuse helpline; busy there
    after 20:00 leaves nothing open: when the next line opens (no dial of a closed line)."""
    step = flow.key_pressed(C, CallState("main", "de"), "3", berlin(2026, 11, 24, 17, 59))
    assert step.then.line_id == "hateaid"
    step = flow.dial_ended(C, step.then.state, "busy", 0, berlin(2026, 11, 24, 18, 1))
    assert step.then.line_id == "abuse-helpline" and step.then.state.tried == ("hateaid", "abuse-helpline")
    step = flow.dial_ended(C, step.then.state, "no-answer", 0, berlin(2026, 11, 24, 20, 1))
    assert step.say == (Say("connect.no_answer"),)
    assert isinstance(step.then, Gather) and step.then.state == CallState("closed", "de", "adult")
    assert sentence(step, "closed.next") == prompt(
        "de", "closed.next", when="morgen um 9 Uhr", name=NAME_DE["abuse-helpline"], number=spoken("abuse-helpline"))


def test_without_the_services_own_number_the_numbers_are_read_instead_of_dialled() -> None:
    """can_dial=False: a Dial would show the caller's number to the hotline (rule 7)."""
    step = flow.key_pressed(C, CallState("main", "de"), "0", ALL_OPEN, can_dial=False)
    assert isinstance(step.then, Gather) and step.then.state.node == flow.UNREACHABLE_NODE
    assert keys(step).count("unreachable.line") == 2  # the lines for everyone
    final = flow.silence(C, CallState("main", "de"), ALL_OPEN, can_dial=False)
    assert isinstance(final.then, Hangup) and keys(final).count("unreachable.line") == 2
    assert keys(final)[-2:] == ["emergency", "goodbye"]


CONNECTS = [(node, key) for node in NODES for key, action in C.menu.node(node).keys.items()
            if action.kind == "connect"]


@pytest.mark.parametrize("node, key", CONNECTS)
def test_no_question_ever_comes_before_a_person(node: str, key: str) -> None:
    """Rule 4: routing by need never costs a second menu: every key that connects dials."""
    step = flow.key_pressed(C, CallState(node, "de"), key, ALL_OPEN)
    assert isinstance(step.then, Dial), keys(step)


@pytest.mark.parametrize("audience, line_id", [(ANYONE, "abuse-helpline"), ("parent", "parents-line"),
                                               ("young_person", "kids-line")])
def test_a_person_from_the_guidance_is_the_best_line_for_the_caller_as_known(audience: str, line_id: str) -> None:
    step = flow.key_pressed(C, CallState("guide_young_help", "de", audience), "1", ALL_OPEN)
    assert isinstance(step.then, Dial) and step.then.line_id == line_id


def test_exactly_one_line_open_and_it_does_not_serve_the_caller() -> None:
    """Saturday afternoon only the children's line is open: 0 (nobody said who is calling) does
    not reach it but names it with the key for young callers; 1 there reaches it; an adult is
    told when."""
    zero = flow.key_pressed(C, CallState("main", "de"), "0", ONLY_KIDS)
    assert isinstance(zero.then, Gather) and zero.then.state == CallState(flow.ONLY_SOME_NODE, "de")
    assert keys(zero) == ["only_some.young_person", "only_some.next_all", "only_some.keys", "keys.common_closed"]
    assert sentence(zero, "only_some.young_person") == prompt("de", "only_some.young_person",
                                                             name=NAME_DE["kids-line"])
    assert sentence(zero, "only_some.next_all") == prompt(
        "de", "only_some.next_all", when="am Montag um 9 Uhr", name=NAME_DE["abuse-helpline"],
        number=spoken("abuse-helpline"))
    young = flow.key_pressed(C, zero.then.state, "1", ONLY_KIDS)
    assert isinstance(young.then, Dial) and young.then.line_id == "kids-line" and young.young
    adult = flow.key_pressed(C, CallState("main", "de"), "3", ONLY_KIDS)
    assert isinstance(adult.then, Gather) and adult.then.state == CallState("closed", "de", "adult")


# -- rule 5: closed is not a dead end ---------------------------------------------------------

@pytest.mark.parametrize("audience, line_id, about, online", [
    (ANYONE, "abuse-helpline", ["abuse-helpline", "hateaid"], ["juuuport", "women-counselling"]),
    # a young caller always hears 116 111, its hours and its chat and e-mail advice
    ("young_person", "abuse-helpline", ["kids-line", "abuse-helpline", "hateaid"], ["juuuport"]),
    ("parent", "parents-line", ["abuse-helpline", "hateaid"], ["juuuport"]),  # ties go to the better fit
    ("adult", "abuse-helpline", ["hateaid", "abuse-helpline"], ["women-counselling"]),
    ("supporter", "abuse-helpline", ["hateaid", "abuse-helpline"], ["women-counselling"]),
])
def test_closed_names_the_next_line_the_online_options_and_offers_guidance(
        audience: str, line_id: str, about: list[str], online: list[str]) -> None:
    step = flow.key_pressed(C, CallState("main", "de", audience), "0", NONE_OPEN)
    assert isinstance(step.then, Gather) and step.then.state == CallState("closed", "de", audience)
    if audience in MAIN_KEY:  # the main menu's key for them leads to the same
        assert flow.key_pressed(C, CallState("main", "de"), MAIN_KEY[audience], NONE_OPEN) == step
    assert keys(step) == ["closed.none_open", "closed.next", *[f"closed.about.{a}" for a in about],
                          *[f"closed.online.{o}" for o in online], "closed.keys", "keys.common_closed"]
    assert sentence(step, "closed.next") == prompt(
        "de", "closed.next", when="am Montag um 9 Uhr", name=NAME_DE[line_id], number=spoken(line_id))
    for resource in online:
        assert sentence(step, f"closed.online.{resource}") == prompt("de", f"closed.online.{resource}")
    # the guidance and all the numbers are one key away
    guidance = flow.key_pressed(C, step.then.state, "1", NONE_OPEN)
    assert guidance.then.state == CallState("guidance", "de", audience)
    numbers = flow.key_pressed(C, step.then.state, "2", NONE_OPEN)
    assert numbers.then.state == CallState("hotlines", "de", audience)


@pytest.mark.parametrize("at, audience, lang, when, line_id", [
    (berlin(2026, 11, 24, 10), "adult", "de", "heute um 15 Uhr", "hateaid"),
    # a tie at 15:00: in English the line where English may be possible
    (berlin(2026, 11, 24, 10), "adult", "en", "today at 3 p.m.", "abuse-helpline"),
    (berlin(2026, 11, 24, 21), ANYONE, "de", "morgen um 9 Uhr", "abuse-helpline"),
    # Sunday: kids-line Monday 14:00 is later
    (berlin(2026, 11, 29, 12), "young_person", "de", "morgen um 9 Uhr", "abuse-helpline"),
    (NONE_OPEN, ANYONE, "en", "on Monday at 9 a.m.", "abuse-helpline"),
    # Christmas Day evening: the Saturday and the Sunday (holiday rules unknown: weekly hours)
    (berlin(2026, 12, 25, 18), "parent", "de", "am Montag um 9 Uhr", "parents-line"),
])
def test_next_opening_in_plain_words(at: dt.datetime, audience: str, lang: str, when: str, line_id: str) -> None:
    step = flow.key_pressed(C, CallState("main", lang, audience), "0", at)
    assert step.then.state.node == flow.CLOSED_NODE
    assert sentence(step, "closed.next") == prompt(lang, "closed.next", when=when, name=NAMES[lang][line_id],
                                                   number=spoken(line_id))


# -- languages ---------------------------------------------------------------------------------

def test_the_language_key_switches_and_greets_again() -> None:
    step = flow.key_pressed(C, CallState("main", "de"), "9", ALL_OPEN)
    assert step.lang == "en" and step.then.state == CallState("main", "en")
    assert keys(step) == ["greeting", "language.offer", "main.connect", "emergency", "main.choices"]
    assert step.then.say[1].lang == "de"
    assert R.text(step.then.say[1], "en") == prompt("de", "language.offer", key="9")
    back = flow.key_pressed(C, step.then.state, "9", ALL_OPEN)
    assert back.lang == "de" and back.then.state == CallState("main", "de")


def test_4_at_the_main_menu_is_the_guidance_not_a_language() -> None:
    step = flow.key_pressed(C, CallState("main", "de"), "4", ALL_OPEN)
    assert step.lang == "de" and step.then.state == CallState("guidance", "de")


# -- du for a caller under 18 ------------------------------------------------------------------

def test_a_caller_who_pressed_under_18_is_spoken_to_with_du_from_then_on() -> None:
    """Rule 10: after 1 at the main menu, every German sentence with a `young:` version is said
    in that version (with "du"), to the end of the call."""
    closed = flow.key_pressed(C, CallState("main", "de"), "1", NONE_OPEN)
    assert closed.young
    assert sentence(closed, "closed.keys") == prompt("de", "closed.keys", young=True)
    assert sentence(closed, "closed.keys") != prompt("de", "closed.keys")
    main = flow.key_pressed(C, closed.then.state, "*", NONE_OPEN)
    assert main.young and sentence(main, "main.choices") == prompt("de", "main.choices", young=True)
    numbers = flow.key_pressed(C, main.then.state, "5", NONE_OPEN)
    assert sentence(numbers, "service.anonymous") == prompt("de", "service.anonymous", young=True)
    end = flow.silence(C, main.then.state, NONE_OPEN)
    assert end.young and isinstance(end.then, Hangup)
    assert sentence(end, "closed.numbers") == prompt("de", "closed.numbers", young=True)
    assert sentence(end, "goodbye") == prompt("de", "goodbye", young=True)
    talk = flow.key_pressed(C, CallState("main", "de"), "1", ALL_OPEN)
    assert talk.young and isinstance(talk.then, Dial)
    done = flow.dial_ended(C, talk.then.state, "completed", 300, ALL_OPEN)
    assert done.young and sentence(done, "connect.done") == prompt("de", "connect.done", young=True)


@pytest.mark.parametrize("audience", [ANYONE, "parent", "adult", "supporter"])
def test_everyone_else_is_spoken_to_with_sie(audience: str) -> None:
    closed = flow.key_pressed(C, CallState("main", "de", audience), "0", NONE_OPEN)
    assert not closed.young
    assert sentence(closed, "closed.keys") == prompt("de", "closed.keys")
    end = flow.silence(C, CallState("main", "de", audience), NONE_OPEN)
    assert sentence(end, "goodbye") == prompt("de", "goodbye")


def test_english_for_a_young_caller_uses_the_young_section_where_it_has_one() -> None:
    step = flow.key_pressed(C, CallState("guide_act", "en", "young_person"), "#", ALL_OPEN)
    assert step.young
    assert sentence(step, "guide.act.counselling") == prompt("en", "guide.act.counselling", young=True)
    assert sentence(step, "guide.next_part") == prompt("en", "guide.next_part")  # no young version


# -- a call that outlives an opening or a closing ------------------------------------------------

OPENED = berlin(2026, 11, 23, 9, 0) + dt.timedelta(seconds=30)  # Monday: two lines opened at 09:00
CLOSED_AGAIN = berlin(2026, 11, 24, 20, 0) + dt.timedelta(seconds=30)  # Tuesday: the last closed at 20:00


def test_the_closed_menu_after_a_line_opened_connects_instead_of_saying_none_is_open() -> None:
    state = flow.key_pressed(C, CallState("main", "de"), "0", berlin(2026, 11, 23, 8, 59)).then.state
    assert state == CallState(flow.CLOSED_NODE, "de")
    repeated = flow.key_pressed(C, state, "#", OPENED)
    assert "closed.none_open" not in keys(repeated), keys(repeated)
    final = flow.silence(C, replace(state, tries=1), OPENED)
    assert isinstance(final.then, Dial) and final.then.line_id == "abuse-helpline"


def test_the_unreachable_menu_after_closing_time_still_gives_a_number() -> None:
    state = CallState(flow.UNREACHABLE_NODE, "de", "adult")
    for step in (flow.key_pressed(C, state, "#", CLOSED_AGAIN), flow.silence(C, state, CLOSED_AGAIN)):
        assert any(name == "number" for item in heard(step) for name, _ in item.args), keys(step)


def test_a_short_talk_after_closing_time_says_when_the_next_line_opens() -> None:
    state = CallState("main", "de", "adult", 0, ("abuse-helpline",))
    step = flow.dial_ended(C, state, "completed", 5, CLOSED_AGAIN)
    assert isinstance(step.then, Gather) and step.then.state == CallState(flow.CLOSED_NODE, "de", "adult")
    assert sentence(step, "closed.next") == prompt(
        "de", "closed.next", when="morgen um 9 Uhr", name=NAME_DE["abuse-helpline"], number=spoken("abuse-helpline"))


@pytest.mark.parametrize("audience, line_id", [(ANYONE, "abuse-helpline"), ("adult", "hateaid")])
def test_trying_again_after_every_line_failed_asks_nothing(audience: str, line_id: str) -> None:
    """At the unreachable menu, 1 tries again for the same caller: after 0 that is "anyone",
    never a question first; the tried lines start afresh."""
    state = CallState(flow.UNREACHABLE_NODE, "de", audience, tries=1, tried=("abuse-helpline", "hateaid"))
    step = flow.key_pressed(C, state, "1", ALL_OPEN)
    assert isinstance(step.then, Dial) and step.then.line_id == line_id
    assert step.then.state == CallState(flow.UNREACHABLE_NODE, "de", audience, 0, (line_id,))
