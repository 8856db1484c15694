"""`ivr serve` exposed on its own: faults an operator can cause, and what the log may carry.

- A reload that goes wrong in any way (a value of the wrong type, a YAML alias bomb, a file that
  hangs on read) leaves the service answering with the last good config, and the master keeps
  supervising its workers while the loader hangs (it loads in a child process, time-limited).
- YAML aliases and anchors are refused with file, key path and line.
- A bad IVR_NOW or IVR_RELOAD_TIMEOUT stops `ivr serve` before the port opens.
- No log line carries a query string or a caller's field, whatever fails at gunicorn's level.

Servers are started with the helpers of test_reload.py; every wait is bounded.
"""
from __future__ import annotations

import io
import logging
import os
import re
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gunicorn.config import Config as GunicornConfig
from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.http import RequestParser

from ivr.serve import gunicorn_worker
from ivr.config.yamlfile import read_yaml
from test_reload import (WAIT, _env, _free_port, _ivr_command, _port_open, _voice_greeting,
                         config_copy, start_server)  # noqa: F401 (fixtures)

CALLER = "+4917699887766"
CALLER_DIGITS = CALLER.lstrip("+")
CALLER_QUERY = f"From=%2B{CALLER_DIGITS}&Caller=%2B{CALLER_DIGITS}&CallerCity=Quedlinburg&To=%2B4930123456789"


def _children(pid: int) -> set[int]:
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _alias_bomb(levels: int = 12) -> str:
    """Nested aliases: a few hundred bytes that would expand to 10**levels strings."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels + 1):
        lines.append(f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def _set_start(data: Path, value: str) -> None:
    path = data / "menu.yaml"
    text, count = re.subn(r"^start:.*$", f"start: {value}", path.read_text(encoding="utf-8"), count=1,
                          flags=re.MULTILINE)
    assert count == 1
    path.write_text(text, encoding="utf-8")


# -- reload faults ---------------------------------------------------------------------------

def test_a_wrong_typed_value_or_an_alias_bomb_and_sighup_keep_the_old_config(config_copy, start_server):
    data, prompts = config_copy
    server = start_server(_env(data, prompts), "--dev", "--workers", "1")
    server.wait_healthy()
    original = _voice_greeting(server)

    # valid YAML, wrong type: `start` must name a node
    _set_start(data, "[main]")
    server.proc.send_signal(signal.SIGHUP)
    server.wait_until("the failed reload in the log",
                      lambda: re.search(r"reload (refused|failed), still serving the last good config", server.log()))
    assert _voice_greeting(server) == original

    # an alias bomb: refused at once, named with file, key path and line
    _set_start(data, "main")
    menu = data / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8") + _alias_bomb(), encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    log = server.wait_until("the refused alias bomb",
                            lambda: "uses a YAML alias" in server.log() and server.log())
    assert re.search(r"menu\.yaml: lol1\[0\]: uses a YAML alias \(\*lol0\); aliases are not allowed in this "
                     r"file, write the value out \(line \d+\)", log), log[-2000:]

    deadline = time.monotonic() + 2.0  # old and new workers alike answer with the last good config
    while time.monotonic() < deadline:
        assert _voice_greeting(server) == original
        time.sleep(0.1)
    assert server.proc.poll() is None, "the master died on a broken reload"
    assert "Traceback" not in server.log()
    assert server.stop() == 0


def test_a_hung_read_times_out_while_the_master_keeps_supervising(config_copy, start_server):
    data, prompts = config_copy
    server = start_server(_env(data, prompts, IVR_RELOAD_TIMEOUT="6"), "--dev", "--workers", "1")
    server.wait_healthy()
    original = _voice_greeting(server)
    master = server.proc.pid

    hotlines = data / "hotlines.yaml"
    hotlines.unlink()
    os.mkfifo(hotlines)  # opening it for reading waits for a writer that never comes
    server.proc.send_signal(signal.SIGHUP)
    started = server.wait_until("the loader's pid", lambda: re.search(
        r"reload: loading the configuration in process (\d+) \(time limit 6 s\)", server.log()))
    loader = int(started.group(1))
    workers = _children(master) - {loader}
    assert len(workers) == 1 and _alive(loader)

    # while the loader hangs, the master still replaces a worker that dies
    os.kill(workers.pop(), signal.SIGKILL)
    server.wait_until("a new worker", lambda: len(_children(master) - {loader}) == 1
                      and _voice_greeting(server) == original)
    assert "reload failed" not in server.log(), "the replacement came only after the time limit"
    assert _alive(loader)

    log = server.wait_until("the time limit", lambda: "reload failed" in server.log() and server.log())
    assert ("reload failed, still serving the last good config: loading did not finish within 6 s "
            "(a file that cannot be read, e.g. on a stuck mount?); the loader was stopped") in log
    server.wait_until("the loader to be gone", lambda: not _alive(loader))
    assert _voice_greeting(server) == original
    assert server.proc.poll() is None
    assert server.stop() == 0


def test_ivr_check_refuses_an_alias_bomb_at_once(config_copy, tmp_path):
    data, prompts = config_copy
    (data / "menu.yaml").write_text(_alias_bomb() + (data / "menu.yaml").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    # expanded, the bomb would take far longer than this bound: finishing within it is the test
    result = subprocess.run([*_ivr_command(), "check"], cwd=tmp_path, env=_env(data, prompts),
                            capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 1, result.stderr
    assert ("data/menu.yaml: lol1[0]: uses a YAML alias (*lol0); aliases are not allowed in this file, "
            "write the value out (line 2)") in result.stderr
    assert "Traceback" not in result.stderr


ALIAS_CASES = [
    ("lines:\n  - hours: &week {mon: \"09:00-17:00\"}\n  - hours: *week\n", "lines[1].hours", "alias (*week)", 3),
    ("base: &base {a: 1}\nnode:\n  <<: *base\n", "node.<<", "alias (*base)", 3),
    ("nodes:\n  main:\n    say: [greeting, &x menu]\n", "nodes.main.say[1]", "anchor (&x)", 3),
    ("a:\n  - [1, 2]\n  - {b: [x, *y]}\n", "a[1].b[1]", "alias (*y)", 3),
    ("? [complex, key]\n: 1\nz: &z 2\n", "z", "anchor (&z)", 3),
]


@pytest.mark.parametrize("text, path, what, line", ALIAS_CASES)
def test_aliases_and_anchors_are_refused_with_path_and_line(tmp_path, text, path, what, line):
    file = tmp_path / "x.yaml"
    file.write_text(text, encoding="utf-8")
    doc = read_yaml(file, "data/x.yaml")
    assert doc.data is None and len(doc.errors) == 1
    error = doc.errors[0]
    assert (error.file, error.path, error.line) == ("data/x.yaml", path, line)
    kind = what.split()[0]
    assert error.message.startswith(f"{'uses' if kind == 'alias' else 'defines'} a YAML {what}; ")
    assert error.message.endswith("not allowed in this file, write the value out")


def test_a_file_without_aliases_reads_as_before(tmp_path):
    file = tmp_path / "x.yaml"
    file.write_text("a: [1, {b: '*not-an-alias', c: '&nor anchor'}]\n", encoding="utf-8")
    doc = read_yaml(file, "x.yaml")
    assert doc.errors == [] and doc.data == {"a": [1, {"b": "*not-an-alias", "c": "&nor anchor"}]}


# -- settings checked before the port opens ---------------------------------------------------

@pytest.mark.parametrize("name, value, message", [
    ("IVR_NOW", "garbage", "IVR_NOW: 'garbage' is not a time; expected ISO 8601 like 2026-11-24T15:30, "
                           "2026-11-24T15:30+01:00 or 2026-11-24T14:30Z. Unset IVR_NOW to use the real clock."),
    ("IVR_RELOAD_TIMEOUT", "soon", "IVR_RELOAD_TIMEOUT: 'soon' is not a time limit; expected seconds "
                                   "between 0 and 3600, e.g. 30"),
])
def test_a_bad_setting_stops_serve_before_the_port_opens(config_copy, tmp_path, name, value, message):
    data, prompts = config_copy
    port = _free_port()
    env = _env(data, prompts)
    env[name] = value
    result = subprocess.run([*_ivr_command(), "serve", "--dev", "--port", str(port), "--workers", "1"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == message
    assert "Listening at" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not _port_open(port)


# -- no request data in any log line ---------------------------------------------------------

def _raw(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or `wait` passes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except socket.timeout:
            pass
        return b"".join(chunks)


def test_requests_failing_at_gunicorns_level_log_no_caller_field(config_copy, start_server):
    data, prompts = config_copy
    server = start_server(_env(data, prompts), "--dev", "--workers", "1")
    server.wait_healthy()

    # a GET webhook as Twilio sends it: answered, the number only in the query
    status, _, body = server.request("GET", f"/voice?{CALLER_QUERY}")
    assert status == 200 and body.startswith(b"<?xml")

    # a byte gunicorn refuses in the request line (an unencoded umlaut): its warning quotes the line
    answer = _raw(server.port, f"GET /voice?{CALLER_QUERY}&CallerState=Thüringen HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400 ")
    server.wait_until("gunicorn's warning", lambda: "Invalid HTTP request line" in server.log())

    # a body shorter than its Content-Length, and shutdown meanwhile: the worker waits for the
    # request until its deadline, then drops it; no answer, no 500, and the server exits cleanly
    stalled = (f"GET /dialed?n=who&l=de&{CALLER_QUERY} HTTP/1.1\r\nHost: x\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nDigits=1").encode()
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(_raw, server.port, stalled, gunicorn_worker.BODY_TIMEOUT + 5)
        time.sleep(0.5)
        assert server.stop() == 0
        assert answer.result() == b""

    log = server.log()
    assert "Invalid request from ip=127.0.0.1: Invalid HTTP request line: 'GET /voice?[query removed] HTTP/1.1'" in log
    for value in (CALLER_DIGITS, "Quedlinburg", "Th\u00fcringen", "CallerCity"):
        assert value not in log, f"the log carries {value!r}"
    assert "Traceback" not in log and " 500 " not in log


@pytest.fixture
def gunicorn_logs():
    """gunicorn's error log as its loggers write it (to a buffer); filters removed afterwards."""
    stream = io.StringIO()
    cfg = GunicornConfig()
    cfg.set("errorlog", "-")
    yield cfg, stream
    for logger in (logging.getLogger("gunicorn.error"), logging.getLogger("gunicorn.access")):
        for target in (logger, *logger.handlers):
            for f in [f for f in target.filters if isinstance(f, gunicorn_worker.NoRequestData)]:
                target.removeFilter(f)


def _error_handling_request(cfg: GunicornConfig, logger_class: type, stream: io.StringIO) -> str:
    """gunicorn's own "Error handling request" path for a GET webhook: a real request parsed by
    gunicorn, a worker's handle_error, the logger class given."""
    logger = logger_class(cfg)
    for handler in logger.error_log.handlers:
        handler.setStream(stream)
    client, server_side = socket.socketpair()
    try:
        client.sendall(f"GET /voice?{CALLER_QUERY} HTTP/1.1\r\nHost: helpline.example.org\r\n\r\n".encode())
        request = next(RequestParser(cfg, server_side, ("127.0.0.1", 5555)))
        worker = gunicorn_worker.HelplineWorker(0, os.getpid(), [], None, 10, cfg, logger)
        try:
            raise SystemExit(1)  # what a worker aborted mid-request raises
        except SystemExit as exc:
            worker.handle_error(request, server_side, ("127.0.0.1", 5555), exc)
        assert client.recv(100).startswith(b"HTTP/1.1 500 ")
    finally:
        client.close()
        server_side.close()
    return stream.getvalue()


def test_gunicorns_error_line_would_carry_the_number(gunicorn_logs):
    """The line as gunicorn writes it: what the filter is for (and proof the next test can fail)."""
    cfg, stream = gunicorn_logs
    text = _error_handling_request(cfg, GunicornLogger, stream)
    assert f"Error handling request GET /voice?From=%2B{CALLER_DIGITS}" in text


def test_the_private_logger_removes_query_and_number(gunicorn_logs):
    cfg, stream = gunicorn_logs
    text = _error_handling_request(cfg, gunicorn_worker.PrivateLogger, stream)
    assert "Error handling request GET /voice?[query removed]" in text
    assert "SystemExit: 1" in text  # the traceback is kept, scrubbed
    assert CALLER_DIGITS not in text and "Quedlinburg" not in text


@pytest.mark.parametrize("text, expected", [
    ("Error handling request GET /voice?From=%2B4917699887766&To=x", "Error handling request GET /voice?[query removed]"),
    ("'GET /menu?n=main&l=de&From=+4917699887766 HTTP/1.1'", "'GET /menu?[query removed] HTTP/1.1'"),
    ("body From=+4917699887766&Caller=+4917699887766 seen", "body [fields removed] seen"),
    ("dialled +4917699887766", "dialled [number removed]"),
    ("unknown key 'closure' (did you mean 'closures'?); expected one of ...",
     "unknown key 'closure' (did you mean 'closures'?); expected one of ..."),
    ("Booting worker with pid: 4242", "Booting worker with pid: 4242"),
    ("clock pinned to 2026-11-24T16:30:00+01:00", "clock pinned to 2026-11-24T16:30:00+01:00"),
    # numbers as people type them, e.g. into the console's name field
    ("console login: 004917699887766", "console login: [number removed]"),
    ("console login: 0049 176 99887766", "console login: [number removed]"),
    ("console login: 01769988776", "console login: [number removed]"),
    ("name '0176/99887766' and 030-1234567", "name '[number removed]' and [number removed]"),
    ("answered in 0.0025 s from 10.0.0.12:8000 (worker 012)", "answered in 0.0025 s from 10.0.0.12:8000 (worker 012)"),
    ("2026-12-04 09:05:01,004 INFO closed until 2026-12-04T18:00", "2026-12-04 09:05:01,004 INFO closed until 2026-12-04T18:00"),
])
def test_scrub(text, expected):
    assert gunicorn_worker.scrub(text) == expected


# -- slow and idle clients -------------------------------------------------------------------

def test_the_body_limit_is_the_webhooks_own():
    from ivr.serve import web
    assert gunicorn_worker.BODY_LIMIT == web.MAX_BODY


def test_slow_and_idle_connections_do_not_hold_up_a_call(config_copy, start_server):
    """One worker, 40 connections sending headers a byte at a time and 40 saying nothing: a call
    is still answered, and the server drops both kinds after its header deadline."""
    data, prompts = config_copy
    server = start_server(_env(data, prompts), "--dev", "--workers", "1")
    server.wait_healthy()
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) for _ in range(40)]
    slow = [socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) for _ in range(40)]
    header = b"POST /voice HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    try:
        opened = time.monotonic()
        for byte in header[:3]:
            for sock in slow:
                sock.sendall(bytes([byte]))
            time.sleep(0.2)
        for _ in range(5):  # a call, while all 80 are held open (http.client waits at most 5 s)
            status, _, body = server.post("/voice", [("To", "+4930123456789")])
            assert status == 200 and b"<Gather" in body
        for sock in idle + slow:  # each dropped by the server: end of stream, no answer
            assert sock.recv(100) == b""
        assert time.monotonic() - opened < WAIT
    finally:
        for sock in idle + slow:
            sock.close()
    assert "Traceback" not in server.log()


def test_a_client_that_expects_100_continue_gets_it_before_the_body(config_copy, start_server):
    data, prompts = config_copy
    server = start_server(_env(data, prompts), "--dev", "--workers", "1")
    server.wait_healthy()
    body = b"To=%2B4930123456789&Digits=1"
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(b"POST /voice HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: "
                     b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"100 Continue" not in answer


def test_a_chunked_body_over_the_limit_gets_413(config_copy, start_server):
    data, prompts = config_copy
    server = start_server(_env(data, prompts), "--dev", "--workers", "1")
    server.wait_healthy()
    # one byte over the limit, so that the server reads all that was sent (a close with unread
    # bytes would be a reset, which can overtake the answer)
    chunk = b"x" * (gunicorn_worker.BODY_LIMIT - 4000)
    chunks = b"%x\r\n%s\r\n" % (len(chunk), chunk) + b"fa1\r\n" + b"y" * 4001 + b"\r\n0\r\n\r\n"
    answer = _raw(server.port, b"POST /voice HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                               b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + chunks)
    assert answer.startswith(b"HTTP/1.1 413 ")
    status, _, body = server.post("/voice", [("To", "+4930123456789")])
    assert status == 200
