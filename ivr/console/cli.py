"""`ivr user add|remove|list`: operator accounts for the console. Parsing and printing only;
the accounts module (SQLAlchemy, password hashing) is imported only by the commands that use it,
so that every other `ivr` command starts fast."""
from __future__ import annotations

import datetime as dt
import getpass
import sys

import click

ROLES = ("viewer", "editor")  # as accounts.ROLES, without importing it here


def _engine():  # type: ignore[no-untyped-def]
    from ivr.cli.common import store_engine, store_settings
    return store_engine(store_settings())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


@click.group()
def user() -> None:
    """Operator accounts for the console (/console/)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="viewer: sees every page; editor: also closes and reopens lines.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (first line).")
@click.option("--by", "by", help="Your name, for the audit trail (default: your login name).")
def add(name: str, role: str, password_stdin: bool, by: str | None) -> None:
    """Add an operator; asks for the password twice (or reads it from standard input)."""
    from . import accounts
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        made = accounts.add(_engine(), name, role, password, by=by or _who(), now=_now())
    except accounts.AccountError as error:
        raise click.UsageError(str(error)) from None
    except ValueError as error:  # the name, by the store's rule for operator names
        raise click.BadParameter(str(error).replace("--by", "NAME", 1), param_hint="NAME") from None
    click.echo(f"added {made.name} ({made.role})")


@user.command("remove")
@click.argument("name")
@click.option("--by", "by", help="Your name, for the audit trail (default: your login name).")
def remove(name: str, by: str | None) -> None:
    """Remove an operator: their sessions end at their next request."""
    from . import accounts
    try:
        accounts.remove(_engine(), name, by=by or _who(), now=_now())
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"removed {name}")


@user.command("list")
def list_users() -> None:
    """The operators and their roles."""
    from . import accounts, throttle
    engine = _engine()
    found = accounts.all_operators(engine)
    if not found:
        click.echo("No operator yet: `ivr user add NAME --role editor` creates the first.")
    for op in found:
        tries = throttle.tries(engine, f"account:{op.name}")
        wrong = f"  {tries} tries without the right password from unknown browsers" if tries else ""
        click.echo(f"{op.name}  {op.role}  since {op.created_at:%Y-%m-%d}{wrong}")


def register(main: click.Group) -> None:
    main.add_command(user)
