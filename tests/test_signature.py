"""ivr.serve.signature against Twilio's own RequestValidator: same signatures, same verdicts.

The library is the reference (it is what Twilio publishes); ours is a leaner pass over the same
algorithm, so a difference is a bug in ours, except where the library rewrites the URL before
checking it (noted below)."""
from __future__ import annotations

import string
from urllib.parse import urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.serve.signature import SHA1, SHA256, algorithm_named, compute_signature, is_valid, port_toggled

TOKEN = "12345678901234567890123456789012"

# No IPv6 literals: Twilio's validator strips ports by splitting at the first ":" and so
# mangles "[::1]:8080"; Twilio calls public host names anyway.
HOSTS = st.sampled_from(["ivr.example.org", "ivr.example.org:443", "ivr.example.org:80",
                         "127.0.0.1:5000", "xn--hilfe-mva.de"])
PATHS = st.text(string.ascii_letters + string.digits + "/-_.~%!$&'()*+,;=:@äß ", max_size=30)
QUERIES = st.none() | st.text(string.ascii_letters + string.digits + "=&%+-_.~?/ü", max_size=40)
URLS = st.builds(lambda scheme, host, path, query: f"{scheme}://{host}/{path}"
                 + ("" if query is None else "?" + query),
                 st.sampled_from(["http", "https"]), HOSTS, PATHS, QUERIES)
FIELDS = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(url=URLS, fields=FIELDS)
def test_signature_equals_twilios(url: str, fields: list[tuple[str, str]]) -> None:
    reference = RequestValidator(TOKEN).compute_signature(url, MultiDict(fields))
    assert compute_signature(TOKEN.encode(), url, fields) == reference


@settings(max_examples=200, deadline=None)
@given(url=URLS, fields=FIELDS, sign_other_spelling=st.booleans())
def test_verdict_equals_twilios_for_signed_requests(url: str, fields: list[tuple[str, str]],
                                                    sign_other_spelling: bool) -> None:
    """A request signed for the URL, or for its other port spelling, passes exactly when
    Twilio's validator lets it pass, and a request signed for the URL as requested always does."""
    signed_url = (port_toggled(url) or url) if sign_other_spelling else url
    header = RequestValidator(TOKEN).compute_signature(signed_url, MultiDict(fields))
    ours = is_valid(TOKEN.encode(), url, fields, header)
    if urlparse(url).geturl() == url:
        assert ours == RequestValidator(TOKEN).validate(url, MultiDict(fields), header)
    # Twilio's validator rebuilds the URL through urlparse, which drops a bare "?" or ";" at the
    # end; it then refuses what Twilio signed. Ours checks the URL exactly as requested.
    if not sign_other_spelling:
        assert ours


@settings(max_examples=100, deadline=None)
@given(url=URLS, fields=FIELDS, header=st.text(max_size=40))
def test_arbitrary_headers_are_refused_like_twilio_does(url: str, fields: list[tuple[str, str]],
                                                        header: str) -> None:
    expected = RequestValidator(TOKEN).validate(url, MultiDict(fields), header)
    assert is_valid(TOKEN.encode(), url, fields, header) == expected


def test_port_spellings() -> None:
    assert port_toggled("https://ivr.example.org/voice?a=1") == "https://ivr.example.org:443/voice?a=1"
    assert port_toggled("https://ivr.example.org:443/voice") == "https://ivr.example.org/voice"
    assert port_toggled("http://ivr.example.org/voice") == "http://ivr.example.org:80/voice"
    assert port_toggled("http://127.0.0.1:5000/voice") == "http://127.0.0.1/voice"
    assert port_toggled("http://host:99999/voice") is None


def test_a_url_ending_in_a_bare_question_mark_validates_as_requested() -> None:
    url = "https://ivr.example.org/voice?"
    header = compute_signature(TOKEN.encode(), url, [("CallSid", "CA1")])
    assert is_valid(TOKEN.encode(), url, [("CallSid", "CA1")], header)
    assert not is_valid(TOKEN.encode(), "https://ivr.example.org/voice", [("CallSid", "CA1")], header)


def test_wrong_token_and_empty_header_are_refused() -> None:
    url, fields = "https://ivr.example.org/voice", [("CallSid", "CA1"), ("Digits", "1")]
    header = compute_signature(TOKEN.encode(), url, fields)
    assert is_valid(TOKEN.encode(), url, fields, header)
    assert not is_valid(b"another-token", url, fields, header)
    assert not is_valid(TOKEN.encode(), url, fields, "")
    assert not is_valid(TOKEN.encode(), url, fields + [("Digits", "2")], header)


# -- Webhook Rules that sign with a SharedKey (X-Twilio-Webhooks-Signature-Settings) --------------

@settings(max_examples=100, deadline=None)
@given(url=URLS, fields=FIELDS)
def test_sha256_signature_equals_twilios(url: str, fields: list[tuple[str, str]]) -> None:
    reference = RequestValidator(TOKEN).compute_signature(url, MultiDict(fields), "HMAC_SHA256")
    assert compute_signature(TOKEN.encode(), url, fields, SHA256) == reference


@pytest.mark.parametrize("header, expected", [
    ("key=webhooks_sharedkey_1,algorithm=HMAC_SHA256", SHA256),
    ("algorithm=hmac_sha256, key=webhooks_sharedkey_1", SHA256),
    ("key=webhooks_sharedkey_1,algorithm=HMAC_SHA1", SHA1),
    ("key=webhooks_sharedkey_1", SHA1),  # no algorithm named: Twilio's libraries take SHA1
    ("", SHA1),
    ("key=webhooks_sharedkey_1,algorithm=HMAC_SHA512", None),
    ("algorithm=ROT13", None),
])
def test_the_algorithm_named_by_the_settings_header(header: str, expected: str | None) -> None:
    assert algorithm_named(header) == expected


def test_a_sha256_signature_does_not_pass_as_sha1() -> None:
    url, fields = "https://ivr.example.org/voice", [("CallSid", "CA1")]
    header = compute_signature(TOKEN.encode(), url, fields, SHA256)
    assert is_valid(TOKEN.encode(), url, fields, header, SHA256)
    assert not is_valid(TOKEN.encode(), url, fields, header, SHA1)
