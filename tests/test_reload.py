"""The real server: `ivr serve` under gunicorn, as a deployer runs it.

Starts `ivr serve` as a subprocess on a free port with a copy of data/ and prompts/ in tmp_path,
then: SIGHUP with an edited prompt serves the new words; SIGHUP with a broken file is refused
(logged with the file's name) and the last good words are still served. Start-up refusals:
a broken config exits 1 before the port opens, no TWILIO_AUTH_TOKEN without --dev exits 2.
With a token and a public URL (TLS ending at a proxy), the signature is checked on the URL exactly
as requested, through gunicorn's own request parsing.

Every wait is bounded (WAIT seconds), so a hanging server fails the test instead of CI.
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.config.settings import bundled_dir
from ivr.config.errors import ConfigInvalid
from ivr.config.loading import load_config

WAIT = 15.0  # seconds: the bound on every wait for the server
TOKEN = "reload-test-token"
PUBLIC_URL = "https://helpline.example.org"
SERVICE_NUMBER = "+4930123456789"
PINNED_NOW = "2026-11-24T16:30"  # a Tuesday afternoon: lines are open


def _ivr_command() -> list[str]:
    script = Path(sys.executable).with_name("ivr")
    if script.exists():
        return [str(script)]
    found = shutil.which("ivr")
    return [found] if found else [sys.executable, "-c", "from ivr.cli.main import main; main()"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def config_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the bundled data/ and prompts/, free to edit and break."""
    data, prompts = tmp_path / "data", tmp_path / "prompts"
    shutil.copytree(bundled_dir("data"), data)
    shutil.copytree(bundled_dir("prompts"), prompts)
    return data, prompts


def _env(data: Path, prompts: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL", "IVR_NOW", "WEB_CONCURRENCY")}
    env.update(IVR_DATA_DIR=str(data), IVR_PROMPTS_DIR=str(prompts), IVR_NOW=PINNED_NOW,
               PYTHONUNBUFFERED="1", **extra)
    return env


class Server:
    """`ivr serve` in its own process group; stderr goes to a file the test can read."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str, ivr: list[str] | None = None) -> None:
        self.port = _free_port()
        self.log_path = workdir / f"serve-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [*(ivr or _ivr_command()), "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_until(self, what: str, condition, timeout: float = WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited ({self.proc.returncode}) while waiting for {what}:\n{self.log()}")
            try:
                result = condition()
            except OSError:
                result = None
            if result:
                return result
            time.sleep(0.1)
        pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}; server log:\n{self.log()}")

    def wait_healthy(self) -> None:
        self.wait_until("/health", lambda: self.request("GET", "/health")[0] == 200)

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
        """One request with the path sent exactly as given (no re-quoting)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
            conn.request(method, path, body=body if method != "GET" else None, headers=all_headers)
            response = conn.getresponse()
            return response.status, response.getheader("Content-Type", ""), response.read()
        finally:
            conn.close()

    def post(self, path: str, form: list[tuple[str, str]], signature: str | None = None):
        headers = {"X-Twilio-Signature": signature} if signature is not None else {}
        return self.request("POST", path, urlencode(form).encode(), headers)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group, nothing else
                self.proc.wait(timeout=WAIT)
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def start_server(tmp_path: Path):
    servers: list[Server] = []

    def start(env: dict[str, str], *args: str) -> Server:
        server = Server(tmp_path, env, *args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _greeting(body: bytes) -> str:
    """The words of the first <Say> of /voice (the greeting)."""
    root = ET.fromstring(body)
    assert root.tag == "Response"
    say = next(root.iter("Say"))
    assert say.get("language") == "de-DE"
    return " ".join("".join(say.itertext()).split())


def _voice_greeting(server: Server) -> str:
    status, content_type, body = server.post("/voice", [("To", SERVICE_NUMBER), ("From", "+4917600000000")])
    assert status == 200, body[:300]
    assert content_type.startswith("text/xml")
    return _greeting(body)


def _edit_greeting(prompts: Path, marker: str) -> None:
    """Put `marker` in place of the first word of the German greeting, keeping its placeholders."""
    path = prompts / "de.yaml"
    text = path.read_text(encoding="utf-8")
    first_word = yaml.safe_load(text)["prompts"]["greeting"].split()[0]
    at = text.index("greeting:")
    at = text.index(first_word, at)
    path.write_text(text[:at] + marker + text[at + len(first_word):], encoding="utf-8")


def _break_hours(data: Path) -> None:
    """An hour that does not exist: "25:00"."""
    path = data / "hotlines.yaml"
    text, count = re.subn(r'^(\s+[a-z-]+:\s*)"\d\d:\d\d-', r'\1"25:00-', path.read_text(encoding="utf-8"),
                          count=1, flags=re.MULTILINE)
    assert count == 1, "no opening hours found to break"
    path.write_text(text, encoding="utf-8")


def test_sighup_reloads_a_good_config_and_refuses_a_broken_one(config_copy, start_server):
    data, prompts = config_copy
    server = start_server(_env(data, prompts), "--dev", "--workers", "1")
    server.wait_healthy()
    original = _voice_greeting(server)
    assert original and "Probeansage" not in original

    # an operator edits a prompt and sends SIGHUP: the next calls hear the new words
    _edit_greeting(prompts, "Probeansage")
    load_config(data, prompts)  # the edit itself is valid
    server.proc.send_signal(signal.SIGHUP)
    # (until the old worker has stopped accepting, up to a second, either may answer)
    greeting = server.wait_until("the edited greeting",
                                 lambda: "Probeansage" in (words := _voice_greeting(server)) and words)
    assert greeting.startswith("Probeansage")

    # a broken file and SIGHUP: refused, logged with the file, the last good words still served
    _break_hours(data)
    with pytest.raises(ConfigInvalid):
        load_config(data, prompts)
    server.proc.send_signal(signal.SIGHUP)
    log = server.wait_until("the refused reload in the log",
                            lambda: "reload refused" in server.log() and server.log())
    refused = log[log.index("reload refused"):]
    assert "hotlines.yaml" in refused and "25:00" in refused, refused[:1000]
    deadline = time.monotonic() + 2.0  # old and new workers alike answer with the last good config
    while time.monotonic() < deadline:
        assert _voice_greeting(server).startswith("Probeansage")
        time.sleep(0.1)
    assert server.proc.poll() is None, "the server died on a broken reload"
    assert "IVR_NOW" in server.log()  # the pinned clock is never silent

    assert server.stop() == 0


def test_serve_with_a_broken_config_exits_1_before_the_port_opens(config_copy, tmp_path):
    data, prompts = config_copy
    _break_hours(data)
    port = _free_port()
    result = subprocess.run([*_ivr_command(), "serve", "--dev", "--port", str(port), "--workers", "1"],
                            cwd=tmp_path, env=_env(data, prompts), capture_output=True, text=True,
                            timeout=WAIT)
    assert result.returncode == 1, result.stderr
    assert "problem" in result.stderr and "hotlines.yaml" in result.stderr and "25:00" in result.stderr
    assert "Listening at" not in result.stdout + result.stderr  # gunicorn never started
    assert not _port_open(port)


def test_serve_without_a_token_and_without_dev_refuses(config_copy, tmp_path):
    data, prompts = config_copy
    port = _free_port()
    result = subprocess.run([*_ivr_command(), "serve", "--port", str(port)], cwd=tmp_path,
                            env=_env(data, prompts), capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 2, result.stderr
    assert "TWILIO_AUTH_TOKEN" in result.stderr and "--dev" in result.stderr
    assert "Listening at" not in result.stdout + result.stderr
    assert not _port_open(port)


# -- signatures through gunicorn, behind a TLS-terminating proxy ----------------------------

def _sign(url: str, form: list[tuple[str, str]]) -> str:
    return RequestValidator(TOKEN).compute_signature(url, MultiDict(form))


@pytest.fixture
def signed_server(config_copy, start_server) -> Server:
    data, prompts = config_copy
    server = start_server(_env(data, prompts, TWILIO_AUTH_TOKEN=TOKEN, IVR_PUBLIC_URL=PUBLIC_URL),
                          "--workers", "1")
    server.wait_healthy()
    return server


ODD_PATHS = [
    "/voice",
    "/menu?n=main&l=de&x=%C3%BC%E2%82%AC%F0%9F%92%A5",
    "/menu?n=who&l=de&to=%2B4930123456&plus=+49+30",
    "/menu?n=main&l=en&q=a%20b&q=c+d",
    "/dialed?n=who&l=de&a=adult&t=hateaid%2Cabuse-helpline",
    "/dialed?n=who&l=de&a=adult&t=hateaid,abuse-helpline",
]


def test_signatures_through_gunicorn_and_a_tls_proxy(signed_server):
    server = signed_server
    form = [("To", SERVICE_NUMBER), ("From", "+4917600000000"), ("Digits", "1"), ("DialCallStatus", "busy")]
    internal = f"http://127.0.0.1:{server.port}"
    for path in ODD_PATHS:
        status, content_type, body = server.post(path, form, _sign(PUBLIC_URL + path, form))
        assert status == 200, (path, body[:200])
        assert content_type.startswith("text/xml") and ET.fromstring(body).tag == "Response"
        # what the app sees (http, internal address) is not what Twilio signed
        assert server.post(path, form, _sign(internal + path, form))[0] == 403, path
        assert server.post(path, form)[0] == 403, path
        assert server.post(path, form, "")[0] == 403, path
    # the same query, encoded differently, is another URL
    assert server.post("/menu?n=main&l=en&q=a+b", form, _sign(PUBLIC_URL + "/menu?n=main&l=en&q=a%20b", form))[0] == 403
    assert server.request("GET", "/health")[0] == 200
    assert server.proc.poll() is None


def test_an_oversized_body_gets_413_through_gunicorn(signed_server):
    form = [("To", SERVICE_NUMBER), ("Junk", "x" * (64 * 1024))]
    status, _, _ = signed_server.post("/voice", form, _sign(PUBLIC_URL + "/voice", form))
    assert status == 413
    assert signed_server.request("GET", "/health")[0] == 200  # and the worker lives on
