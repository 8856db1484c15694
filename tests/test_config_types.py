"""A value of the wrong type at any key of any configuration file is a problem the operator can
act on (file, key path, the value, what was expected, the line), never a traceback.

Operators edit YAML by hand, and YAML hands over whatever was typed: `start: [main]` is a list,
`timezone: 1` a number, `reason: 2026-12-24` a date. `ivr check`, `ivr serve` and a reload all go
through load_config, so that is what is tried:
- every key path of the bundled files (plus OPTIONAL keys they leave out) gets a list or mapping
  and a scalar of another type than it holds; hypothesis puts nested junk at random key paths.
  Each must be refused by a problem in that file at or above the key, unless ALSO_VALID says the
  type is fine there; nothing but ConfigInvalid may escape;
- keys become numbers, yes/no, nothing or dates;
- a few refusals word for word, `ivr check`, and a reload under the real server.
A new key is walked as soon as the bundled files (or OPTIONAL) hold it."""
from __future__ import annotations

import datetime as dt
import functools
import pickle
import re
import shutil
import signal
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ivr.config.loading
from ivr.config import call_loader, directory_loader
from ivr.cli.main import main
from ivr.config.settings import bundled_dir
from ivr.config.errors import ConfigInvalid
from ivr.config.loading import load_config
from ivr.config.yamlfile import YamlDoc, join, read_yaml
from test_call_loading import DE, MENU, NODES, line_of, problems  # noqa: F401 (problems: a fixture)
from test_directory_loading import _key_paths
from test_reload import _env, _voice_greeting, config_copy, start_server  # noqa: F401 (fixtures)

HOTLINES, EN = "data/hotlines.yaml", "prompts/en.yaml"
FILES = (HOTLINES, MENU, DE, EN)  # walked key by key
# the other languages' files load as they are (their keys are the same kinds as German's)
OTHER_PROMPTS = tuple(f"prompts/{lang}.yaml" for lang in ("tr", "ar", "ru", "uk", "pl"))

# Optional keys the bundled files leave out, so that they are walked too: (file, path, value).
OPTIONAL = [
    (HOTLINES, ("lines", 0, "timezone"), "Europe/Berlin"),
    (HOTLINES, ("lines", 0, "extra_openings"),
     [{"date": dt.date(2026, 12, 27), "hours": "10:00-12:00", "reason": "extra day"}]),
    (HOTLINES, ("lines", 0, "hours", "sun"), ["10:00-11:00", "12:00-13:00"]),  # a list of intervals
    (HOTLINES, ("lines", 0, "closures"),  # the seed's lines have none
     [{"from": dt.date(2026, 12, 24), "to": dt.date(2026, 12, 24), "reason": "team day", "source": "website"}]),
]


def _bundled(file: str) -> Any:
    folder, name = file.split("/")
    return yaml.safe_load((bundled_dir(folder) / name).read_text(encoding="utf-8"))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _full() -> dict[str, Any]:
    full = {file: _bundled(file) for file in (*FILES, *OTHER_PROMPTS)}
    for file, path, value in OPTIONAL:
        _set(full[file], path, value)
    return full


FULL = _full()
_FROZEN = {file: pickle.dumps(data) for file, data in FULL.items()}


def _fresh(file: str) -> Any:
    """A copy of FULL[file] to change (pickle copies five times faster than deepcopy)."""
    return pickle.loads(_FROZEN[file])


# Every (file, key path, value there): about 590 of them.
SITES = [(file, path, _get(FULL[file], path)) for file in FILES for path in _key_paths(FULL[file])]
MAPPING_SITES = [(file, path) for file, path, value in SITES if isinstance(value, dict) and value]


def _kind(value: Any) -> str:
    """The YAML type of a value: replacing text by other text is an edit, not a wrong type."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return {str: "text", list: "list", dict: "mapping"}[type(value)]


_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
            | st.dates() | st.datetimes())
# lists, mappings, numbers, yes/no, nothing, text, dates, and junk nested in lists and mappings
JUNK = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=5) | st.integers(), inner, max_size=3), max_leaves=6)
# what YAML can hold as a key besides text
ODD_KEYS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.dates()


def _path_text(path: tuple[Any, ...]) -> str:
    text = ""
    for key in path:
        text = join(text, key if isinstance(key, int) else str(key))
    return text


def _at_or_above(problem_path: str, changed: str) -> bool:
    return problem_path == "" or changed == problem_path or changed.startswith((problem_path + ".",
                                                                               problem_path + "["))


# Where a value of another type than the bundled one is valid too (key paths with "#" for a list
# index, "*" for any key), as the README documents the files; anywhere else, a value of another
# type must be refused with a problem at or above its key. A new key that takes several types
# is listed here.
ALSO_VALID: dict[str, set[str]] = {
    "public_holidays": {"nothing"},  # Germany's
    "resources": {"nothing"},
    "lines#.hours.*": {"list"},  # several intervals a day
    "lines#.public_holidays": {"nothing"},  # the source is silent: unknown
    "lines#.closures#.source": {"nothing"},
    "lines#.free_of_charge": {"yes/no", "nothing"},  # nothing: the source does not say
    "lines#.anonymous": {"yes/no", "nothing"},
    "lines#.holiday_subdivision": {"nothing"},
    "lines#.closures": {"nothing"},
    "lines#.extra_openings": {"nothing"},
    "lines#.languages": {"nothing"},
    "lines#.web": {"nothing"},
    "lines#.email": {"nothing"},
    "resources#.web": {"nothing"},
    "resources#.phone": {"nothing"},
    "nodes.*.show": {"nothing"},
    "words.web_country_code": {"nothing"},  # optional: the code as written
    "nodes.*.offer_language": {"nothing", "number"},  # 9 for "9"
    "nodes.*.name_languages": {"nothing", "number"},  # 8 for "8"
    "numbers": {"nothing"},  # no number published for one language
    "service": {"nothing"},  # the defaults: not free, the dialled number as caller ID, 30 s
    "service.free_to_call": {"nothing"},  # not free unless said
}


def _also_valid(path: str, kind: str) -> bool:
    shape = re.sub(r"\[\d+\]", "#", path)
    return any(kind in kinds and re.fullmatch(re.escape(pattern).replace(r"\*", "[^.#]+"), shape)
               for pattern, kinds in ALSO_VALID.items())


@functools.cache
def _lines() -> dict[str, dict[str, int]]:
    """Where each key path sits in the bundled files (keys from OPTIONAL get their parent's line)."""
    return {file: read_yaml(bundled_dir(file.split("/")[0]) / file.split("/")[1], file).lines
            for file in (*FILES, *OTHER_PROMPTS)}


def _load(changed: dict[str, Any]) -> dict[str, str]:
    """load_config on FULL with the `changed` files' data swapped in; returns each file's label.

    The data goes in as read_yaml hands it over, without writing and parsing YAML again: pure-
    Python PyYAML takes 70 ms for the four files, the checks 4 ms, and every key path is tried.
    (Reading real files, YAML's quirks included, is tested below and in test_*_loading.py.)"""
    labels: dict[str, str] = {}

    def read(path: Path, label: str) -> YamlDoc:
        file = f"{path.parent.name}/{path.name}"
        labels[file] = label
        return YamlDoc(label, changed[file] if file in changed else _fresh(file), _lines()[file])

    with mock.patch.object(ivr.config.loading, "read_yaml", read):
        load_config(bundled_dir("data"), bundled_dir("prompts"))
    return labels


@functools.cache
def _labels() -> dict[str, str]:
    """How messages name each file (FULL itself must load)."""
    return _load({})


def _badly_refused(file: str, path: tuple[Any, ...], value: Any) -> str | None:
    """Why putting `value` at `path` of `file` was not refused as it should be; None when it was,
    or when the value may be valid there (ALSO_VALID: e.g. nothing for an optional key)."""
    data = _fresh(file)
    _set(data, path, value)
    changed = _path_text(path)
    where = f"{file}: {changed} = {value!r}"
    valid = _also_valid(changed, _kind(value))
    try:
        _load({file: data})
    except ConfigInvalid as caught:
        labels = _labels()
        for error in caught.errors:
            if error.file not in labels.values() or not error.message or not (error.line or not error.path):
                return f"{where}: {error!r} names no file, message or line"
        here = [e for e in caught.errors if e.file == labels[file] and _at_or_above(e.path, changed)]
        # a valid value may still fail elsewhere: no resources leaves their prompts unsaid
        if not here and not valid:
            return f"{where}: no problem at or above {changed}: {[str(e) for e in caught.errors]}"
    except Exception as exc:  # the point of these tests: nothing escapes but ConfigInvalid
        return f"{where}: {exc.__class__.__name__}: {exc}"
    else:
        if not valid:
            return f"{where}: loaded, though {_kind(value)} is not valid there"
    return None


# One of each type, and nested junk: each key path gets a list or mapping (`start: [main]` once
# raised TypeError) and a scalar, of another type than it holds, taken in turn.
WRONG_NESTED = [["main"], {"say": 1}, [[{}], None], {"goto": ["main"], 2: {}}, [], {}]
WRONG_SCALAR = [7, 1.5, True, None, "x", dt.date(2026, 12, 24), "", False, dt.datetime(2026, 12, 24, 9, 30), -1]


def test_every_key_path_refuses_values_of_other_types() -> None:
    """Deterministic: every key path of every file, twice."""
    failures = []
    for n, (file, path, before) in enumerate(SITES):
        for values in (WRONG_NESTED, WRONG_SCALAR):
            wrong = [value for value in values if _kind(value) != _kind(before)]
            failures.append(_badly_refused(file, path, wrong[n % len(wrong)]))
    bad = [failure for failure in failures if failure]
    assert not bad, "\n".join(bad)
    assert len(failures) > 1000  # the files were walked


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site=st.sampled_from(SITES), data=st.data())
def test_any_junk_at_any_key_is_refused_there(site: tuple[str, tuple[Any, ...], Any],
                                              data: st.DataObject) -> None:
    file, path, before = site
    value = data.draw(JUNK.filter(lambda v: _kind(v) != _kind(before)), label="value")
    assert _badly_refused(file, path, value) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site=st.sampled_from(MAPPING_SITES), data=st.data())
def test_a_key_of_another_type_is_a_problem_not_a_traceback(site: tuple[str, tuple[Any, ...]],
                                                            data: st.DataObject) -> None:
    """A key typed as a number, yes/no, nothing or a date (`1:`, `yes:`, `~:`, `2026-12-24:`)."""
    file, path = site
    changed = _fresh(file)
    mapping = _get(changed, path)
    old = data.draw(st.sampled_from(sorted(mapping, key=str)), label="key")
    new = data.draw(ODD_KEYS.filter(lambda k: k not in mapping), label="new key")
    mapping[new] = mapping.pop(old)
    try:
        _load({file: changed})
    except ConfigInvalid as caught:
        assert all(error.file in _labels().values() for error in caught.errors)


def test_every_key_the_loaders_know_is_walked() -> None:
    """A key added to a loader is walked by the tests above once it has an example: in the
    bundled files or in OPTIONAL."""
    walked = {str(path[-1]) for _, path, _ in SITES}
    for known in (directory_loader._TOP_KEYS, directory_loader._LINE_KEYS,
                  directory_loader._RESOURCE_KEYS, call_loader._NODE_KEYS):
        assert set(known) <= walked, sorted(set(known) - walked)


# -- representative refusals, word for word ----------------------------------------------------

TEXT = "expected a non-empty string"
EN_TODAY, DE_TODAY = line_of(EN, 'today: "today at'), line_of(DE, 'today: "heute')


def _too_many_digits() -> str:
    """Python's own words for a number it will not convert (YAML hands `size: 99...9` to int())."""
    try:
        int("9" * 5000)
    except ValueError as exc:
        return str(exc)
    raise AssertionError("Python converted 5000 digits; this case needs another example")


TOO_LONG = _too_many_digits()
PLAIN = "expected text, numbers, true/false, dates, lists and mappings with text keys"


@pytest.mark.parametrize("edit, expected", [
    # the slip that once took the service down on reload: a list where a node name belongs
    ((MENU, "start: main", "start: [main]"),
     f"{MENU}: start: ['main'] is not a node; expected one of {NODES} (line {line_of(MENU, 'start: main')})"),
    ((MENU, "start: main", "start: {main: 1}"),
     f"{MENU}: start: {{'main': 1}} is not a node; expected one of {NODES} (line {line_of(MENU, 'start: main')})"),
    # a number for the time zone was once quietly replaced by Europe/Berlin
    ((HOTLINES, "timezone: Europe/Berlin", "timezone: 1"),
     f'{HOTLINES}: timezone: 1 is not a time zone; expected an IANA name like "Europe/Berlin" '
     f"(line {line_of(HOTLINES, 'timezone: Europe/Berlin')})"),
    # words were never checked: a call would have said "am 2 um 9 Uhr"
    ((DE, "weekdays: [Montag, Dienstag,", "weekdays: [Montag, 2,"),
     f"{DE}: words.weekdays[1]: 2 is not text; {TEXT} (line {line_of(DE, 'weekdays: [Montag,')})"),
    ((EN, 'today: "today at {time}"', "today: [today]"),
     f"{EN}: words.today: ['today'] is not text; {TEXT} (line {EN_TODAY})"),
    ((DE, 'list_and: " und "', "list_and:"),
     f"{DE}: words.list_and: is missing; {TEXT} (line {line_of(DE, 'list_and:')})"),
    ((DE, 'today: "heute um {time}"', 'today: "heute um {time"'),
     f"{DE}: words.today: 'heute um {{time' has broken braces (expected '}}' before end of string); "
     f"expected {{name}} placeholders (line {DE_TODAY})"),
    # a date where text belongs reads as the operator wrote it
    ((HOTLINES, "anonymous: null          # the seed does not say", "anonymous: 2026-12-24"),
     f"{HOTLINES}: lines[2].anonymous: 2026-12-24 is not yes/no; expected true or false "
     f"(line {line_of(HOTLINES, 'anonymous: null')})"),
    ((HOTLINES, "anonymous: null          # the seed does not say", 'anonymous: "yes"'),
     f"{HOTLINES}: lines[2].anonymous: 'yes' is not yes/no; expected true or false "
     f"(line {line_of(HOTLINES, 'anonymous: null')})"),
    ((HOTLINES, "email: beratung@hateaid.org", "email: 2026-12-24"),
     f"{HOTLINES}: lines[2].email: 2026-12-24 is not text; {TEXT} (line {line_of(HOTLINES, 'email:')})"),
    # an action's target is one word: str() of a list named no node
    ((MENU, "{goto: guide_what}", "{goto: [guide_what]}"),
     f"{MENU}: nodes.guidance.keys.1: {{'goto': ['guide_what']}} is not an action; expected one of "
     f"{{goto: <node>}}, {{connect: <audience>}}, {{language: next}}, {{language: <code>}} (line {line_of(MENU, '{goto: guide_what}')})"),
    ((HOTLINES, "languages: [de, multilingual]", "languages: [de, 2026-01-01]"),
     f"{HOTLINES}: lines[3].languages[1]: 2026-01-01 is not text; {TEXT} "
     f"(line {line_of(HOTLINES, 'languages: [de, multilingual]')})"),
    # well-formed YAML that is not data: a tag, a list as a key
    ((MENU, "start: main", "start: !node main"),
     f"{MENU}: holds a value YAML cannot turn into data (could not determine a constructor for "
     f"the tag '!node'); {PLAIN} (line {line_of(MENU, 'start: main')})"),
    ((MENU, "start: main", "start: main\n? [main]\n: main"),
     f"{MENU}: holds a value YAML cannot turn into data (found unhashable key); {PLAIN} "
     f"(line {line_of(MENU, 'start: main') + 1})"),
    ((MENU, "start: main", "start: main\nsize: " + "9" * 5000),
     f"{MENU}: holds a value YAML cannot turn into data ({TOO_LONG}); {PLAIN}"),
], ids=["start-list", "start-mapping", "timezone-number", "weekday-number", "word-list", "word-blank",
        "word-braces", "flag-date", "flag-text", "text-date", "action-list",
        "language-date", "tag", "list-as-key", "huge-number"])
def test_wrong_types_read_as_one_clear_problem(problems: Callable[..., list[str]],
                                               edit: tuple[str, str, str], expected: str) -> None:
    assert problems(edit) == [expected]


def test_check_lists_a_wrong_type_and_exits_1_without_a_traceback(tmp_path: Path) -> None:
    data, prompts = tmp_path / "data", tmp_path / "prompts"
    shutil.copytree(bundled_dir("data"), data)
    shutil.copytree(bundled_dir("prompts"), prompts)
    menu = data / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace("start: main", "start: [main]"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check"], catch_exceptions=False,
                                env={"IVR_DATA_DIR": str(data), "IVR_PROMPTS_DIR": str(prompts)})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "1 problem in the configuration:",
        f"  - {menu}: start: ['main'] is not a node; expected one of {NODES} "
        f"(line {line_of(MENU, 'start: main')})",
    ]


def test_sighup_with_a_wrong_type_keeps_the_service_answering(config_copy: tuple[Path, Path],
                                                              start_server: Callable[..., Any]) -> None:
    """The fault that once killed the master: `start: [main]`, then SIGHUP."""
    data, prompts = config_copy
    server = start_server(_env(data, prompts), "--dev", "--workers", "1")
    server.wait_healthy()
    before = _voice_greeting(server)
    menu = data / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace("start: main", "start: [main]"), encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    log = server.wait_until("the refused reload in the log", lambda: "reload refused" in server.log() and server.log())
    assert f"start: ['main'] is not a node; expected one of {NODES}" in log
    assert "Traceback" not in log and "TypeError" not in log
    assert _voice_greeting(server) == before
    assert server.proc.poll() is None and server.stop() == 0
