"""The production install, exactly as the README's "Deploying behind Twilio" section says.

A fresh venv, the lock file, `pip install --no-deps .` (no test extras: pytest and its friends
bring packages that hide a missing runtime dependency, as `packaging` once hid that gunicorn's
gevent worker could not start), then `ivr serve` from an empty folder with only a token set:
the bundled data must load, the gevent workers must boot, and a signed call must be answered.

The install lines are read from the README, so the test and the documentation cannot drift
apart. It needs the package registry, as `make test` itself does; it takes about a minute.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from test_reload import Server

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "production-install-token"
SERVICE_NUMBER = "+4930123456789"
TUESDAY_AFTERNOON = "2026-12-01T16:30"  # lines are open: key 3 dials
# What a clone holds that an install must not see: the developer's venv and build leftovers.
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info",
                                        "__pycache__", ".pytest_cache", ".hypothesis", "var",
                                        "screenshots", "bench")


def deploy_install_lines(readme: str) -> list[str]:
    """The shell lines of the deploy section's first code block that create the venv and install."""
    section = readme.split("## Deploying behind Twilio", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the deploy section has no ```sh block"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line.startswith("python3 -m venv") or " install " in line]


def test_the_readme_names_the_lock_and_no_test_extras():
    lines = deploy_install_lines((ROOT / "README.md").read_text(encoding="utf-8"))
    assert lines == ["python3 -m venv venv",
                     "venv/bin/pip install --require-hashes -r requirements.lock",
                     "venv/bin/pip install --no-deps ."]


def test_the_lock_pins_what_the_gevent_worker_imports():
    pins = _pins("requirements.lock")
    for package in ("gunicorn", "gevent", "packaging", "flask", "twilio", "sqlalchemy", "psycopg"):
        assert package in pins, package
    assert "pytest" not in pins and "selenium" not in pins  # the runtime lock carries no test tools


def _pins(lock: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9_.-]+)==([^ ;\\]+)", (ROOT / lock).read_text(), re.M))


def _name(requirement: str) -> str:
    """`psycopg[binary]>=3.1` -> `psycopg`, normalised as the lock writes names."""
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_locks_hold_every_dependency_of_pyproject():
    """A dependency added to pyproject.toml without `make lock` fails here, not at a deploy."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, test = _pins("requirements.lock"), _pins("requirements-test.lock")
    for requirement in project["dependencies"]:
        assert _name(requirement) in runtime, f"{requirement} is not in requirements.lock: run make lock"
    for requirement in project["optional-dependencies"]["test"]:
        assert _name(requirement) in test, f"{requirement} is not in requirements-test.lock: run make lock"
    assert {name: runtime[name] for name in runtime} == {name: test[name] for name in runtime}


def _run(command: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{shlex.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def _sign(url: str, form: list[tuple[str, str]]) -> str:
    return RequestValidator(TOKEN).compute_signature(url, MultiDict(form))


def test_a_fresh_production_install_serves_a_signed_call(tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=NOT_IN_A_CLONE)
    for line in deploy_install_lines((clone / "README.md").read_text(encoding="utf-8")):
        words = shlex.split(line)
        if words[0] == "python3":
            words[0] = sys.executable  # the interpreter running the tests (a venv's python makes a plain venv)
        _run(words, cwd=clone)
    venv = clone / "venv"
    _run([str(venv / "bin" / "pip"), "check"], cwd=clone)
    # No test tools came along: what serves here is what production gets.
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import pytest"], capture_output=True)
    assert probe.returncode != 0

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "TWILIO_AUTH_TOKEN": TOKEN, "IVR_NOW": TUESDAY_AFTERNOON, "PYTHONUNBUFFERED": "1"}
    server = Server(empty, env, "--workers", "2", ivr=[str(venv / "bin" / "ivr")])
    try:
        server.wait_healthy()
        base = f"http://127.0.0.1:{server.port}"
        form = [("To", SERVICE_NUMBER), ("From", "+4917600000000"), ("CallSid", "CA0123")]
        status, content_type, body = server.post("/voice", form, _sign(f"{base}/voice", form))
        assert (status, content_type.split(";")[0]) == (200, "text/xml"), body
        root = ET.fromstring(body)
        say = root.find("Gather/Say")
        assert root.tag == "Response" and say is not None and say.get("language") == "de-DE"
        menu_url = root.find("Gather").get("action")
        pressed = form + [("Digits", "3")]
        status, _, body = server.post(f"/{menu_url}", pressed, _sign(f"{base}/{menu_url}", pressed))
        dial = ET.fromstring(body).find("Dial")
        assert status == 200 and dial is not None and dial.find("Number").text.startswith("+49")
        assert server.post("/voice", form, "bad")[0] == 403
    finally:
        server.stop()
    log = server.log()
    assert "Traceback" not in log and "Worker failed to boot" not in log, log
    assert (empty / "var").is_dir()  # the counts' SQLite folder, under the working folder by default
