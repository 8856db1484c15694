"""Fixtures for the store's tests: a throwaway PostgreSQL 15 cluster (started as the `postgres`
user in a temporary folder on a free port, removed afterwards) and a fresh, migrated database on
each engine, SQLite and PostgreSQL. Import the fixtures by name into a test module.

Nothing is skipped: without the server binaries the tests fail and say what to install."""
from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from ivr.store import migrate
from ivr.store.database import StoreSettings, make_engine
from ivr.store.schema import metadata

PG_BIN = Path(os.environ.get("IVR_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
ENGINES = ("sqlite", "postgresql")
_names = itertools.count()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> None:
    """Run a server command as `postgres` (initdb and postgres refuse to run as root)."""
    if os.geteuid() == 0:
        command = ("runuser", "-u", "postgres", "--", *command)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own for this test session; yields the admin URL (no database)."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL server binaries not found in {PG_BIN}: apt-get install -y postgresql")
    base = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                 "-E", "UTF8", "--no-sync", "--no-instructions")
    # Durability is not needed for a throwaway cluster: fsync off keeps the tests fast.
    options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                 "-t", "30", "-o", options, "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def new_postgres_database(server_url: str) -> str:
    name = f"ivr_test_{os.getpid()}_{next(_names)}"
    with psycopg.connect(server_url.replace("postgresql+psycopg", "postgresql") + "/postgres",
                         autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


@pytest.fixture(params=ENGINES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, SQLite or PostgreSQL, without a schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'ivr.sqlite3'}"
    return new_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: str) -> str:
    """One migrated PostgreSQL database for the session; emptied before each test that uses it
    (creating a database per test would cost a second each)."""
    url = new_postgres_database(postgres_server)
    engine = make_engine(StoreSettings(url, Path(".")))
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with the current schema and no rows, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state' / 'ivr.sqlite3'}"
        engine = make_engine(StoreSettings(url, tmp_path))
        migrate.upgrade(engine)
        engine.dispose()
        return url
    url = request.getfixturevalue("migrated_postgres")
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as connection:
        names = ", ".join(table.name for table in metadata.sorted_tables)
        connection.execute(f"TRUNCATE {names} RESTART IDENTITY")
    return url


@pytest.fixture
def store_settings(empty_database_url: str, tmp_path: Path) -> StoreSettings:
    """Settings for an empty database."""
    return StoreSettings.from_env({"IVR_DATABASE_URL": empty_database_url, "IVR_STATE_DIR": str(tmp_path / "state")})


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database without rows, on each engine."""
    engine = make_engine(StoreSettings(database_url, tmp_path))
    yield engine
    engine.dispose()
