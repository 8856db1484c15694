"""Counts: what whole calls add up to, per local hour, on both engines; cached answers count;
a bounded buffer that survives a database that is away without changing a word the caller
hears; upserts, folding into days, and the report with small counts suppressed."""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, select

from ivr.cli.main import main
from ivr.store import counts, report
from ivr.store.live import Live
from ivr.store.schema import counts_daily, counts_hourly
from twiml_helpers import Call, bundled_config, dial, make_app

CONFIG = bundled_config()
ZONE = CONFIG.directory.timezone
TUE = "2026-11-24T15:30"  # all four lines open
SAT_NIGHT = "2026-11-28T22:00"  # none open; Monday 09:00 the next


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZONE)


def _stored(engine: Engine) -> Counter:
    with engine.connect() as connection:
        rows = connection.execute(select(counts_hourly)).all()
    return Counter({(row.hour.isoformat(), row.event, row.dimension, row.seconds): row.count for row in rows})


def _call_app(engine: Engine, at: str) -> tuple[Live, Callable[[], Call]]:
    live = Live(engine, ZONE, clock=lambda: _at(at))
    app = make_app(at, token=None)
    app.extensions["ivr.live"] = live

    def new_call() -> Call:
        call = Call(app.test_client(), token=None)
        call.start()
        return call
    return live, new_call


def _talk(call: Call, seconds: int) -> None:
    call._post(dial(call.root).get("action"), DialCallStatus="completed", DialCallDuration=str(seconds))


def test_a_call_that_reaches_a_person_on_the_second_line(engine: Engine) -> None:
    live, new_call = _call_app(engine, TUE)
    call = new_call()
    first = dial(call.press("3"))  # an adult affected: connect
    call.dial_ends("busy")
    _talk(call, 300)
    assert first is not None
    live.flush()
    hour = "2026-11-24T15:00:00"
    assert _stored(engine) == Counter({
        (hour, "call", "started", 0): 1, (hour, "main_choice", "3", 0): 1, (hour, "audience", "adult", 0): 1,
        (hour, "dial_attempt", "hateaid", 0): 1, (hour, "dial_outcome", "hateaid/busy", 0): 1,
        (hour, "dial_attempt", "abuse-helpline", 0): 1, (hour, "dial_outcome", "abuse-helpline/completed", 0): 1,
        (hour, "talk", "abuse-helpline", 300): 1, (hour, "entered", "main", 0): 1, (hour, "left", "main", 0): 1})


def test_cached_answers_count_too_and_short_talks_are_told_apart(engine: Engine) -> None:
    live, new_call = _call_app(engine, TUE)
    for seconds in (12, 45):
        call = new_call()
        call.press("0")
        _talk(call, seconds)
    live.flush()
    hour = "2026-11-24T15:00:00"
    assert _stored(engine) == Counter({
        (hour, "call", "started", 0): 2, (hour, "main_choice", "0", 0): 2,
        (hour, "dial_attempt", "abuse-helpline", 0): 2, (hour, "dial_outcome", "abuse-helpline/short_completed", 0): 1,
        (hour, "dial_outcome", "abuse-helpline/completed", 0): 1, (hour, "talk", "abuse-helpline", 57): 2,
        (hour, "entered", "main", 0): 2, (hour, "left", "main", 0): 2,
        (hour, "entered", "short_talk", 0): 1})  # the 12 s talk: offered more, then hung up


def test_nobody_open_is_unmet_demand_and_a_call_without_connection(engine: Engine) -> None:
    live, new_call = _call_app(engine, SAT_NIGHT)
    call = new_call()
    call.press("0")  # wants a person: nothing open
    call.silence()
    call.silence()  # goodbye
    call = new_call()
    call.press("9")  # English
    call.press("4")  # guidance
    live.flush()
    hour = "2026-11-28T22:00:00"
    assert _stored(engine) == Counter({
        (hour, "call", "started", 0): 2, (hour, "main_choice", "0", 0): 1, (hour, "unmet", "anyone/later", 0): 1,
        (hour, "no_connection", "nothing_open", 0): 1, (hour, "main_choice", "4", 0): 1,
        (hour, "language", "en", 0): 1, (hour, "main_choice", "9", 0): 1, (hour, "main_choice", "4", 0): 1,
        (hour, "guidance", "guidance", 0): 1,
        (hour, "entered", "main", 0): 3, (hour, "left", "main", 0): 3,  # call 2 met main twice (German, English)
        (hour, "entered", "closed", 0): 2, (hour, "left", "closed", 0): 2, (hour, "entered", "guidance", 0): 1})


def test_unmet_demand_within_the_hour() -> None:
    """Monday 2026-11-23 08:30: the parents' line opens at 09:00."""
    from ivr.call.answers import MENU, Answers, Webhook
    from ivr.store.events import derive
    answers = Answers(CONFIG, events=derive)
    answer = answers.answer(Webhook(MENU, "n=who&l=de", "2", "", "+4930123456789"), _at("2026-11-23T08:30"))
    assert ("unmet", "parent/within_hour") in answer.events
    assert ("audience", "parent") in answer.events


def test_counts_go_to_the_local_hour_across_the_clock_change(engine: Engine) -> None:
    live = Live(engine, ZONE)
    live.count(dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.timezone.utc), (("call", "started"),))  # 01:30 CET
    live.count(dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone.utc), (("call", "started"),))  # 03:30 CEST
    live.flush()
    assert set(_stored(engine)) == {("2026-03-29T01:00:00", "call", "started", 0),
                                    ("2026-03-29T03:00:00", "call", "started", 0)}


def test_flushes_add_up_one_row_per_key(engine: Engine) -> None:
    hour = dt.datetime(2026, 12, 1, 14)
    for _ in range(3):
        counts.write(engine, {(hour, "talk", "kids-line"): [2, 100], (hour, "call", "started"): [5, 0]})
    assert _stored(engine) == Counter({("2026-12-01T14:00:00", "talk", "kids-line", 300): 6,
                                       ("2026-12-01T14:00:00", "call", "started", 0): 15})


def test_a_database_away_changes_no_word_and_loses_no_count(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    reference = _call_app(engine, TUE)[1]().press("0")
    live, new_call = _call_app(engine, TUE)
    working = live.engine
    live.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    import xml.etree.ElementTree as ET
    assert ET.tostring(new_call().press("0")) == ET.tostring(reference)
    assert live.flush() == 0
    assert ('could not add 5 counts to the database (OperationalError: connection failed: connection to '
            'server at "127.0.0.1", port 1 failed: Connection refused') in caplog.text
    assert caplog.text.rstrip().endswith("accepting TCP/IP connections?); kept in memory")
    live.engine = working
    assert live.flush() == 5
    assert _stored(engine)[("2026-11-24T15:00:00", "call", "started", 0)] == 1


def test_the_buffer_is_bounded_and_counts_what_it_drops(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    live = Live(engine, ZONE, max_keys=3)
    hour = dt.datetime(2026, 12, 1, 14)
    live.buffer.add(hour, [("guidance", f"node{n}", 0) for n in range(5)])
    live.buffer.add(hour, [("guidance", "node0", 0)])  # a known key still counts
    with caplog.at_level(logging.ERROR):
        live.flush()
    assert _stored(engine) == Counter({("2026-12-01T14:00:00", "guidance", "node0", 0): 2,
                                       ("2026-12-01T14:00:00", "guidance", "node1", 0): 1,
                                       ("2026-12-01T14:00:00", "guidance", "node2", 0): 1,
                                       ("2026-12-01T14:00:00", "counts_dropped", "", 0): 2})
    assert "dropped 2 counts: more than 3 distinct counts waited for the database" in caplog.text


def test_prune_folds_old_hours_into_days_and_the_report_still_counts_them(engine: Engine) -> None:
    rows = {(dt.datetime(2025, 1, 6, h), "call", "started"): [3, 0] for h in (9, 10)}
    rows[(dt.datetime(2025, 1, 6, 9), "talk", "hateaid")] = [1, 70]
    rows[(dt.datetime(2025, 1, 8, 9), "call", "started")] = [4, 0]
    counts.write(engine, rows)
    assert counts.prune(engine, dt.date(2025, 1, 7)) == 3
    assert counts.prune(engine, dt.date(2025, 1, 7)) == 0  # nothing folded twice
    with engine.connect() as connection:
        daily = {(r.day, r.event, r.dimension): (r.count, r.seconds) for r in connection.execute(select(counts_daily))}
    assert daily == {(dt.date(2025, 1, 6), "call", "started"): (6, 0), (dt.date(2025, 1, 6), "talk", "hateaid"): (1, 70)}
    assert set(_stored(engine)) == {("2025-01-08T09:00:00", "call", "started", 0)}
    built = report.build(engine, dt.date(2025, 1, 1), dt.date(2025, 1, 31), ["hateaid"], by="day")
    assert report.to_json(built, 5)["totals"]["calls"] == 10
    assert report.to_json(built, 5)["periods"] == [
        {"start": "2025-01-06", "calls": 6, "connected": 0, "unmet": 0},
        {"start": "2025-01-08", "calls": "<5", "connected": 0, "unmet": 0}]


def _december(engine: Engine) -> None:
    rows: dict = {}

    def put(day: int, hour: int, event: str, dimension: str, count: int, seconds: int = 0) -> None:
        rows[(dt.datetime(2026, 12, day, hour), event, dimension)] = [count, seconds]
    put(1, 9, "call", "started", 40)
    put(2, 9, "call", "started", 3)
    put(1, 9, "dial_attempt", "kids-line", 30)
    put(1, 9, "dial_outcome", "kids-line/completed", 20)
    put(1, 9, "dial_outcome", "kids-line/busy", 7)
    put(1, 9, "dial_outcome", "kids-line/failed", 2)
    put(1, 9, "dial_outcome", "kids-line/short_completed", 1)
    put(1, 9, "talk", "kids-line", 21, 21 * 600)
    put(1, 9, "dial_attempt", "hateaid", 2)
    put(1, 9, "dial_outcome", "hateaid/completed", 2)
    put(1, 9, "talk", "hateaid", 2, 1000)
    put(5, 22, "unmet", "adult/later", 9)  # a Saturday
    put(6, 10, "unmet", "parent/within_hour", 2)  # a Sunday
    put(5, 22, "no_connection", "nothing_open", 9)
    put(1, 9, "entered", "main", 40)
    put(1, 9, "left", "main", 30)  # 10 hung up at the main menu
    put(1, 9, "entered", "guidance", 5)
    put(1, 10, "left", "guidance", 2)  # 3 ended in the guidance menu, an hour later
    put(1, 9, "entered", "guide_act", 2)
    put(1, 9, "left", "guide_act", 2)  # nobody ended there
    put(1, 9, "left", "closed", 1)  # entered before the span: never a negative count
    put(31, 23, "call", "started", 1)
    put(30, 23, "call", "started", 100)  # outside the span below? no: inside
    rows[(dt.datetime(2027, 1, 1, 0), "call", "started")] = [50, 0]  # outside: the day after --to
    rows[(dt.datetime(2026, 11, 30, 23), "call", "started")] = [50, 0]  # outside: before --from
    counts.write(engine, rows)
    from ivr.store import dead_lines
    tally = dead_lines.DialTally()  # hateaid: six dials in a row without a talk, as the report is made
    tally.add([("dial_outcome", "hateaid/no_answer")] * 6, dt.datetime(2026, 12, 31, 13, tzinfo=dt.timezone.utc))
    dead_lines.write(engine, tally.take(), dt.datetime(2026, 12, 31, 13, tzinfo=dt.timezone.utc))


def test_report_json_has_the_agreed_shape_and_suppresses_small_counts(engine: Engine) -> None:
    _december(engine)
    built = report.build(engine, dt.date(2026, 12, 1), dt.date(2026, 12, 31),
                         [line.id for line in CONFIG.directory.lines])
    assert report.to_json(built, 5) == {
        "from": "2026-12-01", "to": "2026-12-31",
        "totals": {"calls": 144, "connected": 22, "unmet": 11},
        "lines": {
            "kids-line": {"attempts": 30, "completed": 20, "busy": 7, "no_answer": 0, "failed": "<5",
                          "short_completed": "<5", "talk_minutes": 210.0, "unanswered_in_a_row": 0},
            "parents-line": {"attempts": 0, "completed": 0, "busy": 0, "no_answer": 0, "failed": 0,
                             "short_completed": 0, "talk_minutes": 0.0, "unanswered_in_a_row": 0},
            "hateaid": {"attempts": "<5", "completed": "<5", "busy": 0, "no_answer": 0, "failed": 0,
                        "short_completed": 0, "talk_minutes": "<5", "unanswered_in_a_row": 6},
            "abuse-helpline": {"attempts": 0, "completed": 0, "busy": 0, "no_answer": 0, "failed": 0,
                               "short_completed": 0, "talk_minutes": 0.0, "unanswered_in_a_row": 0},
        },
        "unmet_by_hour": [["sat", 22, 9], ["sun", 10, "<5"]],
        "ended_in_menu": {"main": 10, "guidance": "<5", "guide_act": 0},
    }
    assert report.to_json(built, 2)["lines"]["hateaid"]["attempts"] == 2  # IVR_REPORT_MIN_COUNT


def test_report_command_in_every_format(engine: Engine, database_url: str, tmp_path: Path) -> None:
    _december(engine)
    env = {"IVR_DATABASE_URL": database_url, "IVR_STATE_DIR": str(tmp_path)}
    run = lambda *args: CliRunner().invoke(main, ["report", "--from", "2026-12-01", "--to", "2026-12-31", *args], env=env)
    result = run("--format", "json", "--by", "month")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["totals"] == {"calls": 144, "connected": 22, "unmet": 11}
    assert data["periods"] == [{"start": "2026-12", "calls": 144, "connected": 22, "unmet": 11}]
    lines = run().output.splitlines()
    assert lines[2] == "Calls 144   connected 22   wanted a person, none open 11"
    row = next(line for line in lines if line.startswith("kids-line"))
    assert row.split() == ["kids-line", "30", "20", "<5", "7", "0", "<5", "70%", "210.0"]
    assert "  sat 22:00  9" in lines and "  nothing_open   9" in lines
    assert "Dials in a row without a talk, now: hateaid (6 in a row)" in lines
    ended = lines.index("Ended in a menu (hung up there), most frequent first:")
    assert lines[ended + 1:ended + 4] == ["  main           10", "  guidance       <5", "  guide_act      0"]
    # hang-ups in a menu end without a connection too: the reasons are the service's own endings
    why = lines.index("Why the service ended a call without a connection, most frequent first:")
    assert lines[why + 1] == "  nothing_open   9"
    assert data["ended_in_menu"] == {"main": 10, "guidance": "<5", "guide_act": 0}
    csv_lines = run("--format", "csv", "--by", "week").output.splitlines()
    assert csv_lines[0] == "section,name,field,value"
    assert "line,hateaid,talk_minutes,<5" in csv_lines and "by_week,2026-11-30,calls,43" in csv_lines
    assert "by_week,2026-11-30,calls,<5" not in csv_lines
    assert [line for line in csv_lines if line.startswith("ended_in_menu,")] == [
        "ended_in_menu,main,calls,10", "ended_in_menu,guidance,calls,<5", "ended_in_menu,guide_act,calls,0"]
    bad = CliRunner().invoke(main, ["report", "--from", "2026-12-31", "--to", "2026-12-01"], env=env)
    assert bad.exit_code == 2 and "2026-12-31 is after --to 2026-12-01; expected a date on or before it" in bad.output


def test_report_table_puts_the_choices_under_their_own_heading(engine: Engine, database_url: str,
                                                                tmp_path: Path) -> None:
    # They used to run on right below "Ended in a menu", as if they were menus where calls ended.
    at = dt.datetime(2026, 12, 1, 9)
    counts.write(engine, {(at, "call", "started"): [7, 0], (at, "entered", "main"): [7, 0],
                          (at, "left", "main"): [7, 0], (at, "main_choice", "3"): [6, 0],
                          (at, "audience", "adult"): [6, 0]})
    result = CliRunner().invoke(main, ["report", "--from", "2026-12-01", "--to", "2026-12-31"],
                                env={"IVR_DATABASE_URL": database_url, "IVR_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    ended = lines.index("Ended in a menu (hung up there), most frequent first:")
    assert lines[ended + 1:] == ["  main           0", "", "What callers chose (each time they chose):",
                                 "audience: adult 6", "main_choice: 3 6"]


def test_db_prune_command_uses_the_retention_setting(engine: Engine, database_url: str, tmp_path: Path) -> None:
    counts.write(engine, {(dt.datetime(2020, 1, 1, 9), "call", "started"): [1, 0]})
    result = CliRunner().invoke(main, ["db", "prune"], env={"IVR_DATABASE_URL": database_url,
                                                            "IVR_KEEP_HOURLY_DAYS": "30"})
    assert result.exit_code == 0 and result.output.startswith("folded 1 hourly rows before ")
    assert _stored(engine) == Counter()


def test_the_store_thread_flushes_on_its_own_and_on_stop(engine: Engine) -> None:
    import time
    live = Live(engine, ZONE, clock=lambda: _at(TUE), poll_seconds=0.05, flush_seconds=0.1)
    live.start()
    try:
        live.count(_at(TUE), (("call", "started"),))
        deadline = time.monotonic() + 10
        while not _stored(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _stored(engine) == Counter({("2026-11-24T15:00:00", "call", "started", 0): 1})
        live.count(_at(TUE), (("call", "started"),))
    finally:
        live.stop()  # the last counts are written before the worker goes
    assert _stored(engine) == Counter({("2026-11-24T15:00:00", "call", "started", 0): 2})


def test_the_call_core_never_imports_the_store() -> None:
    import subprocess
    import sys
    code = ("import sys, ivr.call.flow, ivr.directory.schedule, ivr.call.menu, ivr.call.speech, ivr.call.twiml, ivr.call.answers, ivr.call.live_closed; "
            "print(sorted(m for m in sys.modules if m.startswith(('ivr.store', 'sqlalchemy', 'alembic', 'flask'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_failure_to_count_never_changes_the_answer(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    import xml.etree.ElementTree as ET
    from twiml_helpers import parse
    reference = ET.tostring(parse(make_app(TUE, token=None).test_client().post(
        "/voice", data={"To": "+4930123456789"})))
    live, _ = _call_app(engine, TUE)
    app = make_app(TUE, token=None)
    app.extensions["ivr.live"] = live

    def broken(*args: object) -> None:
        raise MemoryError
    live.count = broken  # type: ignore[method-assign]
    response = app.test_client().post("/voice", data={"To": "+4930123456789"})
    assert ET.tostring(parse(response)) == reference
    assert [verb.tag for verb in parse(response)] == ["Gather", "Redirect"]
    assert "could not count an answer of voice: MemoryError" in caplog.text


SERVICE = "+4930123456789"


@pytest.mark.parametrize("at,hook,expected", [
    # Saturday afternoon only kids-line is open: busy, then nobody else to try
    ("2026-11-28T15:00", ("dialed", "n=main&l=de&a=young_person&t=kids-line", "", "busy", SERVICE),
     (("dial_outcome", "kids-line/busy"), ("entered", "unreachable"))),
    ("2026-11-28T15:00", ("menu", "n=unreachable&l=de&a=young_person&r=1", "", "", SERVICE),
     (("left", "unreachable"), ("no_connection", "none_answered"))),
    # ... and a caller who has not said who they are: not put through to it, so nobody for them
    ("2026-11-28T15:00", ("menu", "n=main&l=de", "0", "", SERVICE),
     (("left", "main"), ("main_choice", "0"), ("entered", "only_some"), ("unmet", "anyone/later"))),
    ("2026-11-28T15:00", ("menu", "n=only_some&l=de", "", "", SERVICE),
     (("left", "only_some"), ("no_connection", "nothing_open"))),
    # without a usable service number nothing is dialled (the hotline would see the caller's)
    ("2026-11-24T15:30", ("menu", "n=main&l=de&r=1", "", "", None), (("left", "main"), ("no_connection", "no_caller_id"))),
    ("2026-11-28T22:00", ("menu", "n=closed&l=de&r=1", "", "", SERVICE), (("left", "closed"), ("no_connection", "nothing_open"))),
    # a talk: long enough, or short (maybe a voicemail: the caller is offered more)
    ("2026-11-24T15:30", ("dialed", "n=main&l=de&t=hateaid", "", "completed", SERVICE, 600),
     (("dial_outcome", "hateaid/completed"), ("talk", "hateaid"))),
    ("2026-11-24T15:30", ("dialed", "n=main&l=de&t=hateaid", "", "completed", SERVICE, 12),
     (("dial_outcome", "hateaid/short_completed"), ("talk", "hateaid"), ("entered", "short_talk"))),
    ("2026-11-24T15:30", ("menu", "n=main&l=de", "6", "", SERVICE), (("left", "main"), ("main_choice", "other"), ("entered", "main"))),
    ("2026-11-24T15:30", ("menu", "n=guidance&l=de", "#", "", SERVICE),  # repeated: not heard anew as guidance
     (("left", "guidance"), ("entered", "guidance"))),
])
def test_events_of_single_answers(at: str, hook: tuple, expected: tuple) -> None:
    from ivr.call.answers import Answers, Webhook
    from ivr.store.events import derive
    assert Answers(CONFIG, events=derive).answer(Webhook(*hook), _at(at)).events == expected
