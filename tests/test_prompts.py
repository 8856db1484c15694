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
from ivr.speech import OPTIONAL_WORD_KEYS, placeholders



def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


MENU = _yaml(bundled_dir("data") / "menu.yaml")
HOTLINES = _yaml(bundled_dir("data") / "hotlines.yaml")
LANGUAGES: list[str] = MENU["languages"]
FILES = {lang: _yaml(bundled_dir("prompts") / f"{lang}.yaml") for lang in LANGUAGES}
PROMPTS = {lang: {k: " ".join(str(v).split()) for k, v in doc["prompts"].items()}
           for lang, doc in FILES.items()}
YOUNG = {lang: {k: " ".join(str(v).split()) for k, v in doc.get("young", {}).items()}
         for lang, doc in FILES.items()}
FIRST = LANGUAGES[0]
MENU_KEYS = sorted({key for node in MENU["nodes"].values()
                    for key in (*node.get("say", []), *node.get("say_when_closed", []))})
WEB_PLACEHOLDERS = {"web_" + item["id"].replace("-", "_") for item in (*HOTLINES["lines"], *HOTLINES["resources"])
                    if item.get("web")}
ONLINE_KEYS = sorted(f"closed.online.{r['id']}" for r in HOTLINES["resources"] if r["kind"] == "online")
GUIDE_NODES = sorted(n for n in MENU["nodes"] if n.startswith("guide_"))


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
    # every word German has; a language may add the optional ones (how it says a country code)
    required = set(FILES[lang]["words"]) - set(OPTIONAL_WORD_KEYS)
    assert sorted(required) == sorted(set(FILES[FIRST]["words"]) - set(OPTIONAL_WORD_KEYS))


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
    "web_dot": (set(), set()),
    "web_hyphen": (set(), set()),
    "web_hyphens": (set(), set()),
    "key_named": ({"key"}, {"key"}),
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
    """A menu node's prompt gets no values but the emergency numbers and web addresses; the
    flow's own prompts get exactly what ivr/prompts.py declares. Anything else would fail in the
    middle of a call."""
    common = COMMON_PLACEHOLDERS | WEB_PLACEHOLDERS
    for key in MENU_KEYS:
        assert set(placeholders(PROMPTS[lang][key])) <= common, (lang, key)
    for key, allowed in FLOW_PROMPTS.items():
        assert set(placeholders(PROMPTS[lang][key])) <= allowed | common, (lang, key)
    for key in ONLINE_KEYS:
        assert set(placeholders(PROMPTS[lang][key])) <= WEB_PLACEHOLDERS, (lang, key)
    for key, text in YOUNG[lang].items():
        assert sorted(placeholders(text)) == sorted(placeholders(PROMPTS[lang][key])), (lang, key)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_voice_names_a_language(lang: str) -> None:
    voice = FILES[lang]["voice"]
    assert re.fullmatch(r"[a-z]{2}-[A-Z]{2}", voice["language"]) and voice["language"].startswith(lang)
    assert voice["voice"].startswith("Polly.")  # SSML <say-as> needs a Polly (or Google) voice


# -- rules 1, 2 and 10: the first menu, and how keys are named ---------------------------------

def test_the_first_menu_names_a_person_first_and_routes_by_its_keys() -> None:
    main = MENU["nodes"]["main"]
    assert main["say"][0] == "main.connect" and main["say_when_closed"][0] == "main.connect_closed"
    assert main["keys"]["1"] == {"connect": "young_person"}
    assert main["keys"]["2"] == {"connect": "parent"}
    assert main["keys"]["3"] == {"connect": "adult"}
    assert main["silence"] == "connect"  # one full play, then a person
    assert main["offer_language"] == "9" and main["keys"]["9"] == {"language": "next"}
    assert "who" not in MENU["nodes"]  # never a question before a person


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_first_sentence_of_the_first_menu_names_key_1_for_under_18s(lang: str) -> None:
    first = re.split(r"(?<=[.!?])\s+", PROMPTS[lang]["main.connect"])[0]
    named = FILES[lang]["words"]["key_named"].format(key="1")
    assert first.endswith(named + ".") and "18" in first, first


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_is_named_after_its_option(lang: str) -> None:
    """"Für ein Gespräch: die 1", "To talk to someone, press 1": the option first, the key last,
    the same way everywhere."""
    before, _, after = FILES[lang]["words"]["key_named"].partition("{key}")
    named = re.compile(re.escape(before) + r"\d" + re.escape(after) + r"(?=[.,;]|$)")
    key_first = re.compile(r"\b(Mit der \d|Die \d:|drücken Sie|drück die|Press \d\b|press \d to\b)")
    for key, text in {**PROMPTS[lang], **YOUNG[lang]}.items():
        assert not key_first.search(text), (key, text)
        digits_named = re.findall(re.escape(before) + r"\d", text)
        assert len(named.findall(text)) == len(digits_named), (key, text)


@pytest.mark.parametrize("key", ["main.connect_closed", "keys.common_closed", "hotlines.keys_closed",
                                 "closed.keys"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_nothing_said_while_all_is_closed_promises_a_connection(lang: str, key: str) -> None:
    text = PROMPTS[lang][key].lower()
    assert not any(word in text for word in ("verbind", "gespräch", "connect", "talk", "die 0", "press 0")), text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_emergency_numbers_come_in_the_first_menu_and_nowhere_are_they_dialled(lang: str) -> None:
    assert placeholders(PROMPTS[lang]["emergency"]) == ("police", "emergency")
    main = MENU["nodes"]["main"]
    assert main["say"][1] == "emergency" and main["say_when_closed"][1] == "emergency"
    assert {r["id"]: r["kind"] for r in HOTLINES["resources"]}["police"] == "emergency"


# -- du for callers under 18, Sie for everyone else --------------------------------------------

FORMAL = re.compile(r"\b(Sie|Ihnen|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihres)\b")
DU = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|drück)\b", re.IGNORECASE)
TO_THE_YOUNG = {"guide.young", "guide.young.help"}  # topic 5 speaks to young people themselves
NO_CALLER = {"error.apology", "error.line"}  # the static fallback knows nothing of the caller


@pytest.mark.parametrize("key", sorted(k for k in PROMPTS["de"] if k not in NO_CALLER))
def test_a_caller_under_18_hears_du_in_every_german_sentence(key: str) -> None:
    heard = YOUNG["de"].get(key, PROMPTS["de"][key])
    assert not FORMAL.search(heard), (key, heard)


@pytest.mark.parametrize("key", sorted(NO_CALLER))
def test_the_static_fallback_says_neither_sie_nor_du(key: str) -> None:
    # It knows nothing of the caller, who may be a child (issue 13): words that fit everyone.
    assert not FORMAL.search(PROMPTS["de"][key]) and not DU.search(PROMPTS["de"][key]), PROMPTS["de"][key]


@pytest.mark.parametrize("key", sorted(k for k in PROMPTS["de"] if k not in TO_THE_YOUNG))
def test_everyone_else_hears_sie(key: str) -> None:
    assert not DU.search(PROMPTS["de"][key]), PROMPTS["de"][key]


def test_the_young_sections_only_hold_keys_that_exist() -> None:
    for lang in LANGUAGES:
        assert set(YOUNG[lang]) <= set(PROMPTS[lang]), lang
    assert len(YOUNG["de"]) >= 10  # the file was read


# -- rule 9 and the seed: what to do, without blame, safe for a 14-year-old ---------------------

CONTENT = [
    # blackmail: do not pay, do not send, block in advance (under 18 / 18 and older), no blame
    ("de", "prompts", "guide.blackmail", ["Zahlen Sie kein Geld", "keine weiteren Bilder",
                                          "unter 18 mit Take It Down", "ab 18 mit StopNCII", "nichts falsch"]),
    ("en", "prompts", "guide.blackmail", ["Do not pay", "do not send", "Take It Down if you are under 18",
                                          "StopNCII if you are 18 or older", "done nothing wrong"]),
    ("de", "young", "guide.blackmail", ["Du hast nichts falsch gemacht", "Zahl kein Geld",
                                        "Speichere die Bilder nicht", "schick sie an niemanden weiter",
                                        "Erwachsenen, dem du vertraust", "Take It Down"]),
    ("en", "young", "guide.blackmail", ["you have done nothing wrong", "Do not pay",
                                        "Do not save the images or send them on", "adult you trust",
                                        "Take It Down"]),
    # supporters: images of minors are not kept or passed on; a reporting office or the police
    ("de", "prompts", "guide.support", ["keine Vorwürfe", "Kinder oder Jugendliche",
                                        "Speichern Sie sie nicht", "leiten Sie sie nicht weiter",
                                        "Wie es weitergeht, sagt Ihnen die Polizei oder eine Meldestelle",
                                        "bei der man solche Inhalte melden kann"]),
    ("en", "prompts", "guide.support", ["do not blame them", "children or young people",
                                        "do not save them or send them on",
                                        "The police, or a reporting office", "what to do next"]),
    ("de", "young", "guide.support", ["keine Vorwürfe", "speichere die Bilder nicht", "schick sie nicht weiter",
                                      "Erwachsenen, dem du vertraust"]),
    ("en", "young", "guide.support", ["do not blame them", "do not save", "do not send them on",
                                      "adult you trust"]),
    # blocking in advance, with the age boundary at 18 itself
    ("de", "prompts", "guide.act.block", ["unter 18 mit Take It Down", "ab 18 mit StopNCII"]),
    ("en", "prompts", "guide.act.block", ["Take It Down for people under 18", "StopNCII for people 18 or older"]),
    ("de", "prompts", "guide.act.remove", ["Meldestellen"]),
    ("en", "prompts", "guide.act.remove", ["reporting offices"]),
    ("de", "prompts", "guide.young.help", ["Take It Down", "Juuuport", "Nummer gegen Kummer"]),
    ("en", "prompts", "guide.young.help", ["Take It Down", "Juuuport", "Nummer gegen Kummer"]),
]


@pytest.mark.parametrize("lang, section, key, phrases", CONTENT)
def test_guidance_says_what_to_do(lang: str, section: str, key: str, phrases: list[str]) -> None:
    texts = {**PROMPTS[lang], **(YOUNG[lang] if section == "young" else {})}
    # blackmail comes in two chunks: what not to do, then where help is
    text = " ".join([texts[key], texts["guide.blackmail.help"]] if key == "guide.blackmail" else [texts[key]])
    for phrase in phrases:
        assert phrase in text, (lang, section, key, phrase)


THREAT = re.compile(r"(strafbar|Straftat|Strafe|verboten|Polizei|crime|illegal|punish|police|forbidden)", re.I)
REASSURANCE = {"de": "Du hast nichts falsch gemacht", "en": "you have done nothing wrong"}
WARNING = {"de": "speichere die Bilder nicht", "en": "do not save"}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", ["guide.young", "guide.blackmail", "guide.support"])
def test_a_young_caller_hears_reassurance_before_any_warning_and_no_threat(lang: str, key: str) -> None:
    text = YOUNG[lang].get(key, PROMPTS[lang][key]) if key != "guide.young" else PROMPTS[lang][key]
    if key != "guide.support":  # the supporter's text is about someone else; it carries no blame
        assert REASSURANCE[lang].lower() in text.lower(), text
        assert text.lower().index(REASSURANCE[lang].lower()) < text.lower().index(WARNING[lang].lower())
    assert WARNING[lang].lower() in text.lower(), text
    assert not THREAT.search(text), (key, THREAT.search(text))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_age_boundary_is_ab_18_never_ueber_18(lang: str) -> None:
    for section in (PROMPTS, YOUNG):
        for key, text in section[lang].items():
            assert not re.search(r"(über 18|over 18|above 18|older than 18)", text), (key, text)


PLAIN = {  # a word a 14-year-old may not know: avoided, or explained in the same sentence set
    "de": {"avoid": ["nicht belegt", "Angehörige", "teilnehmende", "minus"],
           "explain": {"Meldestelle": "melden", "Anzeige": "melden", "Fingerabdruck": "eine Art"}},
    "en": {"avoid": ["reproach", "participating", "minus"],
           "explain": {"reporting office": "report", "fingerprint": "a kind of"}},
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_words_a_young_caller_may_not_know_are_avoided_or_explained(lang: str) -> None:
    rules = PLAIN[lang]
    for section in (PROMPTS, YOUNG):
        for key, text in section[lang].items():
            for word in rules["avoid"]:
                assert word.lower() not in text.lower(), (key, word)
            for term, explanation in rules["explain"].items():
                if term in text:
                    assert explanation in text.replace(term, ""), (key, term, text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_web_addresses_come_from_the_directory_never_spelled_out_in_prompts(lang: str) -> None:
    spelled = re.compile(r"(punkt de|punkt net|dot de|dot net|www|\.de\b|\.net\b)", re.I)
    for section in (PROMPTS, YOUNG):
        for key, text in section[lang].items():
            assert not spelled.search(text), (key, text)
    assert "{web_juuuport}" in PROMPTS[lang]["closed.online.juuuport"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_free_of_charge_is_only_said_where_the_directory_decides(lang: str) -> None:
    """The service's own number only when hotlines.yaml says so; a line's only in the sentences
    the flow says after a line the directory calls free, or about a line the directory calls free."""
    free = re.compile(r"(kostenlos|gebührenfrei|\bfree\b)", re.I)
    free_lines = {line["id"] for line in HOTLINES["lines"] if line.get("free_of_charge")}
    allowed = {"service.free", "line.free", "line.free_anonymous", *(f"closed.about.{i}" for i in free_lines)}
    for section in (PROMPTS, YOUNG):
        for key, text in section[lang].items():
            if free.search(text):
                assert key in allowed, (key, text)
    assert free.search(PROMPTS[lang]["closed.about.kids-line"])  # the seed: anonymous and free
    assert HOTLINES["service"]["free_to_call"] is False  # the bundled number is not known to be free


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_prompt_asks_the_caller_what_they_did_wrong(lang: str) -> None:
    blame = re.compile(r"\b(selbst schuld|Ihre Schuld|deine Schuld|warum haben Sie|warum hast du|"
                       r"your own fault|why did you)\b", re.I)
    for section in (PROMPTS, YOUNG):
        assert not [k for k, v in section[lang].items() if blame.search(v)]


# -- rule 10: short pieces ---------------------------------------------------------------------

@pytest.mark.parametrize("lang, node", [(lang, node) for lang in LANGUAGES for node in GUIDE_NODES])
def test_each_guidance_chunk_ends_with_what_the_keys_do(lang: str, node: str) -> None:
    *chunk, keys = MENU["nodes"][node]["say"]
    assert len(chunk) == 1 and chunk[0].startswith("guide.")
    assert keys in ("guide.next_part", "guide.next_topic", "guide.last_topic")
    named = FILES[lang]["words"]["key_named"]
    assert named.format(key="1") in PROMPTS[lang][keys] and named.format(key="2") in PROMPTS[lang][keys]
