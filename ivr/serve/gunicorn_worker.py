"""The gunicorn parts that meet the internet: a worker that slow clients cannot tie up, and a
log that never carries request data.

The webhook URL is public. gunicorn's sync workers hold one connection each for as long as the
client takes, so two sockets sending a byte a second silence the line. gevent workers give each
connection a greenlet (a few KB): thousands of slow or idle connections cost almost nothing,
and every connection runs under a deadline:
- headers: gunicorn's gevent worker reads each request's headers under a gevent.Timeout of
  `keepalive` seconds (also the wait for a first byte), then drops the connection silently;
- body: this worker reads the whole body (at most a Twilio form's size) under BODY_TIMEOUT
  before the app runs. A client that stalls is dropped: no 500, no traceback, and the app
  never waits on a socket.

This module imports nothing from the rest of `ivr`, so bench/bare_app.py can run with the very
same worker without loading the helpline."""
from __future__ import annotations

import io
import logging
import re
import sys

import gevent
from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.http.body import Body
from gunicorn.workers.ggevent import GeventWorker

BODY_TIMEOUT = 5.0  # seconds for a whole body; Twilio sends a form of a few KB at once
# The most a body is buffered: ivr.serve.web.MAX_BODY (a test holds the two equal). A longer body
# announced by Content-Length is left to the app, which answers 413 without reading it.
BODY_LIMIT = 64 * 1024


class HelplineWorker(GeventWorker):
    """gevent worker that buffers each request body under a deadline before the app sees it."""

    def init_process(self) -> None:
        sys.unraisablehook = _quiet_while_finalizing
        super().init_process()

    def handle_request(self, listener_name, req, sock, addr):  # type: ignore[no-untyped-def]
        if not self._buffer_body(req, sock):
            # StopIteration is gunicorn's "close this connection" (logged at debug level only)
            raise StopIteration("request body not received in time")
        return super().handle_request(listener_name, req, sock, addr)

    def _buffer_body(self, req, sock) -> bool:  # type: ignore[no-untyped-def]
        """Read the body into memory within BODY_TIMEOUT; False when the client stalls or the
        body is too long to be Twilio's (413 sent then)."""
        length = _content_length(req)
        if req.body is None or length == 0 or (length is not None and length > BODY_LIMIT):
            return True
        if getattr(req, "_expected_100_continue", False):
            # The client waits for this before it sends the body; gunicorn would send it only
            # once the app reads, which is after our read: send it now, and only once.
            util.write(sock, b"HTTP/1.1 100 Continue\r\n\r\n")
            req._expected_100_continue = False
        deadline = gevent.Timeout(BODY_TIMEOUT)
        deadline.start()
        try:
            data = req.body.read(BODY_LIMIT + 1)
        except gevent.Timeout as expired:
            if expired is not deadline:
                raise
            return False
        finally:
            deadline.close()
        if len(data) > BODY_LIMIT:  # chunked, no length announced, and too long
            util.write_error(sock, 413, "Payload Too Large", "")
            return False
        req.body = Body(io.BytesIO(data))
        return True


def _quiet_while_finalizing(unraisable: "sys.UnraisableHookArgs") -> None:
    """When a worker exits, the interpreter tears down gevent's patched thread module before
    logging drops its handler references, and logging's cleanup then fails (a traceback for
    nothing, in the log of every worker stop). Only reports raised while finalizing are dropped."""
    if not sys.is_finalizing():
        sys.__unraisablehook__(unraisable)


def _content_length(req) -> int | None:  # type: ignore[no-untyped-def]
    for name, value in req.headers:
        if name == "CONTENT-LENGTH":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# -- the log ---------------------------------------------------------------------------------

# A query string (after a path or URL), form-encoded pairs, and phone numbers: as Twilio writes
# them (+49..., or %2B49... inside a URL; for GET webhooks Twilio puts From and Caller in the
# query) and as people type them (0049 151 2345678, 0151/2345678, 030-1234567): 6 to 15 digits
# after a plus, 7 to 16 from a leading 0, single spaces, dashes or slashes between them. A 0
# right after a letter, digit, dot, colon, slash or dash starts no number: times, dates, network
# addresses and durations stay.
_QUERY = re.compile(r"(?<=[\w/])\?(?=[^\s'\"]*=)[^\s'\"]*")
_PAIRS = re.compile(r"\b\w+=[^\s&'\"]*(?:&\w+=[^\s&'\"]*)+")
_NUMBER = re.compile(r"(?:\+|%2[bB]|(?<![\w.:/-])0)\d(?:[ /-]?\d){5,14}")


def scrub(text: str) -> str:
    """The text without query strings, form pairs or phone numbers."""
    text = _QUERY.sub("?[query removed]", text)
    text = _PAIRS.sub("[fields removed]", text)
    return _NUMBER.sub("[number removed]", text)


class NoRequestData(logging.Filter):
    """Rewrites each record (message and traceback text) through `scrub` before any handler
    formats it, so gunicorn's "Error handling request GET /voice?...From=..." and the like
    never carry a caller's field."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_ivr_scrubbed", False):
            return True
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        record.exc_info = None  # formatted (and scrubbed) above: handlers use exc_text
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record._ivr_scrubbed = True
        return True


def _add_filter(target: logging.Logger | logging.Handler) -> None:
    if not any(isinstance(f, NoRequestData) for f in target.filters):
        target.addFilter(NoRequestData())


class PrivateLogger(Logger):
    """gunicorn's logger with NoRequestData on its error and access logs, and on the root
    logger's handlers (gunicorn.http.wsgi and the app's own loggers end there)."""

    def setup(self, cfg):  # type: ignore[no-untyped-def]
        super().setup(cfg)  # runs again on every reload, with fresh handlers
        for target in (self.error_log, self.access_log, *logging.getLogger().handlers):
            _add_filter(target)
