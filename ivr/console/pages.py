"""The console's pages. Each gathers plain data and hands it to its template; the charts are
drawn on the server (charts.py)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Response, abort, g, redirect, render_template, request, url_for

from ..config import TimeFormatError, parse_instant
from ..directory import AUDIENCES, Line
from ..errors import ConfigInvalid
from ..live_closed import next_opening_after, without_closed
from ..loading import load_config
from ..schedule import is_open, next_opening
from ..schedule_report import _closes
from ..store import closures, report
from ..store.database import StoreSettings
from . import accounts, charts, coverage, queries, trycall, twilio_check
from .web import answers, bp, config, console, editor_only, engine, lang, now, operator, real_now, refuse

COVERAGE_DAYS = 14
DEMAND_DAYS = 28
MAX_DEMAND_DAYS = 800
YEARS = range(2000, 3000)  # the dates the pages show: no sums or spans near date's limits


# -- formatting, in the directory's zone ----------------------------------------------------

def _day(day: dt.date) -> tuple[str, str]:
    t = g.t
    return t["days"].split()[day.weekday()], (f"{day.day}.{day.month}." if lang() == "de" else f"{day.day}/{day.month}")


def when(at: dt.datetime | None, today: dt.date | None = None) -> str:
    """"14:00" today, else "Mo 30.11. 14:00"; empty for None."""
    if at is None:
        return ""
    local = at.astimezone(config().directory.timezone)
    if local.date() == (today or now().date()):
        return f"{local:%H:%M}"
    weekday, date = _day(local.date())
    return f"{weekday} {date} {local:%H:%M}"


def _span(span: coverage.Span) -> str:
    return f"{when(span[0], dt.date.min)} - {when(span[1], dt.date.min)}"


@bp.app_template_filter("console_when")
def _when_filter(at: dt.datetime | None) -> str:
    return when(at)


def _line_name(line: Line) -> str:
    return line.name.get(lang()) or next(iter(line.name.values()))


def _live(at: dt.datetime) -> tuple[closures.LiveClosure, ...]:
    return closures.active(engine(), at)


# -- Now ------------------------------------------------------------------------------------

@bp.route("/")
def now_page() -> str:
    at = now()
    live = {c.line_id: c for c in _live(at)}
    directory = config().directory
    rows = []
    for line in directory.lines:
        open_now = is_open(line, at) and line.id not in live
        rows.append({"line": line, "name": _line_name(line), "open": open_now, "live": live.get(line.id),
                     "closes": _closes(line, at) if open_now else None, "opens": _opens(line, at, live),
                     "serves": [a for a in AUDIENCES if a in line.serves]})
    index = without_closed(config(), frozenset(live)).index
    nobody = []
    for audience in AUDIENCES:
        if not index.open_lines(at, audience):
            # a line closed by hand is never the next to open before its closure ends
            opens = [(_opens(line, at, live), line) for line in directory.ranked(audience)]
            opens = [(t, line) for t, line in opens if t is not None]
            first = min(opens, key=lambda pair: pair[0]) if opens else None
            nobody.append({"audience": audience, "next": first})
    changes = _changes()
    return render_template("now.html", at=at, rows=rows, nobody=nobody, changes=changes,
                           can_edit=bool(operator() and operator().can_edit))


def _opens(line: Line, at: dt.datetime, live: dict[str, closures.LiveClosure]) -> dt.datetime | None:
    """When the line opens next: for a line closed by hand, once its closure has ended (never
    while it is closed until reopened)."""
    closure = live.get(line.id)
    return next_opening(line, at) if closure is None else next_opening_after(line, at, closure.until)


def _changes(limit: int = 15) -> list[dict[str, Any]]:
    """The audit trail: closures and account changes, newest first."""
    out = [{"at": e.at, "action": e.action, "what": e.line_id, "by": e.operator, "reason": e.reason,
            "until": e.until} for e in closures.log(engine(), limit)]
    out += [{"at": e.at, "action": e.action, "what": f"{e.name} ({e.role})", "by": e.operator, "reason": "",
             "until": None} for e in accounts.log(engine(), limit)]
    return sorted(out, key=lambda e: e["at"], reverse=True)[:limit]


@bp.route("/close", methods=["POST"])
@editor_only
def close_line() -> Any:
    t = g.t
    line_id = request.form.get("line_id", "")
    if line_id not in config().directory.by_id:
        abort(400)
    reason = " ".join((request.form.get("reason") or "").split())
    if not reason:
        return render_template("error.html", message=t["reason_required"]), 400
    until = None
    text = (request.form.get("until") or "").strip()
    try:
        if text:
            until = parse_instant(text, config().directory.timezone)
        closures.close(engine(), line_id, by=operator().name, now=real_now(), until=until,  # type: ignore[union-attr]
                       reason=reason)
    except (TimeFormatError, closures.ClosureError) as error:
        return render_template("error.html", message=f"{t['close_refused']} {error}"), 400
    return redirect(url_for("console.now_page"))


@bp.route("/reopen", methods=["POST"])
@editor_only
def reopen_line() -> Any:
    line_id = request.form.get("line_id", "")
    try:
        closures.reopen(engine(), line_id, by=operator().name, now=real_now())  # type: ignore[union-attr]
    except closures.ClosureError as error:
        return render_template("error.html", message=str(error)), 400
    return redirect(url_for("console.now_page"))


# -- Coverage -------------------------------------------------------------------------------

@bp.route("/coverage")
def coverage_page() -> str:
    at = now()
    directory = config().directory
    cov = coverage.build(directory, at.date(), COVERAGE_DAYS, _live(at), lang())
    names = {line.id: _line_name(line) for line in directory.lines}
    chart = charts.timeline(cov, directory.timezone, at, g.t, {i: i for i in names}, _day, _span)
    gaps = [(row.key, coverage.by_day(row.gaps, cov.days, directory.timezone)) for row in cov.audiences]
    closed_days = [(names[row.key], [(d, why) for d, why in row.closed_days]) for row in cov.lines if row.closed_days]
    return render_template("coverage.html", chart=chart, gaps=gaps, closed_days=closed_days, cov=cov,
                           day=_day, days=COVERAGE_DAYS)


# -- Demand ---------------------------------------------------------------------------------

def _date_arg(name: str, default: dt.date, suffix: str = "") -> dt.date:
    text = request.args.get(name) or ""
    if not text:
        return default
    try:
        day = dt.date.fromisoformat(text + suffix)
    except ValueError:
        day = None
    if day is None or day.year not in YEARS:
        refuse(g.t["bad_date"])
    return day  # type: ignore[return-value]


def _min_count() -> int:
    return StoreSettings.from_env().report_min_count


@bp.route("/demand")
def demand_page() -> str:
    today = now().date()
    last = _date_arg("to", today)
    first = _date_arg("from", last - dt.timedelta(days=DEMAND_DAYS - 1))
    if first > last or (last - first).days > MAX_DEMAND_DAYS:
        abort(400)
    found = queries.weekday_hour(engine(), first, last)
    minimum = _min_count()
    day_names = g.t["days"].split()
    maps = []
    for kind in ("calls", "unmet"):
        values = found[kind]
        shown = {key: str(report.suppress(v, minimum)) for key, v in values.items()}
        chart = charts.heatmap(values, shown, kind, g.t[f"demand_{kind}_title"],
                               g.t[f"demand_{kind}_desc"].format(first=first, last=last, min=minimum),
                               day_names, f"heat-{kind}")
        table = [(day_names[d], [shown.get((d, h), "0") for h in range(24)]) for d in range(7)]
        maps.append({"kind": kind, "chart": chart, "table": table, "total": report.suppress(sum(values.values()), minimum)})
    return render_template("demand.html", first=first, last=last, maps=maps, minimum=minimum)


# -- Outcomes and the monthly report --------------------------------------------------------

def _month_span(month: dt.date) -> tuple[dt.date, dt.date]:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return month, following - dt.timedelta(days=1)


def _built(first: dt.date, last: dt.date) -> report.Report:
    return report.build(engine(), first, last, [line.id for line in config().directory.lines])


@bp.route("/outcomes")
def outcomes_page() -> str:
    this_month = now().date().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    minimum = _min_count()
    months = []
    for month in (this_month, last_month):
        first, last = _month_span(month)
        months.append({"month": month, "data": report.to_json(_built(first, last), minimum)})
    names = {line.id: _line_name(line) for line in config().directory.lines}
    return render_template("outcomes.html", months=months, names=names, minimum=minimum,
                           fields=report.LINE_FIELDS + ("talk_minutes",))


def _month_arg() -> dt.date:
    last_whole_month = (now().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return _date_arg("month", last_whole_month, "-01")


@bp.route("/report")
def report_page() -> str:
    month = _month_arg()
    first, last = _month_span(month)
    minimum = _min_count()
    built = _built(first, last)
    data = report.to_json(built, minimum)
    reasons = [(why, report.suppress(n, minimum)) for why, n in built.reasons.most_common()]
    names = {line.id: _line_name(line) for line in config().directory.lines}
    day_names = g.t["days"].split()
    values = built.unmet_by_hour
    shown = {key: str(report.suppress(v, minimum)) for key, v in values.items()}
    chart = charts.heatmap(values, shown, "unmet", g.t["unmet_by_hour"],
                           g.t["demand_unmet_desc"].format(first=first, last=last, min=minimum), day_names, "heat-unmet")
    table = [(day_names[d], [shown.get((d, h), "0") for h in range(24)]) for d in range(7)]
    return render_template("report.html", month=month, data=data, reasons=reasons, names=names, chart=chart,
                           minimum=minimum, table=table, fields=report.LINE_FIELDS + ("talk_minutes",))


@bp.route("/report.csv")
def report_csv() -> Response:
    month = _month_arg()
    first, last = _month_span(month)
    body = report.to_csv(_built(first, last), _min_count())
    return Response(body, 200, content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="helpline-report-{month:%Y-%m}.csv"'})


# -- Health ---------------------------------------------------------------------------------

@bp.route("/health", methods=["GET", "POST"])
def health_page() -> str:
    """POST (a button): also check the Twilio number, which talks to Twilio."""
    settings = console().app_settings
    number = twilio_check.configured()
    twilio = twilio_check.run(number, settings, config().directory.lines) \
        if number and request.method == "POST" else None
    changed = None
    try:  # the files as `ivr check` and the next reload would read them
        fresh = load_config(settings.data_dir, settings.prompts_dir)
        problems, summary = None, (len(fresh.directory.lines), len(fresh.directory.resources),
                                   len(fresh.menu.nodes), ", ".join(fresh.menu.languages))
        unreviewed = fresh.unreviewed()
        changed = fresh != config()  # compared by content: comments and layout do not count
    except ConfigInvalid as invalid:
        problems, summary, unreviewed = invalid.report(), None, []
    database = "ok"
    try:
        from ..store import migrate
        migrate.require_current(engine(), StoreSettings.from_env().shown_url())
    except Exception as error:  # shown, never raised: this page exists to say what is wrong
        database = str(error) or type(error).__name__
    return render_template("health.html", problems=problems, summary=summary, settings=settings,
                           started=console().started, generation=console().generation, changed=changed,
                           database=database, pinned=bool(settings.now), at=now(),
                           twilio_number=number, twilio=twilio, unreviewed=unreviewed)


# -- Try a call -----------------------------------------------------------------------------

MAX_TRANSCRIPT = 60
RTL = ("ar",)  # languages written right to left: their sentences are shown that way


def _transcript(text: str) -> list[list[str]]:
    """The transcript the page sent back: a list of lists of strings, or the request is refused."""
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if not isinstance(found, list) or not all(
            isinstance(entry, list) and all(isinstance(part, str) for part in entry) for entry in found):
        refuse(g.t["bad_transcript"])
    return found[-MAX_TRANSCRIPT:]  # type: ignore[index]


@bp.route("/try", methods=["GET", "POST"])
def try_page() -> Any:
    t = g.t
    zone = config().directory.timezone
    at_text = (request.values.get("at") or "").strip()
    try:
        at = parse_instant(at_text, zone) if at_text else now()
    except TimeFormatError:
        return render_template("error.html", message=t["try_bad_time"]), 400
    transcript: list[list[str]] = []
    turn, url, error = None, "", None
    if request.method == "POST":
        transcript = _transcript(request.form.get("transcript") or "[]")
        key, status = request.form.get("key", ""), request.form.get("status", "")
        url = request.form.get("url") or "/voice"
        if request.form.get("restart"):
            url, key, status, transcript = "/voice", "", "", []
        if key:
            transcript.append(["key", key])
            url = request.form.get("gather_url") or url
        elif status:
            transcript.append(["status", status])
            url = request.form.get("dial_url") or url
        elif request.form.get("silence"):
            transcript.append(["key", t["try_silence"]])
            url = request.form.get("silence_url") or url
        closed = frozenset(c.line_id for c in _live(at))
        try:
            turn = trycall.play(answers(), url, at, closed, digits=key, outcome=status)
            transcript += [["say", lang_, text] for lang_, text in turn.said]
            for _ in range(5):  # sentences followed by a Redirect: Twilio follows it at once
                if turn.gather_url or turn.dial_number or turn.hangup or not turn.silence_url:
                    break
                url = turn.silence_url
                turn = trycall.play(answers(), url, at, closed)
                transcript += [["say", lang_, text] for lang_, text in turn.said]
        except trycall.NotAStep as problem:
            error = str(problem)
        if turn is not None:
            if turn.dial_number:
                transcript.append(["dial", turn.dial_number])
            if turn.hangup:
                transcript.append(["end", ""])
    dialled = None
    if turn is not None and turn.dial_number:
        dialled = next((line for line in config().directory.lines if line.phone == turn.dial_number), None)
    local = at.astimezone(zone)
    return render_template("try.html", at=local, at_value=f"{local:%Y-%m-%dT%H:%M}", turn=turn, error=error,
                           transcript=transcript, transcript_json=json.dumps(transcript, ensure_ascii=False),
                           dialled=dialled, dialled_name=_line_name(dialled) if dialled else None,
                           keys=("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"), rtl=RTL,
                           statuses=tuple(trycall.OUTCOMES))
