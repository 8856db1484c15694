"""The operator's commands, through click's CliRunner: a scripted `ivr call` shows who is dialled
and what is said, `ivr check` gives one line (or every problem), `ivr fallback-twiml` prints the
same static TwiML that /fallback answers."""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.cli.main import main
from ivr.config.settings import bundled_dir
from twiml_helpers import LANGUAGE_NAMES, NAME_DE, PHONE, SPOKEN, VOICE, make_app, post, prompt, spoken_numbers, twilio_form

SHOWN_AS = "+490000000000"  # the terminal call's pretend service number (the To)
# Nothing from the developer's shell may leak in: each run names its whole environment.
CLEAN_ENV: dict[str, str | None] = {"TWILIO_AUTH_TOKEN": None, "IVR_NOW": None, "IVR_DATA_DIR": None,
                                    "IVR_PROMPTS_DIR": None, "IVR_PUBLIC_URL": None}


def ivr(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env={**CLEAN_ENV, **env}, catch_exceptions=False)


def dialled(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("(dialling ")]


def dialling(line_id: str) -> str:
    return f"(dialling {PHONE[line_id]}, shown to the hotline as {SHOWN_AS})"


# -- ivr call ----------------------------------------------------------------------------------

def said(lang: str, key: str, /, young: bool = False, **values: str) -> str:
    """A sentence as the terminal call prints it: its voice's language, then the words."""
    return f"[{VOICE[lang][0]}] {prompt(lang, key, young=young, **values)}"


def number_line(line_id: str) -> str:
    return said("de", "unreachable.line", name=NAME_DE[line_id], number=" ".join(SPOKEN[line_id]))


_CONNECT = re.split(r"(?<=[.!?])\s+", prompt("de", "main.connect"))
GREETING = [said("de", "greeting"), said("en", "language.offer", key="9"), f"[de-DE] {' '.join(_CONNECT[:2])}",
            *(f"[{language}] {text}" for text, language, _ in LANGUAGE_NAMES), f"[de-DE] {' '.join(_CONNECT[2:])}",
            said("de", "emergency"), said("de", "main.choices")]


@pytest.mark.parametrize("token", [None, "terminal-call-token"], ids=["dev", "signed"])
def test_call_with_all_lines_open_dials_the_best_then_the_next(token: str | None) -> None:
    env = {"TWILIO_AUTH_TOKEN": token} if token else {}
    result = ivr("call", "--at", "2026-11-24T15:30", "--keys", "0,busy,completed", **env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:len(GREETING)] == GREETING
    assert lines[len(GREETING):] == [
        "(key 0)",
        said("de", "connect.now"),
        dialling("abuse-helpline"),
        "(the dial ended: busy after 0 s)",
        said("de", "connect.busy"),
        said("de", "connect.next"),
        dialling("hateaid"),
        "(the dial ended: completed after 240 s)",  # "completed" alone: a talk of some length
        said("de", "connect.done"),
        "(the call ends)",
    ]


def test_call_with_a_short_completed_dial_offers_the_next_line() -> None:
    """completed:12 is a talk of 12 seconds: maybe a voicemail; 1 tries the next line."""
    result = ivr("call", "--at", "2026-11-24T15:30", "--keys", "0,completed:12,1,completed")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[len(GREETING):] == [
        "(key 0)",
        said("de", "connect.now"),
        dialling("abuse-helpline"),
        "(the dial ended: completed after 12 s)",
        said("de", "short_talk.intro"),
        *(number_line(i) for i in ("abuse-helpline", "hateaid")),  # the lines for everyone
        said("de", "short_talk.keys"),
        said("de", "keys.common"),
        "(key 1)",
        said("de", "connect.next"),
        dialling("hateaid"),
        "(the dial ended: completed after 240 s)",
        said("de", "connect.done"),
        "(the call ends)",
    ]


@pytest.mark.parametrize("at, keys, expected", [
    ("2026-11-24T15:30", "1", ["kids-line"]),  # a young person: the first key named
    ("2026-11-24T15:30", "2,no-answer", ["parents-line", "abuse-helpline"]),
    ("2026-11-24T14:30Z", "3", ["hateaid"]),  # the same instant in UTC
    ("2026-11-24T15:30", "-", ["abuse-helpline"]),  # silence at the main menu: a person at once
    # the only open line serves young callers: 0 names it with their key, 1 there reaches it
    ("2026-11-28T15:00", "0", []),
    ("2026-11-28T15:00", "0,1,failed", ["kids-line"]),
    ("2026-11-28T15:00", "-,-", []),  # a silent caller: never the children's line
    ("2026-11-28T15:00", "3", []),  # an adult on Saturday: nothing open for them
    ("2026-03-30T09:30", "3", ["abuse-helpline"]),  # summer time: HateAid opens at 10
    ("2026-11-28T22:00", "0,-,-", []),
    ("2026-11-28T22:00", "-", []),
])
def test_call_dials_whoever_is_open_for_the_caller(at: str, keys: str, expected: list[str]) -> None:
    result = ivr("call", "--at", at, "--keys", keys)
    assert result.exit_code == 0, result.output
    assert dialled(result.stdout) == [dialling(line_id) for line_id in expected]


@pytest.mark.parametrize("keys", ["0,-,-", "-"])
def test_call_when_nothing_is_open_says_when_and_says_goodbye(keys: str) -> None:
    result = ivr("call", "--at", "2026-11-28T22:00", "--keys", keys)
    lines = result.stdout.splitlines()
    assert said("de", "closed.next", when="am Montag um 9 Uhr", name=NAME_DE["abuse-helpline"],
                number="0800 22 55 530") in lines
    assert "(silence)" in lines and "(dialling" not in result.stdout
    assert lines[-3:] == [said("de", "emergency"), said("de", "goodbye"), "(the call ends)"]


def test_call_after_a_failed_dial_reads_the_number() -> None:
    result = ivr("call", "--at", "2026-11-28T15:00", "--keys", "1,failed")
    lines = result.stdout.splitlines()
    start = lines.index(said("de", "connect.failed"))
    assert lines[start:start + 3] == [
        said("de", "connect.failed"),
        said("de", "unreachable.intro", young=True),
        number_line("kids-line"),
    ]


def test_call_in_english_presses_the_language_key_first() -> None:
    result = ivr("call", "--at", "2026-11-24T15:30", "--lang", "en", "--keys", "0")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "(key 9)" in lines
    after = lines[lines.index("(key 9)") + 1:]
    assert after[0] == said("en", "greeting")
    assert after[-2:] == [said("en", "connect.now"), dialling("abuse-helpline")]


def test_call_takes_ivr_now_when_no_at_is_given() -> None:
    result = ivr("call", "--keys", "3", IVR_NOW="2026-11-24T15:30")
    assert dialled(result.stdout) == [dialling("hateaid")]


def test_call_refuses_a_time_it_cannot_read() -> None:
    result = ivr("call", "--at", "Dienstag nachmittag", "--keys", "0")
    assert result.exit_code == 2
    assert "--at" in result.stderr and "'Dienstag nachmittag' is not a time" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("bad", ["busy", "x", "12"])
def test_call_refuses_a_scripted_key_no_phone_has(bad: str) -> None:
    # Saturday night: key 3 reaches no dial, so a dial status typed next lands at a menu; it
    # used to be sent as Digits and heard as "Taste ?" instead of telling the developer.
    result = ivr("call", "--at", "2026-11-28T22:00", "--keys", f"3,{bad},-")
    assert result.exit_code == 2
    assert (f"Error: Invalid value for --keys: {bad!r} came at a menu; expected one key of a phone "
            "(0-9, * or #) or - for silence") in result.stderr
    assert "(key 3)" in result.stdout and f"(key {bad})" not in result.stdout


def test_call_asks_again_when_a_typed_key_is_no_key_of_a_phone() -> None:
    result = CliRunner().invoke(main, ["call", "--at", "2026-11-28T22:00"], input="x\n3\nq\n",
                                env=CLEAN_ENV, catch_exceptions=False)
    assert result.exit_code == 0
    assert "('x' is not a key of a phone: one of 0-9, * or #, or Enter for silence)" in result.stdout
    assert "(key x)" not in result.stdout and "(key 3)" in result.stdout


# -- ivr check -----------------------------------------------------------------------------------

def test_check_passes_with_a_one_line_summary() -> None:
    result = ivr("check")
    assert result.exit_code == 0
    assert result.stdout == (f"OK: 4 lines, 8 resources, 19 menu nodes, languages de, en, tr, ar, ru, uk, pl "
                             f"({bundled_dir('data')}, {bundled_dir('prompts')})\n"
                             "not yet reviewed: tr, ar, ru, uk, pl (reviewed: false in their prompts files; "
                             "to be checked by a native-speaking counsellor)\n")


@pytest.mark.parametrize("lang, keys, greeting", [
    ("tr", "(key 8)", "Mahrem görüntülerle şiddet bilgi hattı."), ("ar", "(key 8)", "خط معلومات عن الصور الحميمة."),
    ("ru", "(key 8)", "Линия помощи при насилии с интимными фото."),
    ("uk", "(key 8)", "Лінія допомоги при насильстві з інтимними фото."),
    ("pl", "(key 8)", "Infolinia o przemocy z użyciem intymnych zdjęć.")])
def test_call_in_each_other_language_opens_the_language_menu_and_dials_in_it(lang: str, keys: str,
                                                                            greeting: str) -> None:
    result = ivr("call", "--at", "2026-11-24T15:30", "--lang", lang, "--keys", "2,busy")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    after = lines[lines.index(keys) + 1:]
    # the language menu: each language in its own voice, with its own key there
    assert after[:5] == [f"[{language}] {text[:-1]}{n}" for n, (text, language, _) in enumerate(LANGUAGE_NAMES, 1)]
    after = after[after.index(f"(key {'12345'['tr ar ru uk pl'.split().index(lang)]})") + 1:]
    assert after[0] == f"[{VOICE[lang][0]}] {greeting}" == said(lang, "greeting")
    assert after[1:3] == ["[de-DE] Deutsch 9", "[en-GB] English 7"]  # German and English offered first
    # the line that may counsel in the caller's language first (multilingual), then the parents' line
    assert dialled(result.stdout) == [dialling("abuse-helpline"), dialling("parents-line")]
    assert said(lang, "connect.busy") in lines and said(lang, "connect.next") in lines


def test_call_refuses_a_language_the_menu_does_not_have() -> None:
    result = ivr("call", "--lang", "fr", "--keys", "0")
    assert result.exit_code == 2
    assert "--lang 'fr' is not a language of the menu; expected one of de, en, tr, ar, ru, uk, pl" in result.stderr


def test_check_fails_naming_the_file_and_key_of_a_missing_english_prompt(tmp_path: Path) -> None:
    data, prompts = tmp_path / "data", tmp_path / "prompts"
    shutil.copytree(bundled_dir("data"), data)
    shutil.copytree(bundled_dir("prompts"), prompts)
    english = prompts / "en.yaml"
    text = english.read_text(encoding="utf-8")
    start = text.index("  connect.busy:")
    english.write_text(text[:start] + text[text.index("\n", start) + 1:], encoding="utf-8")
    result = ivr("check", IVR_DATA_DIR=str(data), IVR_PROMPTS_DIR=str(prompts))
    assert result.exit_code == 1
    assert not result.stdout.startswith("OK")
    assert "en.yaml" in result.stderr and "connect.busy" in result.stderr


# -- ivr fallback-twiml --------------------------------------------------------------------------

def test_fallback_twiml_is_what_the_fallback_url_answers() -> None:
    result = ivr("fallback-twiml")
    assert result.exit_code == 0
    served = post(make_app(None, token=None).test_client(), "/fallback", twilio_form()).get_data(as_text=True)
    assert result.stdout == served + "\n"
    root = ET.fromstring(result.stdout.strip().encode())
    assert [child.tag for child in root][-1] == "Hangup"
    numbers = [n for say in root.iter("Say") for n in spoken_numbers(say)]
    for spoken in ("116 111", "0800 111 0 550", "030 25208838", "0800 22 55 530", "110", "112"):
        assert numbers.count(tuple(spoken.split())) == 2, spoken  # German and English


def test_check_warns_when_a_child_would_hear_sie_or_an_adult_du(tmp_path) -> None:
    """An operator who adds a sentence in the polite form without its young: version learns it
    from `ivr check`, before a caller under 18 hears it (and the other way round)."""
    prompts = tmp_path / "prompts"
    shutil.copytree(bundled_dir("prompts"), prompts)
    for lang, old, new in (("de", '"Später wieder erreichbar:"', '"Später erreichen Sie wieder:"'),
                           ("tr", '"Daha sonra yeniden ulaşılabilir:"', '"Sen daha sonra ulaşabilirsin:"')):
        path = prompts / f"{lang}.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
    result = ivr("check", IVR_PROMPTS_DIR=str(prompts))
    assert result.exit_code == 0  # a warning: the words may be meant, a person decides
    assert [line for line in result.stdout.splitlines() if "form" in line] == [
        "warning: prompts/de.yaml: prompts.hotlines.later: a caller under 18 would hear 'Sie'; "
        "expected the familiar form (add the sentence under young:)",
        "warning: prompts/tr.yaml: prompts.hotlines.later: everyone else would hear 'Sen'; "
        "expected the polite form",
    ]
