"""The console's blueprint: sessions, login and logout, roles, CSRF, security headers, errors.
The pages themselves are in pages.py.

A session holds the operator's name, the account's creation instant, its session version and
when it began: logout raises the version (every copy of the cookie ends, on every worker), and
SESSION_HOURS after the login it ends whatever its use. A browser where an operator signed in
keeps a device cookie (DEVICE_COOKIE) naming them: its tries have a login budget of their own."""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, Response, abort, current_app, g, make_response, redirect,
                   render_template, request, session, url_for)
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from ivr.config.settings import Settings
from ivr.config.loading import Config
from ..store.database import StoreSettings, make_engine
from . import accounts
from .refusals import RefusalLog
from .settings import ConsoleSettings, client_address
from .words import DEFAULT, LANGUAGES, words

log = logging.getLogger("ivr.console")

PREFIX = "/console"
SESSION_HOURS = 8
DEVICE_COOKIE, DEVICE_DAYS = "ivr_console_device", 180
refusals = RefusalLog(log)

bp = Blueprint("console", __name__, url_prefix=PREFIX, template_folder="templates",
               static_folder="static", static_url_path="/static")


@dataclass(frozen=True)
class Console:
    """What the console's pages share in one worker."""

    settings: ConsoleSettings
    app_settings: Settings
    engine: Engine
    started: dt.datetime  # when this worker built its app from the config it serves
    generation: int  # of the served config: 1 at start, +1 per accepted reload


class ConsoleSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened only for the console's own paths: a webhook reads
    no cookie and verifies no signature."""

    def open_session(self, app: Flask, request):  # type: ignore[no-untyped-def, override]
        if not is_console(request.path):
            return None
        return super().open_session(app, request)

    def get_cookie_path(self, app: Flask) -> str:
        """The console's paths as the browser sees them: below the service's prefix, if any."""
        return request.script_root + PREFIX

    def get_expiration_time(self, app: Flask, session) -> dt.datetime | None:  # type: ignore[no-untyped-def, override]
        """The cookie expires SESSION_HOURS after the login, however often it is used."""
        began = session.get("began")
        if isinstance(began, (int, float)):
            return dt.datetime.fromtimestamp(began, dt.timezone.utc) + dt.timedelta(hours=SESSION_HOURS)
        return super().get_expiration_time(app, session)


def is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def mount(app: Flask, console: ConsoleSettings, settings: Settings, engine: Engine | None,
          generation: int = 1) -> None:
    app.secret_key = console.secret_key
    app.session_interface = ConsoleSessions()
    # The cookie goes to the console's paths only: never along with anything else on the host.
    app.config.update(SESSION_COOKIE_NAME="ivr_console", SESSION_COOKIE_PATH=PREFIX, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SECURE=console.secure_cookies, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS))
    prefix = urlsplit(settings.public_url or "").path.rstrip("/")
    if prefix:
        app.wsgi_app = _below_public_prefix(app.wsgi_app, prefix)  # type: ignore[method-assign]
    app.extensions["ivr.console"] = Console(
        console, settings, engine or make_engine(StoreSettings.from_env()),
        dt.datetime.now(dt.timezone.utc), generation)  # no file is read here: workers start fast
    app.register_blueprint(bp)
    app.after_request(_headers)


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="ivr-console-device")  # type: ignore[arg-type]


def _below_public_prefix(wsgi: Any, prefix: str) -> Any:
    """Behind a proxy that strips the public URL's path (IVR_PUBLIC_URL=https://host/helpline,
    `proxy_pass http://127.0.0.1:8000/`): the console's links, redirects and cookie still name
    /helpline/console/... . A server mounted there itself (SCRIPT_NAME) is left as it is."""
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not environ.get("SCRIPT_NAME") and is_console(path):
            environ["SCRIPT_NAME"] = prefix
        return wsgi(environ, start_response)
    return app


def mount_off(app: Flask) -> None:
    def off(path: str = "") -> Response:
        return Response("The operators' console is off: start `ivr serve` with IVR_SECRET_KEY set "
                        "(or --dev on a workstation).\n", 503, content_type="text/plain; charset=utf-8")
    app.add_url_rule(PREFIX + "/", "console_off", off)
    app.add_url_rule(PREFIX + "/<path:path>", "console_off", off, methods=["GET", "POST"])
    app.after_request(_headers)


# -- what every page uses -------------------------------------------------------------------

def console() -> Console:
    return current_app.extensions["ivr.console"]


def engine() -> Engine:
    return console().engine


def config() -> Config:
    return current_app.extensions["ivr.service"].config


def answers():  # type: ignore[no-untyped-def]
    return current_app.extensions["ivr.service"].answers


def now() -> dt.datetime:
    """The service's clock (pinned by IVR_NOW for demos and tests), in the directory's zone."""
    return current_app.extensions["ivr.clock"]().astimezone(config().directory.timezone)


def real_now() -> dt.datetime:
    """Closures are real actions on a live line: always the real clock (as `ivr close`)."""
    return dt.datetime.now(dt.timezone.utc)


def lang() -> str:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT


def operator() -> accounts.Operator | None:
    return g.get("operator")


def editor_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        found = operator()
        if found is None or not found.can_edit:
            return render_template("error.html", message=words(lang())["editors_only"]), 403
        return view(*args, **kwargs)
    return wrapped


# -- hooks: only for the console's own requests ---------------------------------------------

_OPEN = {"console.login", "console.static", "console.language"}


@bp.before_request
def _guard() -> Response | None:
    g.t = words(lang())
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in request.values.get("next", "")):
        refuse(g.t["bad_next"])  # a redirect to it could split the answer's headers
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as error:
            raise CSRFError(str(error)) from None
    name = session.get("operator")
    g.operator = accounts.find(engine(), name) if name else None
    if g.operator is not None and not _session_holds(g.operator):
        g.operator = None
    if name and g.operator is None:  # removed, logged out elsewhere or too old: it ends here
        _end_session()
    if g.operator is None and request.endpoint not in _OPEN:
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    return None


def _session_holds(found: accounts.Operator) -> bool:
    began = session.get("began")
    return (session.get("since") == found.created_at.isoformat()  # not a new account of the same name
            and session.get("version") == found.session_version  # no logout since
            and isinstance(began, (int, float))
            and real_now().timestamp() - began < SESSION_HOURS * 3600)


def _end_session() -> None:
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen


def refuse(message: str, status: int = 400) -> None:
    """End the request with the console's error page saying `message`."""
    abort(make_response(render_template("error.html", message=message), status))


def _headers(response: Response) -> Response:
    """On every answer under /console/, the 404 of an unknown path and the console-off 503 included."""
    if not is_console(request.path):
        return response
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {"t": g.get("t") or words(lang()), "lang": lang(), "languages": LANGUAGES,
            "operator": operator(), "csrf_token": generate_csrf}


@bp.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError) -> tuple[str, int]:
    refusals.refused("csrf")  # summed up: a flood of forged forms costs a line a minute
    return render_template("error.html", message=words(lang())["csrf_refused"]), 400


@bp.errorhandler(Exception)
def _error(error: Exception) -> Any:
    if isinstance(error, HTTPException) and error.code is not None and error.code < 500:
        return render_template("error.html", message=f"{error.code} {error.name}"), error.code
    log.exception("console page %s failed", request.path)
    return render_template("error.html", message=words(lang())["server_error"]), 500


# -- signing in and out ---------------------------------------------------------------------

def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an address elsewhere."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith(PREFIX + "/"):
            return request.script_root + target  # below the service's prefix, if any
    return url_for("console.now_page")


def _device(name: str) -> str | None:
    """The id of this browser's device cookie, if it was given for `name`."""
    try:
        held = _device_signer().loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400)
    except BadData:  # none, forged, too old or not ours
        return None
    if isinstance(held, dict) and held.get("name") == name and isinstance(held.get("id"), str):
        return held["id"]
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    t = g.t
    message, status = None, 200
    if request.method == "POST":
        name = (request.form.get("username") or "").strip()[:100]
        password = request.form.get("password") or ""
        device = _device(name)
        client = accounts.Client(client_address(request.environ, console().settings.trusted_proxies), device)
        result = accounts.login(engine(), name, password, real_now(), client)
        if result.operator is not None:
            _end_session()  # a fresh session at every login
            session.permanent = True
            session.update(operator=result.operator.name, since=result.operator.created_at.isoformat(),
                           version=result.operator.session_version, began=int(real_now().timestamp()))
            log.info("console login: %s", result.operator.name)
            response = redirect(_safe_next(request.form.get("next")))
            known = _device_signer().dumps({"name": name, "id": device or secrets.token_urlsafe(16)})
            response.set_cookie(DEVICE_COOKIE, known, max_age=DEVICE_DAYS * 86400, path=request.script_root + PREFIX,
                                secure=console().settings.secure_cookies, httponly=True, samesite="Lax")
            return response
        if result.busy:
            message, status = t["login_busy"], 429
            refusals.refused("busy")
        elif result.retry_at is not None:
            local = result.retry_at.astimezone(config().directory.timezone)
            message, status = t["login_wait"].format(time=f"{local:%H:%M:%S}"), 429
            refusals.refused("waiting")
        else:
            message, status = t["login_wrong"], 401
            refusals.refused("wrong")
    return render_template("login.html", message=message, next=request.values.get("next", "")), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    found = operator()
    if found is not None:
        accounts.end_sessions(engine(), found.name)
    _end_session()
    return redirect(url_for("console.login"))


@bp.route("/lang/<code>")
def language(code: str) -> Response:
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))
