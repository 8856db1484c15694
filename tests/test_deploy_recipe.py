"""The README's production recipe, followed literally in a temporary root: every line of its
shell block runs (paths under /opt/helpline, /etc/helpline, /etc/nginx, /etc/systemd and
/var/lib/helpline moved into the root), except `useradd`, `systemctl` and `nginx -t`
(tests/test_deploy.py runs the site). `systemctl enable --now helpline` is played from the
installed unit: its Environment=, EnvironmentFile=, StateDirectory= and WorkingDirectory=, its
ExecStartPre= commands, then its ExecStart=. It ends with a signed call, a console login and
`ivr close` run the way the README says to run `ivr` on an installed host.

It installs from the lock file like tests/test_production_install.py (the package registry, as
`make test` itself needs; about a minute)."""
from __future__ import annotations

import configparser
import http.client
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode

from test_production_install import NOT_IN_A_CLONE, ROOT, SERVICE_NUMBER, TOKEN, _sign
from test_reload import Server

PUBLIC_URL = "https://helpline.example.org"
SYSTEM_PATHS = ("/opt/helpline", "/etc/helpline", "/etc/nginx", "/etc/systemd/system", "/var/lib/helpline")
PASSWORD = "first operator's password"


def recipe_lines(readme: str) -> list[str]:
    """The production block's commands, comments removed."""
    section = readme.split("### Exposed on its own, or behind nginx", 1)[1]
    block = re.search(r"```sh\n(sudo useradd.*?)```", section, re.S)
    assert block, "the production recipe (```sh starting with sudo useradd) is missing"
    return [re.sub(r"\s+#\s.*$", "", line).strip() for line in block.group(1).splitlines() if line.strip()]


def _moved(text: str, root: Path) -> str:
    for path in SYSTEM_PATHS:
        text = text.replace(path, f"{root}{path}")
    return text


def _unsudo(command: str) -> str:
    return re.sub(r"^sudo (-u \S+ )?", "", command.strip())


def _unit(path: Path) -> tuple[configparser.SectionProxy, list[str]]:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment, method-assign]
    unit.read(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    return unit["Service"], lines


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _request(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _cookies(headers: list[tuple[str, str]], jar: dict[str, str]) -> dict[str, str]:
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, rest = value.split("=", 1)
            jar[key] = rest.split(";", 1)[0]
    return jar


def _cookie_header(jar: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


def test_the_readme_recipe_gives_a_serving_line_and_a_working_console(tmp_path: Path) -> None:
    clone, root = tmp_path / "clone", tmp_path / "root"
    shutil.copytree(ROOT, clone, ignore=NOT_IN_A_CLONE)
    for folder in ("etc/nginx/sites-available", "etc/nginx/sites-enabled", "etc/systemd/system"):
        (root / folder).mkdir(parents=True)  # what Debian's nginx and systemd packages provide
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    skipped, started = [], False
    for line in recipe_lines((clone / "README.md").read_text(encoding="utf-8")):
        for command in (_unsudo(part) for part in line.split("&&")):
            words = shlex.split(command)
            if words[0] in ("useradd", "systemctl", "nginx"):
                skipped.append(command)
                if words[:3] == ["systemctl", "enable", "--now"]:
                    server = _start_like_systemd(root, words[3], tmp_path)
                    started = True
                continue
            if words[0] == "env" and words[1:2] and words[1].startswith("IVR_STATE_DIR="):
                assert started, "the first operator is made before the service created its database"
                assert words[2:5] == ["/opt/helpline/venv/bin/ivr", "user", "add"], words
                made = subprocess.run(_moved(command, root), shell=True, cwd=clone, env=env, text=True,
                                      capture_output=True, input=f"{PASSWORD}\n{PASSWORD}\n", timeout=120,
                                      start_new_session=True)  # no terminal: the prompt reads stdin
                assert made.returncode == 0, made.stdout + made.stderr
                operator = words[5]
                continue
            if words[:3] == ["python3", "-m", "venv"]:
                command = shlex.join([sys.executable, *words[1:]])
            result = subprocess.run(_moved(command, root), shell=True, cwd=clone, env=env, text=True,
                                    capture_output=True, timeout=600)
            assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            if command.startswith("install -m 600 deploy/helpline.env"):  # "then set ... in it"
                env_file = root / "etc/helpline/helpline.env"
                text = env_file.read_text().replace("replace-with-the-account-auth-token", TOKEN)
                env_file.write_text(text.replace("IVR_PUBLIC_URL=https://helpline.example.org",
                                                 f"IVR_PUBLIC_URL={PUBLIC_URL}"))
    assert started and [c.split()[0] for c in skipped] == ["useradd", "systemctl", "systemctl", "nginx", "systemctl"]
    try:
        _a_signed_call(server)
        _a_console_login(server, operator)
        _an_operators_command(root, clone, env)
    finally:
        server.stop()
    log = server.log()
    assert "Traceback" not in log and "console is off" not in log, log
    env_file = root / "etc/helpline/helpline.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert len(_env_file(env_file)["IVR_SECRET_KEY"]) == 64  # the sed line made a fresh key
    database = root / "var/lib/helpline/ivr.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert not (root / "opt/helpline/var").exists()  # nothing written beside the program
    assert (root / "etc/nginx/helpline-console-allow.conf").is_file()
    assert (root / "etc/nginx/sites-enabled/helpline").resolve() == root / "etc/nginx/sites-available/helpline"


def _start_like_systemd(root: Path, name: str, tmp_path: Path) -> Server:
    service, lines = _unit(root / "etc/systemd/system" / f"{name}.service")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env.update(_env_file(Path(_moved(service["EnvironmentFile"], root))))
    for line in lines:
        if line.startswith("Environment="):
            key, value = line.split("=", 1)[1].split("=", 1)
            env[key] = _moved(value, root)
    state = root / "var/lib" / service["StateDirectory"]
    state.mkdir(parents=True)
    state.chmod(int(service["StateDirectoryMode"], 8))
    assert env["IVR_STATE_DIR"] == str(state)
    workdir = Path(_moved(service["WorkingDirectory"], root))
    for line in lines:
        if line.startswith("ExecStartPre="):
            command = shlex.split(_moved(line.split("=", 1)[1], root))
            result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
    command = shlex.split(_moved(service["ExecStart"], root))
    assert command[1] == "serve" and command[command.index("--port") + 1] == "8000"
    rest = command[2:]
    for option in ("--host", "--port"):
        at = rest.index(option)
        del rest[at:at + 2]
    server = Server(workdir, env, *rest, ivr=[command[0]])
    server.wait_healthy()
    return server


def as_the_service(readme: str) -> str:
    """The README's form of an `ivr` command on an installed host (its "..." left to fill)."""
    found = re.search(r"^(sudo -u helpline env .*/opt/helpline/venv/bin/ivr) \.\.\.$", readme, re.M)
    assert found, "the README does not say how to run ivr on an installed host"
    return found.group(1)


def _an_operators_command(root: Path, clone: Path, env: dict[str, str]) -> None:
    """`ivr close` and `ivr closures` in the README's form for an installed host: the service's
    files and database."""
    prefix = _moved(_unsudo(as_the_service((clone / "README.md").read_text(encoding="utf-8"))), root)
    for args in ("close parents-line --until 18:00 --reason 'nobody on shift' --by tests", "closures"):
        done = subprocess.run(f"{prefix} {args}", shell=True, cwd=clone, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("parents-line  closed ") and done.stdout.rstrip().endswith(": nobody on shift")


def _a_signed_call(server: Server) -> None:
    form = [("To", SERVICE_NUMBER), ("From", "+4917600000000"), ("CallSid", "CA0123")]
    status, _, body = server.post("/voice", form, _sign(f"{PUBLIC_URL}/voice", form))
    assert status == 200, body
    root = ET.fromstring(body)
    assert root.tag == "Response" and root.find("Gather/Say") is not None
    assert server.post("/voice", form, "forged")[0] == 403


def _a_console_login(server: Server, operator: str) -> None:
    page = console_login(server.port, operator, PASSWORD, secure=True)
    assert operator in page


def console_login(port: int, name: str, password: str, secure: bool) -> str:
    """Log in to the console of the server on `port` as a browser does; the Now page's HTML."""
    status, headers, page = _request(port, "GET", "/console/login")
    assert status == 200, page
    jar = _cookies(headers, {})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = urlencode({"username": name, "password": password, "csrf_token": token.group(1)}).encode()
    status, headers, page = _request(port, "POST", "/console/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", **_cookie_header(jar)})
    assert status == 302 and dict(headers)["Location"] == "/console/", page
    set_cookies = [v for k, v in headers if k.lower() == "set-cookie"]
    assert set_cookies and all(("Secure" in c) == secure for c in set_cookies)  # production: never over plain http
    status, _, page = _request(port, "GET", "/console/", headers=_cookie_header(_cookies(headers, jar)))
    assert status == 200, page[:500]
    return page
