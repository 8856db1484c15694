"""The store under faults, with real servers under load: calls as Twilio makes them (CallLoad, in
twilio_standin.py) go on at 10 a second while the database fails under them.

- PostgreSQL stopped: a line closed by hand stays closed through a reload and a worker killed
  outright (the new workers never read the database; they read the closures kept under
  IVR_STATE_DIR); a reload with a 50 MB file is refused at once; counts are spooled.
- PostgreSQL frozen (SIGSTOP): every store query gives up after IVR_STORE_TIMEOUT; /ready turns
  not-ready past IVR_READY_STALE_SECONDS and stays so, whichever worker answers.
- SQLite locked by another process for 12 s: no webhook answer takes over 1 s.
After each, the report counts every call made."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from ivr.cli.main import main
from ivr.config.settings import bundled_dir
from pg_cluster import cluster
from store_fixtures import new_postgres_database
from test_reload import Server
from test_serving import _children
from twilio_standin import CallLoad
from twiml_helpers import PHONE, SERVICE_NUMBER

PINNED = "2026-11-24T15:30"  # a Tuesday afternoon: all four lines open; main menu 0 -> abuse-helpline
START_WAIT = 45.0
STALE = 4  # IVR_READY_STALE_SECONDS in these tests


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL", "WEB_CONCURRENCY", "IVR_DATABASE_URL")}
    data, prompts = tmp_path / "data", tmp_path / "prompts"
    if not data.exists():
        shutil.copytree(bundled_dir("data"), data)
        shutil.copytree(bundled_dir("prompts"), prompts)
    env.update(IVR_NOW=PINNED, PYTHONUNBUFFERED="1", IVR_STATE_DIR=str(tmp_path / "state"),
               IVR_DATA_DIR=str(data), IVR_PROMPTS_DIR=str(prompts), IVR_STORE_TIMEOUT="1",
               IVR_READY_STALE_SECONDS=str(STALE), **extra)
    return env


def _cli(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, args, env={**env, "IVR_NOW": ""})
    assert result.exit_code == 0, result.output
    return result.output


def _report(env: dict[str, str]) -> dict:
    return json.loads(_cli(["report", "--from", "2026-11-24", "--to", "2026-11-24", "--format", "json"], env))


def _ready(server: Server) -> int:
    return server.request("GET", "/ready")[0]


def _booted(server: Server) -> int:
    return server.log().count("Booting worker with pid")


def _wait_ready_everywhere(server: Server, status: int, timeout: float) -> None:
    server.wait_until(f"/ready {status} from every worker",
                      lambda: all(_ready(server) == status for _ in range(8)), timeout=timeout)


def test_postgresql_stopped_then_frozen_under_load(tmp_path: Path) -> None:
    with cluster() as pg:
        url = new_postgres_database(pg.url)
        env = _env(tmp_path, IVR_DATABASE_URL=url)
        _cli(["db", "upgrade"], env)
        server = Server(tmp_path, env, "--dev", "--workers", "2")
        loads: list[CallLoad] = []
        try:
            server.wait_until("/health", lambda: server.request("GET", "/health")[0] == 200, timeout=START_WAIT)
            _cli(["close", "abuse-helpline", "--by", "Anna", "--reason", "ill"], env)
            probe = CallLoad(server.port, SERVICE_NUMBER)
            server.wait_until("the closure obeyed", lambda: all(
                probe.call() == PHONE["hateaid"] for _ in range(8)), timeout=15)
            _wait_ready_everywhere(server, 200, timeout=15)
            loads.append(CallLoad(server.port, SERVICE_NUMBER).start())

            # -- stopped: a refused reload, a reload, a worker killed outright ------------------
            pg.stop("fast")  # as an operator stops it: what it confirmed stays committed
            time.sleep(2.5)
            hotlines = tmp_path / "data" / "hotlines.yaml"
            kept = hotlines.read_bytes()
            with open(hotlines, "r+b") as huge:
                huge.truncate(50 * 1024 * 1024)  # 50 MB (sparse: nothing to write)
            refused_at, booted = time.monotonic(), _booted(server)
            server.proc.send_signal(signal.SIGHUP)
            server.wait_until("the refusal", lambda: "reload refused" in server.log(), timeout=10)
            assert time.monotonic() - refused_at < 5  # at once, not at the 30 s time limit
            assert re.search(r"hotlines\.yaml: is 52,428,800 bytes, over the limit of 1,048,576 bytes \(1 MB\) "
                             r"for a data or prompts file; expected a smaller file", server.log())
            hotlines.write_bytes(kept)
            server.proc.send_signal(signal.SIGHUP)
            server.wait_until("two new workers", lambda: _booted(server) >= booted + 2, timeout=20)
            calls_before_reload = len(loads[-1].dialled)
            time.sleep(3)
            assert len(loads[-1].dialled) > calls_before_reload + 10  # the new workers answered calls
            loads[-1].stop()
            time.sleep(4.5)  # two flushes (every 2 s): every count so far is spooled, none dies with the worker
            booted = _booted(server)
            victim = sorted(_children(server.proc.pid))[0]
            os.kill(victim, signal.SIGKILL)
            server.wait_until("a new worker", lambda: _booted(server) > booted, timeout=20)
            loads.append(CallLoad(server.port, SERVICE_NUMBER).start())
            time.sleep(3)
            log = server.log()
            assert "still obeying the last ones known: abuse-helpline" in log
            assert "last ones known: none" not in log
            assert re.search(r"could not add \d+ counts to the database \(OperationalError: connection failed: "
                             r".*\); spooled to .*/state/spool/", log)
            assert _ready(server) == 503

            # -- back, then frozen ---------------------------------------------------------------
            pg.start()
            _wait_ready_everywhere(server, 200, timeout=15)
            assert "replayed" in server.log()
            pg.freeze()
            frozen_at = time.monotonic()
            answers = []
            while time.monotonic() - frozen_at < STALE + 6:
                answers.append(_ready(server))
                time.sleep(0.05)
            pg.thaw()
            flips = sum(1 for a, b in zip(answers, answers[1:]) if a != b)
            assert (answers[0], answers[-1], flips) == (200, 503, 1), answers  # one answer at a time, all workers
            assert re.search(r"cannot read the live closures \(StoreTimeout: no answer within 1 s\)|"
                             r"could not add \d+ counts to the database \(StoreTimeout: no answer within 1 s\)",
                             server.log())
            _wait_ready_everywhere(server, 200, timeout=15)
        finally:
            for load in loads:
                load.stop()
            assert server.stop() == 0, server.log()
        made = [number for load in loads for number in load.dialled]
        assert [error for load in loads for error in load.errors] == []
        # no webhook waits on the database (the bound leaves room for a busy 2-core machine)
        assert max(load.slowest for load in loads) < 2.0
        assert PHONE["abuse-helpline"] not in made and len(made) > 100
        data = _report(env)
        every_call = len(made) + len(probe.dialled)  # the probe's calls before the closure too
        assert data["totals"] == {"calls": every_call, "connected": every_call, "unmet": 0}
        assert not list((tmp_path / "state" / "spool").glob("*.counts.json"))


_LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
connection.execute("BEGIN EXCLUSIVE")  # in WAL mode: every writer waits, readers go on
connection.execute("INSERT INTO closure_log (at, action, line_id, reason, operator) "
                   "VALUES ('2026-11-24 14:00:00', 'close', 'x', '', 'locker')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("ROLLBACK")
"""


def test_sqlite_locked_by_another_process_never_holds_a_call(tmp_path: Path) -> None:
    env = _env(tmp_path)
    server = Server(tmp_path, env, "--dev", "--workers", "2")
    load = None
    try:
        server.wait_until("/health", lambda: server.request("GET", "/health")[0] == 200, timeout=START_WAIT)
        _wait_ready_everywhere(server, 200, timeout=15)
        load = CallLoad(server.port, SERVICE_NUMBER).start()
        time.sleep(1)
        locker = subprocess.Popen([sys.executable, "-c", _LOCKER, str(tmp_path / "state" / "ivr.sqlite3"), "12"],
                                  stdout=subprocess.PIPE, text=True)
        assert locker.stdout.readline().strip() == "locked"
        slowest_before = load.slowest
        _wait_ready_everywhere(server, 503, timeout=STALE + 6)  # the store stopped working: said so
        assert locker.wait(timeout=20) == 0
        during = load.slowest
        _wait_ready_everywhere(server, 200, timeout=15)
        load.stop()
    finally:
        if load is not None:
            load.stop()
        assert server.stop() == 0, server.log()
    assert load.errors == []
    assert during < 1.0, f"a webhook waited {during:.2f} s during the lock (before it: {slowest_before:.2f} s)"
    assert "database is locked" in server.log()
    data = _report(env)
    assert data["totals"]["calls"] == len(load.dialled) > 100
