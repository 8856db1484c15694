"""The words of the call, read straight from prompts/*.yaml and data/menu.yaml (not through the
loader, so a loader that stopped checking would not hide a gap): every key in every language,
the same placeholders, and the rules about length and tone in DESIGN.md (1, 6, 9, 10)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.call.address_forms import FAMILIAR, NO_CALLER, POLITE, TO_THE_YOUNG
from ivr.config.settings import bundled_dir
from ivr.call.prompts import COMMON_PLACEHOLDERS, FLOW_PROMPTS
from ivr.call.speech import CLDR_WORD_KEYS, OPTIONAL_WORD_KEYS, month_names, placeholders, weekday_names



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
    # every word German has; a language may add the optional ones (how it says a country code),
    # take weekday and month names from CLDR (a `locale`), and add grammar CLDR lacks (a weekday
    # after "on")
    required = set(FILES[lang]["words"]) - set(OPTIONAL_WORD_KEYS) - set(CLDR_WORD_KEYS)
    if "locale" in FILES[lang]["words"]:
        required |= {"weekdays", "months"}
    assert sorted(required) == sorted(set(FILES[FIRST]["words"]) - set(OPTIONAL_WORD_KEYS))


# The fields ivr/call/speech.py offers to each word template, and those each must use.
WORD_FIELDS = {
    "today": ({"time", "weekday", "day", "month"}, {"time"}),
    "tomorrow": ({"time", "weekday", "day", "month"}, {"time"}),
    "weekday": ({"time", "weekday", "day", "month"}, {"time", "weekday"}),
    "date": ({"time", "weekday", "day", "month"}, {"time", "day", "month"}),
    "time_full_hour": ({"hour", "hour12", "minute", "ampm", "period", "short"}, set()),
    "time_minutes": ({"hour", "hour12", "minute", "ampm", "period", "short"}, set()),
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
    assert len(weekday_names(words)) == 7 and len(month_names(words)) == 12
    assert len(words.get("weekdays_on", range(7))) == 7
    for key, (offered, needed) in WORD_FIELDS.items():
        used = set(placeholders(words[key]))
        assert needed <= used <= offered, (lang, key, used)
    assert {"hour", "hour12", "short"} & set(placeholders(words["time_full_hour"]))
    assert {"minute", "short"} & set(placeholders(words["time_minutes"]))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_only_those_the_call_fills(lang: str) -> None:
    """A menu node's prompt gets no values but the emergency numbers and web addresses; the
    flow's own prompts get exactly what ivr/call/prompts.py declares. Anything else would fail in the
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


VOICES = _yaml(Path(__file__).resolve().parent.parent / "ivr" / "config" / "voices.yaml")["voices"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_voice_is_a_listed_twilio_voice_with_its_own_language_code(lang: str) -> None:
    voice = FILES[lang]["voice"]
    assert voice["voice"] in VOICES, voice  # ivr/config/voices.yaml: Twilio's voices, with their source
    assert VOICES[voice["voice"]] == voice["language"] and voice["language"].startswith(lang)
    assert voice["voice"].startswith(("Polly.", "Google."))  # SSML <say-as> needs one of these


def test_the_voices_list_names_its_source_and_only_polly_and_google_voices() -> None:
    text = (Path(__file__).resolve().parent.parent / "ivr" / "config" / "voices.yaml").read_text(encoding="utf-8")
    assert "https://www.twilio.com/docs/voice/twiml/say" in text
    assert all(re.fullmatch(r"(Polly\.[A-Z][a-z]+(-Neural)?|Google\.[a-z]{2}-[A-Z]{2}-\w+-[A-Z])", v) for v in VOICES)
    assert VOICES["Polly.Zeina"] == "arb" and VOICES["Google.uk-UA-Standard-A"] == "uk-UA"
    assert not any(code.startswith("uk") for name, code in VOICES.items() if name.startswith("Polly."))


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang not in ("de", "en")])
def test_a_language_not_checked_by_a_native_speaker_says_so(lang: str) -> None:
    text = (bundled_dir("prompts") / f"{lang}.yaml").read_text(encoding="utf-8")
    assert FILES[lang]["reviewed"] is False
    assert "to be checked by a native-speaking counsellor" in text


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


CONNECTS = {  # words that promise a person now, in each language
    "de": ("verbind", "gespräch", "die 0"), "en": ("connect", "talk", "press 0"),
    "tr": ("bağla", "görüş", "tuş 0"), "ar": ("توصيل", "أوصل", "للتحدث", "رقم 0"),
    "ru": ("соедин", "поговорить", "клавиша 0"), "uk": ("зʼєдн", "поговорити", "клавіша 0"),
    "pl": ("łącz", "rozmow", "klawisz 0"),
}


@pytest.mark.parametrize("key", ["main.connect_closed", "keys.common_closed", "hotlines.keys_closed",
                                 "closed.keys"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_nothing_said_while_all_is_closed_promises_a_connection(lang: str, key: str) -> None:
    text = PROMPTS[lang][key].lower()
    assert not any(word in text for word in CONNECTS[lang]), text
    assert any(word in PROMPTS[lang]["keys.common"].lower() for word in CONNECTS[lang])  # the words fit


@pytest.mark.parametrize("lang", LANGUAGES)
def test_emergency_numbers_come_in_the_first_menu_and_nowhere_are_they_dialled(lang: str) -> None:
    assert placeholders(PROMPTS[lang]["emergency"]) == ("police", "emergency")
    main = MENU["nodes"]["main"]
    assert main["say"][1] == "emergency" and main["say_when_closed"][1] == "emergency"
    assert {r["id"]: r["kind"] for r in HOTLINES["resources"]}["police"] == "emergency"


# -- du for callers under 18, Sie for everyone else --------------------------------------------

FORMAL, DU = POLITE["de"], FAMILIAR["de"]


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


# The other languages' polite and familiar forms (Arabic has no such split): what an adult must
# not hear, and what a young caller must not hear, in sentences said to the caller.
@pytest.mark.parametrize("lang", sorted(set(POLITE) - {"de"}))
def test_a_caller_under_18_hears_the_familiar_form_in_every_sentence(lang: str) -> None:
    for key in sorted(k for k in PROMPTS[lang] if k not in NO_CALLER):
        heard = YOUNG[lang].get(key, PROMPTS[lang][key])
        assert not POLITE[lang].search(heard), (lang, key, POLITE[lang].search(heard))
    assert len(YOUNG[lang]) >= 10  # the file was read


@pytest.mark.parametrize("lang", sorted(set(FAMILIAR) - {"de"}))
def test_everyone_else_hears_the_polite_form(lang: str) -> None:
    for key in sorted(k for k in PROMPTS[lang] if k not in TO_THE_YOUNG):
        assert not FAMILIAR[lang].search(PROMPTS[lang][key]), (lang, key, FAMILIAR[lang].search(PROMPTS[lang][key]))


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
    # the same rules in the five other languages
    ("tr", "prompts", "guide.blackmail", ["Para ödemeyin", "başka görüntü göndermeyin", "18 yaş altı için Take It Down",
                                          "18 yaş ve üstü için StopNCII", "hiçbir şeyi yanlış yapmadınız"]),
    ("tr", "young", "guide.blackmail", ["Sen hiçbir şeyi yanlış yapmadın", "Para ödeme", "Görüntüleri kaydetme",
                                        "kimseye gönderme", "Güvendiğin bir yetişkine", "Take It Down"]),
    ("tr", "prompts", "guide.support", ["suçlamayın", "çocuklar ya da gençler", "Görüntüleri kaydetmeyin",
                                        "kimseye iletmeyin", "polise"]),
    ("tr", "young", "guide.support", ["suçlama", "görüntüleri kaydetme", "kimseye gönderme", "Güvendiğin bir yetişkine"]),
    ("tr", "prompts", "guide.act.block", ["18 yaş altı için Take It Down", "18 yaş ve üstü için StopNCII"]),
    ("tr", "prompts", "guide.young.help", ["Take It Down", "Juuuport", "Nummer gegen Kummer"]),
    ("ar", "prompts", "guide.blackmail", ["لا تدفع أي مال", "لا ترسل صورًا أخرى", "تحت 18 سنة عبر Take It Down",
                                          "من عمر 18 سنة عبر StopNCII", "أنت لم تخطئ في شيء"]),
    ("ar", "young", "guide.blackmail", ["أنت لم تخطئ في شيء", "لا تدفع", "لا تحفظ الصور", "لا ترسلها لأحد",
                                        "شخصًا كبيرًا تثق به", "Take It Down"]),
    ("ar", "prompts", "guide.support", ["لا تلمه", "أطفالًا أو شبابًا", "لا تحفظها", "لا ترسلها لأحد", "الشرطة"]),
    ("ar", "young", "guide.support", ["لا تلمه", "لا تحفظ الصور", "لا ترسلها لأحد", "شخصًا كبيرًا تثق به"]),
    ("ar", "prompts", "guide.act.block", ["تحت 18 سنة عبر Take It Down", "من عمر 18 سنة عبر StopNCII"]),
    ("ar", "prompts", "guide.young.help", ["Take It Down", "Juuuport", "Nummer gegen Kummer"]),
    ("ru", "prompts", "guide.blackmail", ["Не платите деньги", "не отправляйте новых изображений",
                                          "до 18 лет с Take It Down", "с 18 лет со StopNCII", "ни в чём не виноваты"]),
    ("ru", "young", "guide.blackmail", ["ты ни в чём не виноват", "Не плати", "Не сохраняй изображения",
                                        "никому их не пересылай", "взрослому, которому доверяешь", "Take It Down"]),
    ("ru", "prompts", "guide.support", ["не упрекайте", "дети или подростки", "не сохраняйте их", "не пересылайте",
                                        "полиции"]),
    ("ru", "young", "guide.support", ["не упрекай", "не сохраняй изображения", "не пересылай",
                                      "взрослому, которому доверяешь"]),
    ("ru", "prompts", "guide.act.block", ["до 18 лет с Take It Down", "с 18 лет со StopNCII"]),
    ("ru", "prompts", "guide.young.help", ["Take It Down", "Juuuport", "Nummer gegen Kummer"]),
    ("uk", "prompts", "guide.blackmail", ["Не платіть грошей", "не надсилайте нових зображень",
                                          "до 18 років з Take It Down", "з 18 років зі StopNCII", "ні в чому не винні"]),
    ("uk", "young", "guide.blackmail", ["ти ні в чому не винен", "Не плати", "Не зберігай зображення",
                                        "нікому їх не пересилай", "дорослому, якому довіряєш", "Take It Down"]),
    ("uk", "prompts", "guide.support", ["не дорікайте", "діти чи підлітки", "не зберігайте їх", "не пересилайте",
                                        "поліції"]),
    ("uk", "young", "guide.support", ["не дорікай", "не зберігай", "не пересилай", "дорослому, якому довіряєш"]),
    ("uk", "prompts", "guide.act.block", ["до 18 років з Take It Down", "з 18 років зі StopNCII"]),
    ("uk", "prompts", "guide.young.help", ["Take It Down", "Juuuport", "Nummer gegen Kummer"]),
    ("pl", "prompts", "guide.blackmail", ["nie płacić", "nie wysyłać kolejnych zdjęć", "poniżej 18 lat przez Take It Down",
                                          "od 18 lat przez StopNCII", "nie zrobiła nic złego"]),
    ("pl", "young", "guide.blackmail", ["nie zrobiłeś ani nie zrobiłaś nic złego", "Nie płać", "Nie zapisuj zdjęć",
                                        "nikomu ich nie przesyłaj", "dorosłemu, któremu ufasz", "Take It Down"]),
    ("pl", "prompts", "guide.support", ["nie robić tej osobie wyrzutów", "dzieci lub młodzież", "nie zapisywać",
                                        "nie przesyłać dalej", "policji"]),
    ("pl", "young", "guide.support", ["nie rób tej osobie wyrzutów", "Nie zapisuj", "nie przesyłaj",
                                      "dorosłemu, któremu ufasz"]),
    ("pl", "prompts", "guide.act.block", ["poniżej 18 lat przez Take It Down", "od 18 lat przez StopNCII"]),
    ("pl", "prompts", "guide.young.help", ["Take It Down", "Juuuport", "Nummer gegen Kummer"]),
]


def test_every_language_is_held_to_the_content_rules() -> None:
    held = {(lang, section, key) for lang, section, key, _ in CONTENT}
    for lang in LANGUAGES:
        for section, key in (("prompts", "guide.blackmail"), ("young", "guide.blackmail"), ("prompts", "guide.support"),
                             ("young", "guide.support"), ("prompts", "guide.act.block")):
            assert (lang, section, key) in held, (lang, section, key)


@pytest.mark.parametrize("lang, section, key, phrases", CONTENT)
def test_guidance_says_what_to_do(lang: str, section: str, key: str, phrases: list[str]) -> None:
    texts = {**PROMPTS[lang], **(YOUNG[lang] if section == "young" else {})}
    # blackmail comes in two chunks: what not to do, then where help is
    text = " ".join([texts[key], texts["guide.blackmail.help"]] if key == "guide.blackmail" else [texts[key]])
    for phrase in phrases:
        assert phrase in text, (lang, section, key, phrase)


THREAT = re.compile(r"(strafbar|Straftat|Strafe|verboten|Polizei|crime|illegal|punish|police|forbidden"
                    r"|\bsuç\b|polis|ceza|yasak|الشرطة|جريمة|عقوبة|ممنوع|полици|наказ|преступ|запрещ"
                    r"|поліці|покаран|карано|злочин|заборон|policj|karaln|przestęp|zakaz)", re.I)
REASSURANCE = {"de": "Du hast nichts falsch gemacht", "en": "you have done nothing wrong",
               "tr": "Sen hiçbir şeyi yanlış yapmadın", "ar": "أنت لم تخطئ في شيء", "ru": "ты ни в чём не виноват",
               "uk": "ти ні в чому не винен", "pl": "nie zrobiłeś ani nie zrobiłaś nic złego"}
WARNING = {"de": "speichere die Bilder nicht", "en": "do not save", "tr": "görüntüleri kaydetme", "ar": "لا تحفظ",
           "ru": "не сохраняй", "uk": "не зберігай", "pl": "nie zapisuj"}


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
            assert not re.search(r"(über 18|over 18|above 18|older than 18|18 yaşından büyük|فوق 18|أكبر من 18"
                                 r"|старше 18|старші 18|більше 18|powyżej 18)", text), (key, text)


PLAIN = {  # a word a 14-year-old may not know: avoided, or explained in the same sentence set
    "de": {"avoid": ["nicht belegt", "Angehörige", "teilnehmende", "minus"],
           "explain": {"Meldestelle": "melden", "Anzeige": "melden", "Fingerabdruck": "eine Art"}},
    "en": {"avoid": ["reproach", "participating", "minus"],
           "explain": {"reporting office": "report", "fingerprint": "a kind of"}},
    "tr": {"avoid": ["eksi"], "explain": {"parmak izi": "bir tür", "suç duyurusu": "yani"}},
    "ar": {"avoid": ["ناقص"], "explain": {"بصمة رقمية": "نوع من", "تقديم بلاغ": "أي"}},
    "ru": {"avoid": ["минус"], "explain": {"отпечаток": "своего рода", "заявление": "то есть"}},
    "uk": {"avoid": ["мінус"], "explain": {"відбиток": "свого роду", "заяву": "тобто"}},
    "pl": {"avoid": ["minus"], "explain": {"odcisk palca": "rodzaj", "zawiadomienie": "czyli"}},
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
    free = re.compile(r"(kostenlos|gebührenfrei|\bfree\b|ücretsiz|مجان|бесплатн|безкоштовн|bezpłatn)", re.I)
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
