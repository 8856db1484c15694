"""The caller's first minute through the real webhooks (issue: the caller's first minute):
keys that carry who is calling, du for a caller under 18, 110/112 before every goodbye without
a talk, dial outcomes as Twilio really reports them, the service's caller ID, "free" by flag."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from ivr.config.settings import bundled_dir
from ivr.config.loading import load_config
from ivr.call.address_forms import POLITE
from twiml_helpers import (PHONE, SERVICE_NUMBER, SPOKEN, Call, bundled_config, dial, dial_numbers, gather,
                           make_app, parse, post, spoken_numbers, texts, twilio_form, verbs)

ALL_OPEN = "2026-12-01T16:30"  # Tuesday afternoon: all four lines open
NIGHT = "2026-11-28T22:00"  # Saturday night: nothing open
PROMPTS = {lang: bundled_config().prompts[lang] for lang in ("de", "en")}
FORMAL = POLITE["de"]


def call_at(at: str, config=None) -> Call:
    return Call(make_app(at, config=config).test_client())


def dialled(root: ET.Element) -> str:
    element = dial(root)
    assert element is not None, verbs(root)
    (number,) = dial_numbers(element)
    return number


def has_emergency_numbers(say: ET.Element) -> bool:
    return {("110",), ("112",)} <= set(spoken_numbers(say))


# -- one key to a person, chosen by who is calling ----------------------------------------------

@pytest.mark.parametrize("key, line", [("1", "kids-line"), ("2", "parents-line"), ("3", "hateaid"),
                                       ("0", "abuse-helpline")])
def test_each_key_of_the_first_menu_dials_the_best_line_for_who_is_calling(key: str, line: str) -> None:
    call = call_at(ALL_OPEN)
    call.start()
    root = call.press(key)
    assert dialled(root) == PHONE[line]
    assert texts(root) == [PROMPTS["de"].text("connect.now")]


def test_a_silent_caller_is_connected_after_one_play_of_the_first_menu() -> None:
    call = call_at(ALL_OPEN)
    call.start()
    assert dialled(call.silence()) == PHONE["abuse-helpline"]


def test_english_is_offered_right_after_the_first_german_sentence_and_keeps_the_keys() -> None:
    call = call_at(ALL_OPEN)
    start = call.start()
    said = start.find("Gather").findall("Say")
    assert said[0].get("language") == "de-DE" and said[1].get("language") == "en-GB"
    assert "".join(said[1].itertext()) == "For English, press 9."
    english = call.press("9")
    assert texts(english)[0] == PROMPTS["en"].text("greeting")
    # in English, the line where counselling in English may be possible comes first
    assert dialled(call.press("1")) == PHONE["abuse-helpline"]


# -- du from the moment a caller says they are under 18 ------------------------------------------

def _young_walk(at: str, keys: list[str]) -> list[str]:
    """Every German sentence a caller under 18 hears after pressing 1, following `keys`."""
    call = call_at(at)
    call.start()
    heard = texts(call.press("1"))
    for key in keys:
        root = call.dial_ends(key) if key in ("busy", "failed") else call.silence() if key == "-" else call.press(key)
        heard += [text for text, say in zip(texts(root), root.iter("Say")) if say.get("language") == "de-DE"]
    return heard


@pytest.mark.parametrize("at, keys", [
    (NIGHT, ["1", "1", "#", "*", "4", "3", "2", "1"]),  # closed: guidance, blackmail, back, topics
    (ALL_OPEN, ["busy", "failed", "failed", "2", "4", "1", "1"]),  # every line fails: numbers, guidance
    (NIGHT, ["5", "1", "-", "-"]),  # the hotlines, then silence until goodbye
])
def test_a_caller_under_18_hears_du_in_every_sentence(at: str, keys: list[str]) -> None:
    heard = _young_walk(at, keys)
    assert len(heard) > 5
    formal = [text for text in heard if FORMAL.search(text)]
    assert formal == []


def test_a_caller_under_18_hears_the_young_version_of_blackmail_guidance() -> None:
    call = call_at(NIGHT)
    call.start()
    call.press("1")  # under 18: nobody open, the closed menu
    call.press("1")  # guidance
    root = call.press("3")  # blackmail
    said = texts(root)
    assert said[0] == PROMPTS["de"].text("guide.blackmail", young=True)
    assert said[0].startswith("Wenn dich jemand mit intimen Bildern erpresst: Du hast nichts falsch gemacht.")


# -- 110/112 before every goodbye that ends a call without a talk -------------------------------

def _ends_with_emergency_then_goodbye(root: ET.Element, young: bool = False) -> None:
    assert verbs(root)[-1] == "Hangup"
    said = root.findall("Say")
    assert has_emergency_numbers(said[-2]), texts(root)[-2]
    assert texts(root)[-1] == PROMPTS["de"].text("goodbye", young)


def test_at_night_a_silent_caller_hears_110_and_112_right_before_goodbye() -> None:
    call = call_at(NIGHT)
    call.start()
    _ends_with_emergency_then_goodbye(call.silence())


def test_unknown_keys_at_the_closed_menu_end_with_110_and_112() -> None:
    call = call_at(NIGHT)
    call.start()
    call.press("3")
    call.press("7")
    call.press("8")
    _ends_with_emergency_then_goodbye(call.press("7"))


def test_the_fallback_says_110_and_112_first() -> None:
    root = parse(post(make_app(None).test_client(), "/fallback", twilio_form()))
    said = root.findall("Say")
    assert has_emergency_numbers(said[0]) and said[0].get("language") == "de-DE"
    english = [s for s in said if s.get("language") == "en-GB"]
    assert has_emergency_numbers(english[0])


# -- dial outcomes as Twilio reports them -----------------------------------------------------

@pytest.mark.parametrize("status", ["BUSY", "weird", "", "Completed", "canceled", "failed"])
def test_an_unknown_or_miscased_status_is_a_failure_and_the_next_line_is_tried(status: str) -> None:
    call = call_at(ALL_OPEN)
    call.start()
    call.press("1")  # kids-line first
    root = call.dial_ends(status)
    assert texts(root) == [PROMPTS["de"].text("connect.failed"), PROMPTS["de"].text("connect.next")]
    assert dialled(root) == PHONE["abuse-helpline"]


def test_a_long_completed_talk_ends_with_thanks() -> None:
    call = call_at(ALL_OPEN)
    call.start()
    call.press("3")
    root = call.dial_ends("completed", "300")
    assert verbs(root) == ["Say", "Hangup"] and texts(root) == [PROMPTS["de"].text("connect.done")]


@pytest.mark.parametrize("seconds", ["12", "29", None, "abc"])
def test_a_short_or_unmeasured_completed_dial_offers_the_next_line_and_the_numbers(seconds: str | None) -> None:
    call = call_at(ALL_OPEN)
    call.start()
    call.press("3")  # adult: hateaid, then abuse-helpline
    root = call.dial_ends("completed", seconds)
    info = gather(root)
    assert info is not None and "n=short_talk" in info.action
    said = root.find("Gather").findall("Say")
    assert texts(root)[0] == PROMPTS["de"].text("short_talk.intro")
    assert [spoken_numbers(s) for s in said[1:3]] == [[SPOKEN["hateaid"]], [SPOKEN["abuse-helpline"]]]
    assert dialled(call.press("1")) == PHONE["abuse-helpline"]  # the next, not the one just reached


def test_completed_at_the_threshold_counts_as_a_talk() -> None:
    call = call_at(ALL_OPEN)
    call.start()
    call.press("3")
    assert verbs(call.dial_ends("completed", "30")) == ["Say", "Hangup"]


def test_a_short_talk_with_nothing_else_open_offers_the_numbers_and_silence_says_goodbye() -> None:
    call = call_at("2026-11-28T15:00")  # Saturday: only the children's line
    call.start()
    call.press("1")
    root = call.dial_ends("completed", "5")
    assert texts(root)[0] == PROMPTS["de"].text("short_talk.intro")
    assert [spoken_numbers(s) for s in root.find("Gather").findall("Say")[1:2]] == [[SPOKEN["kids-line"]]]
    again = call.press("1")  # no untried line left: the numbers to dial, and try again
    assert "n=unreachable" in gather(again).action
    call.silence()
    _ends_with_emergency_then_goodbye(call.silence(), young=True)


# -- the <Dial> itself ---------------------------------------------------------------------

def test_every_dial_rings_the_german_way_shows_the_service_number_and_never_records() -> None:
    call = call_at(ALL_OPEN)
    call.start()
    element = dial(call.press("2"))
    assert element.get("ringTone") == "de"
    assert element.get("callerId") == SERVICE_NUMBER
    assert element.get("record") == "do-not-record"


def _config_with(tmp_path: Path, **service: object):
    data = tmp_path / "data"
    data.mkdir()
    hotlines = yaml.safe_load((bundled_dir("data") / "hotlines.yaml").read_text(encoding="utf-8"))
    hotlines["service"].update(service)
    (data / "hotlines.yaml").write_text(yaml.safe_dump(hotlines, allow_unicode=True), encoding="utf-8")
    (data / "menu.yaml").write_text((bundled_dir("data") / "menu.yaml").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    return load_config(data, bundled_dir("prompts"))


def test_an_operator_set_caller_id_is_shown_instead_of_the_dialled_number(tmp_path: Path) -> None:
    call = call_at(ALL_OPEN, _config_with(tmp_path, caller_id="+4930901820999"))
    call.start()
    assert dial(call.press("1")).get("callerId") == "+4930901820999"


def test_with_a_service_caller_id_even_an_unusable_to_still_dials(tmp_path: Path) -> None:
    call = Call(make_app(ALL_OPEN, config=_config_with(tmp_path, caller_id="+4930901820999")).test_client(),
                to="anonymous")
    call.start()
    assert dialled(call.press("1")) == PHONE["kids-line"]


def test_a_short_talk_threshold_from_the_directory(tmp_path: Path) -> None:
    call = call_at(ALL_OPEN, _config_with(tmp_path, short_talk_seconds=60))
    call.start()
    call.press("3")
    assert "n=short_talk" in gather(call.dial_ends("completed", "45")).action


@pytest.mark.parametrize("free", [True, False])
def test_the_greeting_says_free_only_when_the_directory_says_so(tmp_path: Path, free: bool) -> None:
    call = call_at(ALL_OPEN, _config_with(tmp_path, free_to_call=free))
    said = texts(call.start())
    assert (PROMPTS["de"].text("service.free") in said) is free
    assert not any("kostenlos" in text for text in said if text != PROMPTS["de"].text("service.free"))
