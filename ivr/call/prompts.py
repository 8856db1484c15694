"""Every sentence per language, and the keys and placeholders the call flow relies on."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

# Placeholders every prompt may use: the emergency numbers, read digit by digit, and the web
# address of every line and resource that has one, as people say it ({web_juuuport}).
COMMON_PLACEHOLDERS = frozenset({"police", "emergency"})


def web_placeholder(item_id: str) -> str:
    """The placeholder for the web address of a line or resource: web_ and its id, - as _."""
    return "web_" + item_id.replace("-", "_")


# Prompts the flow says by itself (menu nodes name the others), with the placeholders it fills.
FLOW_PROMPTS: Mapping[str, frozenset[str]] = {
    "greeting": frozenset(),
    "language.offer": frozenset({"key"}),
    "language.name": frozenset({"key"}),  # a language named in its own voice, with its key
    "emergency": frozenset(),  # 110/112: in the first sentences and before every goodbye
    "service.free": frozenset(),  # said only when the directory says the call is free
    "service.anonymous": frozenset(),
    "keys.common": frozenset(),
    "keys.common_closed": frozenset(),  # the same, without "0 connects you", when nothing is open
    "key.unknown": frozenset({"key"}),
    "connect.now": frozenset({"name"}),
    "connect.busy": frozenset(),
    "connect.no_answer": frozenset(),
    "connect.failed": frozenset(),
    "connect.next": frozenset(),
    "connect.done": frozenset(),
    "hotlines.open_now": frozenset(),
    "hotlines.none_open": frozenset(),
    "hotlines.later": frozenset(),  # heads the lines closed now, after those open now
    "hotlines.line_open": frozenset({"name", "until", "number"}),
    "hotlines.line_closed": frozenset({"name", "when", "number", "hours"}),
    "closed.none_open": frozenset(),
    "closed.next": frozenset({"when", "name", "number"}),
    "closed.nothing_soon": frozenset(),
    "only_some.next_all": frozenset({"when", "name", "number"}),  # when a line for everyone opens
    "line.language.maybe": frozenset(),  # after a multilingual line: your language may be possible
    "line.language.other": frozenset(),  # after a line that does not list the caller's language
    "line.free_anonymous": frozenset(),  # after a line the directory calls free and anonymous
    "line.free": frozenset(),  # after a line whose counselling is free (the call itself may cost: 030)
    "hours.holidays": frozenset(),  # once, on a holiday, where a line's holiday rule is unknown
    "closed.numbers": frozenset(),
    "closed.line": frozenset({"name", "number", "hours"}),
    "unreachable.intro": frozenset(),
    "unreachable.line": frozenset({"name", "number"}),
    "short_talk.intro": frozenset(),
    "goodbye": frozenset(),
    "error.apology": frozenset(),
    "error.line": frozenset({"name", "number", "hours"}),
    "error.goodbye": frozenset(),  # the fallback's goodbye: to anyone, a child too
}
# Optional, per line: said about a closed line to the callers it serves (116 111 at night)
ABOUT_PLACEHOLDERS = frozenset({"name", "number", "hours"})
ONLINE_PROMPT = "closed.online.{resource}"  # one per online resource, said when nothing is open
ABOUT_PREFIX = "closed.about."  # + a line's id
ONLY_SOME_PREFIX = "only_some."  # + each audience the only_some node's keys connect


@dataclass(frozen=True)
class Voice:
    language: str  # e.g. de-DE: without it Twilio reads German with an English voice
    name: str  # e.g. Polly.Vicki-Neural


@dataclass(frozen=True)
class Prompts:
    lang: str
    voice: Voice
    words: Mapping[str, object]
    texts: Mapping[str, str]
    # For a caller who said they are under 18: German speaks with "du" to them, and a sentence may
    # add what matters for the young. Keys not listed here are said as in `texts`.
    young: Mapping[str, str] = field(default_factory=dict)
    # False until a native-speaking counsellor has checked the file (`ivr check` lists these)
    reviewed: bool = True

    def text(self, key: str, young: bool = False) -> str:
        if young:
            return self.young.get(key) or self.texts[key]
        return self.texts[key]
