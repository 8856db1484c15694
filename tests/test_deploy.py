"""deploy/: the shipped nginx site passes `nginx -t`, and a signed call goes through it to
`ivr serve` over TLS; /metrics is not exposed; the console is denied but to the networks of its
include file; HSTS on every answer; oversized bodies stop at nginx; the systemd unit passes
`systemd-analyze verify` and starts what the README says.

nginx and systemd-analyze come from Debian's packages (.ci/run installs them, with openssl): in
CI nothing here is skipped. On a machine without them these tests skip and say what to install.
"""
from __future__ import annotations

import configparser
import http.client
import os
import shlex
import shutil
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from test_reload import (PUBLIC_URL, SERVICE_NUMBER, TOKEN, _env, _free_port, _sign, config_copy,  # noqa: F401
                         start_server)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import local_nginx  # noqa: E402  (bench/local_nginx.py: the shipped site on loopback)

FORM = [("To", SERVICE_NUMBER), ("From", "+4917600000000"), ("CallSid", "CA0123")]


def _installed(found: str | None, program: str, packages: str) -> str:
    """The program's path; else a failure in CI (.ci/run installs it) or a skip that says how."""
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{program} is not installed; .ci/run installs it (apt-get install -y {packages})")
        pytest.skip(f"{program} is not installed (Debian: apt-get install -y {packages})")
    return found


@pytest.fixture
def nginx() -> str:
    return _installed(local_nginx.nginx_binary(), "nginx", "nginx openssl")


def test_the_shipped_nginx_site_passes_nginx_t(nginx, tmp_path):
    site = local_nginx.site_for_loopback(tmp_path, https_port=_free_port(), http_port=_free_port(),
                                         upstream_port=_free_port())
    result = local_nginx.check(nginx, tmp_path, local_nginx.main_conf(tmp_path, site))
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_the_shipped_site_has_what_the_issue_asks():
    text = local_nginx.SITE.read_text(encoding="utf-8")
    for directive in ("proxy_request_buffering on;", "client_header_timeout", "client_body_timeout",
                      "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "ssl_certificate ",
                      "access_log off;"):
        assert directive in text, directive


def _https(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request(method, path, body=body or None,
                     headers={"Host": local_nginx.HOST, "Content-Type": "application/x-www-form-urlencoded",
                              **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_a_signed_call_through_the_shipped_site(nginx, tmp_path, config_copy, start_server):
    data, prompts = config_copy
    assert PUBLIC_URL == f"https://{local_nginx.HOST}"
    server = start_server(_env(data, prompts, TWILIO_AUTH_TOKEN=TOKEN, IVR_PUBLIC_URL=PUBLIC_URL), "--workers", "1")
    server.wait_healthy()
    https_port, http_port = _free_port(), _free_port()
    folder = tmp_path / "nginx"
    folder.mkdir()
    site = local_nginx.site_for_loopback(folder, https_port=https_port, http_port=http_port,
                                         upstream_port=server.port, ipv6=False)
    proxy = local_nginx.Nginx(nginx, folder, local_nginx.main_conf(folder, site, worker_connections=256))
    try:
        proxy.wait_port(https_port)
        body = urlencode(FORM).encode()
        status, headers, answer = _https(https_port, "POST", "/voice", body,
                                         {"X-Twilio-Signature": _sign(PUBLIC_URL + "/voice", FORM)})
        assert status == 200 and headers["Content-Type"].startswith("text/xml"), answer[:300]
        assert b"<Gather" in answer
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert _https(https_port, "POST", "/voice", body)[0] == 403  # unsigned
        for path in ("/console/", "/console/login", "/console"):  # as shipped: nobody may open it
            status, headers, answer = _https(https_port, "GET", path)
            assert status == 403 and headers.get("Server", "").startswith("nginx"), (path, answer[:200])
            assert headers["Strict-Transport-Security"] == "max-age=31536000"

        status, headers, answer = _https(https_port, "GET", "/metrics")
        assert status == 404 and headers.get("Server", "").startswith("nginx")
        status, headers, _ = _https(https_port, "POST", "/voice", b"x=" + b"y" * (65 * 1024))
        assert status == 413 and headers.get("Server", "").startswith("nginx")

        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/voice", headers={"Host": local_nginx.HOST})
        redirect = plain.getresponse()
        assert redirect.status == 301 and redirect.getheader("Location") == f"https://{local_nginx.HOST}/voice"
        plain.close()
    finally:
        proxy.stop()
    assert "4917600000000" not in (folder / "error.log").read_text() + (folder / "nginx.out").read_text()


def test_the_console_opens_to_the_networks_in_the_include_file(nginx, tmp_path, config_copy, start_server):
    data, prompts = config_copy
    server = start_server(_env(data, prompts, TWILIO_AUTH_TOKEN=TOKEN, IVR_PUBLIC_URL=PUBLIC_URL), "--workers", "1")
    server.wait_healthy()
    https_port = _free_port()
    folder = tmp_path / "nginx"
    folder.mkdir()
    site = local_nginx.site_for_loopback(folder, https_port=https_port, http_port=_free_port(),
                                         upstream_port=server.port, ipv6=False,
                                         console_allow="allow 192.0.2.0/24;\nallow 127.0.0.1;\n")
    proxy = local_nginx.Nginx(nginx, folder, local_nginx.main_conf(folder, site, worker_connections=256))
    try:
        proxy.wait_port(https_port)
        status, headers, answer = _https(https_port, "GET", "/console/login")
        # through to ivr serve (started without IVR_SECRET_KEY: its console says it is off)
        assert status == 503 and b"The operators' console is off" in answer, answer[:300]
        assert headers["X-Frame-Options"] == "DENY" and headers["Strict-Transport-Security"] == "max-age=31536000"
    finally:
        proxy.stop()


def test_the_shipped_allow_list_allows_nobody():
    lines = [line.strip() for line in local_nginx.CONSOLE_ALLOW.read_text().splitlines()]
    assert [line for line in lines if line and not line.startswith("#")] == []
    assert "allow 192.0.2.0/24;" in local_nginx.CONSOLE_ALLOW.read_text()  # the documented example


@pytest.fixture
def systemd_analyze() -> str:
    return _installed(shutil.which("systemd-analyze"), "systemd-analyze", "systemd")


def test_the_systemd_unit_passes_systemd_analyze_verify(systemd_analyze, tmp_path):
    """The shipped unit, with only its program's path pointing at a stand-in (verify insists
    that ExecStart's file exists): any directive systemd cannot parse fails the test."""
    ivr = tmp_path / "opt" / "helpline" / "venv" / "bin" / "ivr"
    ivr.parent.mkdir(parents=True)
    ivr.write_text("#!/bin/sh\n")
    ivr.chmod(0o755)
    text = (ROOT / "deploy" / "helpline.service").read_text(encoding="utf-8")
    assert text.count("/opt/helpline/venv/bin/ivr") == 3
    unit = tmp_path / "helpline.service"
    unit.write_text(text.replace("/opt/helpline/venv/bin/ivr", str(ivr)), encoding="utf-8")
    result = subprocess.run([systemd_analyze, "verify", "--man=no", str(unit)], capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    broken = tmp_path / "broken.service"  # the check itself: a directive it cannot parse is reported
    broken.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSystem=stricter"))
    result = subprocess.run([systemd_analyze, "verify", "--man=no", str(broken)], capture_output=True,
                            text=True, timeout=60)
    assert "Failed to parse protect system value" in result.stderr


def test_the_unit_writes_only_to_its_state_directory_and_prepares_the_database():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(ROOT / "deploy" / "helpline.service")
    service = unit["Service"]
    assert service["ProtectSystem"] == "strict"
    assert service["StateDirectory"] == "helpline" and service["StateDirectoryMode"] == "0700"
    text = (ROOT / "deploy" / "helpline.service").read_text(encoding="utf-8")
    assert "Environment=IVR_STATE_DIR=/var/lib/helpline\n" in text  # systemd's StateDirectory=helpline
    starts = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStartPre=")]
    assert starts == ["/opt/helpline/venv/bin/ivr check", "/opt/helpline/venv/bin/ivr db upgrade"]


def test_the_systemd_unit_runs_ivr_serve_with_its_environment():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # keys are case-sensitive
    unit.read(ROOT / "deploy" / "helpline.service")
    service = unit["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/bin/ivr") and command[1] == "serve"
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "8000"  # the upstream of the nginx site
    assert "server 127.0.0.1:8000;" in local_nginx.SITE.read_text(encoding="utf-8")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    env_file = ROOT / "deploy" / "helpline.env"
    names = {line.split("=", 1)[0] for line in env_file.read_text().splitlines() if line and not line.startswith("#")}
    assert {"TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL", "IVR_SECRET_KEY"} <= names
