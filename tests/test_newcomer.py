"""A newcomer's first hour: `make run` names the console and its first account, `/` leads
there, the README writes commands one way and its examples do not go stale, `-` at a dial means
Enter, the package builds without warnings and a start prints no alembic chatter."""
from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import signal
import subprocess
import time
import zipfile
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from console_fixtures import ivr_env
from test_deploy_recipe import _request, console_login
from test_reload import _free_port
from ivr.cli.main import main
from ivr.config.settings import TimeFormatError
from ivr.store.cli import parse_until
from twiml_helpers import make_app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BERLIN = ZoneInfo("Europe/Berlin")
PASSWORD = "a newcomer's password"


def _sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def _healthy(port: int) -> bool:
    try:
        return _request(port, "GET", "/health")[0] == 200
    except OSError:
        return False


# -- make run ----------------------------------------------------------------------------------

def test_make_run_names_the_console_and_its_first_account_and_both_work(tmp_path: Path) -> None:
    port = _free_port()
    output = tmp_path / "make-run.log"
    env = ivr_env(tmp_path / "state")
    with open(output, "wb") as sink:
        # -o: the venv counts as made (the tests run in it); the rest is `make run` as typed
        make = subprocess.Popen(["make", "-s", "-o", ".venv/bin/ivr", "run", f"PORT={port}"], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # a busy machine; it is up in a few seconds
        while not _healthy(port):
            assert make.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        log = output.read_text()
        webhook = re.search(r"Twilio's webhook \(dev: unsigned\): +(http://\S+)", log)
        assert webhook and webhook.group(1) == f"http://127.0.0.1:{port}/voice", log  # as the README says
        status, _, answer = _request(port, "POST", "/voice")
        assert status == 200 and answer.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Gather'), answer
        console = re.search(r"The operators' console: +(http://\S+)", log)
        first = re.search(r"its first account, once: +(.+)", log)
        assert console and first, log
        assert console.group(1) == f"http://127.0.0.1:{port}/console/"
        command = shlex.split(first.group(1).replace("YOUR-NAME", "nina"))
        assert command[:3] == [".venv/bin/ivr", "user", "add"]
        made = subprocess.run(command, cwd=ROOT, env=env, input=f"{PASSWORD}\n{PASSWORD}\n", text=True,
                              capture_output=True, timeout=60, start_new_session=True)
        assert made.returncode == 0, made.stdout + made.stderr

        status, _, page = _request(port, "GET", "/")
        link = re.search(r'<a href="([^"]+)">the console</a>', page)
        assert status == 200 and link, page
        assert urljoin(f"http://127.0.0.1:{port}/", link.group(1)) == console.group(1)
        assert "nina" in console_login(port, "nina", PASSWORD, secure=False)  # dev: plain http on loopback
    finally:
        os.killpg(make.pid, signal.SIGTERM)  # make's own process group: make, ivr serve, its workers
        make.wait(timeout=30)
    log = output.read_text()
    assert "alembic" not in log, log  # no "Context impl SQLiteImpl." at every start
    assert "upgraded the SQLite database" in log  # the store says what a start did to the schema


def test_the_root_answers_a_short_page_without_a_signature() -> None:
    client = make_app("2026-12-01T16:30").test_client()  # with a token: webhooks need a signature
    response = client.get("/")
    assert response.status_code == 200 and response.content_type == "text/html; charset=utf-8"
    assert '<a href="console/">the console</a>' in response.get_data(as_text=True)
    assert client.post("/").status_code == 405
    assert client.post("/voice").status_code == 403  # the webhooks still are Twilio's only


# -- the README ------------------------------------------------------------------------------

def test_the_readme_writes_commands_one_way() -> None:
    lines = [line for block in _sh_blocks(README) for line in block.splitlines()]
    assert not [line for line in lines if line.startswith(".venv/bin/")], "write `ivr ...`: the README says to activate"
    assert README.count("`. .venv/bin/activate`") == 1
    assert README.index("`. .venv/bin/activate`") < README.index("\nivr ")  # said before the first command


def test_the_readmes_closure_examples_work_today(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_STATE_DIR", str(tmp_path / "state"))
    for name in ("IVR_DATABASE_URL", "IVR_NOW"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    examples = [re.sub(r"\s+#\s.*$", "", line) for block in _sh_blocks(README) for line in block.splitlines()
                if line.startswith(("ivr close ", "ivr closures", "ivr reopen "))]
    assert [e.split()[1] for e in examples] == ["close", "closures", "reopen"]
    for example in examples:
        result = runner.invoke(main, shlex.split(example)[1:])
        assert result.exit_code == 0, (example, result.output)
        if example.startswith("ivr close "):
            shown = re.fullmatch(r"closed parents-line until (.+)\n", result.output)
            assert shown, result.output


@pytest.mark.parametrize("now, text, expected", [
    ("2026-12-04T10:00", "18:00", "2026-12-04T18:00"),
    ("2026-12-04T19:30", "18:00", "2026-12-05T18:00"),  # passed today: tomorrow's
    ("2026-12-04T18:00", "18:00", "2026-12-05T18:00"),  # now is not "until now"
    ("2026-12-04T23:00", "8:30", "2026-12-05T08:30"),
    ("2027-03-27T20:00", "02:30", "2027-03-28T03:30"),  # the hour skipped in spring: its wall time, one hour on
    ("2026-12-04T10:00", "2026-12-24T18:00", "2026-12-24T18:00"),  # ISO 8601 as before
])
def test_until_a_time_of_day_is_the_next_such_time(now: str, text: str, expected: str) -> None:
    at = parse_until(text, BERLIN, dt.datetime.fromisoformat(now).replace(tzinfo=BERLIN))
    assert at.astimezone(BERLIN).isoformat(timespec="minutes") == dt.datetime.fromisoformat(expected).replace(
        tzinfo=BERLIN).isoformat(timespec="minutes")


@pytest.mark.parametrize("text, message", [
    ("25:00", "'25:00' is not a time of day; expected HH:MM like 18:00"),
    ("tonight", "'tonight' is not a time; expected ISO 8601 like 2026-11-24T15:30, 2026-11-24T15:30+01:00 "
                "or 2026-11-24T14:30Z"),
])
def test_until_that_is_no_time_says_what_is_expected(text: str, message: str) -> None:
    with pytest.raises(TimeFormatError) as error:
        parse_until(text, BERLIN, dt.datetime(2026, 12, 4, 10, tzinfo=BERLIN))
    assert str(error.value) == message


# -- `ivr call` --------------------------------------------------------------------------------

def test_a_dash_at_a_dial_means_what_enter_means_there() -> None:
    runner = CliRunner()
    scripted = runner.invoke(main, ["call", "--at", "2026-12-01T16:30", "--keys", "3,-"])
    typed = runner.invoke(main, ["call", "--at", "2026-12-01T16:30"], input="3\n\nq\n")
    assert scripted.exit_code == 0 and typed.exit_code == 0
    assert "(the dial ended: completed after 240 s)" in scripted.output
    ended = [line for line in typed.output.splitlines() if "(the dial ended" in line]
    assert ended and ended[0].endswith("(the dial ended: completed after 240 s)")


# -- packaging and start-up ----------------------------------------------------------------------

def test_the_package_builds_without_warnings_and_carries_the_console(tmp_path: Path) -> None:
    pip = ROOT / ".venv" / "bin" / "pip"
    built = subprocess.run([str(pip) if pip.exists() else "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "would be ignored" not in built.stdout + built.stderr, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("helpline_ivr-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("ivr/console/templates/login.html", "ivr/console/static/console.css",
                   "ivr/console/static/keypad.js", "ivr/console/words.yaml", "ivr/data/hotlines.yaml",
                   "ivr/store/migrations/script.py.mako"):
        assert needed in names, needed

