"""`menu.yaml` and the prompts, validated against each other and the directory: each slip an
operator can make is refused with one message naming the file, the key and what was expected."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.config import bundled_dir
from ivr.errors import ConfigInvalid
from ivr.loading import load_config

MENU, DE, EN = "data/menu.yaml", "prompts/de.yaml", "prompts/en.yaml"


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
    assert config.menu.start == "main" and set(config.prompts) == {"de", "en"}


NODES = ("main, who, hotlines, closed, unreachable, guidance, guide_what, guide_act, guide_act_remove, "
         "guide_act_protect, guide_blackmail, guide_support, guide_support_danger, guide_young, "
         "guide_young_help")
GUIDE_ACT = "  guide_act:\n    say: [guide.act.counselling, guide.next_part]\n    keys:\n"


@pytest.mark.parametrize("edit, expected", [
    # a dangling target
    ((MENU, "{goto: guide_act_protect}", "{goto: guide_act_protekt}"),
     [f"{MENU}: nodes.guide_act_remove.keys.1: goto 'guide_act_protekt' is not a node; expected one "
      f"of {NODES} (line {line_of(MENU, '{goto: guide_act_protect}')})"]),
    # a typo in a node's key: named, with what was probably meant; the node then says nothing
    ((MENU, "    say: [guide.act.remove, guide.next_part]", "    sai: [guide.act.remove, guide.next_part]"),
     [f"{MENU}: nodes.guide_act_remove.sai: unknown key 'sai' (did you mean 'say'?); expected one of "
      f"keys, offer_language, say, say_when_closed, show (line {line_of(MENU, 'say: [guide.act.remove,')})",
      f"{MENU}: nodes.guide_act_remove: says nothing; expected at least one prompt key in say "
      f"(line {line_of(MENU, 'guide_act_remove:')})"]),
    # keys that mean the same everywhere cannot be given another meaning
    ((MENU, GUIDE_ACT, GUIDE_ACT + '      "0": {goto: main}\n'),
     [f"{MENU}: nodes.guide_act.keys.0: key '0' means the same everywhere (0 person, * main menu, "
      f"# repeat); expected only 1-5 here (line {line_of(MENU, 'say: [guide.act.counselling,') + 2})"]),
    # an audience that does not exist
    ((MENU, '"3": {connect: adult}', '"3": {connect: adults}'),
     [f"{MENU}: nodes.who.keys.3: connect 'adults' is not an audience; expected one of young_person, "
      f"parent, adult, supporter, anyone, ask, again (line {line_of(MENU, '{connect: adult}')})"]),
], ids=["dangling-goto", "typo-in-node-key", "global-key-redefined", "unknown-audience"])
def test_menu_problems(problems, edit: tuple[str, str, str], expected: list[str]) -> None:
    assert problems(edit) == expected


def test_nodes_nobody_reaches_are_named(problems) -> None:
    # guide_act no longer leads on to guide_act_remove, so neither it nor guide_act_protect
    # (reached only from there) can be heard
    found = problems((MENU, '      "1": {goto: guide_act_remove}\n      "2": {goto: guidance}\n\n  guide_act_remove:',
                      '      "2": {goto: guidance}\n\n  guide_act_remove:'))
    assert found == [
        f"{MENU}: nodes.guide_act_remove: node 'guide_act_remove' is unreachable; expected some "
        f"node's keys to goto it (line {line_of(MENU, 'guide_act_remove:') - 1})",
        f"{MENU}: nodes.guide_act_protect: node 'guide_act_protect' is unreachable; expected some "
        f"node's keys to goto it (line {line_of(MENU, 'guide_act_protect:') - 1})",
    ]


def test_a_prompt_missing_in_one_language_names_that_file_and_key(problems) -> None:
    found = problems((EN, '  connect.now: "We are connecting you now to: {name}. Please stay on the line, '
                          'this may take a moment."\n', ""))
    assert found == [f"{EN}: prompts: lacks 'connect.now'; expected a sentence for every prompt key the "
                     f"call uses (line {line_of(EN, 'prompts:')})"]


def test_placeholders_must_match_across_languages(problems) -> None:
    found = problems((EN, "We are connecting you now to: {name}.", "We are connecting you now."))
    assert found == [f"{EN}: prompts.connect.now: has placeholders []; expected the same as de.yaml: "
                     f"['name'] (line {line_of(EN, 'connect.now:')})"]


def test_an_unknown_placeholder_is_named(problems) -> None:
    found = problems((DE, "Wir verbinden Sie jetzt mit: {name}.", "Wir verbinden Sie jetzt mit: {nmae}."))
    assert found[0] == (f"{DE}: prompts.connect.now: uses unknown placeholder {{nmae}}; expected only "
                        f"{{emergency}}, {{name}}, {{police}} (line {line_of(DE, 'connect.now:')})")


def test_a_prompt_no_one_says_is_named(problems) -> None:
    found = problems((DE, '  connect.now:', '  connect.nie: "Nie gesagt."\n  connect.now:'))
    assert found == [f"{DE}: prompts.connect.nie: 'connect.nie' is never said; expected only keys used "
                     f"by menu.yaml or the call (line {line_of(DE, 'connect.now:')})"]
