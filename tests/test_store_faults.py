"""The store's promises under faults, one part at a time on real SQLite and PostgreSQL
(tests/test_store_faults_serve.py holds them with real servers under load):

- a worker that starts while the database is away obeys the closures another worker read;
- counts the database cannot take are spooled under IVR_STATE_DIR and written by the next
  flush of any worker; counts that cannot be kept at all are logged once, with how many;
- a serving SQLite connection opened read-only is not reused after its write fails, and the
  log says what SQLite said; a serving worker never creates a database file;
- a data or prompts file over 1 MB is refused before it is read."""
from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, select

from ivr.config.settings import bundled_dir
from ivr.config.errors import ConfigInvalid
from ivr.config.loading import load_config
from ivr.store import closures, migrate
from ivr.store.database import StoreSettings, make_engine
from ivr.store.live import Live
from ivr.store.schema import counts_hourly

ZONE = ZoneInfo("Europe/Berlin")
TUE = dt.datetime(2026, 11, 24, 15, 30, tzinfo=ZONE)
DOWN = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens on port 1


def _down() -> Engine:
    return create_engine(DOWN, connect_args={"connect_timeout": 1})


def _calls(engine: Engine) -> int:
    with engine.connect() as connection:
        rows = connection.execute(select(counts_hourly.c.count).where(counts_hourly.c.event == "call")).all()
    return sum(row.count for row in rows)


def _call(live: Live, n: int = 1) -> None:
    for _ in range(n):
        live.count(TUE, (("call", "started"),))


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """Nobody, not even root, may change `path` (or, for a folder, create files in it)."""
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_worker_started_while_the_database_is_away_obeys_the_closures_known(
        engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "kept"
    closures.close(engine, "hateaid", by="Anna", now=TUE)
    closures.close(engine, "kids-line", by="Anna", now=TUE, until=TUE + dt.timedelta(hours=1))
    first = Live(engine, ZONE, clock=lambda: TUE, state_dir=state)
    first.poll()
    assert first.closed == {"hateaid", "kids-line"}
    # the database goes away; a new worker (a reload, a crash) starts and never reaches it
    replacement = Live(_down(), ZONE, clock=lambda: TUE, state_dir=state).start()
    try:
        assert replacement.closed == {"hateaid", "kids-line"}
        assert "still obeying the last ones known: hateaid, kids-line" in caplog.text
    finally:
        replacement.stop()
    later = Live(_down(), ZONE, clock=lambda: TUE + dt.timedelta(hours=2), state_dir=state)
    later.recall_closures()
    assert later.closed == {"hateaid"}  # the kept closure with an end ran out by itself
    # the database answers again: what it says replaces what was kept
    closures.reopen(engine, "hateaid", by="Ben", now=TUE)
    back = Live(engine, ZONE, clock=lambda: TUE, state_dir=state)
    back.recall_closures()
    back.poll()
    assert back.closed == {"kids-line"}
    again = Live(_down(), ZONE, clock=lambda: TUE, state_dir=state)
    again.recall_closures()
    assert again.closed == {"kids-line"}


def test_counts_of_a_worker_that_stops_while_the_database_is_away_are_written_by_another(
        engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "kept"
    leaving = Live(_down(), ZONE, clock=lambda: TUE, state_dir=state)
    _call(leaving, 5)
    assert leaving.flush() == 0  # spooled at once
    _call(leaving, 3)
    leaving.stop()  # the last 3 join them, in one file with the 5 (claimed, merged, written anew)
    assert len(list((state / "spool").glob("*.counts.json"))) == 1
    assert "could not add 5 counts to the database (OperationalError: connection failed:" in caplog.text
    assert "lost" not in caplog.text
    other = Live(engine, ZONE, clock=lambda: TUE, state_dir=state)
    _call(other, 2)
    assert other.flush() == 1
    assert _calls(engine) == 10
    assert list((state / "spool").glob("*.counts.json")) == []
    assert "replayed 8 spooled counts from 1 file(s) into the database" in caplog.text
    assert other.flush() == 0 and _calls(engine) == 10  # replayed once only


def test_counts_that_cannot_be_kept_anywhere_are_logged_once_with_how_many(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "kept"
    state.mkdir()
    live = Live(_down(), ZONE, clock=lambda: TUE, state_dir=state)
    with _immutable(state):
        _call(live, 4)
        live.flush()
        _call(live, 3)
        live.stop()
    assert "could not add 4 counts to the database (OperationalError: connection failed:" in caplog.text
    assert caplog.text.count("kept in memory") == 2
    lost = [r for r in caplog.records if r.levelname == "ERROR" and r.getMessage().startswith("lost")]
    assert [r.getMessage() for r in lost] == [
        f"lost 7 counts: this worker stops, the database could not take them and {state / 'spool'} "
        f"could not keep them"]


@pytest.fixture
def sqlite_state(tmp_path: Path) -> StoreSettings:
    settings = StoreSettings.from_env({"IVR_STATE_DIR": str(tmp_path / "state")})
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    return settings


def test_a_read_only_sqlite_file_fails_loudly_and_is_reopened_once_writable(
        sqlite_state: StoreSettings, caplog: pytest.LogCaptureFixture) -> None:
    database = sqlite_state.state_dir / "ivr.sqlite3"
    live = Live.from_settings(sqlite_state, ZONE, clock=lambda: TUE)
    with _immutable(database):
        live.poll()  # reading works: SQLite fell back to read-only without a word
        _call(live, 2)
        assert live.flush() == 0
        assert "could not add 2 counts to the database (OperationalError: attempt to write a readonly " \
               "database); spooled to" in caplog.text
    # fixed: the next flush opens a new connection (the read-only one was discarded)
    _call(live)
    assert live.flush() == 1
    assert _calls(live.engine) == 3
    live.stop()


def test_a_serving_worker_never_creates_the_sqlite_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = StoreSettings.from_env({"IVR_STATE_DIR": str(tmp_path / "state")})
    (tmp_path / "state").mkdir()
    live = Live.from_settings(settings, ZONE, clock=lambda: TUE)
    live.poll()
    assert "cannot read the live closures (OperationalError: unable to open database file)" in caplog.text
    assert not (tmp_path / "state" / "ivr.sqlite3").exists()  # no empty file without a schema
    live.stop()


@pytest.mark.parametrize("name", ["data/hotlines.yaml", "prompts/en.yaml"])
def test_a_file_over_one_megabyte_is_refused_before_it_is_read(tmp_path: Path, name: str) -> None:
    shutil.copytree(bundled_dir("data"), tmp_path / "data")
    shutil.copytree(bundled_dir("prompts"), tmp_path / "prompts")
    with open(tmp_path / name, "r+b") as huge:
        huge.truncate(50 * 1024 * 1024)  # sparse: 50 MB that cost nothing to write
    with pytest.raises(ConfigInvalid) as refused:
        load_config(tmp_path / "data", tmp_path / "prompts")
    assert ("is 52,428,800 bytes, over the limit of 1,048,576 bytes (1 MB) for a data or prompts file; "
            "expected a smaller file (a file copied in by mistake?)") in refused.value.report()
    assert Path(name).name in refused.value.report()
