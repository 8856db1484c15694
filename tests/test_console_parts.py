"""The console's pure parts: its words in both languages, the coverage of the coming days, and
the SVG charts."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
import re
import string
import xml.etree.ElementTree as ET
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.console import charts, coverage
from ivr.console.words import LANGUAGES, all_words
from ivr.directory.directory import Directory
from ivr.store.closures import LiveClosure

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.timezone.utc
TEMPLATES = Path(__file__).resolve().parent.parent / "ivr" / "console" / "templates"
SVG = "{http://www.w3.org/2000/svg}"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_word_with_the_same_placeholders() -> None:
    words = all_words()
    assert set(words) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert set(words[lang]) == set(words["de"]), lang
        for key, text in words["de"].items():
            assert _placeholders(words[lang][key]) == _placeholders(text), (lang, key)


def test_every_word_the_templates_and_pages_use_exists() -> None:
    used: set[str] = set()
    sources = [p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*.html")]
    sources += [p.read_text(encoding="utf-8") for p in TEMPLATES.parent.glob("*.py")]
    for text in sources:
        used |= set(re.findall(r"\bt\.([a-z_]+)\b", text)) - {"get"}
        used |= set(re.findall(r"\bt\[['\"]([a-z_]+)['\"]\]", text))
        used |= set(re.findall(r"words\(lang\(\)\)\[\"([a-z_]+)\"\]", text))
    assert used and used <= set(all_words()["de"]), used - set(all_words()["de"])


def test_coverage_cuts_a_live_closure_out_of_a_line_and_its_audiences(directory: Directory) -> None:
    monday = dt.date(2026, 11, 30)
    closed = LiveClosure("parents-line", dt.datetime(2026, 11, 30, 8, tzinfo=UTC),
                         dt.datetime(2026, 12, 1, 0, tzinfo=UTC), "ill", "erika")
    plain = coverage.build(directory, monday, 2, (), "de")
    cut = coverage.build(directory, monday, 2, (closed,), "de")
    parents = {row.key: row for row in cut.lines}["parents-line"]
    at = lambda h, m=0, day=30: dt.datetime(2026, 11 if day > 1 else 12, day, h, m, tzinfo=BERLIN)  # noqa: E731
    # Monday 09:00-17:00 is gone from 09:00 Berlin (08:00 UTC); Tuesday's 09:00-19:00 stays
    assert [(s.astimezone(BERLIN), e.astimezone(BERLIN)) for s, e in parents.spans] == [(at(9, day=1), at(19, day=1))]
    assert parents.live == ((closed.closed_at, closed.until),)
    before = {row.key: row for row in plain.audiences}["parent"]
    after = {row.key: row for row in cut.audiences}["parent"]
    assert sum((e - s for s, e in after.gaps), dt.timedelta()) > sum((e - s for s, e in before.gaps), dt.timedelta())
    whole = dt.timedelta(days=2)
    for row in cut.audiences:  # open and gaps together cover the window exactly once
        assert sum((e - s for s, e in (*row.spans, *row.gaps)), dt.timedelta()) == whole


def test_coverage_names_holidays_that_close_a_line(directory: Directory) -> None:
    # the seed's lines have no holiday rule (unknown: their weekly hours hold) ...
    bundled = coverage.build(directory, dt.date(2026, 12, 24), 3, (), "de")
    assert not [d for row in bundled.lines for d, _ in row.closed_days]
    # ... a line whose source says it closes on public holidays does
    closing = replace(directory, lines=tuple(replace(line, public_holidays="closed") for line in directory.lines))
    christmas = coverage.build(closing, dt.date(2026, 12, 24), 3, (), "de")
    closed = {row.key: [d for d, _ in row.closed_days] for row in christmas.lines}
    assert dt.date(2026, 12, 25) in closed["parents-line"]
    assert any("Weihnacht" in why for row in christmas.lines for _, why in row.closed_days)


def test_repeating_gaps_are_folded_into_weekly_ones(directory: Directory) -> None:
    first, last = dt.date(2026, 11, 30), dt.date(2026, 12, 13)  # two whole weeks
    wide = coverage.build(directory, first - dt.timedelta(days=3), 20, (), "en")
    young = {row.key: row for row in wide.audiences}["young_person"]
    assert len(young.gaps) > 12  # one per night and weekend before folding
    Fold, t = coverage.Fold, dt.time
    assert coverage.fold(young.gaps, BERLIN, first, last) == [
        Fold(t(20), t(14), 1, weekly=(0, 2, 4)),  # Mon, Wed, Fri 20:00 until 14:00 (kids-line opens)
        Fold(t(20), t(9), 1, weekly=(1, 3)),
        Fold(t(20), t(9), 2, weekly=(5,)),  # Saturday 20:00 until Monday 09:00
    ]
    # a gap that happens once stays a date; a window under two weeks folds nothing
    one_week = coverage.fold(young.gaps, BERLIN, first, first + dt.timedelta(days=6))
    assert all(not item.weekly and len(item.dates) == 1 for item in one_week)
    nightly = [(dt.datetime(2026, 12, d, 22, tzinfo=BERLIN), dt.datetime(2026, 12, d + 1, 6, tzinfo=BERLIN))
               for d in range(1, 15)]
    [every] = coverage.fold(nightly, BERLIN, dt.date(2026, 12, 1), dt.date(2026, 12, 14))
    assert every.every_day and (every.opens, every.closes, every.nights) == (t(22), t(6), 1)


def test_the_heatmap_is_valid_svg_with_a_title_and_suppressed_cells_in_the_lightest_colour() -> None:
    values = {(0, 9): 40, (0, 10): 3, (6, 23): 20}
    shown = {(0, 9): "40", (0, 10): "<5", (6, 23): "20"}
    svg = ET.fromstring(str(charts.heatmap(values, shown, "calls", "Calls", "desc <&>", "Mo Di Mi Do Fr Sa So".split(), "h")))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "h-title h-desc"
    assert svg.find(f"{SVG}desc").text == "desc <&>"
    cells = {rect.find(f"{SVG}title").text: rect.get("fill") for rect in svg.iter(f"{SVG}rect")}
    assert len(cells) == 7 * 24
    scale = charts.SCALES["calls"]
    assert cells["Mo 09:00: 40"] == scale[5]  # the largest shown count: darkest
    assert cells["Mo 10:00: <5"] == scale[1]  # suppressed: lightest non-empty, whatever its size
    assert cells["Di 09:00: 0"] == scale[0]
    assert cells["So 23:00: 20"] == scale[3]


def test_the_timeline_is_valid_svg_with_every_row_labelled(directory: Directory) -> None:
    day = dt.date(2026, 11, 30)
    cov = coverage.build(directory, day, 14, (), "en")
    words = all_words()["en"]
    svg = ET.fromstring(str(charts.timeline(cov, BERLIN, dt.datetime(2026, 11, 30, 10, 30, tzinfo=BERLIN), words,
                                            {line.id: line.id for line in directory.lines},
                                            lambda d: ("Mon", f"{d.day}/{d.month}"), lambda s: "span")))
    texts = [" ".join(span.text for span in t.iter(f"{SVG}tspan")) or t.text for t in svg.iter(f"{SVG}text")]
    assert {"kids-line", "parents-line", "hateaid", "abuse-helpline", "Young people under 18", "Supporters"} <= set(texts)
    gaps = [r for r in svg.iter(f"{SVG}rect") if r.get("fill") == charts.GAP]
    assert gaps and all(r.find(f"{SVG}title").text.endswith("nobody reachable span") for r in gaps)


def test_passwords_are_hashed_with_scrypt_at_full_cost() -> None:
    from ivr.console import accounts
    assert accounts.HASH_METHOD == "scrypt"
    assert accounts._DUMMY_HASH.startswith("scrypt:32768:8:1$")  # werkzeug's default cost
