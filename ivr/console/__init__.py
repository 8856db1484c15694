"""The operators' console under /console/: server-rendered pages (who is open, coverage, demand,
outcomes, the monthly report, health, try a call), accounts with roles, CSRF on every form.

`mount_console` is all the app factory calls. The console's hooks belong to its blueprint, so
the webhooks run exactly as without it; its session cookie is not even opened for them."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy import Engine

    from ivr.config.settings import Settings
    from .settings import ConsoleSettings


def mount_console(app: Flask, console: ConsoleSettings | None, settings: Settings,
                  engine: Engine | None = None, generation: int = 1) -> None:
    """The console, or (without its settings, e.g. no IVR_SECRET_KEY) a page saying it is off.
    `generation` numbers the served config (1 at start, +1 per accepted reload)."""
    from .web import mount, mount_off
    if console is None:
        mount_off(app)
    else:
        # The pages join the blueprint they import (ivr/console/web.py) before it is registered;
        # web.py never imports them, so the two do not import each other.
        from . import pages  # noqa: F401
        mount(app, console, settings, engine, generation)
