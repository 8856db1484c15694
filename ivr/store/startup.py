"""Before `ivr serve` opens its port: is the database's schema the one this code needs? And the
live closures for `ivr schedule`."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import closures, migrate
from .closures import LiveClosure
from .database import StoreSettings, make_engine

log = logging.getLogger("ivr.store")


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
