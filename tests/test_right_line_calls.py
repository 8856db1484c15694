"""Issue 13, sections 3 to 5, on the prompt text and on the played call (signed webhooks, the
clock pinned with IVR_NOW, TwiML parsed):
3. what a young caller hears when the children's line is closed, and the seed's words;
4. holidays: unknown is not closed, said once, and nothing in a call contradicts it;
5. a line closed by hand is never named as the next to open before its closure ends.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable

import pytest
import yaml

from ivr.call import flow
from ivr.config.settings import bundled_dir
from ivr.directory.directory import Directory
from ivr.call.flow import CallState, Gather
from ivr.call.live_closed import next_opening_after, until_reopened, without_closed
from ivr.directory.schedule_report import schedule_json, schedule_table
from ivr.call.speech import web_text
from ivr.store.closures import LiveClosure
from twiml_helpers import (NAME_DE, PHONE, SERVICE_NUMBER, SPOKEN, Call, berlin, bundled_config, dial,
                           dial_numbers, make_app, prompt, spoken_numbers, texts, verbs)

C = bundled_config()
SAT_NIGHT = "2026-11-28T22:00"
KIDS_HOURS = {"de": "Montag bis Samstag 14 Uhr bis 20 Uhr", "en": "Monday to Saturday 2 p.m. to 8 p.m."}


def call_at(at: str) -> Call:
    call = Call(make_app(at).test_client(), to=SERVICE_NUMBER)
    call.start()
    return call


def de(key: str, /, young: bool = False, **values: str) -> str:
    return prompt("de", key, young=young, **values)


def kids_about(lang: str = "de", young: bool = True) -> str:
    web = {"de": "nummergegenkummer Punkt de", "en": "nummergegenkummer dot D E"}[lang]
    return prompt(lang, "closed.about.kids-line", young=young, number=" ".join(SPOKEN["kids-line"]),
                  hours=KIDS_HOURS[lang], web_kids_line=web)


def _files() -> dict[str, dict]:
    return {lang: yaml.safe_load((bundled_dir("prompts") / f"{lang}.yaml").read_text(encoding="utf-8"))
            for lang in ("de", "en")}


FILES = _files()


def text(lang: str, key: str, young: bool = False) -> str:
    """A sentence as the prompts file has it (placeholders left in), on one line."""
    data = FILES[lang]
    chosen = (data.get("young") or {}).get(key) if young else None
    return " ".join((chosen or data["prompts"][key]).split())


# -- 3. a young caller at closed times ------------------------------------------------------------

@pytest.mark.parametrize("lang, words", [("de", ["anonym und kostenlos", "Chat oder E-Mail", "{web_kids_line}"]),
                                         ("en", ["anonymous and free", "chat or e-mail", "{web_kids_line}"])])
def test_the_childrens_line_is_named_with_its_number_hours_and_its_online_advice(lang: str, words: list[str]) -> None:
    for young in (False, True):
        about = text(lang, "closed.about.kids-line", young)
        assert "{number}" in about and "{hours}" in about, about
        for word in words:
            assert word in about, (young, word)


@pytest.mark.parametrize("keys", [["-", "-"], ["1"], ["2"], ["5", "1", "-", "-"], ["4", "5", "2", "1", "-"]],
                         ids=["two-silences", "key-1", "key-2-guidance", "numbers-menu", "guidance-to-a-person"])
def test_a_young_caller_at_night_hears_116_111_its_hours_and_its_chat_before_any_goodbye(keys: list[str]) -> None:
    """Saturday 22:00, after 1 (under 18), every way through the call that ends without a talk."""
    call = call_at(SAT_NIGHT)
    heard = texts(call.press("1"))
    for key in keys:
        root = call.silence() if key == "-" else call.press(key)
        heard += texts(root)
    while verbs(call.root)[-1] != "Hangup":
        heard += texts(call.silence())
    assert kids_about() in heard
    goodbye = heard.index(de("goodbye", young=True))
    assert heard.index(kids_about()) < goodbye
    assert heard[goodbye - 1] == de("emergency")


def test_a_young_caller_whose_line_is_busy_hears_the_other_lines_and_what_they_offer() -> None:
    """Saturday 15:00: the children's line is open but busy; the rest is closed."""
    call = call_at("2026-11-28T15:00")
    assert dial_numbers(dial(call.press("1"))) == [PHONE["kids-line"]]
    heard = texts(call.dial_ends("busy"))
    assert prompt("de", "unreachable.line", name=NAME_DE["kids-line"], number="116 111") in heard
    assert de("closed.about.abuse-helpline", young=True) in heard  # its Help-Portal
    assert de("closed.about.hateaid", young=True) in heard  # its e-mail


@pytest.mark.parametrize("lang, spelled", [("de", "Juuuport mit drei u"), ("en", "three u's")])
def test_juuuport_is_spelled_so_a_listener_can_type_it(lang: str, spelled: str) -> None:
    assert spelled in text(lang, "closed.online.juuuport")
    assert spelled.split()[-1] in text(lang, "guide.young.help")
    call = call_at(SAT_NIGHT)
    if lang == "en":
        call.press("9")
    heard = texts(call.press("1"))
    assert any(spelled in sentence and re.search(r"juuuport (Punkt de|dot D E)", sentence) for sentence in heard)


@pytest.mark.parametrize("lang, adult", [("de", "Erwachsenen dazu, dem du vertraust"), ("en", "adult you trust")])
def test_a_young_supporter_in_danger_brings_in_an_adult_they_trust(lang: str, adult: str) -> None:
    assert adult in text(lang, "guide.support.danger", young=True)
    assert adult not in text(lang, "guide.support.danger")  # an adult supporter: their own words
    call = call_at(SAT_NIGHT)
    if lang == "en":
        call.press("9")
    for key in ("1", "1", "4"):  # under 18; the closed menu's guidance; supporting someone
        call.press(key)
    assert prompt(lang, "guide.support.danger", young=True) in texts(call.press("1"))


@pytest.mark.parametrize("lang, free", [("de", "Anonym und kostenlos."), ("en", "Anonymous and free of charge.")])
def test_anonymous_and_free_is_said_for_the_lines_the_seed_says_it_of(lang: str, free: str) -> None:
    """The children's line, the parents' line and the abuse helpline; HateAid only free."""
    assert text(lang, "line.free_anonymous") == free
    call = call_at("2026-11-24T15:30")
    if lang == "en":
        call.press("9")
    heard = texts(call.press("5"))
    after = {heard[n - 1]: sentence for n, sentence in enumerate(heard) if n}
    for line_id in ("kids-line", "parents-line", "abuse-helpline"):
        [line] = [s for s in heard if s.startswith(C.directory.line(line_id).name[lang])]
        assert after[line] == free, line_id
    [hateaid] = [s for s in heard if s.startswith("HateAid")]
    # The seed calls HateAid's advice free, not the call: 030 is an ordinary Berlin number.
    assert after[hateaid] == {"de": "Die Beratung ist kostenlos.", "en": "The counselling is free."}[lang]


@pytest.mark.parametrize("lang, mail, portal", [("de", "beratung, At-Zeichen, hateaid Punkt org", "Hilfe-Portal"),
                                                ("en", "beratung at hateaid dot org", "Help-Portal")])
def test_at_closed_times_hateaids_email_and_the_help_portal_are_named(lang: str, mail: str, portal: str) -> None:
    assert mail in text(lang, "closed.about.hateaid")
    assert portal in text(lang, "closed.about.abuse-helpline")
    call = call_at(SAT_NIGHT)
    if lang == "en":
        call.press("9")
    heard = " ".join(texts(call.press("3")))
    assert mail in heard and portal in heard


@pytest.mark.parametrize("lang, young, reassurance, promise", [
    ("de", False, "Sie haben nichts falsch gemacht", "Trauen Sie keinem Versprechen eines Erpressers"),
    ("de", True, "Du hast nichts falsch gemacht", "Trau keinem Versprechen eines Erpressers"),
    ("en", False, "you have done nothing wrong", "Do not trust any promise a blackmailer makes"),
    ("en", True, "you have done nothing wrong", "Do not trust any promise a blackmailer makes"),
])
def test_blackmail_reassures_first_then_warns_never_to_trust_a_blackmailers_promise(
        lang: str, young: bool, reassurance: str, promise: str) -> None:
    said = text(lang, "guide.blackmail", young)
    assert said.index(reassurance) < said.index("Geld" if lang == "de" else "money")
    assert promise in said


@pytest.mark.parametrize("address, de, en", [
    ("www.juuuport.de/hilfe/beratung", "juuuport Punkt de", "juuuport dot D E"),
    ("www.hateaid.org/betroffenenberatung", "hateaid Punkt org", "hateaid dot org"),
    ("www.aktiv-gegen-digitale-gewalt.de/de/", "aktiv gegen digitale gewalt, mit Bindestrichen, Punkt de",
     "aktiv gegen digitale gewalt, with hyphens, dot D E"),
])
def test_web_addresses_are_said_for_the_listeners_ears(address: str, de: str, en: str) -> None:
    """German ears know "Punkt de"; for English ears a country code is two letters, spelled."""
    assert web_text(address, C.prompts["de"].words) == de
    assert web_text(address, C.prompts["en"].words) == en


def test_the_wording_points_of_the_issue() -> None:
    assert "Bilder oder Videos" in text("de", "guide.what") and "images or videos" in text("en", "guide.what")
    # no clause that reads as "where such content can be reported how it goes on"
    support = text("de", "guide.support")
    assert "Wie es weitergeht, sagt Ihnen die Polizei oder eine Meldestelle, bei der man solche Inhalte melden kann." in support
    assert "Niemand geht ran" not in text("de", "connect.no_answer")
    assert "does nothing" not in text("en", "key.unknown")
    # the static fallback speaks to anyone, a child too: neither "Sie" nor "du"
    assert not re.search(r"\b(Sie|Ihnen|Ihr\w*|du|dich|dir|dein\w*)\b", text("de", "error.goodbye"))
    # honest about languages: no claim the seed does not make
    assert "Most counsellors speak German" not in text("en", "main.choices")


# -- 2. languages, on the played call -----------------------------------------------------------

def test_an_english_caller_hears_which_lines_speak_which_language() -> None:
    call = call_at("2026-11-24T15:30")
    call.press("9")
    heard = texts(call.press("5"))
    maybe, german = prompt("en", "line.language.maybe"), prompt("en", "line.language.other")
    for line_id, note in (("abuse-helpline", maybe), ("hateaid", german), ("kids-line", german)):
        name = C.directory.line(line_id).name["en"]
        n = next(i for i, s in enumerate(heard) if s.startswith(name))
        assert note in heard[n + 1:n + 3], (line_id, heard[n:n + 3])
    root = call.press("0")
    assert dial_numbers(dial(root)) == [PHONE["abuse-helpline"]]  # where English may be possible
    german_call = call_at("2026-11-24T15:30")
    assert not {maybe, german} & set(texts(german_call.press("5")))


# -- 4. holidays: unknown is not closed -----------------------------------------------------------

@pytest.mark.parametrize("at, line_id", [("2026-12-24T16:30", "hateaid"), ("2026-12-25T10:00", "abuse-helpline"),
                                         ("2026-12-31T16:30", "hateaid")])
def test_an_adult_on_christmas_and_new_years_eve_is_put_through_in_the_weekly_hours(at: str, line_id: str) -> None:
    call = call_at(at)
    said = " ".join(texts(call.root))  # the five languages come between its sentences
    assert all(sentence in said for sentence in de("main.connect").split(". "))  # no "nobody is reachable"
    assert dial_numbers(dial(call.press("3"))) == [PHONE[line_id]]


def test_on_christmas_day_a_no_answer_reads_the_numbers_and_says_once_that_hours_can_differ() -> None:
    call = call_at("2026-12-25T10:00")
    call.press("3")  # the abuse helpline, Friday 9-14
    heard = texts(call.dial_ends("no-answer"))
    assert heard.count(de("hours.holidays")) == 1
    assert de("hotlines.none_open") not in heard and de("closed.none_open") not in heard
    assert prompt("de", "unreachable.line", name=NAME_DE["abuse-helpline"], number="0800 22 55 530") in heard


def test_on_christmas_day_the_numbers_menu_says_who_is_open_and_once_that_hours_can_differ() -> None:
    call = call_at("2026-12-25T10:00")
    heard = texts(call.press("5"))
    assert heard[0] == de("hotlines.open_now")
    assert heard.count(de("hours.holidays")) == 1
    assert de("hotlines.none_open") not in heard


def test_on_an_ordinary_day_nothing_is_said_about_holidays() -> None:
    call = call_at("2026-11-24T15:30")
    assert de("hours.holidays") not in texts(call.press("5"))


def test_a_dated_closure_with_a_source_closes_the_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for source in bundled_dir("data").iterdir():
        (data / source.name).write_bytes(source.read_bytes())
    hotlines = yaml.safe_load((data / "hotlines.yaml").read_text(encoding="utf-8"))
    hateaid = next(line for line in hotlines["lines"] if line["id"] == "hateaid")
    hateaid["closures"] = [{"from": dt.date(2026, 12, 24), "to": dt.date(2026, 12, 24),
                            "reason": "team holiday", "source": "hateaid.org, news of 2026-12-01"}]
    (data / "hotlines.yaml").write_text(yaml.safe_dump(hotlines, allow_unicode=True), encoding="utf-8")
    from ivr.config.loading import load_config
    config = load_config(data, bundled_dir("prompts"))
    call = Call(make_app("2026-12-24T16:30", config=config).test_client(), to=SERVICE_NUMBER)
    call.start()
    assert dial_numbers(dial(call.press("3"))) == [PHONE["abuse-helpline"]]


# -- 5. a line closed by hand is never the next to open ------------------------------------------

def test_in_the_call_a_line_closed_by_hand_is_never_named_as_next() -> None:
    """Saturday night: the abuse helpline would open first (Monday 09:00); closed by hand, the
    call names the next line for everyone instead, both in the closed menu and in only_some."""
    closed = without_closed(C, until_reopened({"abuse-helpline"}))
    step = flow.key_pressed(closed, CallState("main", "de"), "0", berlin(2026, 11, 28, 22))
    next_say = [say for say in step.then.say if say.key == "closed.next"]
    assert [dict(s.args)["name"].text for s in next_say] == [NAME_DE["hateaid"]]
    step = flow.key_pressed(closed, CallState("main", "de"), "0", berlin(2026, 11, 28, 15))
    assert isinstance(step.then, Gather) and step.then.state.node == flow.ONLY_SOME_NODE
    [next_all] = [say for say in step.then.say if say.key == "only_some.next_all"]
    assert dict(next_all.args)["name"].text == NAME_DE["hateaid"]
    hotlines = flow.key_pressed(closed, CallState("main", "de"), "5", berlin(2026, 11, 28, 22))
    said = {dict(s.args)["name"].text: s.key for s in hotlines.then.say if "name" in dict(s.args)}
    assert said[NAME_DE["abuse-helpline"]] == "error.line"  # its number and hours, no "again at"


def _live(line_id: str, until: dt.datetime | None) -> LiveClosure:
    return LiveClosure(line_id, berlin(2026, 11, 28, 12), until, "ill", "erika")


@pytest.mark.parametrize("until, opens_at", [
    (None, None),  # until reopened: never the next to open
    (berlin(2026, 11, 30, 12), "2026-11-30T12:00:00+01:00"),  # in its Monday hours: when the closure ends
    (berlin(2026, 11, 30, 15), "2026-12-01T15:00:00+01:00"),  # after them: its next period
])
def test_ivr_schedule_names_a_line_closed_by_hand_next_only_after_its_closure(
        directory: Directory, until: dt.datetime | None, opens_at: str | None) -> None:
    at = berlin(2026, 11, 28, 22)
    report = schedule_json(directory, at, [_live("abuse-helpline", until)])
    assert {e["id"]: e["opens_at"] for e in report["next"]}["abuse-helpline"] == opens_at
    table = [" ".join(row.split()) for row in schedule_table(directory, at, live=[_live("abuse-helpline", until)]).splitlines()]
    row = next(r for r in table if r.startswith("abuse-helpline 0800"))
    assert row.endswith("when reopened by hand" if until is None else
                        dt.datetime.fromisoformat(opens_at).strftime("%d %b %H:%M").lstrip("0"))
    assert "Mon 30 Nov 09:00" not in row


def test_next_opening_after_a_closure(directory: Directory) -> None:
    abuse = directory.line("abuse-helpline")
    at = berlin(2026, 11, 28, 22)
    assert next_opening_after(abuse, at, None) is None
    assert next_opening_after(abuse, at, berlin(2026, 11, 30, 9, 30)) == berlin(2026, 11, 30, 9, 30)
    assert next_opening_after(abuse, at, berlin(2026, 11, 30, 14)) == berlin(2026, 12, 1, 15)


def _lines_named(sentences: list[str]) -> list[str]:
    """The lines a part of the numbers menu names, in order (HateAid by its short name)."""
    names = [s.split(",")[0] for s in sentences if s.startswith(("Nummer gegen Kummer", "HateAid", "Hilfetelefon"))]
    return ["HateAid" if name.startswith("HateAid") else name for name in names]


@pytest.mark.parametrize("at, open_now, later", [
    ("2026-12-01T10:30", ["Nummer gegen Kummer – Elterntelefon"],
     ["Nummer gegen Kummer – Kinder- und Jugendtelefon", "HateAid", "Hilfetelefon Sexueller Missbrauch"]),
    ("2026-12-01T16:30", ["Nummer gegen Kummer – Kinder- und Jugendtelefon", "Nummer gegen Kummer – Elterntelefon",
                          "HateAid", "Hilfetelefon Sexueller Missbrauch"], []),
])
def test_the_numbers_menu_never_lists_a_closed_line_under_open_now(at: str, open_now: list[str], later: list[str]) -> None:
    heard = texts(call_at(at).press("5"))
    start = heard.index(de("hotlines.open_now"))
    end = heard.index(de("hotlines.later")) if later else len(heard)
    assert _lines_named(heard[start:end]) == open_now
    assert _lines_named(heard[end:]) == later
    assert (de("hotlines.later") in heard) == bool(later)


def test_at_night_the_numbers_menu_has_no_open_now_and_no_later_heading() -> None:
    heard = texts(call_at("2026-12-05T22:00").press("5"))
    assert de("hotlines.none_open") in heard
    assert de("hotlines.open_now") not in heard and de("hotlines.later") not in heard
