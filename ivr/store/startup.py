"""Before `ivr serve` opens its port: is the database's schema the one this code needs? And the
live closures for `ivr schedule`."""
from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import closures, migrate
from .closures import LiveClosure
from .database import StoreSettings, StoreSettingsError, make_engine

log = logging.getLogger("ivr.store")


def prepare_apart(settings: StoreSettings) -> None:
    """`prepare`, in a child process: the serving master must never import psycopg. psycopg
    picks how it waits for the network when it is first imported, and only a worker that
    imports it after gevent has patched the worker waits cooperatively (a worker whose other
    greenlets, the webhooks, go on while the database is slow). Raises what `prepare` raises."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: check, report, exit; never returns
        os.close(read_fd)
        code, message = 0, ""
        try:
            prepare(settings)
        except migrate.SchemaBehind as behind:
            code, message = 3, str(behind)
        except Exception as error:  # reported by the parent; the child only exits
            code, message = 4, f"{type(error).__name__}: {error}"
        with os.fdopen(write_fd, "w", encoding="utf-8") as out:
            out.write(message)
        logging.shutdown()
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, encoding="utf-8") as result:
        message = result.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 3:
        raise SchemaPrepared(message)
    if code != 0:
        raise StoreSettingsError(message or f"the database check ended with exit code {code}")


class SchemaPrepared(migrate.SchemaBehind):
    """SchemaBehind as a child process reported it (its message, as written there)."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)


def prepare(settings: StoreSettings) -> None:
    """Raise migrate.SchemaBehind when the schema is behind; a SQLite file is upgraded instead
    (it belongs to this host alone), and the log says so. A database that cannot be reached is
    logged, not fatal: calls must go on, and the workers keep trying."""
    engine = make_engine(settings)
    where = settings.shown_url()
    try:
        migrate.require_current(engine, where)
    except migrate.SchemaBehind as behind:
        if not settings.is_sqlite:
            raise
        migrate.upgrade(engine)
        log.warning("upgraded the SQLite database %s from %s to revision %s (as `%s` would)",
                    where, behind.at or "empty", behind.needed, migrate.UPGRADE_COMMAND)
    except SQLAlchemyError as error:
        log.error("cannot reach the database %s (%s): serving calls without live closures until "
                  "it answers; counts wait in memory", where, type(error).__name__)
    finally:
        engine.dispose()  # no connection may cross the fork into the workers


def live_closures_at(at: dt.datetime) -> tuple[tuple[LiveClosure, ...], str | None]:
    """The live closures in force at `at`, for `ivr schedule`; with a reason instead when they
    cannot be read. A SQLite file that does not exist yet simply holds none."""
    settings = StoreSettings.from_env()
    if settings.is_sqlite and not _sqlite_exists(settings):
        return (), None
    engine = make_engine(settings)
    try:
        migrate.require_current(engine, settings.shown_url())
        return closures.active(engine, at), None
    except migrate.SchemaBehind as behind:
        return (), str(behind)
    except SQLAlchemyError as error:
        return (), f"cannot reach the database {settings.shown_url()} ({type(error).__name__})"
    finally:
        engine.dispose()


def _sqlite_exists(settings: StoreSettings) -> bool:
    database = make_url(settings.url).database
    return not database or database == ":memory:" or Path(database).exists()
