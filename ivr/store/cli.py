"""The store's commands: `ivr db upgrade|prune`, `ivr close|reopen|closures`, `ivr report`.
Argument parsing and printing only; the work is in the store's modules.

SQLAlchemy and Alembic are imported by the commands that use them, not here: every `ivr`
command loads this module, and most (check, schedule, call) need neither."""
from __future__ import annotations

import datetime as dt
import json
import re
import sys
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from ivr.cli.common import load, store_engine as _engine, store_settings as _settings
from ivr.config.settings import Settings

if TYPE_CHECKING:
    from ivr.config.loading import Config
    from .closures import LiveClosure

PERIODS = ("hour", "day", "week", "month")


def _config() -> tuple[Settings, Config]:
    settings = Settings.from_env()
    return settings, load(settings)


def _now() -> dt.datetime:
    """Closures are real actions on a live line: always the real clock, never IVR_NOW."""
    return dt.datetime.now(dt.timezone.utc)


@click.group()
def db() -> None:
    """The database: create or migrate its schema, fold old counts."""


@db.command()
def upgrade() -> None:
    """Create the schema, or migrate it to this version's."""
    from sqlalchemy.exc import SQLAlchemyError

    from . import migrate
    from .database import make_engine
    settings = _settings()
    try:
        before, after = migrate.upgrade(make_engine(settings))
    except SQLAlchemyError as error:
        click.echo(f"cannot upgrade {settings.shown_url()}: {error}", err=True)
        sys.exit(2)
    click.echo(f"{settings.shown_url()}: " + (f"already at revision {after}" if before == after
                                             else f"upgraded from {before or 'empty'} to revision {after}"))


@db.command()
def prune() -> None:
    """Fold hourly counts older than IVR_KEEP_HOURLY_DAYS days into daily counts."""
    from . import counts
    settings = _settings()
    _, config = _config()
    today = _now().astimezone(config.directory.timezone).date()
    before = today - dt.timedelta(days=settings.keep_hourly_days)
    folded = counts.prune(_engine(settings), before)
    click.echo(f"folded {folded} hourly rows before {before.isoformat()} into daily rows")


@click.command()
@click.argument("line_id")
@click.option("--until", "until_text", metavar="T", help="When it reopens by itself: a time of day "
              "(18:00: the next 18:00 from now) or ISO 8601 (2026-12-24T18:00); default: until `ivr reopen`.")
@click.option("--reason", default="", help="Why, for the audit trail and the other operators.")
@click.option("--by", "by", required=True, help="Your name, for the audit trail.")
def close(line_id: str, until_text: str | None, reason: str, by: str) -> None:
    """Close a line now: every server skips it within 10 seconds."""
    from ivr.config.settings import TimeFormatError
    from . import closures
    _, config = _config()
    _known_line(config, line_id)
    until = None
    if until_text:
        try:
            until = parse_until(until_text, config.directory.timezone, _now())
        except TimeFormatError as error:
            raise click.BadParameter(str(error), param_hint="--until") from None
    engine = _engine(_settings())
    try:
        made = closures.close(engine, line_id, by=by, now=_now(), until=until, reason=reason)
    except closures.ClosureError as error:
        raise click.UsageError(str(error)) from None
    shown = f"until {_local(made.until, config)}" if made.until else "until reopened"
    click.echo(f"closed {line_id} {shown}")


def parse_until(text: str, zone: ZoneInfo, now: dt.datetime) -> dt.datetime:
    """`--until`: a time of day alone ("18:00", "8:30") is the next such time in the directory's
    zone (today if it is still ahead, else tomorrow), so that examples and habits never go stale;
    anything else is an ISO 8601 instant."""
    from ivr.config.settings import TimeFormatError, parse_instant
    if re.fullmatch(r"\d{1,2}:\d{2}", text.strip()):
        try:
            time_of_day = dt.time.fromisoformat(text.strip().zfill(5))
        except ValueError:
            raise TimeFormatError(f"{text!r} is not a time of day; expected HH:MM like 18:00") from None
        local = now.astimezone(zone)
        at = dt.datetime.combine(local.date(), time_of_day, tzinfo=zone)
        if at <= local:
            at = dt.datetime.combine(local.date() + dt.timedelta(days=1), time_of_day, tzinfo=zone)
        return dt.datetime.fromtimestamp(at.timestamp(), zone)  # a wall time skipped in spring: one hour on
    return parse_instant(text, zone)


@click.command()
@click.argument("line_id")
@click.option("--by", "by", required=True, help="Your name, for the audit trail.")
def reopen(line_id: str, by: str) -> None:
    """Reopen a line closed with `ivr close`."""
    from . import closures
    _, config = _config()
    _known_line(config, line_id)
    try:
        closures.reopen(_engine(_settings()), line_id, by=by, now=_now())
    except closures.ClosureError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"reopened {line_id}")


@click.command("closures")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--log", "with_log", is_flag=True, help="Also the latest changes (audit trail).")
def list_closures(as_json: bool, with_log: bool) -> None:
    """The lines closed now, and (--log) who closed or reopened what, when and why."""
    from . import closures
    _, config = _config()
    engine = _engine(_settings())
    found = closures.active(engine, _now())
    entries = closures.log(engine) if with_log else ()
    if as_json:
        out: dict[str, object] = {"closures": [_closure_json(c, config) for c in found]}
        if with_log:
            out["log"] = [{"at": _iso(e.at, config), "action": e.action, "line_id": e.line_id,
                           "until": _iso(e.until, config), "reason": e.reason, "by": e.operator}
                          for e in entries]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("No line is closed live.")
    for c in found:
        until = f"until {_local(c.until, config)}" if c.until else "until reopened"
        click.echo(f"{c.line_id}  closed {_local(c.closed_at, config)} by {c.closed_by}, {until}"
                   + (f": {c.reason}" if c.reason else ""))
    if with_log:
        click.echo("\nLatest changes:")
        for e in entries:
            extra = (f" until {_local(e.until, config)}" if e.until else "") + (f": {e.reason}" if e.reason else "")
            click.echo(f"  {_local(e.at, config)}  {e.action:<6} {e.line_id} by {e.operator}{extra}")


def _closure_json(c: LiveClosure, config: Config) -> dict[str, str | None]:
    return {"id": c.line_id, "closed_at": _iso(c.closed_at, config), "until": _iso(c.until, config),
            "reason": c.reason, "by": c.closed_by}


def _iso(at: dt.datetime | None, config: Config) -> str | None:
    return at.astimezone(config.directory.timezone).isoformat(timespec="seconds") if at else None


def _local(at: dt.datetime | None, config: Config) -> str:
    return at.astimezone(config.directory.timezone).strftime("%Y-%m-%d %H:%M") if at else ""


def _known_line(config: Config, line_id: str) -> None:
    if line_id not in config.directory.by_id:
        raise click.BadParameter(f"{line_id!r} is not a line of the directory; expected one of "
                                 f"{', '.join(config.directory.by_id)}", param_hint="LINE_ID")


@click.command("report")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First local date (default: 30 days before --to).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last local date, included (default: today).")
@click.option("--by", type=click.Choice(PERIODS), help="Also the totals per hour, day, week or month.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def report_command(first: dt.datetime | None, last: dt.datetime | None, by: str | None, fmt: str) -> None:
    """Calls, connections, outcomes and unmet demand; small counts shown as <5."""
    from . import report
    settings = _settings()
    _, config = _config()
    last_day = last.date() if last else _now().astimezone(config.directory.timezone).date()
    first_day = first.date() if first else last_day - dt.timedelta(days=30)
    if first_day > last_day:
        raise click.BadParameter(f"{first_day} is after --to {last_day}; expected a date on or before it",
                                 param_hint="--from")
    built = report.build(_engine(settings), first_day, last_day,
                         [line.id for line in config.directory.lines], by)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(built, settings.report_min_count), indent=2))
    elif fmt == "csv":
        click.echo(report.to_csv(built, settings.report_min_count), nl=False)
    else:
        click.echo(report.to_table(built, settings.report_min_count), nl=False)


def register(main: click.Group) -> None:
    for command in (db, close, reopen, list_closures, report_command):
        main.add_command(command)
