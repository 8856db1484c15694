"""SVG charts drawn on the server: readable without JavaScript, each with a title and a
description for screen readers (the pages also give the same numbers as a table).

Pure string building; every text that goes in is escaped."""
from __future__ import annotations

import datetime as dt
from html import escape
from typing import Mapping, Sequence

from markupsafe import Markup

from .coverage import Coverage, Row, Span

LABEL_W, DAY_W, ROW_H, HEAD_H = 190, 70, 34, 54
LABEL_CHARS = 28  # per line of a row's label (two lines at most), at 12 px in LABEL_W
HOUR_TICKS = (6, 12, 18)  # labelled in each day's column
OPEN, AUDIENCE_OPEN, GAP, CLOSED_DAY, LIVE = "#1b5e20", "#0d47a1", "#b71c1c", "#6d6d6d", "#4a148c"
_DEFS = (  # hatching for days a holiday or closure shuts and for live closures
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
    f'<rect width="3" height="6" fill="{CLOSED_DAY}"/></pattern>'
    '<pattern id="live" width="6" height="6" patternUnits="userSpaceOnUse" '
    f'patternTransform="rotate(-45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="{LIVE}"/>'
    '</pattern></defs>')


def _x(at: dt.datetime, first: dt.date, zone: dt.tzinfo) -> float:
    """Local wall-clock position: days are columns of equal width, also on clock-change days."""
    local = at.astimezone(zone)
    return LABEL_W + ((local.date() - first).days + (local.hour * 60 + local.minute) / 1440) * DAY_W


def timeline(cov: Coverage, zone: dt.tzinfo, now: dt.datetime, words: Mapping[str, str],
             line_names: Mapping[str, str], day_label, span_text) -> Markup:  # type: ignore[no-untyped-def]
    """One row per line, then one per audience; `day_label(date)` and `span_text(span)` format."""
    rows: list[tuple[str, str, Row]] = [("line", line_names[r.key], r) for r in cov.lines]
    rows += [("audience", words[f"audience_{r.key}"], r) for r in cov.audiences]
    first = cov.days[0]
    width = LABEL_W + DAY_W * len(cov.days)
    height = HEAD_H + ROW_H * (len(rows) + 1) + 8
    # "timeline": as wide as the page (CSS), never narrower than drawn (a phone scrolls it)
    out = [f'<svg class="chart timeline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'role="img" aria-labelledby="tl-title tl-desc" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="tl-title">{escape(words["coverage_chart_title"])}</title>',
           f'<desc id="tl-desc">{escape(words["coverage_chart_desc"])}</desc>', _DEFS]
    for n, day in enumerate(cov.days):
        x = LABEL_W + n * DAY_W
        if day.weekday() >= 5:
            out.append(f'<rect x="{x}" y="{HEAD_H}" width="{DAY_W}" height="{height - HEAD_H}" fill="#f1f1f1"/>')
        out.append(f'<line x1="{x}" y1="{HEAD_H - 4}" x2="{x}" y2="{height}" stroke="#9e9e9e" stroke-width="1"/>')
        weekday, date = day_label(day)
        out.append(f'<text x="{x + 4}" y="14" class="small">{escape(weekday)}</text>'
                   f'<text x="{x + 4}" y="29" class="small">{escape(date)}</text>')
        for hour in HOUR_TICKS:
            tick = x + DAY_W * hour / 24
            out.append(f'<line x1="{tick:.1f}" y1="{HEAD_H - 6}" x2="{tick:.1f}" y2="{height}" stroke="#dddddd" '
                       f'stroke-width="1"/><text x="{tick:.1f}" y="{HEAD_H - 9}" text-anchor="middle" '
                       f'class="small hour">{hour}</text>')
    y = HEAD_H
    for n, (kind, label, row) in enumerate(rows):
        if n == len(cov.lines):  # a header between lines and audiences
            out.append(f'<text x="4" y="{y + 16}" class="head">{escape(words["coverage_audiences"])}</text>')
            y += ROW_H
        out.append(_label(label, y))
        for day, why in row.closed_days:
            x = LABEL_W + (day - first).days * DAY_W
            out.append(f'<rect x="{x}" y="{y + 3}" width="{DAY_W}" height="{ROW_H - 6}" fill="url(#hatch)">'
                       f'<title>{escape(label)}: {escape(words["closed_all_day"])} {escape(why)}</title></rect>')
        color = OPEN if kind == "line" else AUDIENCE_OPEN
        out += _bars(row.spans, y, color, first, zone, f'{label}: {words["open"]}', span_text)
        out += _bars(row.live, y, "url(#live)", first, zone, f'{label}: {words["closed_live"]}', span_text)
        out += _bars(row.gaps, y, GAP, first, zone, f'{label}: {words["nobody"]}', span_text, thin=True)
        y += ROW_H
    x_now = _x(now, first, zone)
    if LABEL_W <= x_now <= width:
        out.append(f'<line x1="{x_now:.1f}" y1="{HEAD_H - 6}" x2="{x_now:.1f}" y2="{height}" stroke="#000" '
                   f'stroke-width="2" stroke-dasharray="4 2"><title>{escape(words["now"])}</title></line>')
    out.append("</svg>")
    return Markup("".join(out))


def _label(label: str, y: int) -> str:
    """A row's name on up to two lines (a line's full name, not its id); cut with "…" only when
    longer still, the whole name then in a tooltip."""
    lines, rest = [], label.split()
    while rest and len(lines) < 2:
        line = rest.pop(0)
        while rest and len(line) + 1 + len(rest[0]) <= LABEL_CHARS:
            line += " " + rest.pop(0)
        lines.append(line)
    if rest:
        lines[-1] = lines[-1][:LABEL_CHARS - 1] + "…"
    top = y + (12 if len(lines) == 2 else 20)
    spans = "".join(f'<tspan x="4" y="{top + 14 * n}">{escape(text)}</tspan>' for n, text in enumerate(lines))
    tip = f"<title>{escape(label)}</title>" if rest else ""
    return f'<text x="4" y="{top}">{tip}{spans}</text>'


def _bars(spans: Sequence[Span], y: int, fill: str, first: dt.date, zone: dt.tzinfo, label: str,
          span_text, thin: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
    top, h = (y + 10, ROW_H - 20) if thin else (y + 5, ROW_H - 10)
    out = []
    for span in spans:
        x0, x1 = _x(span[0], first, zone), _x(span[1], first, zone)
        out.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" height="{h}" fill="{fill}">'
                   f'<title>{escape(label)} {escape(span_text(span))}</title></rect>')
    return out


HEAT_LABEL_W, CELL_W, CELL_H = 40, 30, 24
SCALES = {  # light to dark, each readable with its text colour (dark text on the first three)
    "calls": ("#ffffff", "#deebf7", "#9ecae1", "#4292c6", "#08519c", "#08306b"),
    "unmet": ("#ffffff", "#fee6ce", "#fdae6b", "#e6550d", "#a63603", "#7f2704"),
}


def heatmap(values: Mapping[tuple[int, int], int], shown: Mapping[tuple[int, int], str], scale: str,
            title: str, desc: str, day_names: Sequence[str], ident: str) -> Markup:
    """Weekday (rows) x hour (columns). `values` drive the colour, `shown` the text: a
    suppressed count gets the lightest colour that is not empty, whatever its real size."""
    colors = SCALES[scale]
    top = max([v for k, v in values.items() if not shown.get(k, "").startswith("<")] + [1])
    width, height = HEAT_LABEL_W + 24 * CELL_W + 2, 20 + 7 * CELL_H + 2
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>']
    for hour in range(24):
        out.append(f'<text x="{HEAT_LABEL_W + hour * CELL_W + CELL_W / 2}" y="14" text-anchor="middle" '
                   f'class="small">{hour:02d}</text>')
    for day in range(7):
        y = 20 + day * CELL_H
        out.append(f'<text x="4" y="{y + 16}">{escape(day_names[day])}</text>')
        for hour in range(24):
            value, text = values.get((day, hour), 0), shown.get((day, hour), "0")
            step = 0 if not value else (1 if text.startswith("<") else min(5, 1 + round(4 * value / top)))
            x = HEAT_LABEL_W + hour * CELL_W
            out.append(f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="{colors[step]}" '
                       f'stroke="#bdbdbd"><title>{escape(day_names[day])} {hour:02d}:00: {escape(text)}</title></rect>')
            if value:
                ink = "#000000" if step <= 2 else "#ffffff"
                out.append(f'<text x="{x + CELL_W / 2}" y="{y + 16}" text-anchor="middle" class="small" '
                           f'fill="{ink}">{escape(text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


FLOW_LABEL_W, FLOW_BAR_W, FLOW_ROW_H = 190, 420, 30
WENT_ON, ENDED = "#0d47a1", "#e6550d"


def menu_flow(rows: Sequence[tuple[str, int, int, int]], shown: Sequence[tuple[str, str, str]],
              title: str, desc: str, legend: tuple[str, str], bar_text: str) -> Markup:
    """One bar per menu node (label, entered, went on, ended there), as long as the calls that
    entered it: the part that went on, then the part that ended there. `shown` holds the same
    three numbers as they may leave the service (small counts as "<5"); a suppressed part is
    drawn as a short stub whatever its real size. `bar_text` says the numbers beside each bar
    ("{entered} reached, {ended} ended here")."""
    top = max([entered for _, entered, _, _ in rows] + [1])
    width, height = FLOW_LABEL_W + FLOW_BAR_W + 240, 28 + FLOW_ROW_H * len(rows)
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'role="img" aria-labelledby="flow-title flow-desc" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="flow-title">{escape(title)}</title><desc id="flow-desc">{escape(desc)}</desc>',
           f'<rect x="{FLOW_LABEL_W}" y="4" width="14" height="14" fill="{WENT_ON}"/>'
           f'<text x="{FLOW_LABEL_W + 20}" y="16">{escape(legend[0])}</text>'
           f'<rect x="{FLOW_LABEL_W + 220}" y="4" width="14" height="14" fill="{ENDED}"/>'
           f'<text x="{FLOW_LABEL_W + 240}" y="16">{escape(legend[1])}</text>']
    for n, ((label, entered, went_on, ended), (s_entered, s_went_on, s_ended)) in enumerate(zip(rows, shown)):
        y = 28 + n * FLOW_ROW_H
        out.append(f'<text x="4" y="{y + 18}">{escape(label[:28])}</text>')
        x = float(FLOW_LABEL_W)
        for value, text, fill, what in ((went_on, s_went_on, WENT_ON, legend[0]), (ended, s_ended, ENDED, legend[1])):
            if not value:
                continue
            w = 4.0 if text.startswith("<") else max(FLOW_BAR_W * value / top, 2.0)
            out.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{FLOW_ROW_H - 8}" fill="{fill}">'
                       f'<title>{escape(label)}: {escape(what)} {escape(text)}</title></rect>')
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 18}">{escape(bar_text.format(entered=s_entered, ended=s_ended))}</text>')
    out.append("</svg>")
    return Markup("".join(out))
