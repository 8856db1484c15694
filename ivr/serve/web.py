"""The Twilio webhooks' Flask views and the app factory. With ivr/serve/fast_webhooks.py (which
answers the webhooks' ordinary POSTs without Flask's routing) the only module that knows HTTP;
both answer through ivr/serve/webhooks.py: it checks the signature, reads the few fields a
webhook needs, and answers the TwiML that `answers` decided (flow) and rendered (twiml).

Never a 5xx: Twilio would play its generic error message to a frightened caller. Every error
answers the static fallback (apology and the hotline numbers). The caller's number (From,
Caller) is never read, logged or passed on."""
from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlencode

from flask import Blueprint, Flask, Request, Response, current_app, request
from werkzeug.exceptions import HTTPException

from ivr.call import flow
from ivr.serve import ops
from ivr.call.answers import DIALED, MENU, VOICE
from ivr.config.settings import Settings, parse_instant
from ivr.config.loading import Config
from ivr.call.twiml import DIALED_PATH, MENU_PATH
from ivr.serve.webhooks import (
    MAX_BODY,
    XML,
    Service,
    error_twiml,
    fallback_reason,
    fallback_twiml,
    signature_refusal,
    url_as_requested,
    webhook_twiml,
)

if TYPE_CHECKING:
    from ivr.console.settings import ConsoleSettings
    from ivr.store.live import Live

log = logging.getLogger("ivr.web")


Clock = Callable[[], dt.datetime]


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


def _on_error(error: Exception) -> Response:
    if isinstance(error, HTTPException) and error.code is not None and error.code < 500:
        return error.get_response()
    return Response(error_twiml(current_app.extensions, request.path, error), 200, content_type=XML)


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
