"""Webhooks that a Twilio Webhook Rule signs with a SharedKey instead of the auth token.

Such a request carries X-Twilio-Webhooks-Signature-Settings; it is checked against
TWILIO_WEBHOOK_SHARED_KEY with the algorithm the header names. Requests without the header are
still checked against the auth token. Anything else is refused with 403, never a 5xx."""
from __future__ import annotations

import logging

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator

from ivr.config.settings import Settings, bundled_dir
from ivr.config.loading import load_config
from ivr.serve.web import create_app

CONFIG = load_config(bundled_dir("data"), bundled_dir("prompts"))
TOKEN, SHARED = "auth-token-for-tests", "shared-key-secret-for-tests"
FORM = {"CallSid": "CA1", "To": "+4930123456789", "From": "+4915100000000"}
URL = "http://localhost/voice"
RULE_256 = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"}


def app(shared_key: str | None = SHARED) -> Flask:
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_WEBHOOK_SHARED_KEY": shared_key or "",
           "IVR_NOW": "2026-11-24T15:30"}
    return create_app(CONFIG, Settings.from_env(env))


def post(flask_app: Flask, secret: str, algorithm: str | None, headers: dict[str, str]) -> int:
    signature = RequestValidator(secret).compute_signature(URL, FORM, algorithm)
    response = flask_app.test_client().post("/voice", data=FORM,
                                            headers={"X-Twilio-Signature": signature, **headers})
    return response.status_code


@pytest.mark.parametrize("secret, algorithm, headers, status", [
    (SHARED, "HMAC_SHA256", RULE_256, 200),
    (SHARED, "HMAC_SHA1", {"X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_SHA1"}, 200),
    (TOKEN, None, {}, 200),  # no Webhook Rule: the auth token, as always
    (TOKEN, "HMAC_SHA256", RULE_256, 403),  # a rule's header, but signed with the token
    (SHARED, None, {}, 403),  # the shared key without the header that says so
    (SHARED, "HMAC_SHA1", RULE_256, 403),  # the header names SHA-256, the signature is SHA-1
    (SHARED, "HMAC_SHA256", {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA512"}, 403),
], ids=["sha256-rule", "sha1-rule", "token", "rule-header-token-signed", "shared-key-no-header",
        "wrong-hash", "unknown-algorithm"])
def test_who_signed_decides_which_secret_checks_it(secret: str, algorithm: str | None,
                                                   headers: dict[str, str], status: int) -> None:
    assert post(app(), secret, algorithm, headers) == status


def test_a_rule_signed_request_without_a_configured_shared_key_is_refused_and_says_why(
        caplog: pytest.LogCaptureFixture) -> None:
    flask_app = app(shared_key=None)
    caplog.set_level(logging.WARNING, logger="ivr")
    caplog.clear()  # building the app warns that IVR_NOW pins the clock
    assert post(flask_app, SHARED, "HMAC_SHA256", RULE_256) == 403
    assert [r.getMessage() for r in caplog.records if r.name == "ivr.web"] == [
        "refused a request to /voice signed by a Twilio SharedKey (no secret): "
        "TWILIO_WEBHOOK_SHARED_KEY is not set"]
