"""The memoised whole answer: the same TwiML as deciding afresh, and never stale across a minute."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ivr.call.answers import DIALED, MENU, VOICE, Answers, Webhook, decide, query_params
from ivr.config.settings import bundled_dir
from ivr.config.loading import load_config

CONFIG = load_config(bundled_dir("data"), bundled_dir("prompts"))
BERLIN = ZoneInfo("Europe/Berlin")
SERVICE = "+4930123456789"


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


HOOKS = [
    Webhook(VOICE, ""),
    Webhook(MENU, "n=main&l=de", "0", "", SERVICE),
    Webhook(MENU, "n=main&l=en", "3", "", SERVICE),
    Webhook(MENU, "n=main&l=de", "", "", SERVICE),  # silence: a person at once
    Webhook(MENU, "n=guidance&l=de&a=young_person", "", "", SERVICE),  # silence: played again
    Webhook(MENU, "n=main&l=de", "0", "", None),  # no usable callerId: numbers, no Dial
    Webhook(DIALED, "n=main&l=de&a=adult&t=hateaid", "", "busy", SERVICE, 0),
    Webhook(DIALED, "n=main&l=de&a=adult&t=hateaid", "", "completed", SERVICE, 600),  # a talk
    Webhook(DIALED, "n=main&l=de&a=adult&t=hateaid", "", "completed", SERVICE, 7),  # maybe a voicemail
    Webhook(DIALED, "n=main&l=de&a=adult&t=hateaid", "", "completed", SERVICE, None),
]


@pytest.mark.parametrize("hook", HOOKS,
                         ids=lambda h: f"{h.name}-{h.query}-{h.digits}-{h.dial_status}-{h.dial_seconds}")
@pytest.mark.parametrize("now", [berlin(2026, 11, 24, 15, 30, 42), berlin(2026, 11, 28, 22, 0, 5),
                                 berlin(2026, 3, 30, 9, 30, 59)])
def test_a_memoised_answer_is_the_answer_decided_afresh(hook: Webhook, now: dt.datetime) -> None:
    answers = Answers(CONFIG)
    fresh = answers.renderer.render(decide(CONFIG, hook, now), hook.service_number)
    assert answers.twiml(hook, now) == fresh
    assert answers.twiml(hook, now) == fresh  # the second time from the cache


def test_the_minute_a_line_opens_is_not_served_from_the_minute_before() -> None:
    """Monday 2026-11-23: the sexual-abuse helpline and the parents' line open at 09:00."""
    answers = Answers(CONFIG)
    hook = Webhook(MENU, "n=main&l=de", "0", "", SERVICE)
    before = answers.twiml(hook, berlin(2026, 11, 23, 8, 59, 59))
    after = answers.twiml(hook, berlin(2026, 11, 23, 9, 0, 0))
    assert "<Dial" not in before and "<Dial" in after
    assert answers.twiml(hook, berlin(2026, 11, 23, 8, 59, 0)) == before


def test_query_params_take_the_first_value_and_refuse_overlong_queries() -> None:
    assert query_params("n=who&l=en&n=main&a=") == {"n": "who", "l": "en", "a": ""}
    assert query_params("n=who&t=" + "x" * 3000) == {}
    assert query_params("n=%E2%82%AC&l=d%FF") == {"n": "€", "l": "d\ufffd"}


def test_a_get_webhook_keeps_only_the_call_state_in_the_answer_cache() -> None:
    """Twilio puts its fields, From among them, in a GET's query string: the memoised answer's
    key must hold the state alone, never the caller's number."""
    from ivr.config.settings import Settings
    from ivr.serve.web import create_app

    app = create_app(CONFIG, Settings.from_env({"IVR_NOW": "2026-11-24T15:30"}))
    answers = app.extensions["ivr.service"].answers
    keys: list[Webhook] = []
    memoised = answers._twiml
    answers._twiml = lambda hook, minute, closed: keys.append(hook) or memoised(hook, minute, closed)
    query = "n=main&l=de&From=%2B4915100000000&Caller=%2B4915100000000&To=%2B4930123456789&Digits=3"
    response = app.test_client().get("/menu?" + query)
    assert response.status_code == 200 and "<Dial" in response.get_data(as_text=True)
    assert keys == [Webhook(MENU, "n=main&l=de", "3", "", "+4930123456789", None)]


def test_the_length_of_a_dial_is_part_of_the_answers_key() -> None:
    """A short and a long "completed" get different answers: the memo must not mix them up."""
    answers = Answers(CONFIG)
    now = berlin(2026, 11, 24, 15, 30)
    short = answers.twiml(Webhook(DIALED, "n=main&l=de&a=adult&t=hateaid", "", "completed", SERVICE, 5), now)
    long = answers.twiml(Webhook(DIALED, "n=main&l=de&a=adult&t=hateaid", "", "completed", SERVICE, 600), now)
    assert "<Gather" in short and "<Hangup" not in short
    assert "<Hangup" in long and "<Gather" not in long
