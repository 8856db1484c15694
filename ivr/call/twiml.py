"""Step -> TwiML. Rendered once per distinct step and served from a cache afterwards.

Only here do prompt keys become sentences and sentences become <Say> elements; everything is
spoken with the language's own voice (Twilio would otherwise read German with an English one)."""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial as DialVerb
from twilio.twiml.voice_response import Gather as GatherVerb
from twilio.twiml.voice_response import Say as SayVerb
from twilio.twiml.voice_response import VoiceResponse

from ivr.call.flow import CallState, Dial, Gather, Hangup, Say, Step, state_params
from ivr.config.loading import Config
from ivr.call.prompts import web_placeholder
from ivr.call.speech import (
    Digits,
    Phone,
    Piece,
    Text,
    Value,
    Web,
    WeeklyHours,
    fill,
    plain,
    sentence_slice,
)

# The webhooks' routes. They sit side by side under the service's root (ivr/serve/web.py), so the
# TwiML names them relative to the current webhook, without the leading "/": Twilio resolves a
# relative URL against the URL it requested, and a public URL with a path
# (https://ngo.example.org/helpline/voice) keeps its prefix (/helpline/menu?...).
MENU_PATH = "/menu"
DIALED_PATH = "/dialed"
GROUP_PAUSE = "250ms"  # between the printed groups of a phone number
CACHE_SIZE = 4096


def state_url(path: str, state: CallState) -> str:
    """The next webhook's URL, relative to the current one, with the call's state."""
    return f"{path.lstrip('/')}?{urlencode(state_params(state))}"


class Renderer:
    """Renders steps for one loaded Config; the cache lives and dies with it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        common: dict[str, Value] = {}
        for resource in config.directory.resources:
            if resource.id in ("police", "emergency") and resource.phone:
                common[resource.id] = Phone(resource.phone)
        for item in (*config.directory.lines, *config.directory.resources):
            if item.web:
                common[web_placeholder(item.id)] = Web(item.web)
        self._common = common
        self.render = lru_cache(maxsize=CACHE_SIZE)(self._render)  # (step, caller_id) -> XML
        self._fallback: str | None = None

    def pieces(self, item: Say, lang: str, young: bool = False) -> tuple[Piece, ...]:
        """The sentence with its placeholders filled: text, and digit groups to read one by one."""
        prompts = self.config.prompts[item.lang or lang]
        text = prompts.text(item.key, young)
        if item.sentences:
            text = sentence_slice(text, *item.sentences)
        return fill(text, {**self._common, **dict(item.args)}, prompts.words)

    def say(self, item: Say, lang: str, young: bool = False) -> SayVerb:
        voice = self.config.prompts[item.lang or lang].voice
        verb = SayVerb(language=voice.language, voice=voice.name)
        for piece in self.pieces(item, lang, young):
            if isinstance(piece, Digits):
                for n, group in enumerate(piece.groups):
                    if n:
                        verb.break_(time=GROUP_PAUSE)
                    verb.say_as(group, interpret_as="digits")
            else:
                verb.append(piece)
        return verb

    def text(self, item: Say, lang: str, young: bool = False) -> str:
        """The same sentence as plain text (for the terminal call and for tests)."""
        return plain(self.pieces(item, lang, young))

    def _render(self, step: Step, caller_id: str | None) -> str:
        response = VoiceResponse()
        for item in step.say:
            if self.pieces(item, step.lang, step.young):
                response.append(self.say(item, step.lang, step.young))
        then = step.then
        if isinstance(then, Gather):
            url = state_url(MENU_PATH, then.state)
            gather = GatherVerb(input="dtmf", num_digits=1, timeout=then.wait, finish_on_key="",
                                action=url, method="POST", action_on_empty_result=False)
            for item in then.say:
                if self.pieces(item, step.lang, step.young):  # a one-sentence prompt has no rest
                    gather.append(self.say(item, step.lang, step.young))
            response.append(gather)
            response.redirect(url, method="POST")  # silence: Twilio runs the verbs after Gather
        elif isinstance(then, Dial):
            # callerId is the service's own number: the hotline never sees the caller's.
            # ringTone: the German ring, which callers here know means "it is ringing".
            dial = DialVerb(caller_id=caller_id, timeout=then.timeout, action=state_url(DIALED_PATH, then.state),
                            method="POST", record="do-not-record", ring_tone="de")
            dial.number(then.phone)
            response.append(dial)
        elif isinstance(then, Hangup):
            response.hangup()
        return response.to_xml()

    def fallback(self) -> str:
        """Static TwiML for every failure and for Twilio's Fallback URL: an apology, every line
        with number and hours, the emergency numbers, in the first two languages (German and
        English: all seven would keep a frightened caller listening for minutes). No state, no
        clock."""
        if self._fallback is None:
            response = VoiceResponse()
            for lang in self.config.menu.languages[:2]:
                for item in self.fallback_says(lang):
                    response.append(self.say(item, lang))
            response.hangup()
            self._fallback = response.to_xml()
        return self._fallback

    def fallback_says(self, lang: str) -> Iterable[Say]:
        """Emergency first (rule 6), then the apology and every line to call directly (their
        names say whom they serve), and a goodbye that fits everyone, a child too."""
        yield Say("emergency")
        yield Say("error.apology")
        for line in self.config.directory.every_line():
            yield Say("error.line", (("name", Text(line.name_in(lang))), ("number", Phone(line.spoken)),
                                     ("hours", WeeklyHours(line.weekly))))
        yield Say("error.goodbye")
