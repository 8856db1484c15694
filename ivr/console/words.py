"""The console's words in each language, from words.yaml beside this file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

LANGUAGES = ("de", "en")
DEFAULT = "de"


@lru_cache(maxsize=1)
def all_words() -> Mapping[str, Mapping[str, str]]:
    with open(Path(__file__).with_name("words.yaml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def words(lang: str) -> Mapping[str, str]:
    return all_words()[lang if lang in LANGUAGES else DEFAULT]
