"""The console's questions to the store's tables that the store itself does not ask: demand by
weekday and hour, summed in the database so that a year of hourly rows stays fast."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import Engine, func, select

from ..store import events as ev
from ..store.schema import counts_hourly


def weekday_hour(engine: Engine, first: dt.date, last: dt.date) -> dict[str, Counter]:
    """{"calls": (weekday, hour) -> count, "unmet": ...} over local dates first..last (hourly rows
    only: days already folded by `ivr db prune` have no hour of day any more)."""
    c = counts_hourly.c
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    query = (select(c.hour, c.event, func.sum(c.count))
             .where(c.hour >= start, c.hour < end, c.event.in_((ev.CALL, ev.UNMET)))
             .group_by(c.hour, c.event))
    out = {"calls": Counter(), "unmet": Counter()}
    with engine.connect() as connection:
        for hour, event, count in connection.execute(query):
            out["calls" if event == ev.CALL else "unmet"][(hour.weekday(), hour.hour)] += int(count)
    return out
