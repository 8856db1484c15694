"""What every part of the `ivr` command shares (ivr/cli/main.py, ivr/store/cli.py,
ivr/console/cli.py): the configuration loaded with the same error report, and the store's
settings and engine. It imports no command module, so no command module imports back.

SQLAlchemy and Alembic are imported by the helpers that use them, not here: every `ivr`
command loads this module, and most (check, schedule, call) need neither."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ivr.config.errors import ConfigInvalid
from ivr.config.loading import Config, load_config
from ivr.config.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ivr.store.database import StoreSettings


def load(settings: Settings) -> Config:
    """The configuration, or exit 1 with every problem named (file, key path, value, expected)."""
    try:
        return load_config(settings.data_dir, settings.prompts_dir)
    except ConfigInvalid as problems:
        click.echo(problems.report(), err=True)
        sys.exit(1)


def store_settings() -> StoreSettings:
    from ivr.store.database import StoreSettings, StoreSettingsError
    try:
        return StoreSettings.from_env()
    except StoreSettingsError as error:
        raise click.UsageError(str(error)) from None


def store_engine(settings: StoreSettings) -> Engine:
    """An engine on a schema that is current; otherwise exit 2 saying what to run."""
    from sqlalchemy.exc import SQLAlchemyError

    from ivr.store import migrate
    from ivr.store.database import make_engine
    engine = make_engine(settings)
    try:
        migrate.require_current(engine, settings.shown_url())
    except migrate.SchemaBehind as behind:
        click.echo(str(behind), err=True)
        sys.exit(2)
    except SQLAlchemyError as error:
        click.echo(f"cannot reach the database {settings.shown_url()}: {type(error).__name__}", err=True)
        sys.exit(2)
    return engine
