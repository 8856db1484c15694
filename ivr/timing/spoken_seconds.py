"""How long a sentence takes to speak: the caller's time, the measure of the call's rules.

The reference is espeak-ng (`-s 150`, `ivr/timing/espeak.py`), a stand-in for the phone voice that
anyone can run. Where it is not installed, `Estimate` predicts its seconds from what a sentence
is made of (syllables, digits read one by one, pauses), calibrated against it over every
prompt; `bench/README.md` states the error. Pure: no I/O."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from ivr.call.speech import Digits, Piece


class Timer(Protocol):
    def seconds(self, text: str, language: str) -> float:
        """Spoken seconds of `text` in `language` (a voice's code, e.g. de-DE)."""
        ...


def speakable(pieces: tuple[Piece, ...]) -> str:
    """A sentence as a speech engine should read it: phone numbers digit by digit, a short
    pause (comma) between their printed groups, as the phone voice reads the TwiML."""
    out = []
    for piece in pieces:
        if isinstance(piece, Digits):
            out.append(", ".join(" ".join(group) for group in piece.groups))
        else:
            out.append(piece)
    return "".join(out)


_VOWELS = {
    "de": re.compile(r"[aeiouyäöü]+", re.IGNORECASE),
    "en": re.compile(r"[aeiouy]+", re.IGNORECASE),
    "tr": re.compile(r"[aeıioöuüâî]+", re.IGNORECASE),
    "ru": re.compile(r"[аеёиоуыэюяaeiouy]+", re.IGNORECASE),
    "uk": re.compile(r"[аеєиіїоуюяaeiouy]+", re.IGNORECASE),
    "pl": re.compile(r"[aąeęioóuy]+", re.IGNORECASE),
    # Arabic writes few vowels: every letter counts (the fit scales it), and Latin names' vowels
    "ar": re.compile(r"[\u0621-\u064a]|[aeiouy]+", re.IGNORECASE),
}
_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")
_PAUSE = re.compile(r"[,;:–]")
_STOP = re.compile(r"[.!?](?=\s|$)")


@dataclass(frozen=True)
class Coefficients:
    """Seconds per feature, fitted by least squares against espeak-ng -s 150."""

    per_syllable: float
    per_digit: float
    per_pause: float
    per_stop: float
    base: float


# Fitted on 2026-11-26 over every prompt of prompts/de.yaml and prompts/en.yaml with their
# placeholders filled (bench/speech_calibration.py prints a fresh fit and the error of this one).
COEFFICIENTS = {
    "de": Coefficients(per_syllable=0.2028, per_digit=0.3331, per_pause=0.4289, per_stop=0.4000,
                       base=0.0340),
    "en": Coefficients(per_syllable=0.1889, per_digit=0.3126, per_pause=0.4273, per_stop=0.3179,
                       base=0.2183),
    # fitted on 2026-12-04 over every prompt of prompts/tr|ar|ru|uk|pl.yaml, the same way
    "tr": Coefficients(per_syllable=0.1923, per_digit=0.3179, per_pause=0.6104, per_stop=0.7265,
                       base=-0.1461),
    "ar": Coefficients(per_syllable=0.132, per_digit=0.4848, per_pause=0.5922, per_stop=0.5655,
                       base=-0.1746),
    "ru": Coefficients(per_syllable=0.1551, per_digit=0.301, per_pause=0.5322, per_stop=0.6269,
                       base=-0.1126),
    "uk": Coefficients(per_syllable=0.1482, per_digit=0.2528, per_pause=0.5535, per_stop=0.7267,
                       base=-0.3672),
    "pl": Coefficients(per_syllable=0.2269, per_digit=0.4287, per_pause=0.4089, per_stop=0.5564,
                       base=-0.1466),
}


def features(text: str, language: str) -> tuple[int, int, int, int]:
    """(syllables, digits, pauses, sentence stops): what makes a sentence long to speak."""
    vowels = _VOWELS.get(_primary(language), _VOWELS["en"])
    syllables = sum(max(1, len(vowels.findall(word))) for word in _WORD.findall(text))
    return syllables, len(_DIGIT.findall(text)), len(_PAUSE.findall(text)), len(_STOP.findall(text))


class Estimate:
    """espeak-ng's seconds predicted from a sentence's features; no engine needed."""

    def __init__(self, coefficients: dict[str, Coefficients] | None = None) -> None:
        self.coefficients = coefficients or COEFFICIENTS

    def seconds(self, text: str, language: str) -> float:
        c = self.coefficients[_primary(language)]
        syllables, digits, pauses, stops = features(text, language)
        return (c.base + c.per_syllable * syllables + c.per_digit * digits + c.per_pause * pauses
                + c.per_stop * stops)


def _primary(language: str) -> str:
    """de-DE -> de, arb -> ar; languages without their own coefficients are estimated as English."""
    primary = language.split("-")[0].lower()
    primary = {"arb": "ar"}.get(primary, primary)
    return primary if primary in COEFFICIENTS else "en"
