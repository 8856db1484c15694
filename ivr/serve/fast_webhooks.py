"""The webhooks' hot path in plain WSGI, in front of the Flask app.

Every call's every step is one POST to /voice, /menu or /dialed. Flask's routing, request
context, hooks and Response objects cost about as much as the whole answer does (which is a
dictionary lookup: ivr/call/answers.py), so these requests are answered here: the body read once
(its Content-Length at most MAX_BODY), the form parsed once with the stdlib exactly as Werkzeug
parses it, the signature checked, the answer looked up. /fallback too (answered signed or not;
the signature only decides how it is counted).

Anything unusual goes to the Flask app untouched, which answers it as it always did: other
paths and methods (GET webhooks, HEAD, OPTIONS), another content type, a missing, chunked or
oversized body (Flask's 413), a body shorter than its Content-Length or not UTF-8 (Flask gets
the bytes read so far). The logic is shared with the Flask views (ivr/serve/webhooks.py), so both paths
answer the same TwiML, refuse with the same 403s and log lines, count the same figures, and
answer the fallback on any error."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler)

from ivr.serve import webhooks
from ivr.call.answers import DIALED, MENU, VOICE
from ivr.call.twiml import DIALED_PATH, MENU_PATH

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

WEBHOOKS = {"/voice": VOICE, MENU_PATH: MENU, DIALED_PATH: DIALED}
FALLBACK = "/fallback"
FORM = "application/x-www-form-urlencoded"
_SIGNATURE = "HTTP_X_TWILIO_SIGNATURE"
_HEADERS = {"X-Twilio-Signature": _SIGNATURE,
            "X-Twilio-Webhooks-Signature-Settings": "HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS"}


class FastWebhooks:
    """WSGI: POSTs to the webhooks and /fallback answered here, the rest by `flask_app`."""

    def __init__(self, extensions: Mapping[str, Any], flask_app: WSGIApplication) -> None:
        self.extensions = extensions  # the app's: read per request, so a reload's swap is seen
        self.flask_app = flask_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        name = WEBHOOKS.get(path)
        method = environ.get("REQUEST_METHOD")
        if name is not None and method == "POST":
            fields = _read_form(environ)
            if fields is None:
                return self.flask_app(environ, start_response)
            return self._answer(path, start_response,
                                lambda: self._signed_answer(name, path, environ, fields), environ)
        if path == FALLBACK and method in ("POST", "GET"):
            fields = _read_form(environ) if method == "POST" else []
            if fields is None:
                return self.flask_app(environ, start_response)
            return self._answer(path, start_response, lambda: self._fallback(environ, fields))
        return self.flask_app(environ, start_response)

    def _fallback(self, environ: WSGIEnvironment, fields: list[tuple[str, str]]) -> str:
        extensions = self.extensions
        reason = webhooks.fallback_reason(extensions, lambda header: environ.get(_HEADERS[header]), fields,
                                          lambda: webhooks.url_as_requested(environ, extensions["ivr.public_url"]))
        return webhooks.fallback_twiml(extensions, reason)

    def _signed_answer(self, name: str, path: str, environ: WSGIEnvironment,
                       fields: list[tuple[str, str]]) -> str | webhooks.Response:
        extensions = self.extensions
        if extensions["ivr.token"] is not None or extensions["ivr.shared_key"] is not None:
            refusal = webhooks.signature_refusal(
                extensions, path, lambda header: environ.get(_HEADERS[header]), fields,
                lambda: webhooks.url_as_requested(environ, extensions["ivr.public_url"]))
            if refusal is not None:
                return refusal
        # dict(reversed(...)): the first value of each field, as a form's .get() gives it
        query = environ.get("QUERY_STRING", "") if name != VOICE else ""
        return webhooks.webhook_twiml(extensions, name, dict(reversed(fields)), query)

    def _answer(self, path: str, start_response: StartResponse, answer: Any,
                environ: WSGIEnvironment | None = None) -> Iterable[bytes]:
        try:
            result = answer()
        except Exception as error:  # never a 5xx: the fallback, logged as the Flask path logs it
            result = webhooks.error_twiml(self.extensions, path, error)
        if isinstance(result, webhooks.Response):  # a refusal (403)
            return result(environ, start_response)
        body = result.encode("utf-8")
        start_response("200 OK", [("Content-Type", webhooks.XML), ("Content-Length", str(len(body)))])
        return [body]


def _read_form(environ: WSGIEnvironment) -> list[tuple[str, str]] | None:
    """The urlencoded form's fields, or None when Flask must answer (the body is put back)."""
    length = _form_length(environ)
    if length is None:
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        if len(body) != length:
            raise ValueError("short body")
        # As Werkzeug's form parser does it (strict UTF-8, then parse_qsl), so that the
        # fields, and so the signature, are the same on both paths.
        return parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
    except ValueError:  # UnicodeDecodeError included: Flask answers it as it always has
        environ["wsgi.input"] = io.BytesIO(body)
        return None


def _form_length(environ: WSGIEnvironment) -> int | None:
    """The Content-Length of a urlencoded form this handler may read; None when Flask must
    see the request as it came (another type, no length, chunked, or more than MAX_BODY)."""
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.partition(";")[0].strip().lower() != FORM or "HTTP_TRANSFER_ENCODING" in environ:
        return None
    length = environ.get("CONTENT_LENGTH", "")
    if not (length.isascii() and length.isdigit()) or int(length) > webhooks.MAX_BODY:
        return None
    return int(length)
