"""The console's pages. Each gathers plain data and hands it to its template; the charts are
drawn on the server (charts.py)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Response, abort, g, redirect, render_template, request, url_for

from ivr.config.settings import TimeFormatError, parse_instant
from ivr.directory.directory import AUDIENCES, Line
from ivr.config.errors import ConfigInvalid
from ivr.call.live_closed import without_closed
from ivr.config.loading import load_config
from ivr.directory.schedule import is_open
from ivr.directory.schedule_report import _closes
from ..store import closures, dead_lines, report
from ..store.database import StoreSettings
from . import accounts, charts, coverage, queries, trycall, twilio_check
from .web import answers, bp, config, console, editor_only, engine, lang, now, operator, real_now, refuse

COVERAGE_DAYS = 14
DEMAND_DAYS = 28
MAX_DEMAND_DAYS = 800
YEARS = range(2000, 3000)  # the dates the pages show: no sums or spans near date's limits


# -- formatting, in the directory's zone ----------------------------------------------------

def _day(day: dt.date) -> tuple[str, str]:
    """(weekday, date) in the page's one date style: "Sa", "5.12." in German, "Sat", "5 Dec" in
    English (never "5/12", which reads as 12 May to some)."""
    t = g.t
    return t["days"].split()[day.weekday()], date_text(day)


def date_text(day: dt.date, year: bool = False) -> str:
    """A date in the page's language: "5.12." / "5 Dec" (with the year: "5.12.2026" / "5 Dec 2026")."""
    if lang() == "de":
        return f"{day.day}.{day.month}.{day.year if year else ''}"
    return f"{day.day} {g.t['months'].split()[day.month - 1]}" + (f" {day.year}" if year else "")


def _dates(first: dt.date, last: dt.date) -> dict[str, str]:
    """first= and last= for a sentence, in the page's date style with the year."""
    return {"first": date_text(first, year=True), "last": date_text(last, year=True)}


def month_text(month: dt.date) -> str:
    """"November 2026" in the page's language."""
    return f"{g.t['month_names'].split()[month.month - 1]} {month.year}"


def when(at: dt.datetime | None, today: dt.date | None = None, with_date: bool = False) -> str:
    """"14:00" today, else "Mo 30.11. 14:00"; with_date: always the date; empty for None."""
    if at is None:
        return ""
    local = at.astimezone(config().directory.timezone)
    if local.date() == (today or now().date()) and not with_date:
        return f"{local:%H:%M}"
    weekday, date = _day(local.date())
    return f"{weekday} {date} {local:%H:%M}"


def _span(span: coverage.Span) -> str:
    return f"{when(span[0], dt.date.min)} - {when(span[1], dt.date.min)}"


@bp.app_template_filter("console_when")
def _when_filter(at: dt.datetime | None) -> str:
    return when(at)


@bp.app_template_filter("console_dated")
def _dated_filter(at: dt.datetime | None) -> str:
    """Always with its date (the audit trail, the clock): "Mo 30.11. 10:30"."""
    return when(at, with_date=True)


@bp.app_template_filter("console_date")
def _date_filter(day: dt.date) -> str:
    return date_text(day, year=True)


@bp.app_template_filter("console_month")
def _month_filter(month: dt.date) -> str:
    return month_text(month)


def _line_name(line: Line) -> str:
    return line.name.get(lang()) or next(iter(line.name.values()))


def _live(at: dt.datetime) -> tuple[closures.LiveClosure, ...]:
    return closures.active(engine(), at)


# -- Now ------------------------------------------------------------------------------------

@bp.route("/")
def now_page() -> str:
    return _now_page()


def _now_page(problem: str | None = None, line_id: str = "", until: str = "") -> str:
    """The Now page; `problem`: a close that was refused, said above the form it came from
    (whose end time is kept)."""
    at = now()
    live = {c.line_id: c for c in _live(at)}
    directory = config().directory
    # The call's own view: a line closed by hand opens next once its closure has ended (never
    # while it is closed until reopened)
    index = without_closed(config(), closures.in_force(live.values(), at)).index
    rows = []
    for line in directory.lines:
        open_now = is_open(line, at) and line.id not in live
        rows.append({"line": line, "name": _line_name(line), "open": open_now, "live": live.get(line.id),
                     "closes": _closes(line, at) if open_now else None, "opens": index.next_opening(line, at),
                     "serves": [a for a in AUDIENCES if a in line.serves]})
    nobody = []
    for audience in AUDIENCES:
        if not index.open_lines(at, audience):
            # a line closed by hand is never the next to open before its closure ends
            opens = [(index.next_opening(line, at), line) for line in directory.ranked(audience)]
            opens = [(t, line) for t, line in opens if t is not None]
            first = min(opens, key=lambda pair: pair[0]) if opens else None
            nobody.append({"audience": audience, "next": first})
    changes = _changes()
    runs = dead_lines.read_all(engine())
    after = directory.service.try_last_after
    tried_last = [{"name": _line_name(line), "n": runs[line.id].unanswered, "since": runs[line.id].since}
                  for line in directory.lines if line.id in dead_lines.tried_last(runs, after)]
    return render_template("now.html", at=at, rows=rows, nobody=nobody, changes=changes, tried_last=tried_last,
                           can_edit=bool(operator() and operator().can_edit), problem=problem,
                           problem_line=line_id, until_value=until)


def _changes(limit: int = 15) -> list[dict[str, Any]]:
    """The audit trail: closures and account changes, newest first."""
    lines = config().directory.by_id
    out = [{"at": e.at, "action": e.action, "by": e.operator, "reason": e.reason, "until": e.until,
            "what": _line_name(lines[e.line_id]) if e.line_id in lines else e.line_id}
           for e in closures.log(engine(), limit)]
    out += [{"at": e.at, "action": e.action, "what": f"{e.name} ({g.t.get('role_' + e.role, e.role)})",
             "by": e.operator, "reason": "", "until": None} for e in accounts.log(engine(), limit)]
    return sorted(out, key=lambda e: e["at"], reverse=True)[:limit]


@bp.route("/close", methods=["POST"])
@editor_only
def close_line() -> Any:
    t = g.t
    line_id = request.form.get("line_id", "")
    if line_id not in config().directory.by_id:
        abort(400)
    reason = " ".join((request.form.get("reason") or "").split())
    text = (request.form.get("until") or "").strip()
    if not reason:  # the form again, with what was typed and what is missing
        return _now_page(t["reason_required"], line_id, text[:40]), 400
    until = None
    try:
        if text:
            until = parse_instant(text, config().directory.timezone)
        closures.close(engine(), line_id, by=operator().name, now=real_now(), until=until,  # type: ignore[union-attr]
                       reason=reason)
    except (TimeFormatError, closures.ClosureError) as error:
        return _now_page(f"{t['close_refused']} {error}", line_id, text[:40]), 400
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
    chart = charts.timeline(cov, directory.timezone, at, g.t, names, _day, _span)
    # the gaps worked out a few days either side, so that a night across the window's edge is
    # still that night; then folded: the same hours every week are said once
    wide = coverage.build(directory, at.date() - dt.timedelta(days=3), COVERAGE_DAYS + 6, _live(at), lang())
    last = cov.days[-1]
    gaps = [(row.key, [_fold_text(f) for f in coverage.fold(row.gaps, directory.timezone, cov.days[0], last)])
            for row in wide.audiences]
    closed_days = [(names[row.key], [(d, why) for d, why in row.closed_days]) for row in cov.lines if row.closed_days]
    return render_template("coverage.html", chart=chart, gaps=gaps, closed_days=closed_days, cov=cov,
                           day=_day, days=COVERAGE_DAYS)


def _clock(at: dt.time) -> str:
    """"20" / "20:30" in German ("Uhr" follows in the sentence), "20:00" in English."""
    end = at == dt.time(23, 59, 59)
    if lang() == "de":
        return "24" if end else (f"{at.hour}" if not at.minute else f"{at.hour}:{at.minute:02d}")
    return "24:00" if end else f"{at:%H:%M}"


def _fold_text(item: coverage.Fold) -> str:
    """"jede Nacht 20–9 Uhr", "jeden Fr 17 Uhr bis Mo 9 Uhr", "So 29.11.: 0–9 Uhr"."""
    t = g.t
    days = t["days"].split()
    opens, closes = _clock(item.opens), _clock(item.closes)
    if item.nights >= 2:
        end_day = days[((item.weekly or (item.dates[0].weekday(),))[0] + item.nights) % 7]
        span = t["gap_long_span"].format(opens=opens, closes=closes, closes_day=end_day)
    else:
        span = t["gap_night_span" if item.nights else "gap_day_span"].format(opens=opens, closes=closes)
    if item.every_day and item.nights < 2:
        every = t["gap_every_night" if item.nights else "gap_every_day"]
        return f'{every} {t["gap_day_span"].format(opens=opens, closes=closes)}'
    if item.weekly:
        named = [days[d] for d in item.weekly]
        listed = named[0] if len(named) == 1 else f'{", ".join(named[:-1])} {t["and"]} {named[-1]}'
        return f'{t["gap_weekly"].format(days=listed)}: {span}'
    weekday, date = _day(item.dates[0])
    return f"{weekday} {date}: {span}"


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
                               g.t[f"demand_{kind}_desc"].format(**_dates(first, last), min=minimum),
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
    flow = _menu_flow(_built(*_month_span(this_month)), minimum)
    return render_template("outcomes.html", months=months, names=names, minimum=minimum,
                           fields=report.LINE_FIELDS + ("talk_minutes",), flow=flow)


def node_name(node_id: str) -> str:
    """A menu node as the console names it (words.yaml `node_<id>`); a node the words do not
    know yet (an operator added it to data/menu.yaml) by its id."""
    return g.t.get(f"node_{node_id}", node_id)


def _menu_flow(built: report.Report, minimum: int) -> dict[str, Any]:
    """Where this month's calls went in the menus: a chart and the same numbers as a table."""
    rows = [(node_name(node), entered, went_on, ended) for node, entered, went_on, ended in report.menu_flow(built)]
    shown = [tuple(str(report.suppress(v, minimum)) for v in row[1:]) for row in rows]
    t = g.t
    chart = charts.menu_flow(rows, shown, t["flow_title"], t["flow_desc"].format(min=minimum),
                             (t["flow_went_on"], t["flow_ended"]), t["flow_bar"]) if rows else None
    return {"chart": chart, "table": [(row[0], *texts) for row, texts in zip(rows, shown)]}


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
    names = {line.id: _line_name(line) for line in config().directory.lines}
    day_names = g.t["days"].split()
    values = built.unmet_by_hour
    shown = {key: str(report.suppress(v, minimum)) for key, v in values.items()}
    chart = charts.heatmap(values, shown, "unmet", g.t["unmet_by_hour"],
                           g.t["demand_unmet_desc"].format(**_dates(first, last), min=minimum), day_names, "heat-unmet")
    unmet_cells = [f"{day_names[d]} {h:02d}:00: {shown[(d, h)]}" for d, h in sorted(values) if values[(d, h)]]
    return render_template("report.html", month=month, first=first, last=last, data=data, names=names,
                           chart=chart, minimum=minimum, unmet_cells=unmet_cells,
                           fields=report.LINE_FIELDS + ("talk_minutes",),
                           unconnected=_unconnected(built, minimum), choices=_choices(built, minimum))


def _unconnected(built: report.Report, minimum: int) -> dict[str, Any]:
    """Calls without a talk, and how they ended as far as counted: the same numbers the
    totals show, so the words never contradict them."""
    t = g.t
    calls, connected = built.totals["calls"], built.totals["connected"]
    rows = [(t.get(f"reason_{why}", why), report.suppress(n, minimum)) for why, n in built.reasons.most_common()]
    rows += [(t["ended_in"].format(menu=node_name(node)), report.suppress(n, minimum))
             for node, n in sorted(report.ended_in_menu(built).items(), key=lambda item: (-item[1], item[0])) if n]
    return {"count": report.suppress(max(calls - connected, 0), minimum), "any": calls > connected,
            "calls": report.suppress(calls, minimum), "rows": rows}


def _choices(built: report.Report, minimum: int) -> list[tuple[str, list[tuple[str, Any]]]]:
    """What callers chose, as `ivr report` lists it: keys at the main menu, languages, who is
    calling, guidance heard; in words, not ids."""
    t, menu = g.t, config().menu
    out = []
    for event, label in (("main_choice", t["choice_main_choice"]), ("audience", t["choice_audience"]),
                         ("language", t["choice_language"]), ("guidance", t["choice_guidance"])):
        found = built.choices.get(event)
        if not found:
            continue
        rows = []
        for dimension, n in sorted(found.items(), key=lambda item: (-item[1], item[0])):
            rows.append((_choice_name(event, dimension, menu), report.suppress(n, minimum)))
        out.append((label, rows))
    return out


def _choice_name(event: str, dimension: str, menu: Any) -> str:
    t = g.t
    if event == "main_choice":
        if dimension == "other":
            return t["key_other"]
        action = menu.action(menu.start, dimension)
        meaning = {"0": t["key_person"], "*": t["key_main"], "#": t["key_repeat"]}.get(dimension, "")
        if action is not None:
            meaning = (t.get(f"audience_{action.target}", action.target) if action.kind == "connect"
                       else node_name(action.target) if action.kind == "goto" else t["key_language"])
        return t["key_n"].format(key=dimension) + (f" ({meaning})" if meaning else "")
    if event == "audience":
        return t.get(f"audience_{dimension}", dimension)
    if event == "language":
        return t.get(f"language_{dimension}", dimension)
    return node_name(dimension)


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
        closed = closures.in_force(_live(at), at)
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
