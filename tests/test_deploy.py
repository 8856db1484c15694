"""deploy/: the shipped nginx site passes `nginx -t`, and a signed call goes through it to
`ivr serve` over TLS; /metrics is not exposed; oversized bodies stop at nginx; the systemd unit
starts what the README says.

nginx comes from Debian's packages (.ci/run installs it, with openssl): in CI nothing here is
skipped. On a machine without nginx the nginx tests skip and say how to install it.
"""
from __future__ import annotations

import configparser
import http.client
import os
import shlex
import ssl
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


@pytest.fixture
def nginx() -> str:
    found = local_nginx.nginx_binary()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed; .ci/run installs it (apt-get install -y nginx)")
        pytest.skip("nginx is not installed (Debian: apt-get install -y nginx openssl)")
    return found


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
        assert _https(https_port, "POST", "/voice", body)[0] == 403  # unsigned

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
    assert {"TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL"} <= names
