"""Spoken seconds measured with espeak-ng, the reference for the caller's time.

`espeak-ng -v <voice> -s 150 -w out.wav "<text>"` and the length of the WAV file (what `soxi -D`
prints). Debian's package `espeak-ng`; `make bench` installs it where it is missing."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

WORDS_PER_MINUTE = 150


def available() -> bool:
    return shutil.which("espeak-ng") is not None


# Twilio's codes that espeak-ng names otherwise: Polly's Modern Standard Arabic is "arb"
_ESPEAK_NAMES = {"arb": "ar"}


def espeak_voice(language: str) -> str:
    """The espeak-ng voice for a Say's language: de-DE -> de, en-GB -> en-gb, arb -> ar."""
    code = language.lower()
    primary = code if code in ("en-gb", "en-us") else code.split("-")[0]
    return _ESPEAK_NAMES.get(primary, primary)


class Espeak:
    """Measures each distinct sentence once per process."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], float] = {}
        self._folder = tempfile.TemporaryDirectory(prefix="ivr-espeak-")

    def seconds(self, text: str, language: str) -> float:
        key = (text, language)
        if key not in self._cache:
            self._cache[key] = self._measure(text, espeak_voice(language))
        return self._cache[key]

    def _measure(self, text: str, voice: str) -> float:
        out = Path(self._folder.name) / "say.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(out), "--", text],
                       check=True, capture_output=True, timeout=60)
        with wave.open(str(out), "rb") as sound:
            return sound.getnframes() / sound.getframerate()
