"""The menu tree: nodes, what each key does there, and the keys that mean the same everywhere."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

# Same keys everywhere (rule 2): handled by the flow, never declared per node.
KEY_PERSON = "0"
KEY_MAIN = "*"
KEY_REPEAT = "#"
GLOBAL_KEYS = (KEY_PERSON, KEY_MAIN, KEY_REPEAT)
CHOICE_KEYS = ("1", "2", "3", "4", "5")

ACTION_KINDS = ("goto", "connect", "language")
SHOW_KINDS = ("hotlines", "closed", "unreachable")
ASK = "ask"  # connect: ask -> the node that asks who is calling, unless that is known
AGAIN = "again"  # connect: again -> try once more for the same caller, never a question first


@dataclass(frozen=True)
class Action:
    """What a key does: goto a node, connect an audience ("anyone" for no question), or switch
    language (target = "next": the next language in the menu's list)."""

    kind: str
    target: str


@dataclass(frozen=True)
class Node:
    id: str
    say: tuple[str, ...]  # prompt keys, read in order, inside the Gather
    keys: Mapping[str, Action]
    show: str | None = None  # dynamic block read before `say`: hotlines | closed | unreachable
    offer_language: str | None = None  # key that switches language; offered in the other language
    # said instead of `say` while no line is open for the caller: never promise a connection
    # that cannot happen ("press 1 to be connected" at night)
    say_when_closed: tuple[str, ...] = ()

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
        index = self.languages.index(lang) if lang in self.languages else -1
        return self.languages[(index + 1) % len(self.languages)]
