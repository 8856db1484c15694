"""The shipped nginx site (deploy/nginx-helpline.conf) run on loopback, for tests and the soak.

Only what cannot be the same on a test machine is changed: the listening ports, the upstream
port, the certificate (self-signed, made here with openssl), the error log path, the console's
allow-list (a copy in the test's folder), and the IPv6 listens when `ipv6` is false. Everything else (timeouts, buffering, headers, /metrics) is the
shipped file as it is. nginx runs as its own master in the foreground, with a private prefix.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx-helpline.conf"
CONSOLE_ALLOW = ROOT / "deploy" / "helpline-console-allow.conf"
HOST = "helpline.example.org"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for HOST (openssl, one day)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={HOST}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def site_for_loopback(folder: Path, *, https_port: int, http_port: int, upstream_port: int,
                      ipv6: bool = True, console_allow: str | None = None) -> Path:
    """The shipped site with loopback ports, a fresh certificate and logs inside `folder`; the
    console's allow-list is the shipped file, or `console_allow` in its place."""
    cert, key = self_signed_cert(folder)
    allow = folder / CONSOLE_ALLOW.name
    allow.write_text(CONSOLE_ALLOW.read_text(encoding="utf-8") if console_allow is None else console_allow,
                     encoding="utf-8")
    text = SITE.read_text(encoding="utf-8")
    replacements = [
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        (r"listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        (r"listen \[::\]:443 ssl;", f"listen [::1]:{https_port} ssl;" if ipv6 else ""),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen \[::\]:80;", f"listen [::1]:{http_port};" if ipv6 else ""),
        (r"ssl_certificate +/\S+;", f"ssl_certificate {cert};"),
        (r"ssl_certificate_key +/\S+;", f"ssl_certificate_key {key};"),
        (r"error_log /var/log/nginx/helpline\.error\.log", f"error_log {folder / 'site-error.log'}"),
        (r"include /etc/nginx/helpline-console-allow\.conf;", f"include {allow};"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text)
        if count != 1:
            raise ValueError(f"{SITE.name}: expected one {pattern!r}, found {count}")
    site = folder / "site.conf"
    site.write_text(text, encoding="utf-8")
    return site


def main_conf(folder: Path, site: Path, worker_connections: int = 4096) -> Path:
    """An nginx.conf of our own (pid, temp paths and logs inside `folder`) that includes `site`,
    as Debian's /etc/nginx/nginx.conf includes sites-enabled/."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir(exist_ok=True)
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers read files in `folder`
    conf = folder / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
worker_rlimit_nofile {worker_connections * 2 + 64};
events {{ worker_connections {worker_connections}; }}
http {{
    access_log off;
    client_body_temp_path {folder / 'body'};
    proxy_temp_path {folder / 'proxy'};
    fastcgi_temp_path {folder / 'fastcgi'};
    uwsgi_temp_path {folder / 'uwsgi'};
    scgi_temp_path {folder / 'scgi'};
    include {site};
}}
""", encoding="utf-8")
    return conf


def check(nginx: str, folder: Path, conf: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the configuration."""
    return subprocess.run([nginx, "-t", "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
                          capture_output=True, text=True, timeout=30)


class Nginx:
    """nginx in the foreground in its own process group, on the given configuration."""

    def __init__(self, nginx: str, folder: Path, conf: Path) -> None:
        self.log_path = folder / "nginx.out"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([nginx, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_port(self, port: int, timeout: float = 15.0) -> None:
        import socket
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited ({self.proc.returncode}): {self.log_path.read_text()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen on {port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish open requests
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group only
                self.proc.wait(timeout=15)
        self._log.close()
