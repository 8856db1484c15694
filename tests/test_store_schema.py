"""The schema: migrations build exactly the tables the code describes, on both engines; the
README lists every table and column; the version check names the command that fixes it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from ivr.store import migrate
from ivr.store.database import StoreSettings, StoreSettingsError, make_engine
from ivr.store.schema import metadata

README = Path(__file__).resolve().parent.parent / "README.md"


def test_migrations_build_exactly_the_schema_the_code_uses(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    assert migrate.current(engine) == migrate.head()


def test_an_empty_database_is_behind_and_the_message_names_the_command(store_settings: StoreSettings) -> None:
    engine = make_engine(store_settings)
    with pytest.raises(migrate.SchemaBehind) as behind:
        migrate.require_current(engine, "X")
    assert str(behind.value) == (f"the database X is empty, this version needs revision {migrate.head()}: "
                                 "run `ivr db upgrade` first")
    assert migrate.upgrade(engine) == (None, migrate.head())
    assert migrate.upgrade(engine) == (migrate.head(), migrate.head())  # twice is harmless
    migrate.require_current(engine, "X")
    engine.dispose()


def _readme_columns() -> set[tuple[str, str]]:
    """(table, column) rows of the README's "What this service stores" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## What this service stores", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    return set(rows)


def test_the_readme_lists_every_table_and_column_and_no_other(engine: Engine) -> None:
    inspector = inspect(engine)
    actual = {(table, column["name"]) for table in inspector.get_table_names()
              for column in inspector.get_columns(table)}
    assert "alembic_version" in {table for table, _ in actual}
    assert _readme_columns() == actual


def test_default_database_is_a_sqlite_file_in_the_state_folder(tmp_path: Path) -> None:
    settings = StoreSettings.from_env({"IVR_STATE_DIR": str(tmp_path / "new" / "var")})
    assert settings.url == f"sqlite:///{tmp_path / 'new' / 'var' / 'ivr.sqlite3'}"
    engine = make_engine(settings)
    migrate.upgrade(engine)
    assert (tmp_path / "new" / "var" / "ivr.sqlite3").is_file()  # folder created when missing
    engine.dispose()


def test_default_state_folder_is_var_under_the_working_folder(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert StoreSettings.from_env({}).state_dir == tmp_path / "var"


def test_passwords_never_appear_in_messages() -> None:
    settings = StoreSettings.from_env({"IVR_DATABASE_URL": "postgresql+psycopg://ivr:s3cret@db.example/ivr"})
    assert settings.shown_url() == "postgresql+psycopg://ivr:***@db.example/ivr"
    assert not settings.is_sqlite


@pytest.mark.parametrize("name,value", [("IVR_REPORT_MIN_COUNT", "0"), ("IVR_KEEP_HOURLY_DAYS", "x")])
def test_bad_numbers_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(StoreSettingsError) as error:
        StoreSettings.from_env({name: value})
    assert str(error.value) == f"{name}={value!r} is not a whole number of at least 1"


def test_a_wheel_ships_the_migrations(tmp_path: Path) -> None:
    """`ivr db upgrade` must work after a non-editable `pip install .`: the wheel holds every
    migration, Alembic's env.py and its template."""
    import subprocess
    import sys
    import zipfile
    root = README.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=120)
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {path.relative_to(root).as_posix() for path in (root / "ivr" / "store" / "migrations").rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    assert "ivr/store/migrations/versions/0001_counts_and_closures.py" in shipped
    assert shipped <= names, shipped - names


@pytest.mark.parametrize("url,message", [
    ("nonsense", "IVR_DATABASE_URL is a URL that cannot be read; "),
    ("mysql://u@h/db", "IVR_DATABASE_URL names 'mysql', a database or driver this service does not use; "),
    ("postgresql+asyncpg://u@h/db", "IVR_DATABASE_URL names 'postgresql+asyncpg', a database or driver this "
                                    "service does not use; "),
])
def test_database_urls_the_service_cannot_use_are_refused(url: str, message: str) -> None:
    with pytest.raises(StoreSettingsError) as error:
        StoreSettings.from_env({"IVR_DATABASE_URL": url})
    assert str(error.value) == message + ("expected postgresql+psycopg://USER:PASSWORD@HOST/DATABASE, "
                                          "sqlite:///PATH, or none (SQLite in IVR_STATE_DIR)")


def test_a_plain_postgresql_url_uses_psycopg_3() -> None:
    settings = StoreSettings.from_env({"IVR_DATABASE_URL": "postgresql://ivr:p%40ss@db.example/ivr"})
    assert settings.url == "postgresql+psycopg://ivr:p%40ss@db.example/ivr"


@pytest.mark.parametrize("name,text,message", [
    ("IVR_STORE_TIMEOUT", "0", "IVR_STORE_TIMEOUT='0' is not a time; expected seconds between 0.1 and 60, e.g. 2"),
    ("IVR_STORE_TIMEOUT", "2s", "IVR_STORE_TIMEOUT='2s' is not a time; expected seconds between 0.1 and 60, e.g. 2"),
    ("IVR_READY_STALE_SECONDS", "-5", "IVR_READY_STALE_SECONDS='-5' is not a time; expected seconds between 1 "
                                      "and 3600, e.g. 30"),
])
def test_store_times_the_service_cannot_use_are_refused(name: str, text: str, message: str) -> None:
    with pytest.raises(StoreSettingsError) as error:
        StoreSettings.from_env({name: text})
    assert str(error.value) == message


def test_store_times_default_and_read() -> None:
    assert (StoreSettings.from_env({}).query_timeout, StoreSettings.from_env({}).ready_stale_seconds) == (2.0, 30.0)
    read = StoreSettings.from_env({"IVR_STORE_TIMEOUT": "0.5", "IVR_READY_STALE_SECONDS": "12"})
    assert (read.query_timeout, read.ready_stale_seconds) == (0.5, 12.0)
