"""Loading hotlines.yaml: the bundled file matches the seed, and every refusal reads well.

A refusal is what an NGO operator sees from `ivr check` after editing the file, so each one is
asserted with its exact text: file, key path, the bad value, what was expected, and the YAML line.
The broken files are small edits of BASE (a three-line directory written here, so that the line
numbers below do not move when data/hotlines.yaml is edited)."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Iterator

import holidays
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.config.settings import bundled_dir
from ivr.directory.directory import AUDIENCES, Directory, Interval
from ivr.config.errors import ConfigInvalid
from ivr.config.loading import load_directory

BASE = """\
timezone: Europe/Berlin
public_holidays: {country: DE}
best_fit:
  young_person: [kids-line, hateaid]
  parent: [parents-line, hateaid]
  adult: [hateaid]
  supporter: [hateaid, parents-line]
  anyone: [hateaid]
lines:
  - id: kids-line
    name: {de: Kinder- und Jugendtelefon, en: Helpline for children and young people}
    phone: "+49116111"
    spoken: "116 111"
    serves: [young_person]
    hours:
      mon-sat: "14:00-20:00"
    source: seed
  - id: parents-line
    name: {de: Elterntelefon, en: Parents helpline}
    phone: "+498001110550"
    spoken: "0800 111 0 550"
    serves: [parent, supporter]
    hours:
      mon: "09:00-17:00"
      tue-thu: "09:00-19:00"
      fri: "09:00-17:00"
    closures:
      - {from: 2026-12-24, to: 2026-12-24, reason: Christmas Eve}
    source: seed
  - id: hateaid
    name: {de: HateAid, en: HateAid}
    phone: "+493025208838"
    spoken: "030 25208838"
    serves: [adult, young_person, supporter, parent]
    hours:
      mon: "10:00-13:00"
      tue: "15:00-18:00"
      thu: "16:00-19:00"
    holiday_subdivision: BE
    source: seed
"""

INTERVAL_EXPECTED = ('expected "HH:MM-HH:MM" (hours 00-24, minutes 00-59), with "+1" after the '
                     'end for hours that cross midnight, e.g. "22:00-02:00+1"')
LINE_KEYS = ("anonymous, closures, email, extra_openings, free_of_charge, holiday_subdivision, "
             "hours, id, languages, name, phone, public_holidays, serves, source, spoken, timezone, web")


def edited(*replacements: tuple[str, str]) -> str:
    """BASE with each (old, new) applied; old must occur exactly once, so an edit cannot miss."""
    text = BASE
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} is not unique in BASE"
        text = text.replace(old, new)
    return text


@pytest.fixture
def problems(write_hotlines: Callable[..., Path], tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Callable[[str | bytes], list[str]]:
    """Load a hotlines.yaml text and return every problem as the operator reads it.

    Runs from tmp_path, so the file is named "hotlines.yaml" in messages (relative to the working
    folder, as `ivr check` names it); any exception other than ConfigInvalid fails the test."""
    monkeypatch.chdir(tmp_path)

    def load(text: str | bytes) -> list[str]:
        with pytest.raises(ConfigInvalid) as caught:
            load_directory(write_hotlines(text))
        return [str(error) for error in caught.value.errors]

    return load


# -- the bundled directory against the seed -----------------------------------------------------

# The seed, "Help and advice centers": number as printed, hours as stated.
SEED_LINES = {
    "kids-line": ("+49116111", "116 111", {"young_person"}),
    "parents-line": ("+498001110550", "0800 111 0 550", {"parent", "supporter"}),
    "hateaid": ("+493025208838", "030 25208838", {"adult", "young_person", "supporter", "parent"}),
    "abuse-helpline": ("+498002255530", "0800 22 55 530", set(AUDIENCES)),
}
H = 60
SEED_WEEKLY = {  # weekday (0 = Monday) -> intervals in local minutes
    "kids-line": {d: [(14 * H, 20 * H)] for d in range(6)},  # Mon-Sat 2pm-8pm
    "parents-line": {0: [(9 * H, 17 * H)], 1: [(9 * H, 19 * H)], 2: [(9 * H, 19 * H)],
                     3: [(9 * H, 19 * H)], 4: [(9 * H, 17 * H)]},  # Mon-Fri 9-5, Tue-Thu 9-7
    "hateaid": {0: [(10 * H, 13 * H)], 1: [(15 * H, 18 * H)], 3: [(16 * H, 19 * H)]},
    "abuse-helpline": {0: [(9 * H, 14 * H)], 2: [(9 * H, 14 * H)], 4: [(9 * H, 14 * H)],
                       1: [(15 * H, 20 * H)], 3: [(15 * H, 20 * H)]},
}


def test_bundled_directory_loads_with_the_seed_lines(directory: Directory) -> None:
    assert [line.id for line in directory.lines] == list(SEED_LINES)
    assert directory.timezone.key == "Europe/Berlin"
    for line in directory.lines:
        phone, spoken, serves = SEED_LINES[line.id]
        assert (line.phone, line.spoken, set(line.serves)) == (phone, spoken, serves)
        # the seed gives weekly hours only: unknown, which is not closed
        assert line.public_holidays == "unknown" and not line.closed_on_public_holidays
        assert line.closures == ()  # no closure without a source
        assert {"de", "en"} <= set(line.name)


@pytest.mark.parametrize("line_id", list(SEED_WEEKLY))
def test_bundled_hours_are_the_seed_hours(directory: Directory, line_id: str) -> None:
    expected = tuple(tuple(Interval(a, b) for a, b in SEED_WEEKLY[line_id].get(d, []))
                     for d in range(7))
    assert directory.line(line_id).weekly == expected


def test_bundled_best_fit_lists_every_serving_line(directory: Directory) -> None:
    for audience in AUDIENCES:
        serving = {line.id for line in directory.lines if audience in line.serves}
        assert set(directory.best_fit[audience]) == serving
    # a caller who has not said who they are reaches only lines that serve everyone
    assert set(directory.best_fit["anyone"]) == {"hateaid", "abuse-helpline"}
    assert all(line.serves_all() for line in directory.ranked("anyone"))
    assert directory.line("hateaid").holiday_subdivision == "BE"  # a Berlin number


def test_base_of_these_tests_is_valid(write_hotlines: Callable[..., Path]) -> None:
    loaded = load_directory(write_hotlines(BASE))
    assert [line.id for line in loaded.lines] == ["kids-line", "parents-line", "hateaid"]


# -- one refusal each, with its exact message ---------------------------------------------------

def test_hour_25_is_refused(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(('mon: "10:00-13:00"', 'mon: "25:00-26:00"'))) == [
        f"hotlines.yaml: lines[2].hours.mon: '25:00-26:00' has no such time 25:00; "
        f"{INTERVAL_EXPECTED} (line 36)",
    ]


def test_interval_ending_before_it_starts_without_plus_one_is_refused(
        problems: Callable[..., list[str]]) -> None:
    assert problems(edited(('tue: "15:00-18:00"', 'tue: "18:00-15:00"'))) == [
        "hotlines.yaml: lines[2].hours.tue: '18:00-15:00' ends before it starts; expected an end "
        'after the start, or "+1" after the end if it crosses midnight on purpose, '
        'e.g. "22:00-02:00+1" (line 37)',
    ]


def test_unknown_day_is_refused(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(('mon: "10:00-13:00"', 'mo: "10:00-13:00"'))) == [
        "hotlines.yaml: lines[2].hours.mo: 'mo' is not a day; expected a day (mon, tue, wed, thu, "
        'fri, sat, sun), a range like "tue-thu", or a comma list (line 36)',
    ]


def test_day_given_twice_is_refused(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(('      fri: "09:00-17:00"', '      wed: "09:00-12:00"'))) == [
        "hotlines.yaml: lines[1].hours.wed: 'wed' repeats a day already given by 'tue-thu'; "
        "expected each day once (give a list for several intervals) (line 26)",
    ]


def test_malformed_phone_is_refused(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(('phone: "+493025208838"', 'phone: "0800 123"'))) == [
        "hotlines.yaml: lines[2].phone: '0800 123' is not a phone number in E.164; "
        'expected "+" and digits, e.g. "+498001110550" (line 32)',
    ]


def test_unknown_audience_is_refused(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(("serves: [young_person]", "serves: [young_person, kids]"))) == [
        "hotlines.yaml: lines[0].serves[1]: 'kids' is not an audience; expected one of "
        "young_person, parent, adult, supporter (line 14)",
    ]


@pytest.mark.parametrize("typed", ["deutsch", "DE", "de-DE", "Multilingual"])
def test_a_language_that_is_not_a_code_is_refused(problems: Callable[..., list[str]], typed: str) -> None:
    # A typo here is silent at call time: the line is never offered first to that language's callers.
    assert problems(edited(("    serves: [young_person]\n", f"    serves: [young_person]\n    languages: [{typed}]\n"))) == [
        f"hotlines.yaml: lines[0].languages[0]: {typed!r} is not a language; expected a two-letter "
        "language code in lower case (de, en, tr, ...) or multilingual (line 15)",
    ]


def test_language_codes_and_multilingual_are_read(write_hotlines: Callable[..., Path]) -> None:
    text = edited(("    serves: [young_person]\n", "    serves: [young_person]\n    languages: [de, tr, multilingual]\n"))
    assert load_directory(write_hotlines(text)).line("kids-line").languages == ("de", "tr", "multilingual")


DUPLICATE = """\
  - id: hateaid
    name: {de: HateAid Zwei, en: HateAid Two}
    phone: "+493025208838"
    spoken: "030 25208838"
    serves: [adult, young_person, supporter, parent]
    hours: {wed: "10:00-11:00"}
    source: seed
"""


def test_duplicate_id_is_refused(problems: Callable[..., list[str]]) -> None:
    text = BASE + DUPLICATE
    assert problems(text) == [
        "hotlines.yaml: lines[3].id: 'hateaid' is a duplicate id; first used at lines[2]; "
        "expected each id once (line 41)",
    ]


def test_unknown_holiday_subdivision_is_refused(problems: Callable[..., list[str]]) -> None:
    # the list of valid codes comes from the installed holidays package, so it is read from there
    codes = ", ".join(holidays.list_supported_countries()["DE"])
    assert problems(edited(("holiday_subdivision: BE", "holiday_subdivision: XX"))) == [
        f"hotlines.yaml: lines[2].holiday_subdivision: 'XX' is not a subdivision of DE; "
        f"expected one of {codes} (line 39)",
    ]
    assert "BE" in codes.split(", ")


SYNTAX_HINT = '; expected well-formed YAML (check the indentation; quote text holding ": " or " #")'


@pytest.mark.parametrize(("old", "new", "message"), [
    # a tab where YAML wants spaces: a common slip in a plain editor
    ('      mon: "10:00-13:00"', '\tmon: "10:00-13:00"',
     "hotlines.yaml: is not valid YAML: found character '\\t' that cannot start any token" + SYNTAX_HINT + " (line 36)"),
    # one space too many before a key
    ("    name: {de: HateAid", "     name: {de: HateAid",
     "hotlines.yaml: is not valid YAML: mapping values are not allowed here" + SYNTAX_HINT + " (line 31)"),
    # a value followed by a stray colon
    ('      tue: "15:00-18:00"', '      tue: "15:00-18:00": x',
     "hotlines.yaml: is not valid YAML: mapping values are not allowed here" + SYNTAX_HINT + " (line 37)"),
    # an unclosed list: PyYAML notices on the next line, and says so
    ("serves: [young_person]", "serves: [young_person",
     "hotlines.yaml: is not valid YAML: expected ',' or ']', but got ':'" + SYNTAX_HINT + " (line 15)"),
])
def test_yaml_syntax_error_names_the_line(problems: Callable[..., list[str]], old: str, new: str,
                                          message: str) -> None:
    assert problems(edited((old, new))) == [message]


def test_spoken_digits_must_match_phone(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(('spoken: "030 25208838"', 'spoken: "030 25208839"'))) == [
        "hotlines.yaml: lines[2].spoken: '030 25208839' does not match phone '+493025208838'; "
        "expected the same number as printed in Germany (line 33)",
    ]


def test_best_fit_must_list_every_serving_line(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(("supporter: [hateaid, parents-line]", "supporter: [hateaid]"))) == [
        "hotlines.yaml: best_fit.supporter: lacks 'parents-line', which serves supporter; "
        "expected every line that serves supporter (line 7)",
    ]


def test_best_fit_may_not_list_a_line_for_an_audience_it_does_not_serve(
        problems: Callable[..., list[str]]) -> None:
    assert problems(edited(("adult: [hateaid]", "adult: [hateaid, kids-line]"))) == [
        "hotlines.yaml: best_fit.adult[1]: 'kids-line' does not serve adult; expected only lines "
        "whose serves lists it (line 6)",
    ]


def test_anyone_may_list_only_lines_that_serve_every_audience(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(("anyone: [hateaid]", "anyone: [hateaid, parents-line, kids-line]"))) == [
        "hotlines.yaml: best_fit.anyone[1]: 'parents-line' does not serve young_person, adult; expected "
        "only lines that serve every audience (young_person, parent, adult, supporter): a caller who has "
        "not said who they are may be anyone (line 8)",
        "hotlines.yaml: best_fit.anyone[2]: 'kids-line' does not serve parent, adult, supporter; expected "
        "only lines that serve every audience (young_person, parent, adult, supporter): a caller who has "
        "not said who they are may be anyone (line 8)",
    ]


def test_anyone_must_list_every_line_that_serves_every_audience(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(("anyone: [hateaid]", "anyone: [kids-line]"))) == [
        "hotlines.yaml: best_fit.anyone[0]: 'kids-line' does not serve parent, adult, supporter; expected "
        "only lines that serve every audience (young_person, parent, adult, supporter): a caller who has "
        "not said who they are may be anyone (line 8)",
        "hotlines.yaml: best_fit.anyone: lacks 'hateaid', which serves every audience; expected every "
        "line that serves every audience (line 8)",
    ]


@pytest.mark.parametrize("rule", ["closed", "open", "unknown"])
def test_a_holiday_rule_is_read(write_hotlines: Callable[..., Path], rule: str) -> None:
    text = edited(('    holiday_subdivision: BE\n', f'    holiday_subdivision: BE\n    public_holidays: {rule}\n'))
    hateaid = load_directory(write_hotlines(text)).line("hateaid")
    assert hateaid.public_holidays == rule
    assert load_directory(write_hotlines(BASE)).line("hateaid").public_holidays == "unknown"  # left out


def test_a_holiday_rule_that_is_not_one_of_three_is_refused(problems: Callable[..., list[str]]) -> None:
    text = edited(('    holiday_subdivision: BE\n', '    holiday_subdivision: BE\n    public_holidays: true\n'))
    assert problems(text) == [
        "hotlines.yaml: lines[2].public_holidays: True is not a holiday rule; expected one of closed, open, "
        "unknown (unknown where the source does not say; an unknown line is dialled in its weekly hours) "
        "(line 40)",
    ]


def test_a_closure_keeps_its_source(write_hotlines: Callable[..., Path]) -> None:
    text = edited(("reason: Christmas Eve}", "reason: Christmas Eve, source: \"the line's website\"}"))
    [closure] = load_directory(write_hotlines(text)).line("parents-line").closures
    assert (closure.reason, closure.source) == ("Christmas Eve", "the line's website")


def test_unknown_key_is_refused(problems: Callable[..., list[str]]) -> None:
    # "closure" for "closures": the closures would be silently ignored if this passed
    assert problems(edited(("    closures:\n", "    closure:\n"))) == [
        f"hotlines.yaml: lines[1].closure: unknown key 'closure' (did you mean 'closures'?); expected one of {LINE_KEYS} "
        "(line 27)",
    ]


def test_closure_ending_before_it_starts_is_refused(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(("{from: 2026-12-24, to: 2026-12-24", "{from: 2026-12-24, to: 2026-12-20"))) == [
        "hotlines.yaml: lines[1].closures[0].to: 2026-12-20 is before from 2026-12-24; "
        "expected a date on or after it (line 28)",
    ]


def test_unknown_time_zone_is_refused(problems: Callable[..., list[str]]) -> None:
    assert problems(edited(("timezone: Europe/Berlin", "timezone: Berlin"))) == [
        "hotlines.yaml: timezone: 'Berlin' is not a time zone; expected an IANA name like "
        '"Europe/Berlin" (line 1)',
    ]


def test_several_problems_are_all_reported_at_once(problems: Callable[..., list[str]],
                                                   write_hotlines: Callable[..., Path]) -> None:
    text = edited(
        ('mon: "10:00-13:00"', 'mon: "25:00-26:00"'),
        ('phone: "+493025208838"', 'phone: "0800 123"'),
        ("serves: [young_person]", "serves: [young_person, kids]"),
        ("    closures:\n", "    closure:\n"),
        ("supporter: [hateaid, parents-line]", "supporter: [hateaid]"),
    )
    assert problems(text) == [
        "hotlines.yaml: lines[0].serves[1]: 'kids' is not an audience; expected one of "
        "young_person, parent, adult, supporter (line 14)",
        f"hotlines.yaml: lines[1].closure: unknown key 'closure' (did you mean 'closures'?); expected one of {LINE_KEYS} "
        "(line 27)",
        "hotlines.yaml: lines[2].phone: '0800 123' is not a phone number in E.164; "
        'expected "+" and digits, e.g. "+498001110550" (line 32)',
        f"hotlines.yaml: lines[2].hours.mon: '25:00-26:00' has no such time 25:00; "
        f"{INTERVAL_EXPECTED} (line 36)",
        "hotlines.yaml: best_fit.supporter: lacks 'parents-line', which serves supporter; "
        "expected every line that serves supporter (line 7)",
    ]
    with pytest.raises(ConfigInvalid) as caught:
        load_directory(write_hotlines(text))
    report = caught.value.report().splitlines()
    assert report[0] == "5 problems in the configuration:"
    assert all(row.startswith("  - hotlines.yaml: ") for row in report[1:])


def test_file_is_named_by_its_path_outside_the_working_folder(
        write_hotlines: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_hotlines(edited(('phone: "+49116111"', 'phone: "116111"')))
    monkeypatch.chdir(bundled_dir("data"))  # somewhere else: the label is the full path
    with pytest.raises(ConfigInvalid) as caught:
        load_directory(folder)
    assert [str(e) for e in caught.value.errors] == [
        f"{folder / 'hotlines.yaml'}: lines[0].phone: '116111' is not a phone number in E.164; "
        'expected "+" and digits, e.g. "+498001110550" (line 12)',
    ]


# -- junk never escapes as a traceback ----------------------------------------------------------

HOLDS = "expected a mapping with timezone, lines and best_fit"


@pytest.mark.parametrize(("content", "expected"), [
    ("", [f"hotlines.yaml: holds nothing; {HOLDS}"]),
    ("# only a comment\n", [f"hotlines.yaml: holds nothing; {HOLDS}"]),
    ("- kids-line\n- hateaid\n", [f"hotlines.yaml: holds a list; {HOLDS}"]),
    ("hello\n", [f"hotlines.yaml: holds text; {HOLDS}"]),
    (bytes(range(256)), ["hotlines.yaml: is not UTF-8 text; expected a YAML file saved as UTF-8"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
     ["hotlines.yaml: is not UTF-8 text; expected a YAML file saved as UTF-8"]),
    ("timezone: Europe/Berlin\n".encode("utf-16"),
     ["hotlines.yaml: is not UTF-8 text; expected a YAML file saved as UTF-8"]),
], ids=["empty", "comment", "list", "text", "binary", "png", "utf-16"])
def test_junk_file_is_one_clear_problem(problems: Callable[..., list[str]], content: str | bytes,
                                        expected: list[str]) -> None:
    assert problems(content) == expected


@pytest.mark.parametrize("content", [
    "timezone: Europe/Berlin\x00\n",  # a NUL byte
    "lines:\n  - id: \x07\n",  # a control character
    "lines: [1, 'a', [], {}]\nbest_fit: 7\nresources: {a: 1}\n",  # wrong shapes everywhere
    "lines:\n  - hours: {mon: [1, null, {}]}\n    closures: [7, {from: x}]\n    extra_openings: [{date: 1}]\n",
    "a: &x [1]\nb: *x\n",  # aliases
    "[[[[[[[[[[]]]]]]]]]]\n",
])
def test_junk_never_escapes_as_a_traceback(problems: Callable[..., list[str]], content: str) -> None:
    found = problems(content)
    assert found and all(p.startswith("hotlines.yaml: ") for p in found)


def _key_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _key_paths(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _key_paths(value, (*path, n))


BASE_DATA = yaml.safe_load(BASE)
EDITABLE = list(_key_paths(BASE_DATA))
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.dates(), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(EDITABLE), JUNK), min_size=1, max_size=3))
def test_any_value_anywhere_is_a_problem_not_a_traceback(tmp_path: Path, edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    """Replace up to three values of BASE by anything YAML can hold: loading either succeeds or
    lists problems, each naming the file."""
    data = copy.deepcopy(BASE_DATA)
    for path, value in edits:
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced the parent
    target = tmp_path / "fuzz"
    target.mkdir(exist_ok=True)
    (target / "hotlines.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        load_directory(target)
    except ConfigInvalid as problems:
        assert all(str(error).startswith(str(target / "hotlines.yaml")) for error in problems.errors)


# Inputs that once escaped as a traceback; each now reads as one clear problem.
@pytest.mark.parametrize("replacement, expected", [
    (("{from: 2026-12-24, to: 2026-12-24", "{from: 2026-02-30, to: 2026-12-24"),
     "hotlines.yaml: lines[1].closures[0].from: '2026-02-30' is not a date that exists (day is out "
     "of range for month); expected a real date YYYY-MM-DD (line 28)"),
    (("{country: DE}", "{country: [DE]}"),
     "hotlines.yaml: public_holidays.country: ['DE'] is not a country the holidays package knows; "
     "expected an ISO code like \"DE\" (line 2)"),
    (("adult: [hateaid]", "adult: [hateaid, {id: kids-line}]"),
     "hotlines.yaml: best_fit.adult[1]: {'id': 'kids-line'} is not a line id; expected one of "
     "kids-line, parents-line, hateaid (line 6)"),
    (("timezone: Europe/Berlin", "timezone: Europe"),
     "hotlines.yaml: timezone: 'Europe' is not a time zone; expected an IANA name like "
     "\"Europe/Berlin\" (line 1)"),
    (("public_holidays:", "resources: " + "[" * 600 + "]" * 600 + "\npublic_holidays:"),
     "hotlines.yaml: nests lists or mappings deeper than can be read; expected at most a few levels"),
], ids=["impossible-date", "country-list", "best-fit-mapping", "zone-folder", "deep-nesting"])
def test_junk_that_once_raised_reads_as_one_problem(problems: Callable[..., list[str]],
                                                    replacement: tuple[str, str], expected: str) -> None:
    assert problems(BASE.replace(*replacement)) == [expected]


@pytest.mark.parametrize("replacement, expected", [
    # a key left out reads "is missing", not "None is not ..."
    (('    phone: "+493025208838"\n', ""),
     'hotlines.yaml: lines[2].phone: is missing; expected "+" and digits, e.g. "+498001110550" (line 30)'),
    # +493025208838 without quotes is read by YAML as a number: say what helps
    (('phone: "+493025208838"', "phone: +493025208838"),
     'hotlines.yaml: lines[2].phone: 493025208838 is not a phone number in E.164; expected "+" and '
     'digits in quotes, e.g. "+498001110550" (line 32)'),
], ids=["missing-phone", "unquoted-phone"])
def test_missing_and_unquoted_values_are_named_plainly(problems: Callable[..., list[str]],
                                                       replacement: tuple[str, str], expected: str) -> None:
    assert problems(edited(replacement)) == [expected]
