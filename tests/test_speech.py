"""Filling prompt templates: what the voice will read."""
from __future__ import annotations

import pytest

from ivr.config import bundled_dir
from ivr.directory import Interval
from ivr.loading import load_config
from ivr.speech import Digits, Phone, Text, WeeklyHours, fill

CONFIG = load_config(bundled_dir("data"), bundled_dir("prompts"))
MON_TO_SAT_2_TO_8 = WeeklyHours(((Interval(14 * 60, 20 * 60),),) * 6 + ((),))


@pytest.mark.parametrize("lang, expected", [
    ("en", "Hours: Monday to Saturday 2 p.m. to 8 p.m."),
    ("de", "Sprechzeiten: Montag bis Samstag 14 Uhr bis 20 Uhr."),
])
def test_a_value_ending_in_a_full_stop_is_not_followed_by_a_second(lang: str, expected: str) -> None:
    words = CONFIG.prompts[lang].words
    label = "Hours" if lang == "en" else "Sprechzeiten"
    assert fill(label + ": {hours}.", {"hours": MON_TO_SAT_2_TO_8}, words) == (expected,)


def test_phone_numbers_become_digit_groups_between_text() -> None:
    words = CONFIG.prompts["de"].words
    pieces = fill("{name}: {number}. Danke.", {"name": Text("Elterntelefon"),
                                               "number": Phone("0800 111 0 550")}, words)
    assert pieces == ("Elterntelefon: ", Digits(("0800", "111", "0", "550")), ". Danke.")
