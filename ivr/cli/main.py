"""The `ivr` command: serve, check, schedule, call, fallback-twiml. Only argument parsing and
printing live here; the work is done by the modules it calls."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Iterator

import click

from ivr.config.settings import Settings, TimeFormatError, parse_instant
from ivr.cli.common import load as _load
from ivr.config.loading import Config


def _instant(text: str | None, settings: Settings, config: Config) -> dt.datetime:
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
    unreviewed = config.unreviewed()
    if unreviewed:
        click.echo(f"not yet reviewed: {', '.join(unreviewed)} (reviewed: false in their prompts files; "
                   "to be checked by a native-speaking counsellor)")
    from ivr.call.address_forms import address_warnings
    for lang in config.menu.languages:
        for warning in address_warnings(config.prompts[lang]):
            click.echo(f"warning: {warning}")
    # The caller's time over the coming week, hour by hour, with the estimate (no engine needed)
    from ivr.timing.caller_time import warnings
    from ivr.timing.spoken_seconds import Estimate
    start = _instant(None, settings, config).replace(minute=30, second=0, microsecond=0)
    week = [start + dt.timedelta(hours=h) for h in range(7 * 24)]
    for warning in warnings(config, Estimate(), week):
        click.echo(f"warning: {warning}")


@main.command()
@click.option("--at", "at_text", metavar="T", help="ISO 8601 time: with offset, Z, or local (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for scripts and monitoring.")
@click.option("--lang", type=click.Choice(["en", "de"]), default="en", show_default=True)
def schedule(at_text: str | None, as_json: bool, lang: str) -> None:
    """Who is open at T, and when each line opens next."""
    from ivr.directory.schedule_report import schedule_json, schedule_table
    settings = Settings.from_env()
    config = _load(settings)
    at = _instant(at_text, settings, config)
    from ivr.store.startup import live_closures_at
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
    from ivr.serve.logs import LogFormatError, checked_format, configure
    from ivr.serve.metrics import multiprocess_dir
    from ivr.serve.server import SettingError, reload_time_limit, serve as run_server
    settings = Settings.from_env()
    try:
        configure(checked_format(settings.log_format))
    except LogFormatError as problem:
        click.echo(str(problem), err=True)
        sys.exit(2)
    if not settings.auth_token and not dev:
        click.echo("TWILIO_AUTH_TOKEN is not set: every webhook must be checked against Twilio's "
                   "signature. Set it, or pass --dev to run locally without checks.", err=True)
        sys.exit(2)
    config = _load(settings)
    # Every setting the workers use is checked here, before the port opens, like the config.
    if settings.now:
        try:
            parse_instant(settings.now, config.directory.timezone)
        except TimeFormatError as exc:
            click.echo(f"IVR_NOW: {exc}. Unset IVR_NOW to use the real clock.", err=True)
            sys.exit(2)
    try:
        reload_limit = reload_time_limit()
    except SettingError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    _prepare_store()
    count = workers or int(os.environ.get("WEB_CONCURRENCY") or 2)
    if not settings.auth_token:
        logging.getLogger("ivr").warning("dev mode: signatures are not checked")
    with multiprocess_dir(enabled=settings.metrics_token is not None):
        run_server(settings, config, host, port, count, reload_limit, console=_console_settings(dev))


@main.command()
@click.option("--at", "at_text", metavar="T", help="Pin the clock for this call (ISO 8601).")
@click.option("--lang", default="de", show_default=True,
              help="Switch to this language at the first menu (de, en, tr, ar, ru, uk, pl: the menu's languages).")
@click.option("--keys", help="Scripted keys, comma-separated: 1,3 ; '-' is Enter (silence at a menu, "
                             "a talk at a dial); busy/no-answer/failed/completed answer a dial "
                             "(completed:12 = a 12-second talk).")
@click.option("--url", help="A running server (e.g. http://127.0.0.1:5000, or with its path: "
                           "http://127.0.0.1:5000/helpline) instead of in-process.")
def call(at_text: str | None, lang: str, keys: str | None, url: str | None) -> None:
    """A call in the terminal, through the real webhooks."""
    from ivr.serve.terminal_call import FlaskTransport, HttpTransport, NotAKey, run_call
    from ivr.serve.web import create_app
    settings = Settings.from_env()
    config = _load(settings)  # the menu tells the keys to a language (a server may hold another)
    if url:
        transport = HttpTransport(url, settings.auth_token)
        if at_text:
            click.echo("(--at applies in-process only; the server's clock or IVR_NOW decides)", err=True)
    else:
        at = _instant(at_text, settings, config) if (at_text or settings.now) else None
        app = create_app(config, settings, clock=(lambda: at) if at else None)
        transport = FlaskTransport(app.test_client(), settings.auth_token)
    script = [k.strip() for k in keys.split(",")] if keys is not None else None
    menu = config.menu
    to_lang = menu.keys_to(lang)
    if to_lang is None:
        click.echo(f"--lang {lang!r} is not a language of the menu; expected one of "
                   f"{', '.join(menu.languages)}", err=True)
        sys.exit(2)
    if to_lang:
        if script is not None:
            script = [*to_lang, *script]
        else:
            click.echo(f"(press {' then '.join(to_lang)} at the main menu for {lang})")
    try:
        run_call(transport, _keys(script), click.echo, ask_again=script is None)
    except NotAKey as error:
        raise click.BadParameter(f"{error.args[0]!r} came at a menu; expected one key of a phone "
                                 "(0-9, * or #) or - for silence", param_hint="--keys") from None


def _keys(script: list[str] | None) -> Iterator[str]:
    if script is not None:
        yield from script
        return
    while True:
        try:
            text = input("key (0-9 * #, Enter = silence, q = hang up; at a dial: Enter = completed, "
                         "or completed:seconds/busy/no-answer/failed)> ")
        except EOFError:
            return
        if text.strip().lower() == "q":
            return
        yield text.strip()


@main.command("fallback-twiml")
def fallback_twiml() -> None:
    """Print the static TwiML for Twilio's Fallback URL."""
    from ivr.call.twiml import Renderer
    click.echo(Renderer(_load(Settings.from_env())).fallback())


@main.command("caller-time")
@click.option("--at", "at_text", metavar="T", help="ISO 8601 time (default: now, or IVR_NOW).")
@click.option("--lang", default="all", show_default=True, help="all, or one of the menu's languages.")
@click.option("--engine", type=click.Choice(["auto", "espeak", "estimate"]), default="auto", show_default=True,
              help="espeak-ng (the reference) or the estimate calibrated against it; auto: espeak-ng "
                   "when installed.")
@click.option("--answers", is_flag=True, help="Also list every answer within two keys, each <Say> timed.")
def caller_time(at_text: str | None, lang: str, engine: str, answers: bool) -> None:
    """What a caller hears before a person, in spoken seconds, against the call's goals."""
    from ivr.timing import espeak
    from ivr.timing.caller_time import CallerTime, format_measures, format_walk
    from ivr.timing.spoken_seconds import Estimate, Timer
    settings = Settings.from_env()
    config = _load(settings)
    at = _instant(at_text, settings, config)
    if engine == "espeak" and not espeak.available():
        click.echo("espeak-ng is not installed (Debian: apt-get install espeak-ng); "
                   "use --engine estimate", err=True)
        sys.exit(2)
    use_espeak = engine == "espeak" or (engine == "auto" and espeak.available())
    timer: Timer = espeak.Espeak() if use_espeak else Estimate()
    walker = CallerTime(config, timer)
    if lang != "all" and lang not in config.menu.languages:
        click.echo(f"--lang {lang!r} is not a language of the menu; expected all or one of "
                   f"{', '.join(config.menu.languages)}", err=True)
        sys.exit(2)
    languages = config.menu.languages if lang == "all" else (lang,)
    measures = [walker.measure(code, at) for code in languages]
    click.echo(f"caller time at {at:%a %Y-%m-%d %H:%M %Z}, spoken by "
               f"{'espeak-ng -s 150' if use_espeak else 'the estimate (no espeak-ng)'}")
    click.echo(format_measures(measures))
    if answers:
        for code in languages:
            click.echo(f"\n== {code}: every answer within two keys ==")
            click.echo(format_walk(walker.walk(code, at)))
    sys.exit(1 if any(m.missed() for m in measures) else 0)


# -- ivr twilio: the number's settings ---------------------------------------------------------

if TYPE_CHECKING:  # imported where used: the other commands need no HTTP client
    from ivr.twilio.api import ApiAccess, NumberApi
    from ivr.twilio.number import Expected


def _e164(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    import re
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", value):
        raise click.BadParameter(f"{value!r} is not an E.164 number; expected e.g. +4930123456")
    return value


_number_option = click.option("--number", required=True, callback=_e164, metavar="+49...",
                              help="The service's Twilio number, E.164.")
_timeout_option = click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0,
                               show_default=True, help="Seconds to wait for each request.")


@main.group()
def twilio() -> None:
    """The Twilio number: check its settings, or set them up for this service.

    Credentials: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or with TWILIO_API_KEY and
    TWILIO_API_SECRET. The expected URLs are IVR_PUBLIC_URL + /voice and /fallback."""


def _twilio_start(settings: Settings, timeout: float) -> tuple[Expected, ApiAccess, NumberApi]:
    """The expected URLs and a client, or a one-line message and exit 1."""
    from urllib.parse import urlsplit
    from ivr.twilio.api import ApiAccess, ApiError, NumberApi
    from ivr.twilio.number import Expected
    public = urlsplit(settings.public_url or "")
    if public.scheme not in ("http", "https") or not public.hostname:
        click.echo(f"IVR_PUBLIC_URL={settings.public_url or ''!r}: expected the service's public "
                   "base URL, e.g. https://helpline.example.org", err=True)
        sys.exit(1)
    try:
        access = ApiAccess.from_env()
    except ApiError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    return Expected.under(settings.public_url or ""), access, NumberApi(access, timeout)


@twilio.command("check")
@_number_option
@_timeout_option
def twilio_check(number: str, timeout: float) -> None:
    """Report, one line each, what is right and wrong with the number. Exit 1 if anything is."""
    from ivr.twilio.api import ApiError, check as check_number
    from ivr.twilio.number import WRONG
    settings = Settings.from_env()
    hotlines = [(line.id, line.phone) for line in _load(settings).directory.lines]
    expected, access, api = _twilio_start(settings, timeout)
    try:
        findings = check_number(api, number, expected, hotlines, access.auth_token, timeout)
    except ApiError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for finding in findings:
        click.echo(finding.line())
    wrong = sum(finding.status == WRONG for finding in findings)
    click.echo(f"{number}: {wrong} to fix" if wrong else f"{number}: all right")
    sys.exit(1 if wrong else 0)


@twilio.command("setup")
@_number_option
@_timeout_option
@click.option("--apply", "apply_changes", is_flag=True, help="Make the changes (default: only show them).")
def twilio_setup(number: str, timeout: float, apply_changes: bool) -> None:
    """Show what the number needs so that its calls reach this service; --apply sets it."""
    from ivr.twilio.api import ApiError
    from ivr.twilio.number import changes
    expected, _access, api = _twilio_start(Settings.from_env(), timeout)
    try:
        current = api.number(number)
        todo = changes(current, expected)
        for change in todo:
            click.echo(f"  {change.line()}")
        if not todo:
            click.echo(f"{number}: nothing to change")
            return
        if not apply_changes:
            click.echo(f"{number}: {len(todo)} changes shown, none made; run again with --apply "
                       "to make them")
            return
        left = changes(api.update(current, todo), expected)
    except ApiError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if left:
        click.echo(f"{number}: Twilio did not take {', '.join(c.label for c in left)}", err=True)
        sys.exit(1)
    click.echo(f"{number}: {len(todo)} changes made")


def _prepare_store() -> None:
    """Refuse to serve on a schema that is behind (SQLite upgrades itself and says so)."""
    from ivr.store.database import StoreSettings, StoreSettingsError
    from ivr.store.migrate import SchemaBehind
    from ivr.store.startup import prepare_apart
    try:
        prepare_apart(StoreSettings.from_env())
    except (SchemaBehind, StoreSettingsError) as problem:
        click.echo(f"not serving: {problem}", err=True)
        sys.exit(2)


def _console_settings(dev: bool):  # type: ignore[no-untyped-def]
    """The console's settings, or None (logged) when it cannot be served: calls go on without it."""
    from ivr.console.settings import ConsoleOff, ConsoleSettings
    try:
        console = ConsoleSettings.from_env(dev)
    except ConsoleOff as off:
        logging.getLogger("ivr.console").warning("the operators' console is off: %s", off)
        return None
    logging.getLogger("ivr.console").info("the operators' console is served under /console/%s",
                                          "" if console.secure_cookies else " (dev: cookies without Secure)")
    return console


from ivr.store.cli import register  # noqa: E402  (the store's commands join the group)
from ivr.console.cli import register as register_console  # noqa: E402

register(main)
register_console(main)
