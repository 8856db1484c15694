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
from typing import Iterable, Iterator
from urllib.parse import urlencode

from ivr.call.answers import DIALED, MENU, VOICE, Webhook, decide
from ivr.call.flow import Dial, Gather, Hangup, Say, Step, state_params
from ivr.config.loading import Config
from ivr.call.speech import Clock, Key, Moment, Phone, Text, Value, WeeklyHours, placeholders
from ivr.timing.spoken_seconds import Timer, speakable
from ivr.call.twiml import Renderer

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
    Goal("other_language", 8, "speech before the other language is offered"),  # de and en from the five
    Goal("languages_named", 20, "speech before every other language is named in its own voice (from the first)"),
    Goal("connect_line", 4, "uninterruptible speech in an answer that dials"),
    Goal("longest_say", 30, "longest single <Say> (aim: 20)"),
    Goal("emergency_before_end", 45, "a silent caller who reaches nobody: last 110/112 to the end of the call"),
)


_LONGEST = next(goal for goal in GOALS if goal.name == "longest_say")


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
        return Heard(step, tuple(s for item in step.say if (s := self._spoken(item, step)).sentences),
                     tuple(s for item in gather if (s := self._spoken(item, step)).sentences))

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
        """The first answer in `lang`: the greeting, or the greeting after the language key, or
        after the key of the language menu and the language's key there."""
        step = decide(self.config, Webhook(VOICE, ""), at)
        keys = self.config.menu.keys_to(lang)
        for key in keys or ():
            step = self.press(step, key, at)
        if keys is not None and step.lang == lang:
            return step
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
        """All six measures, the last two over every answer within two keys."""
        result = self.measure_first_minute(lang, at)
        dialling = [h for _, h in self.walk(lang, at) if h.dials]
        retrying = [answer for h in dialling for status in RETRIES
                    if (answer := self.hear(self.dial_ended(h.step, status, at))).dials]
        result.values["connect_line"] = max((h.uninterruptible for h in (*dialling, *retrying)), default=None)
        result.values["longest_say"] = max((s.seconds for _, h in self.walk(lang, at)
                                            for s in (*h.before, *h.gather)), default=None)
        return result

    def measure_first_minute(self, lang: str, at: dt.datetime) -> Measures:
        """The measures of the start alone: a key, silence, the other language, 110/112."""
        start = self.start(lang, at)
        heard = self.hear(start)
        result = Measures(lang, at)
        result.values["quickest_person"] = self._quickest(start, heard, at)
        silent, emergency = self._silent(start, at)
        result.values["silent_person"] = silent
        result.values["emergency_before_end"] = emergency
        languages = self.config.menu.languages
        own = _voice(self.config, lang)
        offered = {_voice(self.config, other) for other in languages[:2]} - {own}
        result.values["other_language"] = _until_all(heard.gather, offered)
        # the five other languages are named at the start in the first language only
        named = {_voice(self.config, other) for other in languages[2:]} if lang == languages[0] else set()
        result.values["languages_named"] = _until_all(heard.gather, named)
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
            assert isinstance(step.then, Gather)
            elapsed += step.then.wait
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


def _until_all(spoken: tuple[Spoken, ...], languages: set[str]) -> float | None:
    """Seconds of speech until each of `languages` has been heard in its own voice."""
    left = set(languages)
    if not left:
        return None
    return _until(spoken, lambda item, _: (left.discard(item.language), not left)[1])


def _voice(config: Config, lang: str) -> str:
    return config.prompts[lang].voice.language


def _key_pattern(template: str) -> re.Pattern[str]:
    """"die {key}" -> a pattern that finds the digit keys a sentence names."""
    before, _, after = template.partition("{key}")
    return re.compile(re.escape(before) + r"([0-9])\b" + re.escape(after), re.IGNORECASE)


# -- for operators: warnings and reports ----------------------------------------------------

def _samples(config: Config) -> dict[str, Value]:
    """A value for every placeholder a prompt can have: the longest the directory holds, so a
    sentence is timed as its longest version."""
    lines = config.directory.lines
    return {
        "name": Text(max((name for line in lines for name in line.name.values()), key=len)),
        "number": Phone(max((line.spoken for line in lines), key=len)),
        "hours": max((WeeklyHours(line.weekly) for line in lines), key=lambda h: sum(map(len, h.weekly))),
        "when": Moment("date", 0, 24, 12, Clock(14, 30)),
        "until": Clock(19, 30),
        "key": Key("5"),
    }


def filled_prompts(config: Config) -> Iterator[tuple[str, str, str, str]]:
    """(where, prompt key, voice language, speakable text) of every sentence in every language,
    and its version for young callers, with its placeholders filled by the longest values."""
    renderer = Renderer(config)
    samples = _samples(config)
    for lang, prompts in config.prompts.items():
        for young, section in ((False, prompts.texts), (True, prompts.young)):
            for key, text in section.items():
                args = tuple((name, samples[name]) for name in placeholders(text) if name in samples)
                yield (f"{lang}.yaml {'young' if young else 'prompts'}", key, prompts.voice.language,
                       speakable(renderer.pieces(Say(key, args), lang, young)))


def long_prompts(config: Config, timer: Timer, limit: float = _LONGEST.limit) -> list[tuple[str, str, float]]:
    """(where, prompt key, seconds) of every sentence that takes longer than `limit` to speak."""
    return [(where, key, seconds) for where, key, language, text in filled_prompts(config)
            if (seconds := timer.seconds(text, language)) > limit]


def warnings(config: Config, timer: Timer, instants: Iterable[dt.datetime]) -> list[str]:
    """What `ivr check` warns about: sentences too long to listen to, and every goal of the
    caller's time that the call misses at one of `instants` (first miss per goal and language)."""
    out = [f"{where}: {key} takes {seconds:.0f} s to speak; expected at most "
           f"{_LONGEST.limit:.0f} s (aim for 20): split it into two chunks"
           for where, key, seconds in long_prompts(config, timer)]
    walker = CallerTime(config, timer)
    reported: set[tuple[str, str]] = set()
    for at in instants:
        for lang in config.menu.languages:
            for goal, value in walker.measure_first_minute(lang, at).missed():
                if (goal.name, lang) not in reported:
                    reported.add((goal.name, lang))
                    out.append(f"caller time ({lang}, {at:%a %Y-%m-%d %H:%M}): {goal.text} is "
                               f"{value:.1f} s; expected at most {goal.limit:.0f} s")
    return out


def format_measures(measures: Iterable[Measures]) -> str:
    rows = [f"{'measure':<22} {'lang':<4} {'at':<17} {'seconds':>8} {'goal':>5}  result"]
    for m in measures:
        for goal in GOALS:
            value = m.values.get(goal.name)
            shown = "-" if value is None else f"{value:.1f}"
            verdict = "n/a now" if value is None else ("ok" if value <= goal.limit else "MISSED")
            rows.append(f"{goal.name:<22} {m.lang:<4} {m.at:%a %m-%d %H:%M}  {shown:>8} {goal.limit:>5.0f}  {verdict}")
    return "\n".join(rows)


def format_walk(walk: Iterable[tuple[str, Heard]]) -> str:
    rows = []
    for path, heard in walk:
        then = type(heard.step.then).__name__
        rows.append(f"[{path or 'start'}] -> {then}")
        for where, items in (("said", heard.before), ("gather", heard.gather)):
            for spoken in items:
                rows.append(f"  {spoken.seconds:5.1f} s  {where:<6} {spoken.key}: {spoken.text}")
    return "\n".join(rows)
