"""Fixtures for the store's tests (loaded by conftest.py): a throwaway PostgreSQL 15 cluster for
the session (pg_cluster.py) and a migrated database without rows on each engine, SQLite and
PostgreSQL.

Nothing is skipped: without the server binaries the tests fail and say what to install."""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from ivr.store import migrate
from ivr.store.database import StoreSettings, make_engine
from ivr.store.schema import metadata
from pg_cluster import ClusterMissing, throwaway_cluster

ENGINES = ("sqlite", "postgresql")
_names = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own for this test session; yields the admin URL (no database)."""
    try:
        with throwaway_cluster() as url:
            yield url
    except ClusterMissing as missing:
        pytest.fail(str(missing))


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
