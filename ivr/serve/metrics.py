"""Prometheus metrics of the webhooks, in prometheus_client's multiprocess mode: each gunicorn
worker (and the master, for reloads) writes its figures to files in PROMETHEUS_MULTIPROC_DIR,
and /metrics adds them up over all of them, dead workers' counts included.

Labels are fixed words only (the webhook's name, the HTTP status, a reason): never a path, a
query or a form field, so nothing of a caller can reach a series. On only when IVR_METRICS_TOKEN
is set (ivr/serve/ops.py serves them); otherwise nothing here is even imported.

prometheus_client picks its storage when it is first imported: `multiprocess_dir` sets the
directory in the master before anything imports it, so import it lazily everywhere here."""
from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import tempfile
from time import perf_counter
from typing import TYPE_CHECKING, Any, Iterable, Iterator

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("ivr.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The webhooks by path; any other path (a scanner's guess) is counted as "other", and the
# operations endpoints (/health, /ready, /metrics) not at all: probes would drown the calls.
WEBHOOK_PATHS = {"/voice": "voice", "/menu": "menu", "/dialed": "dialed", "/fallback": "fallback"}
NOT_MEASURED = frozenset({"/health", "/ready", "/metrics"})
OTHER = "other"
# Webhooks answer in milliseconds; Twilio gives up after 15 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
RELOAD_RESULTS = ("ok", "failed")
EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text format
# Twilio called the Fallback URL (signed: a primary handler failed); a webhook failed; /fallback
# fetched without Twilio's signature (anyone may read the public numbers: no alarm).
FALLBACK_REASONS = ("fallback_url", "error", "unsigned")
REFUSAL_REASONS = ("signature", "shared_key")  # a missing or wrong signature; an unusable SharedKey


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def _reload_counter(registry: Any) -> Any:
    from prometheus_client import Counter
    return Counter("ivr_config_reloads", "Configuration reloads (SIGHUP), by result: a failed one "
                   "keeps the last good configuration", ["result"], registry=registry)


class Metrics:
    """One process's metrics. In multiprocess mode the figures go to files that `exposition`
    reads for all processes; otherwise (tests, a single process) to this object's registry."""

    def __init__(self, generation: int = 1) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
        disable_created_metrics()  # the same series with and without multiprocess mode
        self.registry = CollectorRegistry()
        own = None if multiprocess() else self.registry  # multiprocess: the files are the registry
        if multiprocess():
            from prometheus_client.multiprocess import MultiProcessCollector
            MultiProcessCollector(self.registry)
        self.requests = Counter("ivr_requests", "Webhook requests answered, by webhook and HTTP status",
                                ["webhook", "status"], registry=own)
        self.latency = Histogram("ivr_request_duration_seconds", "Time to answer a webhook, in seconds",
                                 ["webhook"], buckets=LATENCY_BUCKETS, registry=own)
        self.fallbacks = Counter("ivr_fallback_answers", "Answers with the static fallback TwiML, by "
                                 "reason: Twilio's Fallback URL (signed), an error in a webhook, or an "
                                 "unsigned /fallback", ["reason"], registry=own)
        self.refusals = Counter("ivr_signature_refusals", "Requests refused with 403 for their "
                                "signature, by reason", ["reason"], registry=own)
        self.reloads = _reload_counter(own)
        # livemin: the oldest configuration that a live worker still serves; after a good reload
        # it rises once every old worker has been replaced.
        self.generation = Gauge("ivr_config_generation", "Generation of the configuration served: 1 "
                                "at start, one more for each reload that was accepted",
                                multiprocess_mode="livemin", registry=own)
        self.generation.set(generation)
        # Per line of the directory (ids from hotlines.yaml, nothing of a caller): dials in a row
        # without a talk, as every host shares them in the database. livemax: every worker reads
        # the same row; a dead worker's last value leaves the sum.
        self.unanswered = Gauge("ivr_line_unanswered_in_a_row", "Dials in a row to a line that ended "
                                "without a talk (busy, no answer, failed, a short completed); 0 after "
                                "a talk. From service.try_last_after on, the line is tried last",
                                ["line"], multiprocess_mode="livemax", registry=own)
        # Every series exists from the start (at 0), so that rates and alerts need no special case.
        for result in RELOAD_RESULTS:
            self.reloads.labels(result)
        self._fallbacks = {reason: self.fallbacks.labels(reason) for reason in FALLBACK_REASONS}
        self._refusals = {reason: self.refusals.labels(reason) for reason in REFUSAL_REASONS}
        self._latency = {name: self.latency.labels(name) for name in (*WEBHOOK_PATHS.values(), OTHER)}
        self._requests: dict[tuple[str, str], Any] = {}

    def lines_unanswered(self, line_ids: Iterable[str], runs: Any) -> None:
        """Every line's run as last read (0 for a line without one)."""
        for line in line_ids:
            run = runs.get(line)
            self.unanswered.labels(line).set(run.unanswered if run is not None else 0)

    def fallback(self, reason: str) -> None:
        self._fallbacks[reason].inc()

    def refused(self, reason: str) -> None:
        self._refusals[reason].inc()

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import generate_latest
        return generate_latest(self.registry), EXPOSITION_TYPE

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        """The WSGI app, timed and counted per webhook and status. This is the hot path: one
        dictionary lookup per figure, the label children resolved once."""
        paths, latency, requests = WEBHOOK_PATHS, self._latency, self._requests
        counter = self.requests

        def measured(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            webhook = paths.get(path)
            if webhook is None:
                if path in NOT_MEASURED:
                    return app(environ, start_response)
                webhook = OTHER
            started = perf_counter()
            statuses: list[str] = []

            def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
                statuses.append(status[:3])
                return start_response(status, headers, exc_info)

            body = app(environ, capture)
            latency[webhook].observe(perf_counter() - started)
            key = (webhook, statuses[-1] if statuses else "000")
            child = requests.get(key)
            if child is None:  # a few dozen combinations at most: statuses are the app's own
                child = requests[key] = counter.labels(*key)
            child.inc()
            return body

        return measured


_master_reloads: Any = None  # the master's own reload counter, made at its first reload


def count_reload(ok: bool) -> None:
    """In the master: one more reload, accepted or refused (only while metrics are on)."""
    global _master_reloads
    if not multiprocess():
        return
    if _master_reloads is None:
        _master_reloads = _reload_counter(None)
    _master_reloads.labels(RELOAD_RESULTS[0] if ok else RELOAD_RESULTS[1]).inc()


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook (in the master): a dead worker's live gauges leave the sum;
    its counts stay."""
    if multiprocess():
        from prometheus_client.multiprocess import mark_process_dead
        mark_process_dead(worker.pid)


@contextlib.contextmanager
def multiprocess_dir(enabled: bool) -> Iterator[str | None]:
    """Around `ivr serve`: the folder where every process writes its figures, set in the
    environment before the workers fork. A fresh temporary one (removed at the end) when
    PROMETHEUS_MULTIPROC_DIR is unset; a given one is emptied of earlier runs' files first, as
    prometheus_client requires."""
    if not enabled:
        yield None
        return
    given = os.environ.get(MULTIPROC_ENV)
    owner = os.getpid()
    if given:
        os.makedirs(given, exist_ok=True)
        stale = glob.glob(os.path.join(given, "*.db"))
        for path in stale:
            os.remove(path)
        if stale:
            log.info("metrics: removed %d files of an earlier run from %s", len(stale), given)
        yield given
        return
    path = tempfile.mkdtemp(prefix="ivr-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        # gunicorn's workers leave through this frame too (they are forked inside it)
        if os.getpid() == owner:
            shutil.rmtree(path, ignore_errors=True)
