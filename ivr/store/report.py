"""`ivr report`: what the counts say over a span of local dates, with small counts suppressed.

Calls, connections and outcomes per line, talk minutes, unmet demand by weekday and hour, why
calls ended without a connection, in which menu calls ended (entered minus left), and optionally the same totals per hour, day, week or month.
Every count from 1 to IVR_REPORT_MIN_COUNT - 1 leaves the service as "<N" (default "<5"): a
small count could point to one person."""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import Engine

from . import counts, dead_lines, events as ev

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LINE_FIELDS = ("attempts", "completed", "busy", "no_answer", "failed", "short_completed")
Shown = int | float | str


@dataclass
class Report:
    first: dt.date
    last: dt.date
    line_ids: Sequence[str]
    totals: Counter = field(default_factory=Counter)  # calls, connected, unmet
    lines: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    talk_seconds: Counter = field(default_factory=Counter)  # line -> seconds
    unmet_by_hour: Counter = field(default_factory=Counter)  # (weekday, hour) -> count
    reasons: Counter = field(default_factory=Counter)  # why no connection -> count
    choices: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    entered: Counter = field(default_factory=Counter)  # menu node -> its menu played
    left: Counter = field(default_factory=Counter)  # menu node -> a key or silence came back
    by: str | None = None
    periods: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    unanswered: dict[str, int] = field(default_factory=dict)  # line -> dials in a row without a talk, now


def build(engine: Engine, first: dt.date, last: dt.date, line_ids: Sequence[str],
          by: str | None = None) -> Report:
    """Add up the stored counts of local dates first..last (both included)."""
    report = Report(first, last, line_ids, by=by)
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    with engine.connect() as connection:
        hourly = counts.read_hourly(connection, start, end)
        daily = counts.read_daily(connection, first, last)
        report.unanswered = {line: run.unanswered for line, run in dead_lines.read(connection).items()}
    for hour, event, dimension, count, seconds in hourly:
        _add(report, hour, True, event, dimension, count, seconds)
    for day, event, dimension, count, seconds in daily:  # folded days: no hour of day any more
        _add(report, dt.datetime.combine(day, dt.time()), False, event, dimension, count, seconds)
    return report


def _add(report: Report, at: dt.datetime, hourly: bool, event: str, dimension: str, count: int,
         seconds: int) -> None:
    period = _period(at, report.by) if report.by else None
    if event == ev.CALL:
        report.totals["calls"] += count
        if period:
            report.periods[period]["calls"] += count
    elif event == ev.DIAL_ATTEMPT:
        report.lines[dimension]["attempts"] += count
    elif event == ev.DIAL_OUTCOME:
        line, _, outcome = dimension.rpartition("/")
        report.lines[line][outcome] += count
        if outcome == "completed":
            report.totals["connected"] += count
            if period:
                report.periods[period]["connected"] += count
    elif event == ev.TALK:
        report.talk_seconds[dimension] += seconds
        report.lines[dimension]["talks"] += count
    elif event == ev.UNMET:
        report.totals["unmet"] += count
        if hourly:
            report.unmet_by_hour[(at.weekday(), at.hour)] += count
        if period:
            report.periods[period]["unmet"] += count
    elif event == ev.NO_CONNECTION:
        report.reasons[dimension] += count
    elif event == ev.ENTERED:
        report.entered[dimension] += count
    elif event == ev.LEFT:
        report.left[dimension] += count
    else:
        report.choices[event][dimension] += count


def _period(at: dt.datetime, by: str) -> str:
    if by == "hour":
        return at.strftime("%Y-%m-%dT%H:00")
    if by == "day":
        return at.date().isoformat()
    if by == "week":
        return (at.date() - dt.timedelta(days=at.weekday())).isoformat()
    return at.strftime("%Y-%m")


def ended_in_menu(report: Report) -> Counter:
    """Calls that ended at each menu node: entered minus left over the whole span (a call that
    entered just before the span and left inside it makes the difference at most 0, never less)."""
    return Counter({node: max(n - report.left[node], 0) for node, n in report.entered.items()})


def menu_flow(report: Report) -> list[tuple[str, int, int, int]]:
    """(node, entered, went on, ended there) for every node entered, most entered first."""
    ended = ended_in_menu(report)
    return [(node, n, n - ended[node], ended[node])
            for node, n in sorted(report.entered.items(), key=lambda item: (-item[1], item[0]))]


# -- leaving the service: suppressed -----------------------------------------------------------

def suppress(value: int, min_count: int) -> int | str:
    return f"<{min_count}" if 0 < value < min_count else value


def _line_ids(report: Report) -> list[str]:
    return list(report.line_ids) + sorted(set(report.lines) - set(report.line_ids))


def _line(report: Report, line_id: str, min_count: int) -> dict[str, Shown]:
    found = report.lines.get(line_id, Counter())
    shown: dict[str, Shown] = {name: suppress(found[name], min_count) for name in LINE_FIELDS}
    talks = found["talks"]
    # A sum over a few talks tells about those few: suppressed like a small count.
    shown["talk_minutes"] = (f"<{min_count}" if 0 < talks < min_count
                             else round(report.talk_seconds[line_id] / 60, 1))
    # The line's state as the report is made, not a count over its dates: dials in a row that
    # ended without a talk (from service.try_last_after on, the line is tried last)
    shown["unanswered_in_a_row"] = report.unanswered.get(line_id, 0)
    return shown


def to_json(report: Report, min_count: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "totals": {name: suppress(report.totals[name], min_count) for name in ("calls", "connected", "unmet")},
        "lines": {line_id: _line(report, line_id, min_count) for line_id in _line_ids(report)},
        "unmet_by_hour": [[WEEKDAYS[day], hour, suppress(count, min_count)]
                          for (day, hour), count in sorted(report.unmet_by_hour.items()) if count],
        # most first: where callers give up; nodes as in data/menu.yaml, counted over from..to
        "ended_in_menu": {node: suppress(ended, min_count) for node, ended in
                          sorted(ended_in_menu(report).items(), key=lambda item: (-item[1], item[0]))},
    }
    if report.by:
        out["periods"] = [{"start": start, **{name: suppress(c[name], min_count)
                                              for name in ("calls", "connected", "unmet")}}
                          for start, c in sorted(report.periods.items())]
    return out


def to_csv(report: Report, min_count: int) -> str:
    """One flat table (section, name, field, value) for spreadsheets."""
    data = to_json(report, min_count)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "name", "field", "value"])
    for name, value in data["totals"].items():
        writer.writerow(["totals", "", name, value])
    for line_id, fields in data["lines"].items():
        for name, value in fields.items():
            writer.writerow(["line", line_id, name, value])
    for day, hour, value in data["unmet_by_hour"]:
        writer.writerow(["unmet_by_hour", day, f"{hour:02d}", value])
    for reason, value in report.reasons.most_common():
        writer.writerow(["no_connection", reason, "calls", suppress(value, min_count)])
    for node, value in data["ended_in_menu"].items():
        writer.writerow(["ended_in_menu", node, "calls", value])
    for event in sorted(report.choices):
        for dimension, value in sorted(report.choices[event].items()):
            writer.writerow([event, dimension, "count", suppress(value, min_count)])
    for period in data.get("periods", ()):
        for name in ("calls", "connected", "unmet"):
            writer.writerow([f"by_{report.by}", period["start"], name, period[name]])
    return buffer.getvalue()


def to_table(report: Report, min_count: int) -> str:
    data = to_json(report, min_count)
    t = data["totals"]
    out = [f"Report {data['from']} to {data['to']} (local dates; counts under {min_count} shown "
           f"as <{min_count})", "",
           f"Calls {t['calls']}   connected {t['connected']}   wanted a person, none open {t['unmet']}", ""]
    rows = [("Line", "attempts", "completed", "short", "busy", "no answer", "failed", "answered",
             "talk min")]
    for line_id, f in data["lines"].items():
        rows.append((line_id, *(str(f[k]) for k in ("attempts", "completed", "short_completed", "busy",
                                                    "no_answer", "failed")),
                     _rate(report, line_id, min_count), str(f["talk_minutes"])))
    out += _columns(rows)
    tried_last = [f"{line_id} ({f['unanswered_in_a_row']} in a row)" for line_id, f in data["lines"].items()
                  if f["unanswered_in_a_row"]]
    out += ["", "Dials in a row without a talk, now: " + (", ".join(tried_last) or "none")]
    out += ["", "Wanted a person, none open (weekday x hour):"]
    out += [f"  {day} {hour:02d}:00  {count}" for day, hour, count in data["unmet_by_hour"]] or ["  none"]
    out += ["", "Why the service ended a call without a connection, most frequent first:"]
    out += [f"  {reason:<14} {suppress(count, min_count)}"
            for reason, count in report.reasons.most_common()] or ["  none"]
    out += ["", "Ended in a menu (hung up there), most frequent first:"]
    out += [f"  {node:<14} {value}" for node, value in data["ended_in_menu"].items()] or ["  none"]
    if report.choices:
        out += ["", "What callers chose (each time they chose):"]
    for event in sorted(report.choices):
        shown = ", ".join(f"{dimension or '-'} {suppress(count, min_count)}"
                          for dimension, count in sorted(report.choices[event].items()))
        out.append(f"{event}: {shown}")
    if "periods" in data:
        out += ["", f"By {report.by}:"]
        out += _columns([("start", "calls", "connected", "unmet")] + [
            (p["start"], str(p["calls"]), str(p["connected"]), str(p["unmet"])) for p in data["periods"]])
    return "\n".join(out) + "\n"


def _rate(report: Report, line_id: str, min_count: int) -> str:
    """Share of attempts that became a talk; not shown where the attempts are few."""
    found = report.lines.get(line_id, Counter())
    attempts = found["attempts"]
    if attempts < min_count:
        return "-"
    return f"{100 * (found['completed'] + found['short_completed']) / attempts:.0f}%"


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                      enumerate(zip(row, widths))).rstrip() for row in rows]
