"""A dead line found by itself: per line, the dials in a row without a talk, shared by every host
through the database; from `service.try_last_after` (5) on, the line is tried last in every chain,
never dropped, until a talk on it. Seen on the Now page, in the JSON report and in /metrics.
The store on SQLite and PostgreSQL; the real servers with the Twilio stand-in's calls."""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from ivr.call import flow
from ivr.cli.main import main
from ivr.call.live_closed import without_closed
from ivr.store import dead_lines
from ivr.store.live import Live
from store_fixtures import new_postgres_database
from test_reload import Server
from test_store_serve import OBEY_WITHIN, _env, _start, _wait_healthy
from twilio_standin import PhoneNetwork
from twiml_helpers import PHONE, bundled_config

CONFIG = bundled_config()
ZONE = CONFIG.directory.timezone
TUE = dt.datetime(2026, 11, 24, 15, 30, tzinfo=ZONE)  # all four lines open; key 0: abuse-helpline first
UTC = dt.timezone.utc


def _chain(demoted: frozenset[str], status: str = "no-answer") -> list[str]:
    """The lines a silent-free caller (key 0) is dialled to, one after another, while each dial fails."""
    config = without_closed(CONFIG, frozenset(), demoted)
    step = flow.key_pressed(config, flow.CallState("main", "de"), "0", TUE)
    lines = []
    while isinstance(step.then, flow.Dial):
        lines.append(step.then.line_id)
        step = flow.dial_ended(config, step.then.state, status, 0, TUE)
    return lines


def test_a_demoted_line_is_tried_last_and_never_dropped() -> None:
    usual = _chain(frozenset())
    assert usual[0] == "abuse-helpline" and len(usual) >= 2
    demoted = _chain(frozenset({"abuse-helpline"}))
    assert demoted == [line for line in usual if line != "abuse-helpline"] + ["abuse-helpline"]
    # every open line demoted: the usual order, nobody dropped
    assert _chain(frozenset(line.id for line in CONFIG.directory.lines)) == usual


def _outcomes(live: Live, line: str, *outcomes: str) -> None:
    for outcome in outcomes:
        live.count(TUE, (("dial_outcome", f"{line}/{outcome}"),))


def test_two_hosts_share_one_run_and_a_talk_resets_it(engine: Engine) -> None:
    clock = [TUE]
    hosts = [Live(engine, ZONE, clock=lambda: clock[0]) for _ in range(2)]
    _outcomes(hosts[0], "hateaid", "no_answer", "busy", "failed")
    clock[0] = TUE + dt.timedelta(minutes=3)
    _outcomes(hosts[1], "hateaid", "short_completed")  # a short "completed" is no talk either
    for host in (*hosts, hosts[0]):  # the first reads again after the second wrote
        host.sync_dials()
    assert hosts[0].runs["hateaid"].unanswered == 4 and hosts[0].tried_last(5) == frozenset()
    _outcomes(hosts[1], "hateaid", "no_answer")
    hosts[1].sync_dials()
    hosts[0].sync_dials()
    assert hosts[0].runs["hateaid"] == dead_lines.Run(5, TUE.astimezone(UTC))  # since the first of the run
    assert hosts[0].tried_last(5) == frozenset({"hateaid"}) and hosts[0].tried_last(6) == frozenset()
    _outcomes(hosts[0], "hateaid", "busy", "completed", "no_answer")  # a talk, then one more without
    hosts[0].sync_dials()
    assert hosts[0].runs["hateaid"].unanswered == 1
    _outcomes(hosts[1], "hateaid", "completed")
    hosts[1].sync_dials()
    assert hosts[1].runs["hateaid"] == dead_lines.Run(0, None) and hosts[1].tried_last(1) == frozenset()


def test_dials_wait_in_memory_while_the_database_is_away(engine: Engine) -> None:
    from sqlalchemy import create_engine
    live = Live(engine, ZONE, clock=lambda: TUE)
    _outcomes(live, "kids-line", "busy", "busy")
    working, live.engine = live.engine, create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                                      connect_args={"connect_timeout": 1})
    live.sync_dials()
    _outcomes(live, "kids-line", "no_answer")
    live.engine = working
    live.sync_dials()
    assert live.runs["kids-line"].unanswered == 3


def test_the_threshold_is_read_from_hotlines_yaml_and_checked(tmp_path: Path) -> None:
    import shutil
    from ivr.config.settings import bundled_dir
    from ivr.config.errors import ConfigInvalid
    from ivr.config.loading import load_config
    data = tmp_path / "data"
    shutil.copytree(bundled_dir("data"), data)
    assert CONFIG.directory.service.try_last_after == 5
    text = (data / "hotlines.yaml").read_text(encoding="utf-8")
    (data / "hotlines.yaml").write_text(text.replace("try_last_after: 5", "try_last_after: 3"), encoding="utf-8")
    assert load_config(data, bundled_dir("prompts")).directory.service.try_last_after == 3
    (data / "hotlines.yaml").write_text(text.replace("try_last_after: 5", "try_last_after: 0"), encoding="utf-8")
    with pytest.raises(ConfigInvalid) as refused:
        load_config(data, bundled_dir("prompts"))
    line = text[:text.index("try_last_after: 5")].count("\n") + 1
    assert (f"hotlines.yaml: service.try_last_after: 0 is not a number of dials; expected a whole number "
            f"from 1 to 1000, e.g. 5 (line {line})") in refused.value.report()


def test_metrics_show_each_lines_run(engine: Engine) -> None:
    from test_ops import METRICS_TOKEN, scrape, value
    from twiml_helpers import make_app
    live = Live(engine, ZONE, clock=lambda: TUE)
    app = make_app("2026-11-24T15:30", extra_env={"IVR_METRICS_TOKEN": METRICS_TOKEN}, live=live)  # as `ivr serve`
    _outcomes(live, "hateaid", *["no_answer"] * 6)
    live.sync_dials()  # the store thread's work: the gauge follows what it read
    samples, _ = scrape(app.test_client())
    assert value(samples, "ivr_line_unanswered_in_a_row", line="hateaid") == 6
    assert ("ivr_line_unanswered_in_a_row", (("line", "kids-line"),)) in samples  # every line, from 0
    assert value(samples, "ivr_line_unanswered_in_a_row", line="kids-line") == 0


def test_the_alert_rule_in_deploy_watches_the_gauge_at_the_threshold() -> None:
    import yaml
    rules = yaml.safe_load((Path(__file__).resolve().parent.parent / "deploy" / "prometheus-alerts.yml")
                           .read_text(encoding="utf-8"))
    [rule] = [r for group in rules["groups"] for r in group["rules"] if r.get("alert") == "HelplineLineTriedLast"]
    assert rule["expr"].replace(" ", "") == "max by (line) (ivr_line_unanswered_in_a_row) >= 5".replace(" ", "")
    assert "{{ $labels.line }}" in rule["annotations"]["summary"]


def _first_dial(network: PhoneNetwork, server: Server) -> str:
    return network.call(f"http://127.0.0.1:{server.port}/", max_dials=1)[0]


def test_two_servers_on_postgresql_try_a_dead_line_last_within_10_s_and_back_after_a_talk(
        postgres_server: str, tmp_path: Path) -> None:
    url = new_postgres_database(postgres_server)
    cli_env = {"IVR_DATABASE_URL": url, "IVR_NOW": ""}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=cli_env).exit_code == 0
    servers = [_start(tmp_path, _env(IVR_DATABASE_URL=url)), _start(tmp_path, _env(IVR_DATABASE_URL=url), "2")]
    dead = PHONE["abuse-helpline"]
    network = PhoneNetwork(answers={dead: ("no-answer", 0)})  # its number changed: nobody answers
    try:
        for server in servers:
            _wait_healthy(server)
        for n in range(5):  # five dials in a row without a talk, spread over both servers
            assert network.call(f"http://127.0.0.1:{servers[n % 2].port}/", max_dials=1) == [dead]
        fifth = time.monotonic()
        for server in servers:  # every worker of both: several calls in a row
            server.wait_until("the dead line tried last", lambda: all(
                _first_dial(network, server) != dead for _ in range(6)), timeout=OBEY_WITHIN + 5)
        assert time.monotonic() - fifth < OBEY_WITHIN
        # never dropped: when every other line fails too, it is still tried, last
        everyone_fails = PhoneNetwork(answers={PHONE[line.id]: ("busy", 0) for line in CONFIG.directory.lines})
        chain = everyone_fails.call(f"http://127.0.0.1:{servers[0].port}/")
        assert chain[-1] == dead and dead not in chain[:-1]
        # it answers again: a talk on it brings it back to its place, on both servers
        revived = PhoneNetwork(answers={PHONE[line.id]: ("busy", 0) for line in CONFIG.directory.lines if PHONE[line.id] != dead})
        assert revived.call(f"http://127.0.0.1:{servers[1].port}/")[-1] == dead
        talked = time.monotonic()
        for server in servers:
            server.wait_until("the line back first", lambda: all(
                _first_dial(PhoneNetwork(), server) == dead for _ in range(6)), timeout=OBEY_WITHIN + 5)
        assert time.monotonic() - talked < OBEY_WITHIN
    finally:
        for server in servers:
            assert server.stop() == 0, server.log()
    result = CliRunner().invoke(main, ["report", "--from", "2026-11-24", "--to", "2026-11-24", "--format", "json"],
                                env=cli_env)
    assert json.loads(result.output)["lines"]["abuse-helpline"]["unanswered_in_a_row"] == 0
