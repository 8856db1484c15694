"""The words of the call, read straight from prompts/*.yaml and data/menu.yaml (not through the
loader, so a loader that stopped checking would not hide a gap): every key in every language,
the same placeholders, and the rules about length and tone in DESIGN.md (1, 6, 9, 10)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.config import bundled_dir
from ivr.prompts import COMMON_PLACEHOLDERS, FLOW_PROMPTS
from ivr.speech import placeholders

WORDS_PER_SECOND = 2.2  # DESIGN.md: count ~2.2 words/s
EMERGENCY_DIGITS = {"police": 3, "emergency": 3}  # 110, 112: three spoken digits each


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


MENU = _yaml(bundled_dir("data") / "menu.yaml")
HOTLINES = _yaml(bundled_dir("data") / "hotlines.yaml")
LANGUAGES: list[str] = MENU["languages"]
FILES = {lang: _yaml(bundled_dir("prompts") / f"{lang}.yaml") for lang in LANGUAGES}
PROMPTS = {lang: {k: " ".join(str(v).split()) for k, v in doc["prompts"].items()}
           for lang, doc in FILES.items()}
FIRST = LANGUAGES[0]
MENU_KEYS = sorted({key for node in MENU["nodes"].values() for key in node.get("say", [])})
ONLINE_KEYS = sorted(f"closed.online.{r['id']}" for r in HOTLINES["resources"] if r["kind"] == "online")
GUIDE_NODES = sorted(n for n in MENU["nodes"] if n.startswith("guide_"))


def spoken_words(text: str) -> int:
    """Words as heard: an emergency number counts one word per digit."""
    count = 0
    for word in text.split():
        names = placeholders(word)
        count += sum(EMERGENCY_DIGITS.get(name, 1) for name in names) if names else 1
    return count


def test_german_comes_first() -> None:
    assert LANGUAGES[0] == "de" and "en" in LANGUAGES


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_menu_and_the_flow_say_exists(lang: str) -> None:
    needed = {*MENU_KEYS, *FLOW_PROMPTS, *ONLINE_KEYS}
    missing = sorted(needed - set(PROMPTS[lang]))
    assert not missing, f"prompts/{lang}.yaml lacks {missing}"
    assert len(MENU_KEYS) >= 15 and len(ONLINE_KEYS) == 2  # the files were read


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != FIRST])
def test_every_language_has_the_same_keys_and_placeholders_as_german(lang: str) -> None:
    assert sorted(PROMPTS[lang]) == sorted(PROMPTS[FIRST])
    mismatched = {key: (placeholders(PROMPTS[FIRST][key]), placeholders(text))
                  for key, text in PROMPTS[lang].items()
                  if sorted(placeholders(text)) != sorted(placeholders(PROMPTS[FIRST].get(key, "")))}
    assert not mismatched
    assert sorted(FILES[lang]["words"]) == sorted(FILES[FIRST]["words"])


# The fields ivr/speech.py offers to each word template, and those each must use.
WORD_FIELDS = {
    "today": ({"time", "weekday", "day", "month"}, {"time"}),
    "tomorrow": ({"time", "weekday", "day", "month"}, {"time"}),
    "weekday": ({"time", "weekday", "day", "month"}, {"time", "weekday"}),
    "date": ({"time", "weekday", "day", "month"}, {"time", "day", "month"}),
    "time_full_hour": ({"hour", "hour12", "minute", "ampm"}, set()),
    "time_minutes": ({"hour", "hour12", "minute", "ampm"}, {"minute"}),
    "hours_range": ({"from", "to"}, {"from", "to"}),
    "days_range": ({"first", "last"}, {"first", "last"}),
    "list_and": (set(), set()),
    "key_star": (set(), set()),
    "key_hash": (set(), set()),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_word_templates_use_only_the_fields_they_are_given(lang: str) -> None:
    """Times and days differ in shape per language ("9 Uhr", "9 a.m."), so not the same
    placeholders as German: but each only those speech fills, and the ones it needs."""
    words = FILES[lang]["words"]
    assert len(words["weekdays"]) == 7 and len(words["months"]) == 12
    for key, (offered, needed) in WORD_FIELDS.items():
        used = set(placeholders(words[key]))
        assert needed <= used <= offered, (lang, key, used)
    assert {"hour", "hour12"} & set(placeholders(words["time_full_hour"]))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_only_those_the_call_fills(lang: str) -> None:
    """A menu node's prompt gets no values but the emergency numbers; the flow's own prompts get
    exactly what ivr/prompts.py declares. Anything else would fail in the middle of a call."""
    for key in MENU_KEYS:
        assert set(placeholders(PROMPTS[lang][key])) <= COMMON_PLACEHOLDERS, (lang, key)
    for key, allowed in FLOW_PROMPTS.items():
        assert set(placeholders(PROMPTS[lang][key])) <= allowed | COMMON_PLACEHOLDERS, (lang, key)
    for key in ONLINE_KEYS:
        assert not placeholders(PROMPTS[lang][key]), (lang, key)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_voice_names_a_language(lang: str) -> None:
    voice = FILES[lang]["voice"]
    assert re.fullmatch(r"[a-z]{2}-[A-Z]{2}", voice["language"]) and voice["language"].startswith(lang)
    assert voice["voice"].startswith("Polly.")  # SSML <say-as> needs a Polly (or Google) voice


# -- rule 1 and 6: the first seconds ----------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_greeting_and_how_to_reach_a_person_fit_in_15_seconds(lang: str) -> None:
    greeting = spoken_words(PROMPTS[lang]["greeting"])
    first_option = spoken_words(PROMPTS[lang][MENU["nodes"]["main"]["say"][0]])
    assert greeting < 40
    assert (greeting + first_option) / WORDS_PER_SECOND <= 15.0, (greeting, first_option)
    assert MENU["nodes"]["main"]["say"][0] == "main.connect"
    assert "1" in PROMPTS[lang]["main.connect"]
    assert MENU["nodes"]["main"]["keys"]["1"] == {"connect": "ask"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_at_night_the_greeting_and_the_honest_first_option_fit_in_15_seconds(lang: str) -> None:
    """With nothing open, the first thing after the greeting says so; how to hear when a line
    opens follows at once."""
    assert MENU["nodes"]["main"]["say_when_closed"][0] == "main.connect_closed"
    greeting = spoken_words(PROMPTS[lang]["greeting"])
    first_option = spoken_words(PROMPTS[lang]["main.connect_closed"])
    assert (greeting + first_option) / WORDS_PER_SECOND <= 15.0, (greeting, first_option)
    assert MENU["nodes"]["main"]["say_when_closed"][1] == "main.choices_closed"
    assert "1" in PROMPTS[lang]["main.choices_closed"].split(".")[0]


@pytest.mark.parametrize("key", ["main.connect_closed", "main.choices_closed", "keys.common_closed",
                                 "hotlines.keys_closed"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_nothing_said_while_all_is_closed_promises_a_connection(lang: str, key: str) -> None:
    text = PROMPTS[lang][key].lower()
    assert not any(word in text for word in ("verbinden", "connect", "mit der 0", "press 0")), text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_emergency_numbers_are_in_the_greeting(lang: str) -> None:
    assert placeholders(PROMPTS[lang]["greeting"]) == ("police", "emergency")


# -- rule 10: short pieces, German "Sie" outside the young person's branch ----------------------

def _chunks() -> list[Any]:
    params = []
    for lang in LANGUAGES:
        for node in GUIDE_NODES:
            params.append(pytest.param(lang, node, id=f"{lang}-{node}"))
    return params


@pytest.mark.parametrize("lang, node", _chunks())
def test_each_guidance_chunk_is_at_most_30_seconds_and_ends_with_the_keys(lang: str, node: str) -> None:
    *chunk, keys = MENU["nodes"][node]["say"]
    assert keys in ("guide.next_part", "guide.next_topic", "guide.last_topic")
    assert "1" in PROMPTS[lang][keys] and "2" in PROMPTS[lang][keys]
    words = sum(spoken_words(PROMPTS[lang][key]) for key in chunk)
    assert words / WORDS_PER_SECOND <= 30.0, f"{words} words"


YOUNG_BRANCH = {"who.question", "guide.young.help"}  # addressed to the young person themself
DU = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|drück)\b", re.IGNORECASE)


@pytest.mark.parametrize("key", [
    k for k in sorted(PROMPTS["de"]) if k not in YOUNG_BRANCH])
def test_german_says_sie_outside_the_young_persons_branch(key: str) -> None:
    assert not DU.search(PROMPTS["de"][key]), PROMPTS["de"][key]


# -- rule 9: no blame, no pressure; what to do and not to do -----------------------------------

@pytest.mark.parametrize("lang, key, phrases", [
    ("de", "guide.blackmail", ["Zahlen Sie kein Geld", "keine weiteren Bilder", "nichts falsch"]),
    ("en", "guide.blackmail", ["do not pay", "do not send", "done nothing wrong"]),
    ("de", "guide.young", ["gespeichert, weitergeleitet oder per Screenshot", "Links und Benutzernamen",
                           "Meldestelle oder die Polizei"]),
    ("en", "guide.young", ["saved, forwarded or screenshotted", "links and user names",
                           "reporting office or the police"]),
    ("de", "guide.act.remove", ["Wer über 18 ist, kann mit StopNCII", "unter 18-Jährigen gibt es dafür Take It Down"]),
    ("en", "guide.act.remove", ["over 18, StopNCII", "people under 18, Take It Down"]),
    ("de", "guide.young.help", ["Du bist nicht schuld"]),
    ("en", "guide.young.help", ["It is not your fault"]),
])
def test_guidance_says_what_to_do_without_blame(lang: str, key: str, phrases: list[str]) -> None:
    for phrase in phrases:
        assert phrase in PROMPTS[lang][key], (lang, key, phrase)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_prompt_asks_the_caller_what_they_did_wrong(lang: str) -> None:
    blame = re.compile(r"\b(selbst schuld|Ihre Schuld|warum haben Sie|your own fault|why did you)\b", re.I)
    assert not [k for k, v in PROMPTS[lang].items() if blame.search(v)]
