"""The webhooks' WSGI fast path (ivr/serve/fast_webhooks.py) answers exactly what the Flask views
answer, and hands every unusual request to Flask untouched."""
from __future__ import annotations

import logging
from typing import Any, Callable
from urllib.parse import urlencode

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from ivr.serve.fast_webhooks import FastWebhooks
from ivr.serve.signature import compute_signature
from ivr.serve.webhooks import MAX_BODY
from twiml_helpers import BASE, SERVICE_NUMBER, TOKEN, make_app, sign, twilio_form

TUE = "2026-11-24T16:30"
FORM_TYPE = "application/x-www-form-urlencoded"
DIALED = "/dialed?n=who&l=de&a=adult&t=hateaid"


def _environ(path: str, form: dict[str, str] | None = None, *, method: str = "POST",
             signed: bool = True, headers: dict[str, str] | None = None) -> dict[str, Any]:
    body = urlencode(form or {})
    all_headers = dict(headers or {})
    if signed:
        all_headers["X-Twilio-Signature"] = sign(BASE + path, form or {})
    builder = EnvironBuilder(path=path, method=method,
                             data=body if method == "POST" else None,
                             content_type=FORM_TYPE if method == "POST" else None, headers=all_headers)
    return builder.get_environ()


def _run(app: Callable, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    environ = dict(environ)
    stream = environ["wsgi.input"]
    position = stream.tell()
    body, status, headers = run_wsgi_app(app, environ)
    stream.seek(position)  # the same request body for the next run
    data = b"".join(body)
    getattr(body, "close", lambda: None)()
    return status, dict(headers), data


SAME_ANSWER = {
    "voice": ("/voice", twilio_form(), {}),
    "connect": ("/menu?n=main&l=de", twilio_form(Digits="3"), {}),
    "dial ended busy": (DIALED, twilio_form(DialCallStatus="busy"), {}),
    "dial ended, odd duration": (DIALED, twilio_form(DialCallStatus="completed", DialCallDuration="12x"), {}),
    "fallback": ("/fallback", twilio_form(), {}),
    "shared key without a secret": ("/voice", twilio_form(),
                                    {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"}),
}


@pytest.mark.parametrize("case", sorted(SAME_ANSWER))
def test_the_fast_path_answers_what_flask_answers(case: str, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(TUE)
    fast = app.wsgi_app
    assert isinstance(fast, FastWebhooks)
    path, form, headers = SAME_ANSWER[case]
    environ = _environ(path, form, headers=headers)
    caplog.set_level(logging.INFO)
    caplog.clear()
    by_flask = _run(fast.flask_app, environ)
    flask_log = caplog.messages[:]
    caplog.clear()
    assert _run(fast, environ) == by_flask
    assert caplog.messages == flask_log


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU="])
def test_a_bad_signature_is_refused_by_the_fast_path_as_by_flask(signature: str,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    fast = make_app(TUE).wsgi_app
    environ = _environ("/voice", twilio_form(), signed=False,
                       headers={"X-Twilio-Signature": signature} if signature else {})
    status, headers, body = _run(fast, environ)
    assert (status, body) == ("403 FORBIDDEN", b"Forbidden\n")
    assert caplog.messages[-1] == "refused a request to /voice: missing or wrong X-Twilio-Signature"
    assert _run(fast.flask_app, environ) == (status, headers, body)


def test_the_first_of_repeated_fields_counts_on_both_paths() -> None:
    form = [("To", SERVICE_NUMBER), ("To", "+4930000000000"), ("Digits", "3"), ("Digits", "1")]
    body = urlencode(form)
    # signed as Twilio signs repeated pairs (each pair, sorted), which the app reads back
    signature = compute_signature(TOKEN.encode(), BASE + "/menu?n=main&l=de", form)
    environ = EnvironBuilder(path="/menu?n=main&l=de", method="POST", data=body,
                             content_type=FORM_TYPE, headers={"X-Twilio-Signature": signature}).get_environ()
    fast = make_app(TUE).wsgi_app
    by_fast = _run(fast, environ)
    assert by_fast[0] == "200 OK" and b"<Dial" in by_fast[2]
    assert by_fast == _run(fast.flask_app, environ)


class Spy:
    """The Flask app behind the fast path, recording what reached it."""

    def __init__(self, app: Callable) -> None:
        self.app, self.calls = app, 0

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        self.calls += 1
        return self.app(environ, start_response)


def _spied() -> tuple[FastWebhooks, Spy]:
    fast = make_app(TUE).wsgi_app
    spy = fast.flask_app = Spy(fast.flask_app)
    return fast, spy


def test_a_signed_webhook_never_reaches_flask() -> None:
    fast, spy = _spied()
    status, headers, body = _run(fast, _environ("/menu?n=main&l=de", twilio_form(Digits="3")))
    assert status == "200 OK" and headers["Content-Type"] == "text/xml; charset=utf-8"
    assert headers["Content-Length"] == str(len(body)) and b"<Dial" in body
    assert spy.calls == 0


def _with(environ: dict[str, Any], **changes: Any) -> dict[str, Any]:
    environ.update(changes)
    return environ


HANDED_TO_FLASK = {
    "GET webhook": (lambda: _environ("/voice?" + urlencode(twilio_form()), method="GET", signed=False),
                    "403 FORBIDDEN"),
    "HEAD": (lambda: _environ("/voice", method="HEAD", signed=False), "403 FORBIDDEN"),
    "multipart form": (lambda: EnvironBuilder(path="/voice", method="POST", data=twilio_form(),
                                              content_type="multipart/form-data").get_environ(), "403 FORBIDDEN"),
    "too big": (lambda: _environ("/voice", {"Pad": "x" * MAX_BODY}), "413 REQUEST ENTITY TOO LARGE"),
    "chunked": (lambda: _with(_environ("/voice", twilio_form()), HTTP_TRANSFER_ENCODING="chunked"),
                "403 FORBIDDEN"),
    "not UTF-8": (lambda: EnvironBuilder(path="/voice", method="POST", data=b"To=\xff\xfe",
                                         content_type=FORM_TYPE).get_environ(), "403 FORBIDDEN"),
    "the console (off)": (lambda: _environ("/console/", method="GET", signed=False), "503 SERVICE UNAVAILABLE"),
}


@pytest.mark.parametrize("case", sorted(HANDED_TO_FLASK))
def test_unusual_requests_are_answered_by_flask(case: str) -> None:
    build, wanted = HANDED_TO_FLASK[case]
    fast, spy = _spied()
    status, _, _ = _run(fast, build())
    assert spy.calls == 1
    assert status == wanted
    spy.calls = 0
    assert _run(spy, build())[0] == wanted  # the same answer straight from Flask
