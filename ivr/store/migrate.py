"""The schema's version: where a database is, where the code needs it, and the way there."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
UPGRADE_COMMAND = "ivr db upgrade"


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The revision this code needs."""
    found = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert found is not None, "no migrations shipped"
    return found


def current(engine: Engine) -> str | None:
    """The database's revision; None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or migrate the schema to head; returns (before, after)."""
    before = current(engine)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head()


class SchemaBehind(Exception):
    def __init__(self, at: str | None, needed: str, where: str) -> None:
        self.at, self.needed = at, needed
        state = f"at revision {at}" if at else "empty"
        super().__init__(f"the database {where} is {state}, this version needs revision {needed}: "
                         f"run `{UPGRADE_COMMAND}` first")


def require_current(engine: Engine, where: str) -> None:
    at, needed = current(engine), head()
    if at != needed:
        raise SchemaBehind(at, needed, where)
