"""Endpoints for the people who run the service, not for Twilio: GET /ready for the load
balancer and GET /metrics for Prometheus. (GET /health, alive, stays with the webhooks.)

/metrics is off (404) unless IVR_METRICS_TOKEN is set; then it needs
`Authorization: Bearer <token>` (403 otherwise), compared in constant time."""
from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING, Any, Callable, Mapping

from flask import Blueprint, Flask, Response, current_app, request

from ivr.config.settings import Settings

if TYPE_CHECKING:
    from ivr.serve.metrics import Metrics

log = logging.getLogger("ivr.ops")

TEXT = "text/plain; charset=utf-8"
READY_CHECKS = "ivr.ready_checks"  # name -> check; a store adds its own ("database": reachable?)
READY_DETAILS = "ivr.ready_details"  # name -> a line /ready adds, ready or not (the store: when it last worked)

bp = Blueprint("ops", __name__)


def install(app: Flask, settings: Settings, generation: int = 1) -> None:
    """Register /ready and /metrics; with a metrics token, time and count every webhook."""
    checks: dict[str, Callable[[], bool]] = {"config": lambda: app.extensions.get("ivr.service") is not None}
    app.extensions[READY_CHECKS] = checks
    app.extensions[READY_DETAILS] = {}
    if settings.metrics_token:
        from ivr.serve.metrics import Metrics  # prometheus_client only when metrics are on
        metrics = Metrics(generation)
        app.extensions["ivr.metrics"] = metrics
        app.extensions["ivr.metrics_token"] = settings.metrics_token.encode("utf-8")
        app.wsgi_app = metrics.wrap(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(bp)


def count_fallback(reason: str, extensions: Mapping[str, Any] | None = None) -> None:
    """The static fallback was answered: Twilio's Fallback URL, or a webhook's error.
    `extensions`: the app's, where no request context is pushed (ivr/serve/fast_webhooks.py)."""
    _count(lambda metrics: metrics.fallback(reason), extensions)


def count_refusal(reason: str, extensions: Mapping[str, Any] | None = None) -> None:
    """A request was refused (403) for its signature."""
    _count(lambda metrics: metrics.refused(reason), extensions)


def _count(add: Callable[[Metrics], None], extensions: Mapping[str, Any] | None) -> None:
    # Off the hot path, and often in an error path: a figure lost beats an answer lost.
    metrics = (current_app.extensions if extensions is None else extensions).get("ivr.metrics")
    if metrics is not None:
        try:
            add(metrics)
        except Exception as error:
            log.warning("could not count a figure: %s", type(error).__name__)


@bp.route("/ready", methods=["GET"])
def ready() -> Response:
    failed = [name for name, check in current_app.extensions[READY_CHECKS].items() if not _passes(name, check)]
    details = "".join(f"{name}: {_detail(name, detail)}\n"
                      for name, detail in current_app.extensions[READY_DETAILS].items())
    if failed:
        return Response(f"not ready: {', '.join(failed)}\n{details}", 503, content_type=TEXT)
    return Response(f"ready\n{details}", 200, content_type=TEXT)


def _detail(name: str, detail: Callable[[], str]) -> str:
    try:
        return detail()
    except Exception as error:
        log.warning("readiness detail %s failed with %s", name, type(error).__name__)
        return "unknown"


def _passes(name: str, check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception as error:  # a check that breaks means "not ready", never a 500
        log.warning("readiness check %s failed with %s", name, type(error).__name__)
        return False


@bp.route("/metrics", methods=["GET"])
def metrics() -> Response:
    token: bytes | None = current_app.extensions.get("ivr.metrics_token")
    if token is None:
        return Response("Not Found\n", 404, content_type=TEXT)
    if not hmac.compare_digest(_bearer(request.headers.get("Authorization", "")), token):
        return Response("Forbidden\n", 403, content_type=TEXT)
    body, content_type = current_app.extensions["ivr.metrics"].exposition()
    return Response(body, 200, content_type=content_type)


def _bearer(header: str) -> bytes:
    """The token of `Authorization: Bearer <token>`; empty for anything else."""
    scheme, _, token = header.partition(" ")
    return token.strip().encode("utf-8", "replace") if scheme.lower() == "bearer" else b""
