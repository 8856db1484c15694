"""Login budgets: growing delays per client address, per account and per known browser, counted
in the database so that every worker and host shares one figure.

A try is admitted (its password is then checked) or refused before any check. Admitting is one
compare-and-set UPDATE (the row is changed only if nobody changed it since it was read), so 30
tries at once are counted as 30 and never fewer. After `free` tries in a row without a good
password, each further try waits `first_delay * 2**k` seconds (at most `max_delay`) after the one
before. There is no lock that outlasts its delay: after the wait, the right password works. A
good password clears the budgets it used; a budget untouched for FORGET starts afresh."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from .schema import login_budgets

UTC = dt.timezone.utc
FORGET = dt.timedelta(days=1)
# A compare-and-set lost to another try is read again; each loss means another try was counted.
MAX_ROUNDS = 100


@dataclass(frozen=True)
class Policy:
    free: int  # tries in a row without a wait
    first_delay: float  # seconds to wait after the first try beyond `free`; doubled for each further one
    max_delay: float

    def wait(self, tries: int) -> dt.timedelta:
        """How long after the last of `tries` tries in a row the next one is admitted."""
        if tries < self.free:
            return dt.timedelta(0)
        return dt.timedelta(seconds=min(self.first_delay * 2 ** (tries - self.free), self.max_delay))


ACCOUNT = Policy(free=5, first_delay=30, max_delay=900)  # an account's password, from unknown browsers
DEVICE = ACCOUNT  # a browser where the account signed in before: the same budget, its own
ADDRESS = Policy(free=10, first_delay=30, max_delay=900)  # one client address, whatever the names


def _db(at: dt.datetime) -> dt.datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def admit(engine: Engine, key: str, policy: Policy, now: dt.datetime) -> dt.datetime | None:
    """Count one try against `key`: None when it is admitted, else when the next one will be."""
    at = _db(now)
    for _ in range(MAX_ROUNDS):
        try:
            with engine.begin() as connection:
                row = connection.execute(select(login_budgets.c.tries, login_budgets.c.last_try)
                                         .where(login_budgets.c.key == key)).first()
                if row is None:
                    if connection.execute(_insert_new(engine, key, at)).first() is not None:
                        connection.execute(delete(login_budgets).where(login_budgets.c.last_try < at - FORGET))
                        return None
                    continue  # another try made the row just now: read it
                tries = row.tries if at - row.last_try < FORGET else 0
                allowed = row.last_try + policy.wait(tries)
                if tries and at < allowed:
                    return allowed.replace(tzinfo=UTC)
                changed = connection.execute(
                    update(login_budgets)
                    .where(login_budgets.c.key == key, login_budgets.c.tries == row.tries,
                           login_budgets.c.last_try == row.last_try)
                    .values(tries=tries + 1, last_try=at)).rowcount
            if changed == 1:
                return None
        except OperationalError:  # SQLite: another writer held the file; read again
            continue
    return now  # never won a round against a flood of tries: refused, nothing checked


def _insert_new(engine: Engine, key: str, at: dt.datetime):  # type: ignore[no-untyped-def]
    make = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    return make(login_budgets).values(key=key, tries=1, last_try=at).on_conflict_do_nothing(
        index_elements=["key"]).returning(login_budgets.c.key)  # a row back: this try made it


def clear(engine: Engine, *keys: str) -> None:
    """A good password: these budgets start afresh."""
    with engine.begin() as connection:
        connection.execute(delete(login_budgets).where(login_budgets.c.key.in_(keys)))


def tries(engine: Engine, key: str) -> int:
    """The tries counted against `key` (for `ivr user list` and the tests)."""
    with engine.connect() as connection:
        found = connection.execute(select(login_budgets.c.tries).where(login_budgets.c.key == key)).scalar()
    return found or 0
