"""Where the database is, and an engine for it.

IVR_DATABASE_URL names it (`postgresql+psycopg://user:pass@host/db` for several hosts);
without it, a SQLite file in IVR_STATE_DIR (default `var/` under the working folder), which is
created when missing."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SQLITE_FILE = "ivr.sqlite3"
CONNECT_TIMEOUT = 3  # seconds: a database that does not answer must not hold up a worker
STATEMENT_TIMEOUT_MS = 5000
QUERY_TIMEOUT = 2.0  # IVR_STORE_TIMEOUT: a serving worker's every store query, measured by the client
# A serving worker waits at most this long for another process's SQLite lock: sqlite3 waits in
# C, where nothing else in the worker runs (not even gevent's loop), so it must be near zero.
# A write that finds the file locked fails, is spooled, and is tried again at the next flush.
LIVE_SQLITE_BUSY_SECONDS = 0.05
EXPECTED_URL = "expected postgresql+psycopg://USER:PASSWORD@HOST/DATABASE, sqlite:///PATH, or none (SQLite in IVR_STATE_DIR)"


class StoreSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class StoreSettings:
    url: str
    state_dir: Path
    report_min_count: int = 5  # IVR_REPORT_MIN_COUNT: counts below it leave as "<N"
    keep_hourly_days: int = 400  # IVR_KEEP_HOURLY_DAYS: older hourly rows fold into daily ones
    query_timeout: float = QUERY_TIMEOUT  # IVR_STORE_TIMEOUT
    ready_stale_seconds: float = 30.0  # IVR_READY_STALE_SECONDS: /ready's limit on the store's age

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StoreSettings:
        env = os.environ if env is None else env
        state_dir = Path(env.get("IVR_STATE_DIR") or "var").absolute()
        url = env.get("IVR_DATABASE_URL") or f"sqlite:///{state_dir / SQLITE_FILE}"
        url = _usable_url(url)
        return cls(url, state_dir, _positive(env, "IVR_REPORT_MIN_COUNT", 5),
                   _positive(env, "IVR_KEEP_HOURLY_DAYS", 400),
                   _seconds(env, "IVR_STORE_TIMEOUT", QUERY_TIMEOUT, 0.1, 60),
                   _seconds(env, "IVR_READY_STALE_SECONDS", 30.0, 1, 3600))

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    def shown_url(self) -> str:
        """The URL for messages and logs: never the password."""
        return make_url(self.url).render_as_string(hide_password=True)


DRIVERS = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite",
           "postgresql": "postgresql+psycopg", "postgresql+psycopg": "postgresql+psycopg"}


def _usable_url(text: str) -> str:
    """The URL with the driver this service installs (psycopg 3 for a plain postgresql://)."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreSettingsError(f"IVR_DATABASE_URL is a URL that cannot be read; {EXPECTED_URL}") from None
    driver = DRIVERS.get(url.drivername)
    if driver is None:
        raise StoreSettingsError(f"IVR_DATABASE_URL names {url.drivername!r}, a database or driver this "
                                 f"service does not use; {EXPECTED_URL}")
    return url.set(drivername=driver).render_as_string(hide_password=False)


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise StoreSettingsError(f"{name}={text!r} is not a whole number of at least 1")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not low <= value <= high:
        raise StoreSettingsError(f"{name}={text!r} is not a time; expected seconds between {low:g} and "
                                 f"{high:g}, e.g. {default:g}")
    return value


def make_engine(settings: StoreSettings, *, serving: bool = False) -> Engine:
    """An engine with short timeouts; for SQLite, the file is put in WAL mode, so that readers
    (the closures' poll) never wait for a writer.

    `serving`: a serving worker's engine. Its SQLite file is opened with mode=rw (never created:
    `ivr serve` made it before the workers start, and a worker must not make an empty file
    without a schema) and waits near-zero for a lock. Otherwise the file and its folder are
    created when missing (the file with mode 0600), and a lock is waited for up to
    CONNECT_TIMEOUT (the commands)."""
    url = make_url(settings.url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() == "sqlite":
        file = url.database and url.database != ":memory:"
        if serving and file:
            url = url.set(database=f"file:{url.database}", query={**url.query, "mode": "rw", "uri": "true"})
        elif file:
            _create_private(Path(url.database))
        kwargs["connect_args"] = {"timeout": LIVE_SQLITE_BUSY_SECONDS if serving else CONNECT_TIMEOUT}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT,
                                  "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"}
    return create_engine(url, **kwargs)


def _create_private(path: Path) -> None:
    """The SQLite file, created readable by this user only (0600) when missing: it holds the
    operators' password hashes. SQLite gives its -wal and -shm files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def describe(error: BaseException) -> str:
    """The driver's own message (SQLAlchemy wraps it with the statement, which says nothing
    more here), on one line: `OperationalError: attempt to write a readonly database`."""
    cause = getattr(error, "orig", None) or error
    text = " ".join(str(cause).split())
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
