"""The pure comparison behind `ivr twilio check/setup`: a number's voice settings against what the
service needs, the dialling permissions a hotline needs, and the changes setup would make."""
from __future__ import annotations

import dataclasses

import pytest

from ivr.twilio.number import (INFO, OK, WRONG, Change, CountryPermission, Expected,
                               FallbackAnswer, NumberSettings, changes, dialling_findings,
                               needs_special_permission, number_findings, shown_url)

EXPECTED = Expected.under("https://ngo.example.org/helpline/")
RIGHT = NumberSettings(
    sid="PN1", phone_number="+4930901820123",
    voice_url="https://ngo.example.org/helpline/voice", voice_method="POST",
    voice_fallback_url="https://ngo.example.org/helpline/fallback", voice_fallback_method="POST",
    voice_caller_id_lookup=False, voice_receive_mode="voice")
ANSWERS = FallbackAnswer("https://ngo.example.org/helpline/fallback", None)
GERMANY = CountryPermission("DE", "Germany", "+49", low_risk_enabled=True, special_enabled=False,
                            special_prefixes=("+49900", "+49137"))


def statuses(found: list) -> dict[str, str]:
    return {f.subject: f.status for f in found}


def test_expected_urls_sit_under_the_public_url_and_its_path() -> None:
    assert EXPECTED == Expected("https://ngo.example.org/helpline/voice",
                                "https://ngo.example.org/helpline/fallback")


def test_a_right_number_has_only_ok_and_info_lines_in_the_order_a_call_meets_them() -> None:
    assert [f.line() for f in number_findings(RIGHT, EXPECTED, ANSWERS)] == [
        "ok     voice URL: https://ngo.example.org/helpline/voice",
        "ok     voice method: POST",
        "ok     fallback URL: https://ngo.example.org/helpline/fallback",
        "ok     fallback method: POST",
        "ok     fallback answers: https://ngo.example.org/helpline/fallback answered 200 with TwiML",
        "ok     caller name lookup: off",
        "info   status callback: not set; not needed until counts are taken from it",
        "info   recording: not a setting of the number; the service's TwiML never records",
    ]


# (what is changed on the right number, the subject that turns WRONG, its text)
MISTAKES = [
    ({"voice_url": None}, "voice URL",
     "(not set); expected https://ngo.example.org/helpline/voice"),
    ({"voice_url": "https://ngo.example.org/voice"}, "voice URL",
     "https://ngo.example.org/voice; expected https://ngo.example.org/helpline/voice"),
    ({"voice_method": "GET"}, "voice method", "GET; expected POST"),
    ({"voice_fallback_url": None}, "fallback URL",
     "(not set); expected https://ngo.example.org/helpline/fallback"),
    ({"voice_fallback_method": "GET"}, "fallback method", "GET; expected POST"),
    ({"voice_caller_id_lookup": True}, "caller name lookup",
     "on: Twilio sends each caller's name to the webhooks; the service needs none"),
    ({"voice_application_sid": "AP9"}, "TwiML App",
     "AP9 takes the calls; the voice URL is not used"),
    ({"trunk_sid": "TK9"}, "SIP trunk", "TK9 takes the calls; the voice URL is not used"),
    ({"voice_receive_mode": "fax"}, "receive mode", 'fax; calls need "voice"'),
]


@pytest.mark.parametrize("change, subject, text", MISTAKES, ids=[m[1] + str(i) for i, m in enumerate(MISTAKES)])
def test_each_mistake_is_one_wrong_line_and_nothing_else_turns_wrong(change: dict, subject: str,
                                                                      text: str) -> None:
    found = number_findings(dataclasses.replace(RIGHT, **change), EXPECTED, ANSWERS)
    wrong = [f for f in found if f.status == WRONG]
    assert [(f.subject, f.text) for f in wrong] == [(subject, text)]


def test_a_method_in_lower_case_is_still_post() -> None:
    found = number_findings(dataclasses.replace(RIGHT, voice_method="post"), EXPECTED, ANSWERS)
    assert statuses(found)["voice method"] == OK


def test_a_fallback_that_does_not_answer_twiml_is_wrong_with_its_reason() -> None:
    answer = FallbackAnswer("https://ngo.example.org/helpline/fallback", "answered HTTP 403; expected 200 with TwiML")
    found = {f.subject: f for f in number_findings(RIGHT, EXPECTED, answer)}
    assert found["fallback answers"].line() == (
        "WRONG  fallback answers: https://ngo.example.org/helpline/fallback answered HTTP 403; "
        "expected 200 with TwiML")


def test_a_status_callback_is_information_and_its_password_is_masked() -> None:
    number = dataclasses.replace(RIGHT, status_callback="https://ops:s3cret@stats.example.org/cb",
                                 status_callback_method="POST")
    found = {f.subject: f for f in number_findings(number, EXPECTED, ANSWERS)}
    assert found["status callback"].status == INFO
    assert found["status callback"].text == ("https://ops:***@stats.example.org/cb (POST); "
                                             "the service does not use it")


@pytest.mark.parametrize("url, shown", [
    (None, "(not set)"),
    ("https://a.example.org/voice", "https://a.example.org/voice"),
    ("https://u:pw@a.example.org/voice", "https://u:***@a.example.org/voice"),
    ("https://u:pw@a.example.org:8443/v?x=1", "https://u:***@a.example.org:8443/v?x=1"),
])
def test_shown_url_never_shows_a_password(url: str | None, shown: str) -> None:
    assert shown_url(url) == shown


@pytest.mark.parametrize("phone, special", [
    ("+49116111", True),       # the children's line: a harmonised 116 number
    ("+49116006", True),
    ("+49900123456", True),    # a listed high-risk special prefix
    ("+498001110550", False),  # toll-free
    ("+493025208838", False),  # Berlin
    ("+4911611", True),
])
def test_special_numbers_are_the_harmonised_116_and_the_listed_prefixes(phone: str, special: bool) -> None:
    assert needs_special_permission(phone, GERMANY) is special


def test_a_hotline_is_allowed_or_not_by_the_permission_its_number_needs() -> None:
    hotlines = [("kids-line", "+49116111"), ("hateaid", "+493025208838"), ("elsewhere", "+4312345678")]
    permissions = {"+49116111": GERMANY, "+493025208838": GERMANY,
                   "+4312345678": "reading the dialling permissions for +43: the credentials may "
                                  "not do this (HTTP 403)"}
    assert [f.line() for f in dialling_findings(hotlines, permissions)] == [
        "WRONG  dialling kids-line (+49116111): the account may not dial high-risk special numbers "
        "of Germany (DE); enable them under Voice > Settings > Geo Permissions",
        "ok     dialling hateaid (+493025208838): allowed (low-risk numbers of Germany (DE))",
        "info   dialling elsewhere (+4312345678): cannot tell: reading the dialling permissions "
        "for +43: the credentials may not do this (HTTP 403)",
    ]


def test_low_risk_numbers_blocked_is_wrong_and_an_unknown_flag_is_information() -> None:
    blocked = dataclasses.replace(GERMANY, low_risk_enabled=False, special_enabled=None)
    found = dialling_findings([("hateaid", "+493025208838"), ("kids-line", "+49116111")],
                              {"+493025208838": blocked, "+49116111": blocked})
    assert [(f.status, f.text) for f in found] == [
        (WRONG, "the account may not dial low-risk numbers of Germany (DE); enable them under "
                "Voice > Settings > Geo Permissions"),
        (INFO, "cannot tell: the API does not say whether high-risk special numbers of Germany "
               "(DE) may be dialled"),
    ]


def test_setup_changes_nothing_on_a_right_number() -> None:
    assert changes(RIGHT, EXPECTED) == []
    assert changes(dataclasses.replace(RIGHT, voice_method="post"), EXPECTED) == []


def test_setup_changes_every_wrong_setting_and_only_those() -> None:
    wrong = NumberSettings(sid="PN1", phone_number="+4930901820123", voice_url=None,
                           voice_method="GET", voice_fallback_url="https://old.example.org/fb",
                           voice_fallback_method="POST", voice_application_sid="AP9",
                           voice_caller_id_lookup=True, voice_receive_mode="voice",
                           status_callback="https://stats.example.org/cb")
    assert changes(wrong, EXPECTED) == [
        Change("voice_application_sid", "TwiML App", "AP9", ""),
        Change("voice_url", "voice URL", None, "https://ngo.example.org/helpline/voice"),
        Change("voice_method", "voice method", "GET", "POST"),
        Change("voice_fallback_url", "fallback URL", "https://old.example.org/fb",
               "https://ngo.example.org/helpline/fallback"),
        Change("voice_caller_id_lookup", "caller name lookup", True, False),
    ]
    assert [c.line() for c in changes(wrong, EXPECTED)][:3] == [
        "TwiML App: AP9 -> (not set)",
        "voice URL: (not set) -> https://ngo.example.org/helpline/voice",
        "voice method: GET -> POST",
    ]


def test_setup_moves_a_number_off_a_trunk_and_off_fax() -> None:
    number = dataclasses.replace(RIGHT, trunk_sid="TK9", voice_receive_mode="fax")
    assert [(c.param, c.new) for c in changes(number, EXPECTED)] == [
        ("voice_receive_mode", "voice"), ("trunk_sid", "")]
