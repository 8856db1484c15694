"""Who covers the next days: each line's open spans and each audience's gaps. Pure: the window's
first day and the live closures are arguments; nothing reads a clock or the database."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from ..directory import AUDIENCES, Directory, Line
from ..schedule import closed_all_day, day_ranges, periods
from ..schedule_report import _regular, _why_closed  # the schedule table's own rules, reused
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


def by_day(spans: Sequence[Span], days: Sequence[dt.date], zone: dt.tzinfo) -> list[tuple[dt.date, list[str]]]:
    """Spans as local "HH:MM-HH:MM" per date (a span across midnight shows on both dates)."""
    out = []
    for day in days:
        start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        texts = [f"{_hhmm(s, day, zone)}-{_hhmm(e, day, zone)}" for s, e in _clip(spans, start, end)]
        if texts:
            out.append((day, texts))
    return out


def _hhmm(at: dt.datetime, day: dt.date, zone: dt.tzinfo) -> str:
    local = at.astimezone(zone)
    return "24:00" if local.date() > day else f"{local:%H:%M}"
