"""Live closures: stored with their audit trail on both engines, read by each process's poller,
and obeyed by the call exactly like a line outside its hours, never served stale from the
answer cache."""
from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from ivr.call.answers import MENU, Answers, Webhook
from ivr.cli.main import main
from ivr.call.live_closed import until_reopened, without_closed
from ivr.store import closures
from ivr.store.live import Live
from ivr.store.events import derive
from twiml_helpers import SERVICE_NUMBER, Call, bundled_config, dial, dial_numbers, make_app, query

BERLIN = ZoneInfo("Europe/Berlin")
TUE = dt.datetime(2026, 11, 24, 15, 30, tzinfo=BERLIN)  # all four lines open
SAT_AFTERNOON = dt.datetime(2026, 11, 28, 15, 0, tzinfo=BERLIN)  # only kids-line open


def test_close_reopen_and_the_audit_trail(engine: Engine) -> None:
    assert closures.active(engine, TUE) == ()
    with engine.connect() as connection:
        assert closures.version(connection) == 0
    made = closures.close(engine, "kids-line", by="Anna", now=TUE, until=TUE + dt.timedelta(hours=2),
                          reason="ill  today")
    assert made.reason == "ill today"
    assert [(c.line_id, c.closed_by, c.until, c.reason) for c in closures.active(engine, TUE)] == [
        ("kids-line", "Anna", (TUE + dt.timedelta(hours=2)).astimezone(dt.timezone.utc), "ill today")]
    # closing again replaces until and reason
    closures.close(engine, "kids-line", by="Ben", now=TUE + dt.timedelta(minutes=5), reason="still ill")
    [again] = closures.active(engine, TUE + dt.timedelta(days=30))
    assert (again.until, again.closed_by, again.reason) == (None, "Ben", "still ill")
    closures.reopen(engine, "kids-line", by="Anna", now=TUE + dt.timedelta(hours=3))
    assert closures.active(engine, TUE + dt.timedelta(hours=3)) == ()
    log = closures.log(engine)
    assert [(e.action, e.line_id, e.operator, e.reason) for e in log] == [
        ("reopen", "kids-line", "Anna", ""), ("close", "kids-line", "Ben", "still ill"),
        ("close", "kids-line", "Anna", "ill today")]
    assert log[0].at == (TUE + dt.timedelta(hours=3)).astimezone(dt.timezone.utc)
    with engine.connect() as connection:
        assert closures.version(connection) == log[0].id


def test_a_closure_with_until_runs_out_by_itself(engine: Engine) -> None:
    closures.close(engine, "hateaid", by="Anna", now=TUE, until=TUE + dt.timedelta(minutes=30))
    assert [c.line_id for c in closures.active(engine, TUE + dt.timedelta(minutes=29))] == ["hateaid"]
    assert closures.active(engine, TUE + dt.timedelta(minutes=30)) == ()
    with pytest.raises(closures.ClosureError) as error:
        closures.reopen(engine, "hateaid", by="Anna", now=TUE + dt.timedelta(hours=1))
    assert str(error.value) == "hateaid is not closed now; `ivr closures` lists the closed lines"


def test_an_until_in_the_past_is_refused_in_its_own_zone(engine: Engine) -> None:
    # The CLI's clock is UTC; the operator typed local time: both are shown in the local zone.
    with pytest.raises(closures.ClosureError) as error:
        closures.close(engine, "hateaid", by="Anna", now=TUE.astimezone(dt.timezone.utc), until=TUE - dt.timedelta(hours=1))
    assert str(error.value) == ("--until 2026-11-24T14:30:00+01:00 is not in the future; expected a time "
                                "after 2026-11-24T15:30+01:00")


@pytest.mark.parametrize("kwargs,message", [
    ({"by": "  "}, "--by '' is not an operator name; expected a name of 1 to 100 characters on one line without control characters"),
    ({"by": "A\nB"}, "--by 'A\\nB' is not an operator name; expected a name of 1 to 100 characters on one line without control characters"),
    ({"by": "Anna", "until": TUE}, "--until 2026-11-24T15:30:00+01:00 is not in the future; expected a "
                                   "time after 2026-11-24T15:30+01:00"),
    ({"by": "Anna", "reason": "x" * 501}, "--reason is 501 characters long; expected at most 500"),
])
def test_bad_closures_are_refused_with_the_reason(engine: Engine, kwargs: dict, message: str) -> None:
    with pytest.raises(closures.ClosureError) as error:
        closures.close(engine, "hateaid", now=TUE, **kwargs)
    assert str(error.value) == message
    assert closures.log(engine) == ()


# -- the call obeys -------------------------------------------------------------------------

CONFIG = bundled_config()
CONNECT_ANYONE = Webhook(MENU, "n=main&l=de", "0", "", SERVICE_NUMBER)
CONNECT_YOUNG = Webhook(MENU, "n=main&l=de", "1", "", SERVICE_NUMBER)  # under 18


def _dialled(twiml: str) -> list[str]:
    element = ET.fromstring(twiml).find("Dial")
    return dial_numbers(element) if element is not None else []


def test_a_closed_line_is_skipped_and_the_answer_cache_knows_the_difference() -> None:
    answers = Answers(CONFIG)
    first = CONFIG.index.open_lines(TUE)[0]
    assert _dialled(answers.twiml(CONNECT_ANYONE, TUE)) == [first.phone]
    after = answers.twiml(CONNECT_ANYONE, TUE, until_reopened({first.id}))  # same minute, now closed
    second = CONFIG.index.open_lines(TUE)[1]
    assert _dialled(after) == [second.phone]
    assert _dialled(answers.twiml(CONNECT_ANYONE, TUE)) == [first.phone]  # reopened


def test_the_only_open_line_closed_is_like_nothing_open() -> None:
    """Saturday afternoon only kids-line is open: closed live, the caller hears the closed menu,
    exactly as at a time when nothing is open; the same events are counted."""
    closed = without_closed(CONFIG, until_reopened({"kids-line"}))
    assert [line.id for line in CONFIG.index.open_lines(SAT_AFTERNOON, "young_person")] == ["kids-line"]
    assert closed.index.open_lines(SAT_AFTERNOON, "young_person") == ()
    answers = Answers(CONFIG, events=derive)
    answer = answers.answer(CONNECT_YOUNG, SAT_AFTERNOON, until_reopened({"kids-line"}))
    night = answers.answer(CONNECT_YOUNG, dt.datetime(2026, 11, 28, 22, 0, tzinfo=BERLIN))
    assert _dialled(answer.twiml) == []
    assert query(ET.fromstring(answer.twiml).find("Gather").get("action")) == {
        "n": "closed", "l": "de", "a": "young_person"}
    assert [e for e in answer.events if e[0] == "unmet"] == [("unmet", "young_person/later")]
    assert [e for e in night.events if e[0] == "unmet"] == [("unmet", "young_person/later")]


def test_without_closed_keeps_the_config_when_nothing_is_closed() -> None:
    assert without_closed(CONFIG, frozenset()) is CONFIG


def test_a_worker_obeys_a_closure_made_elsewhere_after_its_next_poll(engine: Engine) -> None:
    live = Live(engine, BERLIN, clock=lambda: TUE)
    app = make_app("2026-11-24T15:30", token=None)
    app.extensions["ivr.live"] = live
    first = CONFIG.index.open_lines(TUE)[0]
    call = Call(app.test_client(), token=None)
    call.start()
    assert dial_numbers(dial(call.press("0"))) == [first.phone]
    closures.close(engine, first.id, by="Anna", now=TUE)
    live.poll()
    call = Call(app.test_client(), token=None)
    call.start()
    assert dial_numbers(dial(call.press("0"))) != [first.phone]
    closures.reopen(engine, first.id, by="Anna", now=TUE)
    live.poll()
    assert live.closed == frozenset()


def test_a_database_that_goes_away_keeps_the_last_closures_known(engine: Engine,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    closures.close(engine, "hateaid", by="Anna", now=TUE)
    live = Live(engine, BERLIN, clock=lambda: TUE)
    live.poll()
    assert live.closed == {"hateaid"}
    from sqlalchemy import create_engine
    live.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                connect_args={"connect_timeout": 1})
    live.poll()
    assert live.closed == {"hateaid"}
    assert ('cannot read the live closures (OperationalError: connection failed: connection to server at '
            '"127.0.0.1", port 1 failed: Connection refused') in caplog.text
    assert "accepting TCP/IP connections?); still obeying the last ones known: hateaid" in caplog.text


def test_ready_says_when_the_store_last_worked_while_calls_go_on(engine: Engine) -> None:
    """GET /ready: ready while the last closures check and the last flush are recent, in any
    worker sharing the board; not ready past the limit. The webhooks answer all the same (route
    Twilio's traffic on /health: a database that is down never changes a call)."""
    import re
    import time

    from sqlalchemy import create_engine

    from ivr.store.readiness import ReadyBoard
    board = ReadyBoard()
    live = Live(engine, BERLIN, clock=lambda: TUE, board=board, stale_seconds=30)
    other_worker = Live(engine, BERLIN, clock=lambda: TUE, board=board, stale_seconds=30)
    app, other_app = (make_app("2026-11-24T15:30", token=None, live=each) for each in (live, other_worker))
    client = app.test_client()
    response = client.get("/ready")
    assert (response.status_code, response.get_data(as_text=True)) == (
        503, "not ready: database\ndatabase: closures checked never, counts written never (limit 30 s)\n")
    live.poll()
    assert client.get("/ready").status_code == 503  # no flush yet
    live.flush()
    for each in (app, other_app):  # the other worker never polled: it answers from the same board
        response = each.test_client().get("/ready")
        assert response.status_code == 200
        assert re.fullmatch(r"ready\ndatabase: closures checked \d+ s ago, counts written \d+ s ago "
                            r"\(limit 30 s\)\n", response.get_data(as_text=True))
    live.engine = other_worker.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                                      connect_args={"connect_timeout": 1})
    live.stale_seconds = other_worker.stale_seconds = 0.2
    time.sleep(0.3)  # past the limit: what worked last is now too old
    live.poll()
    other_worker.count(TUE, (("call", "started"),))
    other_worker.flush()
    for each in (app, other_app):
        response = each.test_client().get("/ready")
        assert response.status_code == 503
        assert response.get_data(as_text=True).startswith("not ready: database\ndatabase: closures checked ")
    call = Call(client, token=None)
    call.start()
    assert dial(call.press("0")) is not None


# -- the commands ---------------------------------------------------------------------------

def _run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.output


def test_cli_close_closures_reopen_and_schedule(empty_database_url: str, tmp_path: Path) -> None:
    env = {"IVR_DATABASE_URL": empty_database_url, "IVR_STATE_DIR": str(tmp_path), "IVR_NOW": ""}
    code, out = _run(["closures"], env)
    assert code == 2 and "run `ivr db upgrade` first" in out
    assert _run(["db", "upgrade"], env)[0] == 0
    code, out = _run(["close", "hateaid", "--by", "Anna", "--reason", "nobody on shift",
                      "--until", "2099-12-02T18:00"], env)
    assert (code, out) == (0, "closed hateaid until 2099-12-02 18:00\n")
    code, out = _run(["closures", "--json"], env)
    assert code == 0
    [shown] = json.loads(out)["closures"]
    assert shown == {"id": "hateaid", "closed_at": shown["closed_at"], "until": "2099-12-02T18:00:00+01:00",
                     "reason": "nobody on shift", "by": "Anna"}
    code, out = _run(["schedule", "--at", "2026-11-24T15:30", "--json"], env)
    schedule = json.loads(out)
    assert "hateaid" not in [line["id"] for line in schedule["open"]]
    assert [c["id"] for c in schedule["closed_live"]] == ["hateaid"]
    code, out = _run(["schedule", "--at", "2026-11-24T15:30"], env)
    assert "  hateaid: by Anna, until Wed 2 Dec 18:00 (nobody on shift)" in out.splitlines()
    assert _run(["reopen", "hateaid", "--by", "Ben"], env) == (0, "reopened hateaid\n")
    code, out = _run(["closures", "--log"], env)
    assert out.splitlines()[0] == "No line is closed live."
    assert [line.split("  ", 2)[-1] for line in out.splitlines()[3:5]] == [
        "reopen hateaid by Ben", "close  hateaid by Anna until 2099-12-02 18:00: nobody on shift"]


def test_cli_refuses_unknown_lines_and_bad_times(tmp_path: Path) -> None:
    env = {"IVR_STATE_DIR": str(tmp_path)}
    _run(["db", "upgrade"], env)
    code, out = _run(["close", "nope", "--by", "Anna"], env)
    assert code == 2 and ("Invalid value for LINE_ID: 'nope' is not a line of the directory; expected one of "
                          "kids-line, parents-line, hateaid, abuse-helpline") in out
    code, out = _run(["close", "hateaid", "--by", "Anna", "--until", "tomorrow"], env)
    assert code == 2 and "'tomorrow' is not a time; expected ISO 8601" in out
    code, out = _run(["close", "hateaid"], env)
    assert code == 2 and "Missing option '--by'" in out
