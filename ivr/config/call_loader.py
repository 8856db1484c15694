"""Validating `menu.yaml` and `prompts/<lang>.yaml` against each other and the directory."""
from __future__ import annotations

import re
from typing import Any

from ivr.directory.directory import ANYONE, AUDIENCES, Directory
from ivr.call.menu import (
    ACTION_KINDS,
    CALLER,
    CHOICE_KEYS,
    GATHER_WAIT,
    GLOBAL_KEYS,
    LANGUAGE_KEYS,
    NEXT,
    NEXT_LANGUAGE,
    SHOW_KINDS,
    SILENCE_KINDS,
    Action,
    Menu,
    Node,
)
from ivr.call.prompts import (
    ABOUT_PLACEHOLDERS,
    ABOUT_PREFIX,
    COMMON_PLACEHOLDERS,
    FLOW_PROMPTS,
    ONLINE_PROMPT,
    ONLY_SOME_PREFIX,
    Prompts,
    Voice,
    web_placeholder,
)
from ivr.call import cldr
from ivr.call.speech import CLDR_WORD_KEYS, OPTIONAL_WORD_KEYS, WORD_KEYS, placeholders
from ivr.config.yamlfile import YamlDoc, among, check_text, join

# Nodes the flow goes to by itself: nothing open, every line failed, a talk that was very short,
# and only lines for some callers open while the caller has not said who they are.
REQUIRED_NODES = ("closed", "unreachable", "short_talk", "only_some")
_NODE_KEYS = {"say", "say_when_closed", "keys", "show", "offer_language", "silence", "name_languages", "languages_after",
              "languages_after_closed", "wait"}
_CONNECT_TARGETS = (*AUDIENCES, ANYONE, CALLER, NEXT)
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")  # de-DE; Polly's Arabic is plain "arb"
_FROM_CLDR = ("weekdays", "months")  # left out, they come from CLDR by the file's locale


def build_menu(doc: YamlDoc) -> Menu | None:
    data = doc.data
    if not isinstance(data, dict):
        doc.problem("", "is not a mapping; expected start, languages and nodes")
        return None
    doc.unknown_keys("", data, ("start", "languages", "nodes"))
    languages = data.get("languages")
    if not isinstance(languages, list) or not languages or not all(
            isinstance(x, str) and re.fullmatch(r"[a-z]{2}", x) for x in languages):
        doc.problem("languages", f"{languages!r} is not a list of languages; expected e.g. [de, en]")
        languages = ["de"]
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        doc.problem("nodes", "has no nodes; expected a mapping of node names to nodes")
        return None
    nodes = {str(name): _node(doc, join("nodes", str(name)), str(name), raw, raw_nodes)
             for name, raw in raw_nodes.items()}
    start = data.get("start")
    if not among(start, raw_nodes):
        doc.problem("start", f"{start!r} is not a node; expected one of {', '.join(map(str, raw_nodes))}")
    for name in REQUIRED_NODES:
        if name not in raw_nodes:
            doc.problem("nodes", f"has no {name!r} node; expected it, the call goes there by itself")
    if not doc.errors:
        _check_languages(doc, languages, nodes)
        _check_reachable(doc, str(start), nodes)
    if doc.errors:
        return None
    return Menu(str(start), tuple(languages), nodes)


def _node(doc: YamlDoc, path: str, name: str, raw: Any, all_nodes: dict) -> Node:
    if not isinstance(raw, dict):
        doc.problem(path, f"holds {raw!r}; expected a mapping with say and keys")
        return Node(name, (), {})
    doc.unknown_keys(path, raw, _NODE_KEYS)
    say = _prompt_keys(doc, join(path, "say"), raw.get("say", []))
    say_when_closed = _prompt_keys(doc, join(path, "say_when_closed"), raw.get("say_when_closed", []))
    show = raw.get("show")
    if show is not None and show not in SHOW_KINDS:
        doc.problem(join(path, "show"), f"{show!r} is not a dynamic part; expected one of {', '.join(SHOW_KINDS)}")
        show = None
    if not say and not show:
        doc.problem(path, "says nothing; expected at least one prompt key in say")
    keys: dict[str, Action] = {}
    raw_keys = raw.get("keys", {})
    if not isinstance(raw_keys, dict):
        doc.problem(join(path, "keys"), f"{raw_keys!r} is not a mapping; expected keys 1-5 mapped to actions")
        raw_keys = {}
    for key, action in raw_keys.items():
        key_path = join(join(path, "keys"), str(key))
        key = str(key)
        if key in GLOBAL_KEYS:
            doc.problem(key_path, f"key {key!r} means the same everywhere (0 person, * main menu, # repeat); expected only 1-5 here")
            continue
        if key not in (*CHOICE_KEYS, *LANGUAGE_KEYS):
            doc.problem(key_path, f"{key!r} is not a choice key; expected one of {', '.join(CHOICE_KEYS)} "
                                  f"(or {', '.join(LANGUAGE_KEYS)} for a language)")
            continue
        parsed = _action(doc, key_path, action, all_nodes)
        if parsed and key in LANGUAGE_KEYS and not (
                parsed.kind == "language"
                or (parsed.kind == "goto" and isinstance(all_nodes[parsed.target], dict)
                    and all_nodes[parsed.target].get("show") == "languages")):
            doc.problem(key_path, f"key {key!r} may only switch language or open the language menu; "
                                  "expected 1-5 for other choices")
            continue
        if parsed:
            keys[key] = parsed
    offer = raw.get("offer_language")
    if offer is not None:
        offer = str(offer)
        if offer not in keys or keys[offer].kind != "language":
            doc.problem(join(path, "offer_language"), f"{offer!r} is not a key of this node that switches language; expected one with {{language: next}}")
            offer = None
    name_languages = raw.get("name_languages")
    if name_languages is not None:
        name_languages = str(name_languages)
        if name_languages not in keys or keys[name_languages].kind != "goto":
            doc.problem(join(path, "name_languages"), f"{name_languages!r} is not a key of this node that "
                                                      "goes to a node; expected the key of the language menu")
            name_languages = None
    after, after_closed = (_count(doc, join(path, key), raw.get(key, 1), 0, 5, "sentences")
                           for key in ("languages_after", "languages_after_closed"))
    wait = _count(doc, join(path, "wait"), raw.get("wait", GATHER_WAIT), 1, 10, "seconds")
    silence = raw.get("silence", "repeat")
    if silence not in SILENCE_KINDS:
        doc.problem(join(path, "silence"), f"{silence!r} is not what silence can do; expected "
                                           f"{' or '.join(SILENCE_KINDS)}")
        silence = "repeat"
    return Node(name, say, keys, show, offer, say_when_closed, silence, name_languages, after,
                after_closed, wait)


def _count(doc: YamlDoc, path: str, value: Any, low: int, high: int, unit: str) -> int:
    """A whole number from `low` to `high`; `low` after a problem (reported)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        doc.problem(path, f"{value!r} is not a number of {unit}; expected {low} to {high}")
        return low
    return value


def _prompt_keys(doc: YamlDoc, path: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        doc.problem(path, f"{value!r} is not a list of prompt keys; expected e.g. [main.choices]")
        return ()
    return tuple(value)


def _action(doc: YamlDoc, path: str, raw: Any, all_nodes: dict) -> Action | None:
    if (not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ACTION_KINDS
            or isinstance(next(iter(raw.values())), (list, dict, type(None)))):  # a target is one word
        doc.problem(path, f"{raw!r} is not an action; expected one of {{goto: <node>}}, {{connect: <audience>}}, {{language: next}}, {{language: <code>}}")
        return None
    kind, target = next(iter(raw.items()))
    target = str(target)
    if kind == "goto" and target not in all_nodes:
        doc.problem(path, f"goto {target!r} is not a node; expected one of {', '.join(map(str, all_nodes))}")
        return None
    if kind == "connect" and target not in _CONNECT_TARGETS:
        doc.problem(path, f"connect {target!r} is not an audience; expected one of "
                          f"{', '.join(_CONNECT_TARGETS)}")
        return None
    return Action(kind, target)


def _check_languages(doc: YamlDoc, languages: list[str], nodes: dict[str, Node]) -> None:
    """A key may only switch to a live language: the operator lists them in `languages`. The keys
    6-9 switch language or open the language menu, nothing else."""
    for node in nodes.values():
        for key, action in node.keys.items():
            if action.kind == "language" and action.target not in (NEXT_LANGUAGE, *languages):
                doc.problem(join(join(join("nodes", node.id), "keys"), key),
                            f"language {action.target!r} is not in languages; expected next or one of "
                            f"{', '.join(languages)}")


def _check_reachable(doc: YamlDoc, start: str, nodes: dict[str, Node]) -> None:
    seen: set[str] = set()
    todo = [start, *REQUIRED_NODES]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for action in nodes[name].keys.values():
            if action.kind == "goto":
                todo.append(action.target)
    for name in nodes:
        if name not in seen:
            doc.problem(join("nodes", name), f"node {name!r} is unreachable; expected some node's keys to goto it")


def build_voices(doc: YamlDoc) -> dict[str, str]:
    """ivr/config/voices.yaml: every Twilio voice a prompts file may name -> its language code."""
    voices = doc.data.get("voices") if isinstance(doc.data, dict) else None
    if not isinstance(voices, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in voices.items()):
        doc.problem("voices", f"{voices!r} is not a mapping; expected voice names mapped to language codes")
        return {}
    return dict(voices)


def build_prompts(doc: YamlDoc, lang: str, voices: dict[str, str] | None = None) -> Prompts | None:
    data = doc.data
    if not isinstance(data, dict):
        doc.problem("", "is not a mapping; expected voice, words and prompts")
        return None
    doc.unknown_keys("", data, ("voice", "words", "prompts", "young", "reviewed"))
    reviewed = data.get("reviewed", True)
    if not isinstance(reviewed, bool):
        doc.problem("reviewed", f"{reviewed!r} is not true or false; expected false until a "
                                "native-speaking counsellor has checked the file")
        reviewed = False
    voice = data.get("voice")
    language = name = ""
    if not isinstance(voice, dict):
        doc.problem("voice", f"{voice!r} is not a mapping; expected {{language: de-DE, voice: Polly.Vicki-Neural}}")
    else:
        doc.unknown_keys("voice", voice, ("language", "voice"))
        language, name = voice.get("language", ""), voice.get("voice", "")
        if not isinstance(language, str) or not _LANGUAGE_CODE.match(language):
            doc.problem("voice.language", f"{language!r} is not a language code; expected e.g. de-DE")
        if not isinstance(name, str) or not name.strip():
            doc.problem("voice.voice", f"{name!r} is not a voice; expected e.g. Polly.Vicki-Neural")
        elif voices is not None and name not in voices:
            doc.problem("voice.voice", f"{name!r} is not a voice listed in ivr/config/voices.yaml; expected one "
                                       f"of {', '.join(sorted(voices))} (or add it there with its source)")
        elif voices is not None and voices[name] != language:
            doc.problem("voice.language", f"{language!r} does not fit {name}; expected {voices[name]}")
    words = data.get("words")
    if not isinstance(words, dict):
        doc.problem("words", f"{words!r} is not a mapping; expected {', '.join(WORD_KEYS)}")
        words = {}
    doc.unknown_keys("words", words, (*WORD_KEYS, *OPTIONAL_WORD_KEYS, *CLDR_WORD_KEYS))
    locale = words.get("locale")
    if locale is not None and not (isinstance(locale, str) and cldr.known(locale)):
        doc.problem(join("words", "locale"), f"{locale!r} is not a locale CLDR knows; expected e.g. tr, ar, pl")
        locale = None
    for key in WORD_KEYS:
        if key not in words and not (key in _FROM_CLDR and locale):
            doc.problem("words", f"lacks {key!r}; expected all of {', '.join(WORD_KEYS)} "
                                 f"({' and '.join(_FROM_CLDR)} may come from CLDR with a locale)")
    for key, count in (("weekdays", 7), ("months", 12), ("weekdays_on", 7), ("am_pm", 2)):
        value = words.get(key)
        if key in words and (not isinstance(value, list) or len(value) != count):
            doc.problem(join("words", key), f"{value!r} is not a list of {count} names; expected {count}")
    _word_texts(doc, words)
    texts = data.get("prompts")
    if not isinstance(texts, dict):
        doc.problem("prompts", f"{texts!r} is not a mapping; expected prompt keys mapped to sentences")
        texts = {}
    _sentences(doc, "prompts", texts)
    young = data.get("young", {})
    if not isinstance(young, dict):
        doc.problem("young", f"{young!r} is not a mapping; expected prompt keys mapped to the "
                             "sentences said to a caller under 18")
        young = {}
    _sentences(doc, "young", young)
    for key, text in young.items():
        path = join("young", str(key))
        if key not in texts:
            doc.problem(path, f"{key!r} is not a prompt key; expected a key of prompts, said "
                              "instead of it to a caller under 18")
        elif not doc.errors and set(placeholders(text)) != set(placeholders(texts[key])):
            doc.problem(path, f"has placeholders {sorted(set(placeholders(text)))}; expected the "
                              f"same as prompts.{key}: {sorted(set(placeholders(texts[key])))}")
    if doc.errors:
        return None
    return Prompts(lang, Voice(language, name), dict(words), _clean(texts), _clean(young), reviewed)


def _sentences(doc: YamlDoc, path: str, texts: dict) -> None:
    for key, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            doc.problem(join(path, str(key)), f"{text!r} is not a sentence; expected text")
            continue
        try:
            placeholders(text)
        except ValueError as exc:
            doc.problem(join(path, str(key)), f"{text!r} has broken braces ({exc}); expected {{name}} placeholders")


def _clean(texts: dict) -> dict[str, str]:
    """One line per sentence: YAML's folded text may carry line breaks and double spaces."""
    return {str(k): " ".join(str(v).split()) for k, v in texts.items()}


def _word_texts(doc: YamlDoc, words: dict) -> None:
    """Every word is text, as speech.py formats them: each weekday and month name, and each
    template (with whole {placeholders}, or formatting it would fail during a call)."""
    for key, value in words.items():
        path = join("words", str(key))
        if key in ("weekdays", "months", "weekdays_on", "am_pm"):
            for i, name in enumerate(value if isinstance(value, list) else []):
                check_text(doc, join(path, i), name)
        elif key in OPTIONAL_WORD_KEYS:
            _optional_word(doc, path, value, OPTIONAL_WORD_KEYS[key])
        elif check_text(doc, path, value) is not None:
            try:
                placeholders(value)
            except ValueError as exc:
                doc.problem(path, f"{value!r} has broken braces ({exc}); expected {{name}} placeholders")


def _optional_word(doc: YamlDoc, path: str, value: object, allowed: frozenset[str]) -> None:
    """A word a language may leave out: text whose placeholders are among `allowed`."""
    if check_text(doc, path, value, required=False) is None:
        return
    try:
        used = set(placeholders(str(value)))
    except ValueError as exc:
        doc.problem(path, f"{value!r} has broken braces ({exc}); expected {{name}} placeholders")
        return
    if used - allowed:
        doc.problem(path, f"{value!r} uses {{{sorted(used - allowed)[0]}}}; expected only "
                          f"{', '.join('{' + name + '}' for name in sorted(allowed))}")


def check_prompts_cover(docs: dict[str, YamlDoc], prompts: dict[str, Prompts], menu: Menu,
                        directory: Directory) -> None:
    """Every language has every key the call needs, with the same placeholders as the first."""
    needed: dict[str, frozenset[str]] = dict(FLOW_PROMPTS)
    for node in menu.nodes.values():
        for key in (*node.say, *node.say_when_closed):
            needed.setdefault(key, frozenset())
    for resource in directory.resources:
        if resource.kind == "online":
            needed[ONLINE_PROMPT.format(resource=resource.id)] = frozenset()
    for node in menu.nodes.values():
        if node.show == "only_some":  # who can reach whom, for each audience its keys connect
            for action in node.keys.values():
                if action.kind == "connect" and action.target in AUDIENCES:
                    needed[ONLY_SOME_PREFIX + action.target] = frozenset({"name"})
    for line in directory.lines:  # optional per line; once one language has it, every language does
        if any(ABOUT_PREFIX + line.id in loaded.texts for loaded in prompts.values()):
            needed[ABOUT_PREFIX + line.id] = ABOUT_PLACEHOLDERS
    first = menu.languages[0]
    common = COMMON_PLACEHOLDERS | {web_placeholder(item.id) for item in (*directory.lines, *directory.resources)
                                    if item.web}
    for lang in menu.languages:
        if lang not in prompts:
            continue
        doc, texts = docs[lang], prompts[lang].texts
        for key, allowed in needed.items():
            if key not in texts:
                doc.problem("prompts", f"lacks {key!r}; expected a sentence for every prompt key the call uses")
                continue
            used = set(placeholders(texts[key]))
            unknown = used - allowed - common
            if unknown:
                doc.problem(join("prompts", key), f"uses unknown placeholder {{{sorted(unknown)[0]}}}; expected only {{{'}, {'.join(sorted(allowed | common))}}}")
            if lang != first and first in prompts and key in prompts[first].texts:
                theirs = set(placeholders(prompts[first].texts[key]))
                if used != theirs:
                    doc.problem(join("prompts", key), f"has placeholders {sorted(used)}; expected the same as {first}.yaml: {sorted(theirs)}")
        for key in texts:
            if key not in needed:
                doc.problem(join("prompts", key), f"{key!r} is never said; expected only keys used by menu.yaml or the call")
