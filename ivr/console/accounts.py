"""Operator accounts: add, remove, list, check a password, end sessions; every change logged.

Passwords are stored as salted scrypt hashes (werkzeug.security). Every try is first admitted by
the login budgets (throttle.py): its client address and the account, or, from a browser where
the account signed in before, that browser's own budget. So a flood from elsewhere slows the
flooder, never the operator at a known browser, and no budget is a lock that outlasts its delay.
Instants are naive UTC in the database, aware in Python (as the closures)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import threading
import time

from sqlalchemy import Engine, delete, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..store.closures import check_operator
from . import throttle
from .schema import operator_log, operators

UTC = dt.timezone.utc
ROLES = ("viewer", "editor")
MIN_PASSWORD = 10
HASH_METHOD = "scrypt"
# Checked against when the name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone", method=HASH_METHOD)


# A password check costs about 70 ms of CPU. Each process checks at most this many within
# BUDGET_SECONDS for unknown browsers (whatever the names tried): a flood of logins from many
# addresses cannot take a worker from the calls. A known browser's try is always checked.
BUDGET_CHECKS, BUDGET_SECONDS = 20, 10.0


class _Budget:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spent: list[float] = []

    def take(self) -> bool:
        now = time.monotonic()
        with self._lock:
            self._spent = [t for t in self._spent if now - t < BUDGET_SECONDS]
            if len(self._spent) >= BUDGET_CHECKS:
                return False
            self._spent.append(now)
            return True


budget = _Budget()


def _off_the_loop(check, *args):  # type: ignore[no-untyped-def]
    """Under gunicorn's gevent workers, hash in a native thread: scrypt releases the GIL, so the
    worker's other greenlets (the calls' webhooks) go on meanwhile."""
    try:
        from gevent import get_hub, monkey
    except ImportError:
        return check(*args)
    if monkey.is_module_patched("threading"):
        return get_hub().threadpool.apply(check, args)
    return check(*args)


class AccountError(ValueError):
    """An account change that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Operator:
    name: str
    role: str
    created_at: dt.datetime
    session_version: int  # sessions signed with another version have ended

    @property
    def can_edit(self) -> bool:
        return self.role == "editor"


@dataclass(frozen=True)
class Client:
    """Who tries: the client address (the proxy's X-Forwarded-For where the proxy is trusted) and
    the id of the device cookie that this browser holds for the name tried, if any."""

    address: str
    device: str | None = None


@dataclass(frozen=True)
class LoginResult:
    operator: Operator | None  # set when the login succeeded
    retry_at: dt.datetime | None = None  # set when the try was refused unchecked: try again then
    busy: bool = False  # set when this process has checked too many passwords just now


@dataclass(frozen=True)
class LogEntry:
    at: dt.datetime
    action: str
    name: str
    role: str
    operator: str


def _db(at: dt.datetime) -> dt.datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    return at.replace(tzinfo=UTC) if at is not None else None


def _operator(row: object) -> Operator:
    return Operator(row.name, row.role, _aware(row.created_at),  # type: ignore[attr-defined, arg-type]
                    row.session_version)  # type: ignore[attr-defined]


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not known; expected one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password has {len(password)} characters; expected at least {MIN_PASSWORD}")
    return password


def add(engine: Engine, name: str, role: str, password: str, *, by: str, now: dt.datetime) -> Operator:
    name, by = check_operator(name), check_operator(by)
    check_role(role)
    check_password(password)
    with engine.begin() as connection:
        if connection.execute(select(operators.c.name).where(operators.c.name == name)).first():
            raise AccountError(f"an operator named {name!r} exists already; `ivr user remove {name}` first")
        connection.execute(insert(operators).values(
            name=name, role=role, password_hash=generate_password_hash(password, method=HASH_METHOD),
            created_at=_db(now), session_version=0))
        _log(connection, "user_add", name, role, by, now)
    return Operator(name, role, now.astimezone(UTC), 0)


def remove(engine: Engine, name: str, *, by: str, now: dt.datetime) -> None:
    by = check_operator(by)
    with engine.begin() as connection:
        row = connection.execute(select(operators).where(operators.c.name == name)).first()
        if row is None:
            raise AccountError(f"no operator is named {name!r}; `ivr user list` shows them")
        connection.execute(delete(operators).where(operators.c.name == name))
        _log(connection, "user_remove", name, row.role, by, now)


def all_operators(engine: Engine) -> tuple[Operator, ...]:
    with engine.connect() as connection:
        return tuple(_operator(r) for r in connection.execute(select(operators).order_by(operators.c.name)))


def find(engine: Engine, name: str) -> Operator | None:
    row = _row(engine, name)
    return _operator(row) if row else None


def login(engine: Engine, name: str, password: str, now: dt.datetime, client: Client) -> LoginResult:
    """Check a password once its budgets admit the try; unknown and known names alike."""
    if client.device:
        budgets = ((f"device:{client.device}", throttle.DEVICE),)
    else:
        budgets = ((f"address:{client.address}", throttle.ADDRESS), (f"account:{name}", throttle.ACCOUNT))
    for key, policy in budgets:
        retry_at = throttle.admit(engine, key, policy, now)
        if retry_at is not None:
            return LoginResult(None, retry_at)
    if not client.device and not budget.take():
        return LoginResult(None, busy=True)
    row = _row(engine, name)
    if row is None:
        _off_the_loop(check_password_hash, _DUMMY_HASH, password)
        return LoginResult(None)
    if not _off_the_loop(check_password_hash, row.password_hash, password):
        return LoginResult(None)
    throttle.clear(engine, *(key for key, _ in budgets))
    return LoginResult(_operator(row))


def _row(engine: Engine, name: str):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(select(operators).where(operators.c.name == name)).first()


def end_sessions(engine: Engine, name: str) -> None:
    """Logout: every session of this operator ends, on every worker and host."""
    with engine.begin() as connection:
        connection.execute(update(operators).where(operators.c.name == name)
                           .values(session_version=operators.c.session_version + 1))


def _log(connection, action: str, name: str, role: str, by: str, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    connection.execute(insert(operator_log).values(at=_db(now), action=action, name=name, role=role, operator=by))


def log(engine: Engine, limit: int = 50) -> tuple[LogEntry, ...]:
    """The latest account changes, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(select(operator_log).order_by(operator_log.c.id.desc()).limit(limit))
        return tuple(LogEntry(_aware(r.at), r.action, r.name, r.role, r.operator)  # type: ignore[arg-type]
                     for r in rows)
