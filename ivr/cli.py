"""The `ivr` command: serve, check, schedule, call, fallback-twiml. Only argument parsing and
printing live here; the work is done by the modules it calls."""
from __future__ import annotations

import json
import logging
import os
import sys
from typing import Iterator

import click

from .config import Settings, TimeFormatError, parse_instant
from .errors import ConfigInvalid
from .loading import Config, load_config


def _load(settings: Settings) -> Config:
    try:
        return load_config(settings.data_dir, settings.prompts_dir)
    except ConfigInvalid as problems:
        click.echo(problems.report(), err=True)
        sys.exit(1)


def _instant(text: str | None, settings: Settings, config: Config):
    import datetime as dt
    source = text or settings.now
    if not source:
        return dt.datetime.now(dt.timezone.utc).astimezone(config.directory.timezone)
    try:
        return parse_instant(source, config.directory.timezone)
    except TimeFormatError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from None


@click.group()
def main() -> None:
    """The helpline's phone menu: run it, check its configuration, look at its schedule."""


@main.command()
def check() -> None:
    """Validate the hotline directory, the menu and every language's prompts."""
    settings = Settings.from_env()
    config = _load(settings)
    d = config.directory
    click.echo(f"OK: {len(d.lines)} lines, {len(d.resources)} resources, {len(config.menu.nodes)} "
               f"menu nodes, languages {', '.join(config.menu.languages)} "
               f"({settings.data_dir}, {settings.prompts_dir})")


@main.command()
@click.option("--at", "at_text", metavar="T", help="ISO 8601 time: with offset, Z, or local (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for scripts and monitoring.")
@click.option("--lang", type=click.Choice(["en", "de"]), default="en", show_default=True)
def schedule(at_text: str | None, as_json: bool, lang: str) -> None:
    """Who is open at T, and when each line opens next."""
    from .schedule_report import schedule_json, schedule_table
    settings = Settings.from_env()
    config = _load(settings)
    at = _instant(at_text, settings, config)
    from .store.startup import live_closures_at
    live, problem = live_closures_at(at)
    if problem:
        click.echo(f"(live closures unknown: {problem})", err=True)
    if as_json:
        click.echo(json.dumps(schedule_json(config.directory, at, live), ensure_ascii=False, indent=2))
    else:
        click.echo(schedule_table(config.directory, at, lang=lang, live=live))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=int, help="Worker processes (default: $WEB_CONCURRENCY or 2).")
@click.option("--dev", is_flag=True, help="Allow running without TWILIO_AUTH_TOKEN (no signature checks).")
def serve(host: str, port: int, workers: int | None, dev: bool) -> None:
    """Run the webhooks under gunicorn. The config is validated before the port opens."""
    from .server import serve as run_server
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if not settings.auth_token and not dev:
        click.echo("TWILIO_AUTH_TOKEN is not set: every webhook must be checked against Twilio's "
                   "signature. Set it, or pass --dev to run locally without checks.", err=True)
        sys.exit(2)
    config = _load(settings)
    _prepare_store()
    count = workers or int(os.environ.get("WEB_CONCURRENCY") or 2)
    if not settings.auth_token:
        logging.getLogger("ivr").warning("dev mode: signatures are not checked")
    run_server(settings, config, host, port, count, _console_settings(dev))


@main.command()
@click.option("--at", "at_text", metavar="T", help="Pin the clock for this call (ISO 8601).")
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True,
              help="Switch to this language at the first menu.")
@click.option("--keys", help="Scripted keys, comma-separated: 1,3 ; '-' for silence; "
                             "busy/no-answer/failed/completed answer a dial.")
@click.option("--url", help="A running server (e.g. http://127.0.0.1:5000) instead of in-process.")
def call(at_text: str | None, lang: str, keys: str | None, url: str | None) -> None:
    """A call in the terminal, through the real webhooks."""
    from .terminal_call import FlaskTransport, HttpTransport, run_call
    from .web import create_app
    settings = Settings.from_env()
    if url:
        transport = HttpTransport(url, settings.auth_token)
        if at_text:
            click.echo("(--at applies in-process only; the server's clock or IVR_NOW decides)", err=True)
    else:
        config = _load(settings)
        at = _instant(at_text, settings, config) if (at_text or settings.now) else None
        app = create_app(config, settings, clock=(lambda: at) if at else None)
        transport = FlaskTransport(app.test_client(), settings.auth_token)
    script = [k.strip() for k in keys.split(",")] if keys is not None else None
    if lang != "de":
        script = ["4", *(script or [])] if script is not None else None
        if script is None:
            click.echo("(press 4 at the main menu for English)")
    run_call(transport, _keys(script), click.echo)


def _keys(script: list[str] | None) -> Iterator[str]:
    if script is not None:
        yield from script
        return
    while True:
        try:
            text = input("key (0-9 * #, Enter = silence, q = hang up; at a dial: completed/busy/no-answer/failed)> ")
        except EOFError:
            return
        if text.strip().lower() == "q":
            return
        yield text.strip()


@main.command("fallback-twiml")
def fallback_twiml() -> None:
    """Print the static TwiML for Twilio's Fallback URL."""
    from .twiml import Renderer
    click.echo(Renderer(_load(Settings.from_env())).fallback())


def _prepare_store() -> None:
    """Refuse to serve on a schema that is behind (SQLite upgrades itself and says so)."""
    from .store.database import StoreSettings, StoreSettingsError
    from .store.migrate import SchemaBehind
    from .store.startup import prepare
    try:
        prepare(StoreSettings.from_env())
    except (SchemaBehind, StoreSettingsError) as problem:
        click.echo(f"not serving: {problem}", err=True)
        sys.exit(2)


def _console_settings(dev: bool):  # type: ignore[no-untyped-def]
    """The console's settings, or None (logged) when it cannot be served: calls go on without it."""
    from .console.settings import ConsoleOff, ConsoleSettings
    try:
        console = ConsoleSettings.from_env(dev)
    except ConsoleOff as off:
        logging.getLogger("ivr.console").warning("the operators' console is off: %s", off)
        return None
    logging.getLogger("ivr.console").info("the operators' console is served under /console/%s",
                                          "" if console.secure_cookies else " (dev: cookies without Secure)")
    return console


from .store.cli import register  # noqa: E402  (the store's commands join the group)
from .console.cli import register as register_console  # noqa: E402

register(main)
register_console(main)
