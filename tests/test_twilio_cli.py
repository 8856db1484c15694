"""`ivr twilio check/setup` through the twilio library against a stand-in of Twilio's REST API on
loopback (tests/twilio_standin.py), never the real Twilio. The fallback URL is the real service,
served by a thread; broken fallbacks are pages of the stand-in.

Every failure must be one line on stderr and exit 1, without a traceback, and no output may
carry a credential."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner, Result
from werkzeug.serving import make_server

from ivr.cli.main import main
from ivr.config.settings import Settings, bundled_dir
from ivr.config.loading import load_config
from ivr.twilio.api import ApiAccess, ApiError, NumberApi, ask_fallback, rebased
from ivr.serve.web import create_app
from twilio_standin import (ACCOUNT_SID, API_KEY, API_SECRET, AUTH_TOKEN, NUMBER_SID, StandIn,
                            germany, number_resource)

SERVICE = "+4930901820123"
HOTLINES = ["kids-line (+49116111)", "parents-line (+498001110550)", "hateaid (+493025208838)",
            "abuse-helpline (+498002255530)"]
SECRETS = (AUTH_TOKEN, API_SECRET)
# Nothing from the developer's shell may leak in: each run names its whole environment.
CLEAN_ENV: dict[str, str | None] = {
    name: None for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY",
                            "TWILIO_API_SECRET", "TWILIO_EDGE", "TWILIO_REGION", "IVR_PUBLIC_URL",
                            "IVR_TWILIO_API_BASE", "IVR_DATA_DIR", "IVR_PROMPTS_DIR", "IVR_NOW")}


@pytest.fixture
def standin() -> Iterator[StandIn]:
    running = StandIn().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    """The real webhooks on a free loopback port, checking signatures with the account's token;
    its URL is the public URL the number should point at."""
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    config = load_config(bundled_dir("data"), bundled_dir("prompts"))
    server = make_server("127.0.0.1", 0, create_app(config, settings), threaded=True)
    public = f"http://127.0.0.1:{server.server_port}"
    server.app.extensions["ivr.public_url"] = public
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield public
    server.shutdown()


def ivr(standin: StandIn, public: str, *args: str, **env: str) -> Result:
    base = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IVR_PUBLIC_URL": public, "IVR_TWILIO_API_BASE": standin.url}
    merged = {**CLEAN_ENV, **base, **env}
    result = CliRunner().invoke(main, ["twilio", *args], env=merged, catch_exceptions=False)
    # No credential, not even the account's or key's SID, reaches the output.
    credentials = [merged[name] for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                                             "TWILIO_API_KEY", "TWILIO_API_SECRET") if merged[name]]
    for secret in [*SECRETS, *credentials]:
        assert secret not in result.output + result.stderr
    return result


def right_number(public: str, **fields: object) -> dict:
    return number_resource(SERVICE, voice_url=f"{public}/voice", voice_method="POST",
                           voice_fallback_url=f"{public}/fallback", voice_fallback_method="POST",
                           **fields)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- check -------------------------------------------------------------------------------------

def test_check_of_a_right_number_reports_every_line_and_exits_0(standin: StandIn, service: str) -> None:
    standin.numbers.append(right_number(service))
    result = ivr(standin, service, "check", "--number", SERVICE)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.splitlines() == [
        f"ok     voice URL: {service}/voice",
        "ok     voice method: POST",
        f"ok     fallback URL: {service}/fallback",
        "ok     fallback method: POST",
        f"ok     fallback answers: {service}/fallback answered 200 with TwiML",
        "ok     caller name lookup: off",
        "info   status callback: not set; not needed until counts are taken from it",
        "info   recording: not a setting of the number; the service's TwiML never records",
        f"ok     dialling {HOTLINES[0]}: allowed (high-risk special numbers of Germany (DE))",
        *(f"ok     dialling {h}: allowed (low-risk numbers of Germany (DE))" for h in HOTLINES[1:]),
        f"{SERVICE}: all right",
    ]
    # read only: no update, and the number looked up by itself
    assert all(method == "GET" for method, _ in standin.api_calls())
    lookups = [a for a in standin.asked if a.path.endswith("/IncomingPhoneNumbers.json")]
    assert [a.query["PhoneNumber"] for a in lookups] == [SERVICE]
    assert {a.user for a in lookups} == {ACCOUNT_SID}


def test_check_of_a_misconfigured_number_names_each_mistake_and_exits_1(standin: StandIn,
                                                                        service: str) -> None:
    standin.numbers.append(number_resource(
        SERVICE, voice_url=f"{service}/voice", voice_method="GET", voice_fallback_url="",
        voice_caller_id_lookup=True, status_callback="https://stats.example.org/cb"))
    standin.countries = [germany(low_risk=True, special=False)]
    result = ivr(standin, service, "check", "--number", SERVICE)
    assert result.exit_code == 1
    assert [line for line in result.stdout.splitlines() if not line.startswith("ok ")] == [
        "WRONG  voice method: GET; expected POST",
        f"WRONG  fallback URL: (not set); expected {service}/fallback",
        "WRONG  caller name lookup: on: Twilio sends each caller's name to the webhooks; "
        "the service needs none",
        "info   status callback: https://stats.example.org/cb (POST); the service does not use it",
        "info   recording: not a setting of the number; the service's TwiML never records",
        f"WRONG  dialling {HOTLINES[0]}: the account may not dial high-risk special numbers of "
        "Germany (DE); enable them under Voice > Settings > Geo Permissions",
        f"{SERVICE}: 4 to fix",
    ]
    # The fallback it should have was asked, and answered: setup would make it work.
    assert f"ok     fallback answers: {service}/fallback answered 200 with TwiML" in result.stdout


def test_check_finds_the_116_number_special_by_the_prefixes_twilio_lists_over_several_pages(
        standin: StandIn, service: str) -> None:
    """The prefix list is paged with absolute voice.twilio.com URLs, moved to the stand-in too."""
    standin.numbers.append(right_number(service))
    standin.countries = [germany(low_risk=True, special=False)]
    standin.special_prefixes = {"DE": ["+49137", "+49900", "+49800111"]}
    standin.prefix_page_size = 2
    result = ivr(standin, service, "check", "--number", SERVICE)
    assert result.exit_code == 1
    wrong = [line for line in result.stdout.splitlines() if line.startswith("WRONG")]
    assert [line.split(":")[0] for line in wrong] == [f"WRONG  dialling {HOTLINES[0]}",
                                                      f"WRONG  dialling {HOTLINES[1]}"]
    pages = [a.query.get("Page") for a in standin.asked if a.path.endswith("HighRiskSpecialPrefixes")]
    assert pages == [None, "1"]


def test_permissions_the_credentials_may_not_read_are_information_not_failure(
        standin: StandIn, service: str) -> None:
    standin.numbers.append(right_number(service))
    standin.forced = {"/v1/DialingPermissions": (403, {"code": 20403, "message": "Forbidden",
                                                       "status": 403})}
    result = ivr(standin, service, "check", "--number", SERVICE)
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if "dialling" in line][0] == (
        f"info   dialling {HOTLINES[0]}: cannot tell: reading the dialling permissions for "
        "+49116111: the credentials may not do this (HTTP 403, error 20403: Forbidden)")


def test_check_with_an_api_key_authenticates_as_the_key_in_the_account(standin: StandIn,
                                                                        service: str) -> None:
    standin.numbers.append(right_number(service))
    result = ivr(standin, service, "check", "--number", SERVICE, TWILIO_API_KEY=API_KEY,
                 TWILIO_API_SECRET=API_SECRET)
    assert result.exit_code == 0, result.output
    assert {a.user for a in standin.asked if a.path.startswith(("/2010", "/v1"))} == {API_KEY}


# -- setup -------------------------------------------------------------------------------------

def test_setup_shows_the_changes_and_makes_none_without_apply(standin: StandIn, service: str) -> None:
    standin.numbers.append(number_resource(SERVICE, voice_url="https://old.example.org/ivr",
                                           voice_method="GET", voice_application_sid="AP" + "9" * 32))
    result = ivr(standin, service, "setup", "--number", SERVICE)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"  TwiML App: AP{'9' * 32} -> (not set)",
        f"  voice URL: https://old.example.org/ivr -> {service}/voice",
        "  voice method: GET -> POST",
        f"  fallback URL: (not set) -> {service}/fallback",
        f"{SERVICE}: 4 changes shown, none made; run again with --apply to make them",
    ]
    assert [m for m, _ in standin.api_calls()] == ["GET"]
    assert standin.numbers[0]["voice_method"] == "GET"


def test_setup_with_apply_makes_the_changes_and_then_check_passes(standin: StandIn, service: str) -> None:
    standin.numbers.append(number_resource(SERVICE, voice_method="GET", voice_caller_id_lookup=True))
    result = ivr(standin, service, "setup", "--number", SERVICE, "--apply")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"{SERVICE}: 4 changes made"
    updates = [a for a in standin.asked if a.method == "POST"]
    assert [(a.path, a.form) for a in updates] == [(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{NUMBER_SID}.json",
        {"VoiceUrl": f"{service}/voice", "VoiceMethod": "POST",
         "VoiceFallbackUrl": f"{service}/fallback", "VoiceCallerIdLookup": "false"})]
    assert ivr(standin, service, "check", "--number", SERVICE).exit_code == 0
    again = ivr(standin, service, "setup", "--number", SERVICE, "--apply")
    assert again.stdout.splitlines() == [f"{SERVICE}: nothing to change"]
    assert len([a for a in standin.asked if a.method == "POST"]) == 1


def test_setup_says_so_when_twilio_did_not_take_a_change(standin: StandIn, service: str) -> None:
    standin.numbers.append(number_resource(SERVICE, voice_method="GET"))
    standin.ignore_updates = True
    result = ivr(standin, service, "setup", "--number", SERVICE, "--apply")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"{SERVICE}: Twilio did not take voice URL, voice method, "
                                     "fallback URL")


# -- failures: one line, exit 1, no traceback, no secret -----------------------------------------

FAILURES = [
    ("wrong token", {"TWILIO_AUTH_TOKEN": "not-the-token"}, {},
     f"reading {SERVICE}: Twilio refused the credentials (HTTP 401, error 20003: Authenticate); set "
     "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and "
     "TWILIO_API_SECRET"),
    ("another account", {"TWILIO_ACCOUNT_SID": "AC" + "5" * 32}, {"AC" + "5" * 32: AUTH_TOKEN},
     f"reading {SERVICE}: not found (HTTP 404, error 20404: The requested resource /2010-04-01/"
     "Accounts/AC.../IncomingPhoneNumbers.json was not found); check --number and TWILIO_ACCOUNT_SID"),
    ("server error", {}, "500",
     f"reading {SERVICE}: the Twilio API answered HTTP 500, error 20500: Internal Server Error"),
]


@pytest.mark.parametrize("env, credentials, message", [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_api_errors_are_one_clear_line(standin: StandIn, service: str, env: dict, credentials,
                                       message: str) -> None:
    standin.numbers.append(right_number(service))
    if credentials == "500":
        standin.forced = {"/2010-04-01": (500, {"code": 20500, "message": "Internal Server Error",
                                                "status": 500})}
    else:
        standin.credentials.update(credentials)
    for command in ("check", "setup"):
        result = ivr(standin, service, command, "--number", SERVICE, **env)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")


def test_a_number_not_in_the_account(standin: StandIn, service: str) -> None:
    result = ivr(standin, service, "check", "--number", "+4930111111111")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "+4930111111111 is not a number of this Twilio account (check --number and "
               "TWILIO_ACCOUNT_SID)\n")


def test_an_api_that_does_not_answer_in_time(standin: StandIn, service: str) -> None:
    standin.numbers.append(right_number(service))
    standin.delay = 5
    result = ivr(standin, service, "check", "--number", SERVICE, "--timeout", "0.3")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", f"reading {SERVICE}: no answer from the Twilio API at {standin.url} within 0.3 s\n")


def test_an_api_that_refuses_the_connection(service: str) -> None:
    gone = StandIn(url=f"http://127.0.0.1:{free_port()}")
    result = ivr(gone, service, "setup", "--number", SERVICE)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", f"reading {SERVICE}: cannot connect to the Twilio API at {gone.url}\n")


@pytest.mark.parametrize("env, message", [
    ({"TWILIO_ACCOUNT_SID": ""}, "TWILIO_ACCOUNT_SID is not set: set TWILIO_ACCOUNT_SID and "
     "TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET"),
    ({"TWILIO_AUTH_TOKEN": ""}, "no credentials for the Twilio API: set TWILIO_ACCOUNT_SID and "
     "TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET"),
    ({"TWILIO_API_KEY": API_KEY}, "TWILIO_API_KEY and TWILIO_API_SECRET go together: set both or "
     "neither"),
    ({"IVR_PUBLIC_URL": ""}, "IVR_PUBLIC_URL='': expected the service's public base URL, e.g. "
     "https://helpline.example.org"),
    ({"IVR_PUBLIC_URL": "helpline.example.org"}, "IVR_PUBLIC_URL='helpline.example.org': expected "
     "the service's public base URL, e.g. https://helpline.example.org"),
    ({"IVR_TWILIO_API_BASE": "http://api.example.org"}, "IVR_TWILIO_API_BASE='http://api.example.org'"
     ": expected https://HOST, or http:// to a loopback address (a local stand-in)"),
], ids=["no sid", "no secret", "half a key", "no public url", "public url without scheme",
        "clear-text api base"])
def test_missing_or_unsafe_settings_stop_before_any_request(standin: StandIn, service: str,
                                                            env: dict, message: str) -> None:
    result = ivr(standin, service, "check", "--number", SERVICE, **env)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")
    assert standin.asked == []


def test_the_installed_command_prints_no_traceback(service: str) -> None:
    """The whole process, as an operator runs it: one line on stderr, exit 1."""
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, IVR_PUBLIC_URL=service,
               IVR_TWILIO_API_BASE=f"http://127.0.0.1:{free_port()}")
    ivr_command = Path(sys.executable).parent / "ivr"
    done = subprocess.run([str(ivr_command), "twilio", "check", "--number", SERVICE], env=env,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [f"reading {SERVICE}: cannot connect to the Twilio API at "
                                        f"{env['IVR_TWILIO_API_BASE']}"]


# -- the fallback probe and the rebased client -------------------------------------------------

TWIML = b'<?xml version="1.0"?><Response><Say language="de-DE">Hallo</Say></Response>'
PROBES = [
    ("twiml", (200, "text/xml", TWIML), None),
    ("server error", (500, "text/plain", b"oops"), "answered HTTP 500; expected 200 with TwiML"),
    ("html", (200, "text/html", b"<html><body>maintenance</body></html>"),
     "answered 200 with <html>; expected a TwiML <Response>"),
    ("not xml", (200, "text/plain", b"ok"), "answered 200, but not XML; expected TwiML"),
    ("empty response", (200, "text/xml", b"<Response/>"),
     "answered 200 with an empty <Response>; expected TwiML that says something"),
]


@pytest.mark.parametrize("page, problem", [p[1:] for p in PROBES], ids=[p[0] for p in PROBES])
def test_the_fallback_must_answer_200_with_twiml(standin: StandIn, page, problem) -> None:
    standin.pages["/fallback"] = page
    answer = ask_fallback(f"{standin.url}/fallback", "POST", None, timeout=2)
    assert answer.problem == problem
    asked = standin.asked[-1]
    assert (asked.method, asked.form) == ("POST", {"ErrorCode": "11200"})


def test_the_fallback_is_asked_signed_as_twilio_would(service: str) -> None:
    assert ask_fallback(f"{service}/fallback", "POST", AUTH_TOKEN).problem is None
    assert ask_fallback(f"{service}/fallback", "GET", AUTH_TOKEN).problem is None
    # /fallback is public, static information: it answers whatever signs the request, so a wrong
    # token or public URL can never silence both the webhook and its fallback
    assert ask_fallback(f"{service}/fallback", "POST", "another-token").problem is None


def test_a_fallback_that_cannot_be_reached_or_is_too_slow() -> None:
    assert ask_fallback(f"http://127.0.0.1:{free_port()}/fallback", "POST", None).problem == (
        "cannot be reached (connection refused)")
    # .invalid never resolves (RFC 2606)
    assert ask_fallback("https://helpline.invalid/fallback", "POST", None).problem == (
        "cannot be reached (its host name does not resolve)")
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/fallback"
        assert ask_fallback(url, "POST", None, timeout=0.3).problem == "did not answer within 0.3 s"


@pytest.mark.parametrize("url, moved", [
    ("https://api.twilio.com/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json",
     "http://127.0.0.1:9/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json"),
    ("https://voice.twilio.com/v1/DialingPermissions/Countries?PageSize=2&Page=1",
     "http://127.0.0.1:9/v1/DialingPermissions/Countries?PageSize=2&Page=1"),
    ("https://api.dublin.ie1.twilio.com/2010-04-01/x", "http://127.0.0.1:9/2010-04-01/x"),
    ("https://example.org/twilio.com/x", "https://example.org/twilio.com/x"),
    ("https://nottwilio.com/x", "https://nottwilio.com/x"),
])
def test_only_twilio_hosts_are_moved_to_the_api_base(url: str, moved: str) -> None:
    assert rebased(url, "http://127.0.0.1:9") == moved


def test_the_client_layer_reads_the_number_as_plain_settings(standin: StandIn, service: str) -> None:
    standin.numbers.append(right_number(service, trunk_sid="TK1", voice_caller_id_lookup=True))
    api = NumberApi(ApiAccess.from_env({"TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                                        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                        "IVR_TWILIO_API_BASE": standin.url + "/"}))
    number = api.number(SERVICE)
    assert (number.sid, number.voice_url, number.trunk_sid, number.voice_caller_id_lookup,
            number.voice_application_sid) == (NUMBER_SID, f"{service}/voice", "TK1", True, None)
    with pytest.raises(ApiError, match=r"^\+4930999 is not a number of this Twilio account"):
        api.number("+4930999")
