"""Polite and familiar address: a caller under 18 hears the familiar form (du, sen, ты, ти, ty),
everyone else the polite one (Sie, siz, вы, ви, Pan/Pani). Arabic has no such split.

`ivr check` warns with these rules, so that an operator who adds a "Sie" sentence without its
`young:` version learns it before a child hears it; the tests hold the bundled files to them.
The patterns are deliberately plain word lists: a warning names the sentence, a person decides.
"""
from __future__ import annotations

import re
from typing import Mapping

from ivr.call.prompts import Prompts

POLITE: Mapping[str, re.Pattern[str]] = {
    "de": re.compile(r"\b(Sie|Ihnen|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihres)\b"),
    "tr": re.compile(r"\b(siz\w*|\w+(nız|niz|nuz|nüz))\b", re.I),
    "ru": re.compile(r"\b(вы|вас|вам|вами|ваш\w*|\w+(ите|йте))\b", re.I),
    "uk": re.compile(r"\b(ви|вас|вам|вами|ваш\w*|(?!навіть\b)\w+(іть|йте))\b", re.I),  # not навіть, "even"
    "pl": re.compile(r"\b(proszę|pan|pani|państwo)\b", re.I),
}
FAMILIAR: Mapping[str, re.Pattern[str]] = {
    "de": re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|drück)\b", re.I),
    "tr": re.compile(r"\b(sen|seni|sana|senin|seninle|sende)\b", re.I),
    "ru": re.compile(r"\b(ты|тебя|тебе|тобой|твой|твоя|твоё|твои|твоих)\b", re.I),
    "uk": re.compile(r"\b(ти|тебе|тобі|тобою|твій|твоя|твоє|твої|твоїх)\b", re.I),
    "pl": re.compile(r"\b(ty|ciebie|cię|tobie|twój|twoja|twoje|twoich|możesz|musisz)\b", re.I),
}
TO_THE_YOUNG = frozenset({"guide.young", "guide.young.help"})  # topic 5 speaks to young people themselves
NO_CALLER = frozenset({"error.apology", "error.line"})  # the static fallback knows nothing of the caller


def address_warnings(prompts: Prompts) -> list[str]:
    """Every sentence of one language that would reach a caller in the wrong form of address."""
    polite, familiar = POLITE.get(prompts.lang), FAMILIAR.get(prompts.lang)
    if polite is None or familiar is None:
        return []
    found = []
    for key in sorted(prompts.texts):
        if key not in NO_CALLER and (hit := polite.search(prompts.text(key, young=True))):
            where = f"young.{key}" if key in prompts.young else f"prompts.{key}"
            found.append(f"prompts/{prompts.lang}.yaml: {where}: a caller under 18 would hear "
                         f"{hit.group(0)!r}; expected the familiar form (add the sentence under young:)")
        if key not in TO_THE_YOUNG and (hit := familiar.search(prompts.texts[key])):
            found.append(f"prompts/{prompts.lang}.yaml: prompts.{key}: everyone else would hear "
                         f"{hit.group(0)!r}; expected the polite form")
    return found
