"""Who covers the next days: each line's open spans and each audience's gaps. Pure: the window's
first day and the live closures are arguments; nothing reads a clock or the database."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from ivr.directory.directory import AUDIENCES, Directory, Line
from ivr.directory.schedule import closed_all_day, day_ranges, periods
from ivr.directory.schedule_report import _regular, _why_closed  # the schedule table's own rules, reused
from ..store.closures import LiveClosure

Span = tuple[dt.datetime, dt.datetime]  # aware, half-open


@dataclass(frozen=True)
class Row:
    key: str  # line id or audience
    spans: tuple[Span, ...]  # open
    gaps: tuple[Span, ...] = ()  # audiences: nobody open
    closed_days: tuple[tuple[dt.date, str], ...] = ()  # lines: holiday or dated closure, with why
    live: tuple[Span, ...] = ()  # lines: closed live by an operator


@dataclass(frozen=True)
class Coverage:
    start: dt.datetime  # local midnight of the first day
    end: dt.datetime
    days: tuple[dt.date, ...]
    lines: tuple[Row, ...]
    audiences: tuple[Row, ...]


def build(directory: Directory, first_day: dt.date, days: int, live: Sequence[LiveClosure],
          lang: str) -> Coverage:
    zone = directory.timezone
    start = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), tzinfo=zone)
    dates = tuple(first_day + dt.timedelta(days=n) for n in range(days))
    closed_live = {c.line_id: (c.closed_at, c.until or end) for c in live}
    rows: dict[str, Row] = {}
    for line in directory.lines:
        spans = _clip(((p.opens, p.closes) for p in periods(line, first_day - dt.timedelta(days=1), days + 2)),
                      start, end)
        cut = closed_live.get(line.id)
        live_spans = _clip([cut], start, end) if cut else []
        rows[line.id] = Row(line.id, tuple(_subtract(spans, live_spans)), (),
                            tuple(_closed_days(line, dates, lang)), tuple(live_spans))
    audiences = []
    for audience in AUDIENCES:
        covered = _union([span for line in directory.ranked(audience) for span in rows[line.id].spans])
        audiences.append(Row(audience, tuple(covered), tuple(_subtract([(start, end)], covered))))
    return Coverage(start, end, dates, tuple(rows.values()), tuple(audiences))


def _closed_days(line: Line, dates: Sequence[dt.date], lang: str) -> list[tuple[dt.date, str]]:
    """Dates on which a holiday or a dated closure shuts hours the line would otherwise have."""
    return [(day, _why_closed(line, day, lang)) for day in dates
            if closed_all_day(line, day) and day_ranges(_regular(line), day)]


def _clip(spans, start: dt.datetime, end: dt.datetime) -> list[Span]:  # type: ignore[no-untyped-def]
    out = []
    for opens, closes in spans:
        opens, closes = max(opens, start), min(closes, end)
        if opens < closes:
            out.append((opens, closes))
    return out


def _union(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for opens, closes in sorted(spans, key=lambda s: s[0].timestamp()):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def _subtract(spans: list[Span], cuts: list[Span]) -> list[Span]:
    out = []
    for opens, closes in spans:
        pieces = [(opens, closes)]
        for cut_start, cut_end in cuts:
            pieces = [piece for s, e in pieces for piece in ((s, min(e, cut_start)), (max(s, cut_end), e))
                      if piece[0] < piece[1]]
        out += pieces
    return out


@dataclass(frozen=True)
class Fold:
    """Gaps that repeat, said once: the same local times on the given weekdays of every week of
    the window (`weekly`), or on single dates (`dates`)."""

    opens: dt.time  # the gap's local start
    closes: dt.time  # its local end
    nights: int  # midnights it spans: 0 within a day, 1 overnight, 2 over a weekend...
    weekly: tuple[int, ...] = ()  # weekdays (0 = Monday) on which it starts every week
    dates: tuple[dt.date, ...] = ()  # dates on which it starts once in the window

    @property
    def every_day(self) -> bool:
        return len(self.weekly) == 7


def fold(gaps: Sequence[Span], zone: dt.tzinfo, first: dt.date, last: dt.date) -> list[Fold]:
    """`gaps` (whole, not cut at the window's edges) that touch first..last, folded: a gap that
    starts at the same times on the same weekday in each week of the window is one weekly entry
    (all seven weekdays: "every night"); the rest stay single dates. Weekly ones first, from
    Monday on; then the dates."""
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    shapes: dict[tuple[dt.time, dt.time, int], dict[int, list[dt.date]]] = {}
    for opens, closes in gaps:
        if closes <= start or opens >= end:
            continue
        a, b = opens.astimezone(zone), closes.astimezone(zone)
        nights = (b.date() - a.date()).days - (1 if b.time() == dt.time() else 0)
        close_time = b.time() if b.time() != dt.time() else dt.time(23, 59, 59)
        shapes.setdefault((a.time(), close_time, nights), {}).setdefault(a.weekday(), []).append(a.date())
    weeks = ((last - first).days + 1) // 7
    out: list[tuple[tuple[int, int, dt.date], Fold]] = []
    for (opens_at, closes_at, nights), by_weekday in shapes.items():
        weekly = sorted(day for day, dates in by_weekday.items() if weeks >= 2 and len(dates) >= weeks)
        once = sorted(d for day, dates in by_weekday.items() if day not in weekly for d in dates)
        # over two nights or more the end's weekday differs by start day: one entry each
        for together in ([weekly] if nights < 2 else [[day] for day in weekly]) if weekly else []:
            out.append(((0, together[0], dt.date.min), Fold(opens_at, closes_at, nights, weekly=tuple(together))))
        for date in once:
            out.append(((1, 0, date), Fold(opens_at, closes_at, nights, dates=(date,))))
    return [item for _, item in sorted(out, key=lambda pair: (pair[0], pair[1].opens))]
