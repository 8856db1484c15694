"""The menu tree: nodes, what each key does there, and the keys that mean the same everywhere."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

# Same keys everywhere (rule 2): handled by the flow, never declared per node.
KEY_PERSON = "0"
KEY_MAIN = "*"
KEY_REPEAT = "#"
GLOBAL_KEYS = (KEY_PERSON, KEY_MAIN, KEY_REPEAT)
CHOICE_KEYS = ("1", "2", "3", "4", "5")  # the current menu's choices
LANGUAGE_KEYS = ("6", "7", "8", "9")  # free for the language switch, far from the choices

ACTION_KINDS = ("goto", "connect", "language")
SHOW_KINDS = ("hotlines", "closed", "unreachable", "short_talk", "only_some", "languages")
NEXT_LANGUAGE = "next"  # {language: next}: German <-> English; from any other language, German
GATHER_WAIT = 5  # seconds of silence after a menu before it counts as unanswered (Twilio's default)
# connect targets besides the audiences (never a question before a person, rule 4):
CALLER = "caller"  # whoever the caller said they are so far ("anyone" if not said), all lines anew
NEXT = "next"  # the same caller, skipping the lines already dialled in this attempt
# What silence does at a node: repeat it once and then move on, or move on at once
SILENCE_REPEAT, SILENCE_CONNECT = "repeat", "connect"
SILENCE_KINDS = (SILENCE_REPEAT, SILENCE_CONNECT)


@dataclass(frozen=True)
class Action:
    """What a key does: goto a node, connect an audience ("anyone" for no question), or switch
    language (target = "next", see Menu.next_language, or a language of the menu's list)."""

    kind: str
    target: str


@dataclass(frozen=True)
class Node:
    id: str
    say: tuple[str, ...]  # prompt keys, read in order, inside the Gather
    keys: Mapping[str, Action]
    show: str | None = None  # dynamic block read before `say`: one of SHOW_KINDS
    offer_language: str | None = None  # key that switches language; offered in the other language
    # said instead of `say` while no line is open for the caller: never promise a connection
    # that cannot happen ("press 1 to be connected" at night)
    say_when_closed: tuple[str, ...] = ()
    # connect: after one full play with no key, connect (the main menu: a silent caller reaches
    # a person within 40 s); repeat: play it once more first
    silence: str = SILENCE_REPEAT
    # the key that opens the language menu: at the greeting in the first language, each language
    # that menu offers is named in its own voice with this key, after `languages_after` sentences
    # of the node's first prompt (of `say_when_closed`: `languages_after_closed`)
    name_languages: str | None = None
    languages_after: int = 1
    languages_after_closed: int = 1
    wait: int = GATHER_WAIT  # seconds of silence after the node before it counts as unanswered

    def prompts(self, nothing_open: bool) -> tuple[str, ...]:
        return self.say_when_closed if nothing_open and self.say_when_closed else self.say


@dataclass(frozen=True)
class Menu:
    start: str
    languages: tuple[str, ...]  # first is the greeting's language
    nodes: Mapping[str, Node]

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def action(self, node_id: str, key: str) -> Action | None:
        """The action for a choice key at a node; None for a key that does nothing there."""
        return self.nodes[node_id].keys.get(key)

    def next_language(self, lang: str) -> str:
        """The language the offer key switches to: the second from the first (German ->
        English), the first from every other (English, Turkish, ... -> German)."""
        if lang == self.languages[0] and len(self.languages) > 1:
            return self.languages[1]
        return self.languages[0]

    def switch(self, lang: str, action: Action) -> str:
        """The language a {language: ...} action leads to from `lang`."""
        return self.next_language(lang) if action.target == NEXT_LANGUAGE else action.target

    def keys_to(self, lang: str) -> tuple[str, ...] | None:
        """The keys that switch a call from its start (in the first language) to `lang`: the
        offer key, or the language menu's key and then the language's key there."""
        if lang == self.languages[0]:
            return ()
        start = self.nodes[self.start]
        offer = [start.offer_language] if start.offer_language else []  # the key the call names first
        for key in (*offer, *sorted(start.keys)):
            action = start.keys[key]
            if action.kind == "language" and self.switch(self.languages[0], action) == lang:
                return (key,)
        for key, action in sorted(self.nodes[self.start].keys.items()):
            if action.kind == "goto":
                for second, target in self.language_keys(action.target):
                    if target == lang:
                        return (key, second)
        return None

    def language_keys(self, node_id: str) -> list[tuple[str, str]]:
        """(key, language) of every key of a node that switches to a fixed language, by key."""
        return sorted((key, action.target) for key, action in self.nodes[node_id].keys.items()
                      if action.kind == "language" and action.target != NEXT_LANGUAGE)
