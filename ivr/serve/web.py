"""The Twilio webhooks. The only module that knows HTTP (with ivr/serve/fast_webhooks.py, which answers
the webhooks' ordinary POSTs through the functions here without Flask's routing): it checks the
signature, reads the few fields a webhook needs, and answers the TwiML that `answers` decided
(flow) and rendered (twiml).

Never a 5xx: Twilio would play its generic error message to a frightened caller. Every error
answers the static fallback (apology and the hotline numbers). The caller's number (From,
Caller) is never read, logged or passed on."""
from __future__ import annotations

import datetime as dt
import logging
import re
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, Request, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import get_host

from ivr.call import flow
from ivr.serve import ops, signature
from ivr.call.answers import DIALED, MENU, VOICE, Answers, Webhook
from ivr.config.settings import Settings, parse_instant
from ivr.config.loading import Config
from ivr.store.events import derive
from ivr.call.twiml import DIALED_PATH, MENU_PATH, Renderer

if TYPE_CHECKING:
    from ivr.console.settings import ConsoleSettings
    from ivr.store.live import Live

log = logging.getLogger("ivr.web")

XML = "text/xml; charset=utf-8"
MAX_BODY = 64 * 1024  # Twilio's webhook forms are a few KB; anything bigger is not Twilio
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_MAX_FIELD = 200  # longer form values are cut before they reach the flow

Clock = Callable[[], dt.datetime]


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


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def make_clock(settings: Settings, config: Config) -> Clock:
    if not settings.now:
        return system_clock
    pinned = parse_instant(settings.now, config.directory.timezone)
    log.warning("IVR_NOW is set: the clock is pinned to %s; not for a live line", pinned.isoformat())
    return lambda: pinned


bp = Blueprint("ivr", __name__)


def _answer(name: str) -> Response:
    # One context lookup for the request, not one per attribute: this is the hot path.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    # Twilio sends its fields in the body of a POST, or in the query string of a GET.
    values = req.form if req.method == "POST" else req.args
    query = _state_query(req) if name != VOICE else ""
    return Response(webhook_twiml(current_app.extensions, name, values, query), 200, content_type=XML)


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


def _state_query(req: Request) -> str:
    """The call's state from the query string. A POST's query is the URL our TwiML gave Twilio;
    a GET's also carries Twilio's fields, the caller's number among them, which must not become
    part of a cache key: only the state's own names are kept."""
    if req.method == "POST":
        return req.query_string.decode("latin-1")
    return urlencode([(key, value) for key, value in req.args.items(multi=True) if key in flow.STATE_KEYS])


@bp.route("/voice", methods=["POST", "GET"])
def voice() -> Response:
    return _answer(VOICE)


@bp.route(MENU_PATH, methods=["POST", "GET"])
def menu() -> Response:
    return _answer(MENU)


@bp.route(DIALED_PATH, methods=["POST", "GET"])
def dialed() -> Response:
    return _answer(DIALED)


@bp.route("/fallback", methods=["POST", "GET"])
def fallback() -> Response:
    extensions = current_app.extensions
    try:
        fields = list(request.form.items(multi=True)) if request.method == "POST" else []
    except HTTPException:  # a body too large or unreadable: answered all the same, not Twilio's
        reason = "unsigned"
    else:
        reason = fallback_reason(extensions, request.headers.get, fields,
                                 lambda: requested_url(request, extensions["ivr.public_url"]))
    return Response(fallback_twiml(extensions, reason), 200, content_type=XML)


def fallback_twiml(extensions: Mapping[str, Any], reason: str) -> str:
    """The static answer of Twilio's Fallback URL, counted by `reason` (see fallback_reason)."""
    ops.count_fallback(reason, extensions)
    return extensions["ivr.service"].renderer.fallback()


# What a person who opens the server's address in a browser sees: what this is, and where the
# operators' console is (a relative link: right under a path prefix too). Static and public.
HOME_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Helpline phone menu</title></head>
<body><h1>Helpline phone menu</h1>
<p>This server answers the helpline's calls for Twilio (its webhooks start at <code>POST /voice</code>).</p>
<p>Operators: <a href="console/">the console</a>.</p></body></html>
"""


@bp.route("/", methods=["GET"])
def home() -> Response:
    return Response(HOME_PAGE, 200, content_type="text/html; charset=utf-8")


@bp.route("/health", methods=["GET"])
def health() -> Response:
    return Response("ok\n", 200, content_type="text/plain")


def requested_url(req: Request, public_url: str | None) -> str:
    """The URL exactly as Twilio requested it: raw path and query as sent. Behind a proxy,
    IVR_PUBLIC_URL is the public URL of the service's root, path prefix included
    (https://ngo.example.org/helpline): it stands for the scheme and host (TLS ends at the
    proxy, so the app would see http) and for the prefix the app is mounted under (SCRIPT_NAME),
    whether or not the proxy passes that prefix on."""
    return url_as_requested(req.environ, public_url)


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


# Answered without a signature: the home page and the fallback are static public information
# (the fallback: numbers and hours), and a wrong IVR_PUBLIC_URL or a proxy that rewrites URLs
# must not silence the fallback along with the webhook; the operations endpoints (ivr/serve/ops.py) are for monitoring, not for Twilio.
# None: no route matched (404/405 follow).
UNSIGNED_ENDPOINTS = frozenset({"ivr.home", "ivr.health", "ivr.fallback", "ops.ready", "ops.metrics", None})


def _check_signature() -> Response | None:
    extensions = current_app.extensions
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    if (extensions["ivr.token"] is None and extensions["ivr.shared_key"] is None) \
            or req.endpoint in UNSIGNED_ENDPOINTS:
        return None  # --dev (no secret to check against), or not Twilio's to call
    if req.blueprint != "ivr":
        return None  # the operators' console: its own login and CSRF, never Twilio's signature
    fields = req.form.items(multi=True) if req.method == "POST" else ()
    return signature_refusal(extensions, req.path, req.headers.get, fields,
                             lambda: requested_url(req, extensions["ivr.public_url"]))


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


def _on_error(error: Exception) -> Response:
    if isinstance(error, HTTPException) and error.code is not None and error.code < 500:
        return error.get_response()
    return Response(error_twiml(current_app.extensions, request.path, error), 200, content_type=XML)


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


def create_app(config: Config, settings: Settings, clock: Clock | None = None, generation: int = 1,
               live: Live | None = None, console: ConsoleSettings | None = None) -> Flask:
    """The webhooks' app; `generation` numbers the config (1 at start, +1 per accepted reload).
    `live`, when given, brings the store in: live closures obeyed, every answer counted.
    `console`, when given, serves the operators' console under /console/."""
    app = Flask("ivr")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["ivr.service"] = Service.of(config)
    app.extensions["ivr.clock"] = clock or make_clock(settings, config)
    app.extensions["ivr.token"] = settings.auth_token.encode("utf-8") if settings.auth_token else None
    app.extensions["ivr.shared_key"] = settings.shared_key.encode("utf-8") if settings.shared_key else None
    app.extensions["ivr.public_url"] = settings.public_url
    app.extensions["ivr.live"] = live
    app.register_blueprint(bp)
    app.before_request(_check_signature)
    app.register_error_handler(Exception, _on_error)
    # The webhooks' own WSGI handler in front of Flask's routing and request context; inside the
    # metrics wrapper (ops.install), so they are timed and counted like every other request.
    from ivr.serve.fast_webhooks import FastWebhooks
    app.wsgi_app = FastWebhooks(app.extensions, app.wsgi_app)  # type: ignore[method-assign]
    ops.install(app, settings, generation)
    if live is not None:
        app.extensions[ops.READY_CHECKS]["database"] = lambda: live.ready()[0]
        app.extensions[ops.READY_DETAILS]["database"] = lambda: live.ready()[1]
        metrics = app.extensions.get("ivr.metrics")
        if metrics is not None:  # the lines' dials without a talk, as a gauge per line
            live.on_runs = lambda runs: metrics.lines_unanswered(
                [line.id for line in app.extensions["ivr.service"].config.directory.lines], runs)

    # The operators' console (ivr/console): one blueprint with its own hooks; off without settings.
    from ivr.console import mount_console
    mount_console(app, console, settings, live.engine if live is not None else None, generation)
    return app


def swap_config(app: Flask, config: Config) -> None:
    """Serve a newly loaded config from the next request on (reload without downtime)."""
    app.extensions["ivr.service"] = Service.of(config)
