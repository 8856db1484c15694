"""`menu.yaml` and the prompts, validated against each other and the directory: each slip an
operator can make is refused with one message naming the file, the key and what was expected."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ivr.config.settings import bundled_dir
from ivr.config.errors import ConfigInvalid
from ivr.config.loading import load_config

MENU, DE, EN = "data/menu.yaml", "prompts/de.yaml", "prompts/en.yaml"
# the main menu's own lines (the only_some node has the same keys and silence)
MAIN_KEYS = '      "3": {connect: adult}\n      "4": {goto: guidance}\n      "5": {goto: hotlines}\n      "7": {language: en}'
MAIN_SILENCE = ('    languages_after_closed: 1  # at night after "Gerade ist keine Beratungsstelle ... erreichbar."\n'
                '    silence: connect')


def line_of(file: str, text: str) -> int:
    """The 1-based line of the bundled `file` that holds `text` (exactly one must): messages name
    lines, and comments above may change, so tests find the line rather than hard-code it."""
    folder, name = file.split("/")
    lines = (bundled_dir(folder) / name).read_text(encoding="utf-8").splitlines()
    hits = [n for n, line in enumerate(lines, 1) if text == line or (text.strip() == text and text in line)]
    assert len(hits) == 1, (file, text, hits)
    return hits[0]



@pytest.fixture
def problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Copy the bundled config, apply (file, old, new) edits, load it, return every problem."""
    shutil.copytree(bundled_dir("data"), tmp_path / "data")
    shutil.copytree(bundled_dir("prompts"), tmp_path / "prompts")
    monkeypatch.chdir(tmp_path)  # files are named relative to the working folder

    def load(*edits: tuple[str, str, str]) -> list[str]:
        for file, old, new in edits:
            path = tmp_path / file
            text = path.read_text(encoding="utf-8")
            assert text.count(old) == 1, f"{old!r} is not unique in {file}"
            path.write_text(text.replace(old, new), encoding="utf-8")
        with pytest.raises(ConfigInvalid) as caught:
            load_config(tmp_path / "data", tmp_path / "prompts")
        return [str(error) for error in caught.value.errors]

    return load


def test_the_bundled_config_loads(tmp_path: Path) -> None:
    config = load_config(bundled_dir("data"), bundled_dir("prompts"))
    assert config.menu.start == "main" and set(config.prompts) == {"de", "en", "tr", "ar", "ru", "uk", "pl"}


NODES = ("main, languages, hotlines, closed, unreachable, only_some, short_talk, guidance, guide_what, guide_act, "
         "guide_act_remove, guide_act_block, guide_act_protect, guide_blackmail, guide_blackmail_help, guide_support, "
         "guide_support_danger, guide_young, "
         "guide_young_help")
LANGUAGE_KEY = '"9": {language: next}'
GUIDE_ACT = "  guide_act:\n    say: [guide.act.counselling, guide.next_part]\n    keys:\n"


def bundled_line(file: str, start: str) -> str:
    """The whole line of the bundled `file` that starts with `start` (exactly one must), with its
    line break: an edit that removes or rewrites a sentence keeps working when it is reworded."""
    folder, name = file.split("/")
    lines = (bundled_dir(folder) / name).read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [line for line in lines if line.startswith(start)]
    assert len(hits) == 1, (file, start, hits)
    return hits[0]


def web_placeholders() -> list[str]:
    """{web_<id>} for every line and resource in hotlines.yaml that has a web address."""
    data = yaml.safe_load((bundled_dir("data") / "hotlines.yaml").read_text(encoding="utf-8"))
    return sorted("web_" + item["id"].replace("-", "_")
                  for item in (*data["lines"], *data.get("resources", [])) if item.get("web"))


@pytest.mark.parametrize("edit, expected", [
    # a dangling target
    ((MENU, "{goto: guide_act_protect}", "{goto: guide_act_protekt}"),
     [f"{MENU}: nodes.guide_act_block.keys.1: goto 'guide_act_protekt' is not a node; expected one "
      f"of {NODES} (line {line_of(MENU, '{goto: guide_act_protect}')})"]),
    # a typo in a node's key: named, with what was probably meant; the node then says nothing
    ((MENU, "    say: [guide.act.remove, guide.next_part]", "    sai: [guide.act.remove, guide.next_part]"),
     [f"{MENU}: nodes.guide_act_remove.sai: unknown key 'sai' (did you mean 'say'?); expected one of "
      f"keys, languages_after, languages_after_closed, name_languages, offer_language, say, say_when_closed, "
      f"show, silence, wait (line {line_of(MENU, 'say: [guide.act.remove,')})",
      f"{MENU}: nodes.guide_act_remove: says nothing; expected at least one prompt key in say "
      f"(line {line_of(MENU, 'guide_act_remove:')})"]),
    # keys that mean the same everywhere cannot be given another meaning
    ((MENU, GUIDE_ACT, GUIDE_ACT + '      "0": {goto: main}\n'),
     [f"{MENU}: nodes.guide_act.keys.0: key '0' means the same everywhere (0 person, * main menu, "
      f"# repeat); expected only 1-5 here (line {line_of(MENU, 'say: [guide.act.counselling,') + 2})"]),
    # an audience that does not exist
    ((MENU, MAIN_KEYS, MAIN_KEYS.replace("{connect: adult}", "{connect: adults}")),
     [f"{MENU}: nodes.main.keys.3: connect 'adults' is not an audience; expected one of young_person, "
      f"parent, adult, supporter, anyone, caller, next (line {line_of(MENU, MAIN_KEYS.splitlines()[-1]) - 3})"]),
    # what silence does at a node: only the two things the flow knows
    ((MENU, MAIN_SILENCE, MAIN_SILENCE.replace("connect", "sometimes")),
     [f"{MENU}: nodes.main.silence: 'sometimes' is not what silence can do; expected repeat or connect "
      f"(line {line_of(MENU, MAIN_SILENCE.splitlines()[0]) + 1})"]),
    # the keys 6-9 only switch language (1-5 are a menu's choices); the offer then has no key
    ((MENU, LANGUAGE_KEY, '"9": {goto: guidance}'),
     [f"{MENU}: nodes.main.keys.9: key '9' may only switch language or open the language menu; expected 1-5 for other choices "
      f"(line {line_of(MENU, LANGUAGE_KEY)})",
      f"{MENU}: nodes.main.offer_language: '9' is not a key of this node that switches language; "
      f"expected one with {{language: next}} (line {line_of(MENU, 'offer_language:')})"]),
], ids=["dangling-goto", "typo-in-node-key", "global-key-redefined", "unknown-audience", "unknown-silence",
        "language-key-for-another-choice"])
def test_menu_problems(problems, edit: tuple[str, str, str], expected: list[str]) -> None:
    assert problems(edit) == expected


def test_nodes_nobody_reaches_are_named(problems) -> None:
    # guide_act no longer leads on to guide_act_remove, so neither it nor guide_act_block and
    # guide_act_protect (reached only from there, one after the other) can be heard
    found = problems((MENU, '      "1": {goto: guide_act_remove}\n      "2": {goto: guidance}\n\n  guide_act_remove:',
                      '      "2": {goto: guidance}\n\n  guide_act_remove:'))
    assert found == [
        f"{MENU}: nodes.{node}: node '{node}' is unreachable; expected some node's keys to goto it "
        f"(line {line_of(MENU, f'{node}:') - 1})"
        for node in ("guide_act_remove", "guide_act_block", "guide_act_protect")
    ]


def test_a_prompt_missing_in_one_language_names_that_file_and_key(problems) -> None:
    found = problems((EN, bundled_line(EN, "  connect.now:"), ""))
    assert found == [f"{EN}: prompts: lacks 'connect.now'; expected a sentence for every prompt key the "
                     f"call uses (line {line_of(EN, 'prompts:')})"]


def test_placeholders_must_match_across_languages(problems) -> None:
    found = problems((EN, '  unreachable.line: "{name}: {number}."', '  unreachable.line: "{name}."'))
    assert found == [f"{EN}: prompts.unreachable.line: has placeholders ['name']; expected the same as "
                     f"de.yaml: ['name', 'number'] (line {line_of(EN, 'unreachable.line:')})"]


def test_an_unknown_placeholder_is_named(problems) -> None:
    found = problems((DE, '  unreachable.line: "{name}: {number}."', '  unreachable.line: "{name}: {nummer}."'))
    allowed = ", ".join(f"{{{name}}}" for name in sorted(["emergency", "name", "number", "police",
                                                          *web_placeholders()]))
    assert found[0] == (f"{DE}: prompts.unreachable.line: uses unknown placeholder {{nummer}}; expected only "
                        f"{allowed} (line {line_of(DE, 'unreachable.line:')})")


def test_a_prompt_no_one_says_is_named(problems) -> None:
    found = problems((DE, '  connect.now:', '  connect.nie: "Nie gesagt."\n  connect.now:'))
    assert found == [f"{DE}: prompts.connect.nie: 'connect.nie' is never said; expected only keys used "
                     f"by menu.yaml or the call (line {line_of(DE, 'connect.now:')})"]


# -- the young section: what a caller under 18 hears instead -------------------------------------

def first_young_line() -> int:
    """The line right after `young:` in the bundled de.yaml, where the tests put a sentence."""
    lines = (bundled_dir("prompts") / "de.yaml").read_text(encoding="utf-8").splitlines()
    return lines.index("young:") + 2

def test_a_young_sentence_for_a_key_that_does_not_exist_is_named(problems) -> None:
    found = problems((DE, "\nyoung:\n", '\nyoung:\n  main.chioces: "Hinweise: die 4."\n'))
    assert found == [f"{DE}: young.main.chioces: 'main.chioces' is not a prompt key; expected a key of "
                     f"prompts, said instead of it to a caller under 18 (line {first_young_line()})"]


def test_a_young_sentence_must_have_the_placeholders_of_its_prompt(problems) -> None:
    found = problems((DE, "\nyoung:\n", '\nyoung:\n  closed.next: "Die nächste ist {when} da."\n'))
    assert found == [f"{DE}: young.closed.next: has placeholders ['when']; expected the same as "
                     f"prompts.closed.next: ['name', 'number', 'when'] (line {first_young_line()})"]


# -- the service number in hotlines.yaml ---------------------------------------------------------------

HOTLINES = "data/hotlines.yaml"


def test_a_caller_id_that_is_not_e164_is_refused(problems) -> None:
    found = problems((HOTLINES, "\n  short_talk_seconds:", '\n  caller_id: "12345"\n  short_talk_seconds:'))
    assert found == [f"{HOTLINES}: service.caller_id: '12345' is not a phone number in E.164; expected a "
                     f"number the Twilio account owns, e.g. \"+4930901820123\", or nothing "
                     f"(line {line_of(HOTLINES, 'short_talk_seconds:')})"]


def test_a_negative_short_talk_is_refused(problems) -> None:
    line = bundled_line(HOTLINES, "  short_talk_seconds:")
    found = problems((HOTLINES, line, "  short_talk_seconds: -1\n"))
    assert found == [f"{HOTLINES}: service.short_talk_seconds: -1 is not a number of seconds; expected a "
                     f"whole number from 0 to 600, e.g. 30 (line {line_of(HOTLINES, 'short_talk_seconds:')})"]


def test_unknown_keys_in_a_prompts_file_are_named_with_the_likely_meant_one(tmp_path) -> None:
    """A typo at the top of a prompts file ("yong:") would silently drop every sentence for
    callers under 18: it is refused, with the key it probably meant."""
    from ivr.config.call_loader import build_prompts
    from ivr.config.yamlfile import read_yaml
    path = tmp_path / "de.yaml"
    text = (bundled_dir("prompts") / "de.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("\nyoung:", "\nyong:").replace("  web_dot:", "  web_dott:"), encoding="utf-8")
    doc = read_yaml(path, "prompts/de.yaml")
    assert build_prompts(doc, "de") is None
    messages = [f"{e.path}: {e.message}" for e in doc.errors]
    assert "yong: unknown key 'yong' (did you mean 'young'?); expected one of prompts, reviewed, voice, words, young" in messages
    assert any(m.startswith("words.web_dott: unknown key 'web_dott' (did you mean 'web_dot'?)") for m in messages)


def test_the_country_code_of_a_web_address_may_only_use_code_or_letters(problems) -> None:
    line = '  web_country_code: "{letters}"'
    assert problems((EN, line, '  web_country_code: "{land}"')) == [
        f"{EN}: words.web_country_code: '{{land}}' uses {{land}}; expected only {{code}}, {{letters}} "
        f"(line {line_of(EN, line.strip())})"]


# -- the five other languages: voices, review state, the language menu --------------------------

TR = "prompts/tr.yaml"


def test_a_voice_twilio_does_not_offer_is_refused_naming_the_list(problems) -> None:
    found = problems((TR, "  voice: Polly.Burcu-Neural", "  voice: Polly.Burcu"))
    assert len(found) == 1 and found[0].startswith(
        f"{TR}: voice.voice: 'Polly.Burcu' is not a voice listed in ivr/config/voices.yaml; expected one of "
        "Google.uk-UA-Standard-A, Google.uk-UA-Wavenet-A, Polly.Amy-Neural, ")
    assert found[0].endswith(f"(or add it there with its source) (line {line_of(TR, '  voice: Polly.Burcu-Neural')})")


def test_a_language_code_that_does_not_fit_the_voice_is_refused(problems) -> None:
    assert problems((TR, "  language: tr-TR", "  language: de-DE")) == [
        f"{TR}: voice.language: 'de-DE' does not fit Polly.Burcu-Neural; expected tr-TR "
        f"(line {line_of(TR, '  language: tr-TR')})"]


def test_polly_arabic_takes_twilios_code_arb(problems) -> None:
    ar = "prompts/ar.yaml"
    assert problems((ar, "  language: arb", "  language: ar-SA")) == [
        f"{ar}: voice.language: 'ar-SA' does not fit Polly.Zeina; expected arb (line {line_of(ar, '  language: arb')})"]


def test_review_state_must_be_true_or_false_and_a_locale_must_be_known(problems) -> None:
    assert problems((TR, "reviewed: false\n", "reviewed: later\n"), (TR, "  locale: tr\n", "  locale: xx-klingon\n")) == [
        f"{TR}: reviewed: 'later' is not true or false; expected false until a native-speaking counsellor "
        f"has checked the file (line {line_of(TR, 'reviewed: false')})",
        f"{TR}: words.locale: 'xx-klingon' is not a locale CLDR knows; expected e.g. tr, ar, pl "
        f"(line {line_of(TR, '  locale: tr')})",
        f"{TR}: words: lacks 'weekdays'; expected all of weekdays, months, today, tomorrow, weekday, date, "
        "time_full_hour, time_minutes, hours_range, days_range, list_and, key_star, key_hash, web_dot, "
        "web_hyphen, web_hyphens, key_named (weekdays and months may come from CLDR with a locale) "
        f"(line {line_of(TR, 'words:')})",
        f"{TR}: words: lacks 'months'; expected all of weekdays, months, today, tomorrow, weekday, date, "
        "time_full_hour, time_minutes, hours_range, days_range, list_and, key_star, key_hash, web_dot, "
        "web_hyphen, web_hyphens, key_named (weekdays and months may come from CLDR with a locale) "
        f"(line {line_of(TR, 'words:')})"]


def test_a_key_may_only_switch_to_a_live_language(problems) -> None:
    """The operator takes a language off the line in menu.yaml: its key must go too."""
    assert problems((MENU, "languages: [de, en, tr, ar, ru, uk, pl]", "languages: [de, en, tr, ru, uk, pl]")) == [
        f"{MENU}: nodes.languages.keys.2: language 'ar' is not in languages; expected next or one of "
        f"de, en, tr, ru, uk, pl (line {line_of(MENU, '{language: ar}')})"]


def test_the_language_menu_settings_are_checked(problems) -> None:
    assert problems((MENU, "    wait: 2\n", "    wait: 0\n"),
                    (MENU, "    languages_after: 2 ", "    languages_after: two "),
                    (MENU, '    name_languages: "8"', '    name_languages: "1"')) == [
        f"{MENU}: nodes.main.name_languages: '1' is not a key of this node that goes to a node; expected the "
        f"key of the language menu (line {line_of(MENU, 'name_languages:')})",
        f"{MENU}: nodes.main.languages_after: 'two' is not a number of sentences; expected 0 to 5 "
        f"(line {line_of(MENU, 'languages_after: 2')})",
        f"{MENU}: nodes.main.wait: 0 is not a number of seconds; expected 1 to 10 (line {line_of(MENU, '    wait: 2')})"]


def test_a_language_that_is_not_live_needs_no_file(tmp_path: Path) -> None:
    """Taking Polish off the line: remove it from `languages` and its key; its file may stay."""
    shutil.copytree(bundled_dir("data"), tmp_path / "data")
    menu = tmp_path / "data" / "menu.yaml"
    text = menu.read_text(encoding="utf-8")
    menu.write_text(text.replace("languages: [de, en, tr, ar, ru, uk, pl]", "languages: [de, en, tr, ar, ru, uk]")
                    .replace('      "5": {language: pl}\n', ""), encoding="utf-8")
    shutil.copytree(bundled_dir("prompts"), tmp_path / "prompts")
    (tmp_path / "prompts" / "pl.yaml").unlink()
    config = load_config(tmp_path / "data", tmp_path / "prompts")
    assert config.menu.languages == ("de", "en", "tr", "ar", "ru", "uk") and "pl" not in config.prompts
    assert [lang for _, lang in config.menu.language_keys("languages")] == ["tr", "ar", "ru", "uk"]
