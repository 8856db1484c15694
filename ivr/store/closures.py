"""Live closures: a line closed now by an operator (a counsellor is ill), until a time or until
reopened, with an audit trail of who did what, when and why. The YAML's planned closures stay
where they are; these sit beside them.

Instants are stored as naive UTC (both engines keep them alike); callers pass aware instants."""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select

from ivr.call.live_closed import Closed, LiveClosure  # plain data: the pure areas read it too
from .schema import OPERATOR_LEN, REASON_LEN, closure_log, live_closures

UTC = dt.timezone.utc
CLOSE, REOPEN = "close", "reopen"


class ClosureError(ValueError):
    """A closure that cannot be made as asked; the message says why and what was expected."""


@dataclass(frozen=True)
class LogEntry:
    id: int
    at: dt.datetime
    action: str
    line_id: str
    until: dt.datetime | None
    reason: str
    operator: str


def _to_db(at: dt.datetime | None) -> dt.datetime | None:
    if at is None:
        return None
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no UTC offset; expected an aware instant")
    return at.astimezone(UTC).replace(tzinfo=None)


def _from_db(at: dt.datetime | None) -> dt.datetime | None:
    return at.replace(tzinfo=UTC) if at is not None else None


def plain(text: str) -> str:
    """The text on one line without control or format characters (terminal escapes, bidi
    overrides): stored so, and read so, since a reason is printed to terminals and pages."""
    text = " ".join(text.split())
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def check_operator(name: str) -> str:
    name = name.strip()
    if not name or len(name) > OPERATOR_LEN or plain(name) != name:
        raise ClosureError(f"--by {name!r} is not an operator name; expected a name of 1 to "
                           f"{OPERATOR_LEN} characters on one line without control characters")
    return name


def _check_reason(reason: str) -> str:
    reason = plain(reason)
    if len(reason) > REASON_LEN:
        raise ClosureError(f"--reason is {len(reason)} characters long; expected at most {REASON_LEN}")
    return reason


def close(engine: Engine, line_id: str, *, by: str, now: dt.datetime,
          until: dt.datetime | None = None, reason: str = "") -> LiveClosure:
    """Close a line now (again: the new until and reason replace the old)."""
    by, reason = check_operator(by), _check_reason(reason)
    if until is not None and until <= now:
        raise ClosureError(f"--until {until.isoformat()} is not in the future; expected a time "
                           f"after {now.astimezone(until.tzinfo).isoformat(timespec='minutes')}")  # as typed: local
    row = {"line_id": line_id, "closed_at": _to_db(now), "until": _to_db(until), "reason": reason,
           "closed_by": by}
    with engine.begin() as connection:
        connection.execute(delete(live_closures).where(live_closures.c.line_id == line_id))
        connection.execute(insert(live_closures).values(row))
        _log(connection, CLOSE, line_id, by, now, until, reason)
    return LiveClosure(line_id, now.astimezone(UTC), until.astimezone(UTC) if until else None, reason, by)


def reopen(engine: Engine, line_id: str, *, by: str, now: dt.datetime) -> None:
    """Reopen a line closed live. A closure that has run out counts as reopened already."""
    by = check_operator(by)
    with engine.begin() as connection:
        found = _row(connection, line_id)
        if found is None or not found.active(now):
            raise ClosureError(f"{line_id} is not closed now; `ivr closures` lists the closed lines")
        connection.execute(delete(live_closures).where(live_closures.c.line_id == line_id))
        _log(connection, REOPEN, line_id, by, now, None, "")


def _log(connection: Connection, action: str, line_id: str, by: str, now: dt.datetime,
         until: dt.datetime | None, reason: str) -> None:
    connection.execute(insert(closure_log).values(
        at=_to_db(now), action=action, line_id=line_id, until=_to_db(until), reason=reason, operator=by))


def _closure(row: Row) -> LiveClosure:
    closed_at = _from_db(row.closed_at)
    assert closed_at is not None  # NOT NULL
    return LiveClosure(row.line_id, closed_at, _from_db(row.until), plain(row.reason), plain(row.closed_by))


def _row(connection: Connection, line_id: str) -> LiveClosure | None:
    row = connection.execute(select(live_closures).where(live_closures.c.line_id == line_id)).first()
    return _closure(row) if row else None


def all_closures(connection: Connection) -> tuple[LiveClosure, ...]:
    """Every stored closure, run out or not, by line id."""
    rows = connection.execute(select(live_closures).order_by(live_closures.c.line_id))
    return tuple(_closure(row) for row in rows)


def in_force(found: Iterable[LiveClosure], now: dt.datetime) -> Closed:
    """The closures in force at `now` as the call obeys them: each line with its closure's end."""
    return frozenset((c.line_id, c.until) for c in found if c.active(now))


def active(engine: Engine, now: dt.datetime) -> tuple[LiveClosure, ...]:
    with engine.connect() as connection:
        return tuple(c for c in all_closures(connection) if c.active(now))


def version(connection: Connection) -> int:
    """Grows with every close and reopen: the cheap question each process asks every few seconds."""
    return connection.execute(select(func.coalesce(func.max(closure_log.c.id), 0))).scalar_one()


def log(engine: Engine, limit: int = 50) -> tuple[LogEntry, ...]:
    """The latest changes, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(select(closure_log).order_by(closure_log.c.id.desc()).limit(limit))
        return tuple(LogEntry(r.id, _from_db(r.at) or r.at, r.action, r.line_id, _from_db(r.until),
                              plain(r.reason), plain(r.operator)) for r in rows)
