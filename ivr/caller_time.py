"""The caller's time: what a caller hears, in spoken seconds, on the way to a person.

The call is walked through the same decisions the webhooks answer (`answers.decide`), at a
given instant, and every sentence is timed by a `Timer` (espeak-ng, or the estimate calibrated
against it). A key is modelled as pressed right after the sentence that names it; speech in a
<Gather> stops at a key, speech before it does not; a silent caller waits each Gather's timeout.

The six measures and their goals are the call's rules 1, 3, 6 and 10 made into numbers. Pure:
the instant and the timer are arguments."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlencode

from .answers import DIALED, MENU, VOICE, Webhook, decide
from .flow import Dial, Gather, Hangup, Say, Step, state_params
from .loading import Config
from .speech import placeholders
from .spoken_seconds import Timer, speakable
from .twiml import GATHER_TIMEOUT, Renderer

SERVICE_NUMBER = "+490000000000"  # the call's To in the walk; never a real caller's
INPUTS = (*"1234567890", "*", "#", "")  # "" is silence
RETRIES = ("busy", "no-answer", "failed")  # how a dial can end that makes the call try on
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Goal:
    name: str
    limit: float
    text: str


GOALS = (
    Goal("quickest_person", 15, "speech before the quickest single key reaches a <Dial>"),
    Goal("silent_person", 40, "a caller who presses nothing, start to <Dial> (Gather waits included)"),
    Goal("other_language", 8, "speech before the other language is offered"),
    Goal("connect_line", 4, "uninterruptible speech in an answer that dials"),
    Goal("longest_say", 30, "longest single <Say> (aim: 20)"),
    Goal("emergency_before_end", 45, "a silent caller who reaches nobody: last 110/112 to the end of the call"),
)


@dataclass(frozen=True)
class Sentence:
    text: str
    seconds: float
    keys: tuple[str, ...]  # the keys this sentence names ("die 1", "press 1")


@dataclass(frozen=True)
class Spoken:
    """One <Say> as heard."""

    key: str  # the prompt key
    language: str  # the voice's language, e.g. de-DE
    sentences: tuple[Sentence, ...]
    emergency: bool  # names 110 and 112

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.sentences)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass(frozen=True)
class Heard:
    """One webhook's answer as the caller hears it."""

    step: Step
    before: tuple[Spoken, ...]  # not interruptible
    gather: tuple[Spoken, ...]  # stops at a key

    @property
    def uninterruptible(self) -> float:
        return sum(s.seconds for s in self.before)

    @property
    def dials(self) -> bool:
        return isinstance(self.step.then, Dial)


@dataclass
class Measures:
    lang: str
    at: dt.datetime
    values: dict[str, float | None] = field(default_factory=dict)  # None: does not apply now

    def missed(self) -> list[tuple[Goal, float]]:
        return [(goal, value) for goal in GOALS
                if (value := self.values.get(goal.name)) is not None and value > goal.limit]


class CallerTime:
    """Walks calls for one loaded Config and times what is heard."""

    def __init__(self, config: Config, timer: Timer) -> None:
        self.config = config
        self.timer = timer
        self.renderer = Renderer(config)
        self._key_patterns = {
            lang: _key_pattern(str(prompts.words["key_named"])) for lang, prompts in config.prompts.items()
        }

    # -- hearing ------------------------------------------------------------------------------

    def hear(self, step: Step) -> Heard:
        then = step.then
        gather = then.say if isinstance(then, Gather) else ()
        return Heard(step, tuple(self._spoken(item, step) for item in step.say),
                     tuple(self._spoken(item, step) for item in gather))

    def _spoken(self, item: Say, step: Step) -> Spoken:
        lang = item.lang or step.lang
        prompts = self.config.prompts[lang]
        text = speakable(self.renderer.pieces(item, step.lang, step.young))
        pattern = self._key_patterns[lang]
        sentences = tuple(
            Sentence(part, self.timer.seconds(part, prompts.voice.language), tuple(pattern.findall(part)))
            for part in _SENTENCE_END.split(text) if part.strip())
        used = set(placeholders(prompts.text(item.key, step.young)))
        return Spoken(item.key, prompts.voice.language, sentences, {"police", "emergency"} <= used)

    # -- moving through the call ----------------------------------------------------------------

    def start(self, lang: str, at: dt.datetime) -> Step:
        """The first answer in `lang`: the greeting, or the greeting after the language key."""
        step = decide(self.config, Webhook(VOICE, ""), at)
        for _ in self.config.menu.languages:
            if step.lang == lang:
                return step
            key = self.config.menu.node(self.config.menu.start).offer_language
            if key is None:
                break
            step = self.press(step, key, at)
        raise ValueError(f"the call cannot reach language {lang!r} from its start")

    def press(self, step: Step, key: str, at: dt.datetime) -> Step:
        """The answer to `key` ("" = silence) at a Gather."""
        assert isinstance(step.then, Gather)
        query = urlencode(state_params(step.then.state))
        return decide(self.config, Webhook(MENU, query, key, "", SERVICE_NUMBER), at)

    def dial_ended(self, step: Step, status: str, at: dt.datetime, seconds: int | None = None) -> Step:
        """The answer when the <Dial> of `step` ends with `status`."""
        assert isinstance(step.then, Dial)
        query = urlencode(state_params(step.then.state))
        return decide(self.config, Webhook(DIALED, query, "", status, SERVICE_NUMBER, seconds), at)

    def walk(self, lang: str, at: dt.datetime, depth: int = 2) -> Iterator[tuple[str, Heard]]:
        """Every answer reachable within `depth` keys (and silences), with the keys that lead
        there ("" = the start; "4 2", "1 -": "-" is silence); each distinct answer once."""
        seen: set[Step] = set()
        todo = [("", self.start(lang, at))]
        while todo:
            path, step = todo.pop(0)
            if step in seen:
                continue
            seen.add(step)
            yield path, self.hear(step)
            if isinstance(step.then, Gather) and len(path.split()) < depth:
                for key in INPUTS:
                    todo.append((f"{path} {key or '-'}".strip(), self.press(step, key, at)))

    # -- the measures ---------------------------------------------------------------------------

    def measure(self, lang: str, at: dt.datetime) -> Measures:
        start = self.start(lang, at)
        heard = self.hear(start)
        result = Measures(lang, at)
        result.values["quickest_person"] = self._quickest(start, heard, at)
        silent, emergency = self._silent(start, at)
        result.values["silent_person"] = silent
        result.values["emergency_before_end"] = emergency
        result.values["other_language"] = _until(heard.gather, lambda s, _: s.language != _voice(self.config, lang))
        dialling = [h for _, h in self.walk(lang, at) if h.dials]
        retrying = [answer for h in dialling for status in RETRIES
                    if (answer := self.hear(self.dial_ended(h.step, status, at))).dials]
        result.values["connect_line"] = max((h.uninterruptible for h in (*dialling, *retrying)), default=None)
        result.values["longest_say"] = max((s.seconds for _, h in self.walk(lang, at)
                                            for s in (*h.before, *h.gather)), default=None)
        return result

    def _quickest(self, start: Step, heard: Heard, at: dt.datetime) -> float | None:
        best: float | None = None
        elapsed = 0.0
        tried: set[str] = set()
        for spoken in heard.gather:
            for sentence in spoken.sentences:
                elapsed += sentence.seconds
                for key in sentence.keys:
                    if key in tried:
                        continue
                    tried.add(key)
                    answer = self.hear(self.press(start, key, at))
                    if answer.dials:
                        total = elapsed + answer.uninterruptible
                        best = total if best is None else min(best, total)
        return best

    def _silent(self, start: Step, at: dt.datetime) -> tuple[float | None, float | None]:
        """(start to <Dial> for a caller who presses nothing, or None when nobody can be
        dialled; and then, the seconds from the last 110/112 to the end of the call)."""
        elapsed = 0.0
        last_emergency: float | None = None
        step = start
        for _ in range(10):  # the flow never loops for ever; this bound only guards the walk
            heard = self.hear(step)
            for spoken in (*heard.before, *heard.gather):
                if spoken.emergency:
                    last_emergency = elapsed
                elapsed += spoken.seconds
            if heard.dials:
                return elapsed, None
            if isinstance(step.then, Hangup):
                return None, (elapsed - last_emergency) if last_emergency is not None else float("inf")
            elapsed += GATHER_TIMEOUT
            step = self.press(step, "", at)
        raise AssertionError("a silent caller was neither connected nor said goodbye to")


def _until(spoken: tuple[Spoken, ...], found) -> float | None:
    """Seconds of speech up to the end of the first sentence for which `found` holds."""
    elapsed = 0.0
    for item in spoken:
        for sentence in item.sentences:
            elapsed += sentence.seconds
            if found(item, sentence):
                return elapsed
    return None


def _voice(config: Config, lang: str) -> str:
    return config.prompts[lang].voice.language


def _key_pattern(template: str) -> re.Pattern[str]:
    """"die {key}" -> a pattern that finds the digit keys a sentence names."""
    before, _, after = template.partition("{key}")
    return re.compile(re.escape(before) + r"([0-9])\b" + re.escape(after), re.IGNORECASE)
