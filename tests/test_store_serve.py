"""The real servers on a shared database: `ivr serve` checks the schema before it opens its port
(PostgreSQL: refuses and names `ivr db upgrade`; SQLite: upgrades itself and says so); two
servers on one PostgreSQL obey a closure made with the CLI within 10 s, and after N whole calls
spread over both, `ivr report` counts exactly N calls; a database that hangs holds up no call."""
from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode, urljoin

from click.testing import CliRunner

from ivr.cli.main import main
from ivr.store import migrate
from store_fixtures import new_postgres_database
from test_reload import Server
from twiml_helpers import PHONE, SERVICE_NUMBER

PINNED = "2026-11-24T15:30"  # a Tuesday afternoon: all four lines open
OBEY_WITHIN = 10.0  # seconds
START_WAIT = 45.0  # seconds for a server to answer /health: generous, two start at once on a busy machine


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL", "WEB_CONCURRENCY", "IVR_DATABASE_URL",
                        "IVR_STATE_DIR")}
    env.update(IVR_NOW=PINNED, PYTHONUNBUFFERED="1", **extra)
    return env


def _start(tmp_path: Path, env: dict[str, str], workers: str = "1") -> Server:
    return Server(tmp_path, env, "--dev", "--workers", workers)


def _wait_healthy(server: Server) -> None:
    server.wait_until("/health", lambda: server.request("GET", "/health")[0] == 200, timeout=START_WAIT)


def _form(**extra: str) -> list[tuple[str, str]]:
    return list({"To": SERVICE_NUMBER, "From": "+4917612398745", "CallSid": "CA" + "7" * 32, **extra}.items())


def _twiml(server: Server, path: str, **fields: str) -> ET.Element:
    status, content_type, body = server.post(path, _form(**fields))
    assert status == 200 and content_type.startswith("text/xml"), (status, body[:200])
    return ET.fromstring(body)


def _dialled(server: Server) -> str | None:
    number = _twiml(server, "/menu?" + urlencode({"n": "main", "l": "de"}), Digits="0").find("Dial/Number")
    return None if number is None else (number.text or "").strip()


def _whole_call(server: Server) -> None:
    gather = _twiml(server, "/voice").find("Gather")
    menu = urljoin("/voice", gather.get("action"))  # relative to the webhook, as Twilio resolves it
    dial = _twiml(server, menu, Digits="0").find("Dial")
    assert dial is not None
    end = _twiml(server, urljoin(menu, dial.get("action")), DialCallStatus="completed", DialCallDuration="240")
    assert [child.tag for child in end][-1] == "Hangup"


def _database_hangs_calls_go_on(url: str, servers: list[Server]) -> None:
    """While the closures' poll waits on a table an operator's transaction has locked, each
    worker's other greenlets (the webhooks) answer as fast as ever."""
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as blocker:
        blocker.execute("LOCK TABLE closure_log IN ACCESS EXCLUSIVE MODE")  # held until rollback
        time.sleep(2.2)  # every worker's next poll (every 2 s) now waits for the lock
        slowest = 0.0
        for n in range(12):
            started = time.monotonic()
            assert _dialled(servers[n % 2]) == PHONE["hateaid"]
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.1)
        blocker.rollback()
    assert slowest < 1.0, f"a webhook waited {slowest:.2f} s behind the database"


def test_serve_refuses_a_postgresql_schema_that_is_behind(postgres_server: str, tmp_path: Path) -> None:
    url = new_postgres_database(postgres_server)
    server = _start(tmp_path, _env(IVR_DATABASE_URL=url))
    assert server.proc.wait(timeout=30) == 2
    server.stop()
    assert "not serving: the database postgresql+psycopg://postgres@127.0.0.1" in server.log()
    assert f"is empty, this version needs revision {migrate.head()}: run `ivr db upgrade` first" in server.log()


def test_serve_upgrades_its_own_sqlite_file_and_says_so(tmp_path: Path) -> None:
    server = _start(tmp_path, _env(IVR_STATE_DIR=str(tmp_path / "state")))
    try:
        _wait_healthy(server)
        assert "upgraded the SQLite database sqlite:///" in server.log()
        assert f"from empty to revision {migrate.head()} (as `ivr db upgrade` would)" in server.log()
        assert _dialled(server) == PHONE["abuse-helpline"]
    finally:
        server.stop()
    assert (tmp_path / "state" / "ivr.sqlite3").is_file()


def test_two_servers_on_one_postgresql_obey_a_closure_and_count_every_call(postgres_server: str,
                                                                            tmp_path: Path) -> None:
    url = new_postgres_database(postgres_server)
    cli_env = {"IVR_DATABASE_URL": url, "IVR_NOW": ""}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    servers = [_start(tmp_path, _env(IVR_DATABASE_URL=url)), _start(tmp_path, _env(IVR_DATABASE_URL=url), "2")]
    try:
        for server in servers:
            _wait_healthy(server)
            assert _dialled(server) == PHONE["abuse-helpline"]
        result = CliRunner().invoke(main, ["close", "abuse-helpline", "--by", "Test", "--reason", "drill"],
                                    env=cli_env)
        assert result.exit_code == 0, result.output
        closed_at = time.monotonic()
        for server in servers:  # every worker of every server: several requests in a row
            server.wait_until("the closure obeyed", lambda: all(
                _dialled(server) == PHONE["hateaid"] for _ in range(6)), timeout=OBEY_WITHIN + 5)
        assert time.monotonic() - closed_at < OBEY_WITHIN
        calls = 12
        for n in range(calls):
            _whole_call(servers[n % 2])
        _database_hangs_calls_go_on(url, servers)
    finally:
        for server in servers:
            assert server.stop() == 0, server.log()  # stopping writes each worker's last counts
    result = CliRunner().invoke(main, ["report", "--from", "2026-11-24", "--to", "2026-11-24", "--format", "json"],
                                env=cli_env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["totals"] == {"calls": calls, "connected": calls, "unmet": 0}
    assert data["lines"]["hateaid"]["completed"] == calls
    # the probes before the closure dialled abuse-helpline too (main menu, 0), but no call began there
    assert data["lines"]["hateaid"]["attempts"] >= calls

