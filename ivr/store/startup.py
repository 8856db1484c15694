"""Before `ivr serve` opens its port: is the database's schema the one this code needs?"""
from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from . import migrate
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
