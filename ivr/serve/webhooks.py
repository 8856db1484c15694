"""The webhook functions both HTTP paths share: the Flask views (ivr/serve/web.py) and the fast
WSGI path (ivr/serve/fast_webhooks.py) answer through these, so neither imports the other and a
webhook answers the same either way. Each takes the app's `extensions` (no request context):
a webhook's TwiML, the signature check and its 403, the fallback and the answer to an error.

Never a 5xx: every error answers the static fallback. The caller's number (From, Caller) is
never read, logged or passed on."""
from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import quote

from flask import Response
from werkzeug.wsgi import get_host

from ivr.call.answers import Answers, Webhook
from ivr.call.twiml import Renderer
from ivr.config.loading import Config
from ivr.serve import ops, signature
from ivr.store.events import derive

if TYPE_CHECKING:
    from ivr.store.live import Live

log = logging.getLogger("ivr.web")  # the webhooks' one logger, as before the split (logs are filtered by it)


XML = "text/xml; charset=utf-8"
MAX_BODY = 64 * 1024  # Twilio's webhook forms are a few KB; anything bigger is not Twilio
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_MAX_FIELD = 200  # longer form values are cut before they reach the flow


@dataclass(frozen=True)
class Service:
    """What one process serves: the loaded config and its answers, swapped whole on reload."""

    config: Config
    answers: Answers

    @classmethod
    def of(cls, config: Config) -> Service:
        return cls(config, Answers(config, events=derive))

    @property
    def renderer(self) -> Renderer:
        return self.answers.renderer


def webhook_twiml(extensions: Mapping[str, Any], name: str, values: Mapping[str, str], query: str) -> str:
    """A webhook's TwiML from its form (first value of each field) and the call's state query;
    counted in the store when there is one. Shared by the Flask views and ivr/serve/fast_webhooks.py."""
    to, digits, status, seconds = ((values.get(field) or "")[:_MAX_FIELD].strip()
                                   for field in ("To", "Digits", "DialCallStatus", "DialCallDuration"))
    hook = Webhook(name, query, digits, status, to if _E164.match(to) else None, _seconds(seconds))
    now = extensions["ivr.clock"]()
    live: Live | None = extensions["ivr.live"]
    if live is None:
        return extensions["ivr.service"].answers.twiml(hook, now)
    service: Service = extensions["ivr.service"]
    answer = service.answers.answer(hook, now, live.closed_until,
                                    live.tried_last(service.config.directory.service.try_last_after))
    try:
        live.count(now, answer.events, hook.dial_seconds)
    except Exception as error:  # counting must never change what the caller hears
        log.error("could not count an answer of %s: %s", name, type(error).__name__)
    return answer.twiml


def _seconds(text: str) -> int | None:
    """DialCallDuration as whole seconds; None when absent or not a number (then a "completed"
    dial is treated as possibly a voicemail, and the caller is offered more)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else None


def fallback_twiml(extensions: Mapping[str, Any], reason: str) -> str:
    """The static answer of Twilio's Fallback URL, counted by `reason` (see fallback_reason)."""
    ops.count_fallback(reason, extensions)
    return extensions["ivr.service"].renderer.fallback()


def url_as_requested(env: Mapping[str, Any], public_url: str | None) -> str:
    """`requested_url` from the WSGI environ alone (the host as Flask's request reads it)."""
    mount = env.get("SCRIPT_NAME", "")
    raw = env.get("RAW_URI") or env.get("REQUEST_URI")
    if not raw:
        raw = quote(mount + env.get("PATH_INFO", ""))
        if env.get("QUERY_STRING"):
            raw += "?" + env["QUERY_STRING"]
    if raw.startswith(("http://", "https://")):  # absolute-form request line
        if not public_url:
            return raw
        raw = _origin_form(raw)
    if not public_url:
        return f"{env['wsgi.url_scheme']}://{get_host(env)}{raw}"  # type: ignore[arg-type]
    return public_url + _below(raw, mount)


def _origin_form(absolute: str) -> str:
    """The path and query, as sent, of an absolute-form request target (http://host/path?query)."""
    rest = absolute.split("://", 1)[1]
    starts = [at for at in (rest.find("/"), rest.find("?")) if at >= 0]
    return rest[min(starts):] if starts else ""


def _below(raw: str, mount: str) -> str:
    """The raw path and query below the app's mount point (the raw path includes it)."""
    if not mount:
        return raw
    for prefix in (mount, quote(mount)):
        if raw.startswith(prefix) and raw[len(prefix):len(prefix) + 1] in ("/", "?", ""):
            return raw[len(prefix):]
    return raw


def signature_refusal(extensions: Mapping[str, Any], path: str, header: Callable[[str], str | None],
                      fields: Iterable[tuple[str, str]], url: Callable[[], str]) -> Response | None:
    """None when the request is signed by Twilio (auth token or SharedKey), else the 403,
    logged and counted. Shared by the Flask hook and ivr/serve/fast_webhooks.py."""
    problem = _signature_problem(extensions, header, fields, url)
    if problem is None:
        return None
    reason, why = problem
    log.warning("refused a request to %s%s", path, why)
    ops.count_refusal(reason, extensions)
    return _forbidden()


def _signature_problem(extensions: Mapping[str, Any], header: Callable[[str], str | None],
                       fields: Iterable[tuple[str, str]], url: Callable[[], str]) -> tuple[str, str] | None:
    """None when Twilio signed the request, else (the refusal's metric reason, the log's words)."""
    token: bytes | None = extensions["ivr.token"]
    shared_key: bytes | None = extensions["ivr.shared_key"]
    settings_header = header("X-Twilio-Webhooks-Signature-Settings")
    key, algorithm = token, signature.SHA1
    if settings_header:  # signed by a Webhook Rule's SharedKey, not the auth token
        key, algorithm = shared_key, signature.algorithm_named(settings_header)
        if key is None or algorithm is None:
            return "shared_key", (" signed by a Twilio SharedKey ({}): {}".format(
                "unknown algorithm" if algorithm is None else "no secret",
                "TWILIO_WEBHOOK_SHARED_KEY is not set" if key is None else "expected HMAC_SHA1 or HMAC_SHA256"))
    if key is not None and signature.is_valid(key, url(), fields, header("X-Twilio-Signature") or "",
                                              algorithm):
        return None
    return "signature", ": missing or wrong X-Twilio-Signature"


def fallback_reason(extensions: Mapping[str, Any], header: Callable[[str], str | None],
                    fields: Iterable[tuple[str, str]], url: Callable[[], str]) -> str:
    """How a /fallback answer is counted: "fallback_url" when Twilio signed it (a webhook of a
    call failed on Twilio's side), else "unsigned" (anyone may fetch the public numbers; that is
    no sign of a failing primary handler). Without a secret (--dev) every request counts as Twilio's."""
    if extensions["ivr.token"] is None and extensions["ivr.shared_key"] is None:
        return "fallback_url"
    return "fallback_url" if _signature_problem(extensions, header, fields, url) is None else "unsigned"


def _forbidden() -> Response:
    return Response("Forbidden\n", 403, content_type="text/plain")


def error_twiml(extensions: Mapping[str, Any], path: str, error: Exception) -> str:
    """The answer to a webhook that failed: the fallback, logged and counted."""
    # Log where it broke, never the request: its fields could hold the caller's number.
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f"{frame.filename}:{frame.lineno}" if frame else "?"
    log.error("webhook %s failed with %s at %s; answered the fallback", path, type(error).__name__, where)
    ops.count_fallback("error", extensions)
    try:
        return extensions["ivr.service"].renderer.fallback()
    except Exception:  # the config itself is unusable: a fixed sentence still helps
        return EMERGENCY_TWIML


# Last resort when even the fallback cannot be rendered: the emergency numbers, in German.
EMERGENCY_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="de-DE" voice="Polly.Vicki-Neural">'
    'Entschuldigung, ein '
    'technischer Fehler. In akuter Gefahr wählen Sie <say-as interpret-as="digits">110</say-as> '
    'oder <say-as interpret-as="digits">112</say-as>.</Say><Hangup /></Response>'
)
