"""Turkish, Arabic, Russian, Ukrainian and Polish, each a whole call (issue 15), through the real
webhooks: reached from the German start (8, then the language's key) or by a number published
for one language (hotlines.yaml `numbers:`); every <Say> in that language's own voice but the
offers of German and English; 110/112 first and last; the young caller's familiar words.

Instants (Europe/Berlin): Tue 2026-11-24 15:30 all four lines open; Sat 2026-11-28 22:00 none."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.timing.caller_time import CallerTime
from ivr.config.settings import bundled_dir
from ivr.config.errors import ConfigInvalid
from ivr.config.loading import load_config
from ivr.timing.spoken_seconds import Estimate
from twiml_helpers import (LANGUAGE_NAMES, PHONE, VOICE, Call, bundled_config, dial_numbers, dial, make_app,
                           prompt, says, spoken_numbers, verbs)

TUE, SAT_NIGHT = "2026-11-24T15:30", "2026-11-28T22:00"
OTHERS = ["tr", "ar", "ru", "uk", "pl"]
KEY = {lang: str(n) for n, lang in enumerate(OTHERS, 1)}  # their keys in the language menu
TURKISH_NUMBER = "+4930901820124"


def call_in(lang: str, at: str) -> Call:
    """A call switched to `lang` at the German start: 8 opens the language menu, then its key."""
    call = Call(make_app(at).test_client())
    call.start()
    menu = call.press("8")
    assert says(menu)[:5] == [(f"{text[:-1]}{n}", language, voice)
                              for n, (text, language, voice) in enumerate(LANGUAGE_NAMES, 1)]
    call.press(KEY[lang])
    return call


def own_voice(root, lang: str) -> list[tuple[str, str | None, str | None]]:
    """The <Say>s not in `lang`'s voice."""
    return [say for say in says(root) if (say[1], say[2]) != VOICE[lang]]


@pytest.mark.parametrize("lang", OTHERS)
def test_the_language_starts_with_its_greeting_then_german_and_english_each_in_its_voice(lang: str) -> None:
    call = call_in(lang, TUE)
    said = says(call.root)
    assert said[0] == (prompt(lang, "greeting"), *VOICE[lang])
    assert said[1:3] == [("Deutsch 9", *VOICE["de"]), ("English 7", *VOICE["en"])]
    assert own_voice(call.root, lang) == said[1:3]
    # the keys it offers work: 9 German, 7 English, and the first key named connects
    assert says(call.press("9"))[0] == (prompt("de", "greeting"), *VOICE["de"])
    call = call_in(lang, TUE)
    assert says(call.press("7"))[0] == (prompt("en", "greeting"), *VOICE["en"])
    call = call_in(lang, TUE)
    root = call.press("1")
    assert says(root) == [(prompt(lang, "connect.now"), *VOICE[lang])]
    # first the line that may counsel in the caller's language (multilingual), then the others
    assert dial_numbers(dial(root)) == [PHONE["abuse-helpline"]]
    assert dial_numbers(dial(call.dial_ends("busy"))) == [PHONE["kids-line"]]


@pytest.mark.parametrize("lang", OTHERS)
def test_110_and_112_come_right_after_the_keys_for_a_person_and_before_goodbye(lang: str) -> None:
    call = call_in(lang, SAT_NIGHT)
    texts = [text for text, _, _ in says(call.root)]
    emergency = texts.index(prompt(lang, "emergency"))
    assert texts[emergency - 1] == prompt(lang, "main.connect_closed") and emergency == 4
    end = call.silence()  # nobody open: when the next line opens, the numbers, 110/112, goodbye
    assert verbs(end)[-1] == "Hangup"
    said = list(end.iter("Say"))
    assert spoken_numbers(said[-2]) == [("110",), ("112",)]
    assert [text for text, _, _ in says(end)][-2:] == [prompt(lang, "emergency"), prompt(lang, "goodbye")]
    assert own_voice(end, lang) == []


@pytest.mark.parametrize("lang", OTHERS)
def test_guidance_the_numbers_and_a_failed_dial_stay_in_the_language(lang: str) -> None:
    call = call_in(lang, TUE)
    guidance = call.press("4")
    assert [text for text, _, _ in says(guidance)][0] == prompt(lang, "guidance.choices")
    blackmail = call.press("3")
    assert [text for text, _, _ in says(blackmail)][0] == prompt(lang, "guide.blackmail")
    assert own_voice(blackmail, lang) == []
    call.press("*")
    numbers = call.press("5")
    said = [text for text, _, _ in says(numbers)]
    assert prompt(lang, "service.anonymous") in said
    # which line may counsel in the caller's language, and that the others speak German
    assert said.count(prompt(lang, "line.language.maybe")) == 1 and prompt(lang, "line.language.other") in said
    assert own_voice(numbers, lang) == []
    call.press("0")
    retry = call.dial_ends("busy")
    assert [text for text, _, _ in says(retry)][:2] == [prompt(lang, "connect.busy"), prompt(lang, "connect.next")]


@pytest.mark.parametrize("lang", ["tr", "ru", "uk", "pl", "ar"])
def test_a_caller_under_18_hears_the_young_words_reassurance_first(lang: str) -> None:
    call = call_in(lang, SAT_NIGHT)
    call.press("1")  # under 18: nobody open, when the children's line opens
    call.press("1")  # guidance
    blackmail = call.press("3")
    text = [text for text, _, _ in says(blackmail)][0]
    assert text == prompt(lang, "guide.blackmail", young=True) != prompt(lang, "guide.blackmail")


# -- one number per language --------------------------------------------------------------------

def _with_numbers(tmp_path: Path, numbers: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("hotlines.yaml", "menu.yaml"):
        (data / name).write_text((bundled_dir("data") / name).read_text(encoding="utf-8"), encoding="utf-8")
    hotlines = data / "hotlines.yaml"
    text = hotlines.read_text(encoding="utf-8")
    assert text.count("numbers: {}\n") == 1
    hotlines.write_text(text.replace("numbers: {}\n", numbers), encoding="utf-8")
    return data


def test_a_call_to_the_turkish_number_starts_in_turkish_and_offers_german_and_english_in_8_s(tmp_path: Path) -> None:
    data = _with_numbers(tmp_path, f'numbers:\n  "{TURKISH_NUMBER}": tr\n')
    config = load_config(data, bundled_dir("prompts"))
    assert config.directory.numbers == {TURKISH_NUMBER: "tr"}
    call = Call(make_app(TUE, config=config).test_client(), to=TURKISH_NUMBER)
    root = call.start()
    said = says(root)
    assert said[0] == (prompt("tr", "greeting"), *VOICE["tr"])
    assert said[1:3] == [("Deutsch 9", *VOICE["de"]), ("English 7", *VOICE["en"])]
    assert "Türkçe 8" not in [text for text, _, _ in said]  # the others are not named here
    estimate = Estimate()
    offered = sum(estimate.seconds(text, language) for text, language, _ in said[:3])
    assert offered <= 8
    # the same as switching at the German start: the measures hold for this start too
    walker = CallerTime(config, estimate)
    assert walker.measure_first_minute("tr", dt.datetime(2026, 11, 24, 15, 30, tzinfo=ZoneInfo("Europe/Berlin"))).missed() == []
    # any other number starts in German, with the five languages named
    other = Call(make_app(TUE, config=config).test_client())
    assert says(other.start())[0] == (prompt("de", "greeting"), *VOICE["de"])
    assert call.press("1") is not None and dial_numbers(dial(call.root)) == [PHONE["abuse-helpline"]]
    assert re.search(r"l=tr", dial(call.root).get("action"))


@pytest.mark.parametrize("numbers, expected", [
    ('numbers:\n  "+4930901820124": fr\n',
     "numbers.+4930901820124: 'fr' is not a language of menu.yaml; expected one of de, en, tr, ar, ru, uk, pl"),
    ('numbers:\n  "030 901820124": tr\n',
     "numbers.030 901820124: '030 901820124' is not a phone number in E.164; expected the number callers "
     'dial, in quotes, e.g. "+4930901820124"'),
    ("numbers: [tr]\n",
     "numbers: holds a list; expected a mapping of called numbers (E.164) to languages, e.g. "
     '{"+4930901820124": tr}'),
])
def test_numbers_are_checked(tmp_path: Path, numbers: str, expected: str) -> None:
    data = _with_numbers(tmp_path, numbers)
    with pytest.raises(ConfigInvalid) as caught:
        load_config(data, bundled_dir("prompts"))
    messages = [f"{error.path}: {error.message}" for error in caught.value.errors]
    assert messages == [expected]


def test_the_bundled_directory_publishes_no_language_number_yet() -> None:
    """Every bundled call starts in German: a number is added when an operator publishes one."""
    assert bundled_config().directory.numbers == {}
    root = Call(make_app(TUE).test_client(), to="+4930901820124").start()
    assert says(root)[0] == (prompt("de", "greeting"), *VOICE["de"])


MINUS = re.compile(r"(minus|eksi|ناقص|минус|мінус)", re.I)


@pytest.mark.parametrize("lang", OTHERS)
def test_web_addresses_are_said_with_the_languages_own_word_for_hyphens_never_minus(lang: str) -> None:
    """aktiv-gegen-digitale-gewalt.de: "with hyphens" in the caller's language, never "minus"."""
    from ivr.call.flow import Say
    from ivr.call.twiml import Renderer
    renderer = Renderer(bundled_config())
    said = renderer.text(Say("closed.online.women-counselling"), lang)
    words = bundled_config().prompts[lang].words
    assert f"aktiv gegen digitale gewalt, {words['web_hyphens']}, {words['web_dot']} de" in said
    every = [renderer.text(Say(key), lang, young) for young in (False, True)
             for key in bundled_config().prompts[lang].texts if key.startswith(("closed.online", "guide."))]
    assert every and not [text for text in every if MINUS.search(text)]
