"""Where callers give up: "entered <node>" and "left <node>" counts, and `ended_in_menu` in the
report (entered minus left), on SQLite and PostgreSQL, in one process and across a graceful stop
of the real server. Nothing stored links two events of one call."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin

from click.testing import CliRunner
from sqlalchemy import Engine

from ivr.cli.main import main
from test_store_counts import TUE, _call_app
from test_store_serve import _env, _form, _start, _wait_healthy
from test_reload import Server

AT_MAIN, IN_GUIDANCE, WENT_ON, CONNECTED = 7, 6, 4, 3


def _report(database_url: str, day: str = "2026-11-24") -> dict:
    result = CliRunner().invoke(main, ["report", "--from", day, "--to", day, "--format", "json"],
                                env={"IVR_DATABASE_URL": database_url, "IVR_NOW": ""})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_seven_hang_up_at_the_main_menu_and_six_in_the_guidance(engine: Engine, database_url: str) -> None:
    live, new_call = _call_app(engine, TUE)
    for _ in range(AT_MAIN):
        new_call()  # the main menu plays; the caller hangs up: no webhook comes back
    for _ in range(IN_GUIDANCE):
        new_call().press("4")  # guidance; then hangs up
    for _ in range(WENT_ON):
        call = new_call()
        call.press("4")
        call.press("2")  # on to "what you can do now"; hangs up there
    for _ in range(CONNECTED):
        call = new_call()
        call.press("0")
        call.dial_ends("completed", "300")  # a talk, then goodbye: no menu left open
    live.stop()  # a graceful stop writes what is left
    data = _report(database_url)
    assert data["ended_in_menu"] == {"main": AT_MAIN, "guidance": IN_GUIDANCE, "guide_act": "<5"}
    assert data["totals"]["calls"] == AT_MAIN + IN_GUIDANCE + WENT_ON + CONNECTED


def _twiml(server: Server, path: str, **fields: str) -> ET.Element:
    status, content_type, body = server.post(path, _form(**fields))
    assert status == 200 and content_type.startswith("text/xml"), (status, body[:200])
    return ET.fromstring(body)


def _press(server: Server, url: str, root: ET.Element, key: str) -> tuple[str, ET.Element]:
    gather = root.find("Gather")
    assert gather is not None, [child.tag for child in root]
    url = urljoin(url, gather.get("action"))  # relative to the webhook, as Twilio resolves it
    return url, _twiml(server, url, Digits=key)


def test_the_counts_survive_a_graceful_stop_of_the_real_server(database_url: str, tmp_path: Path) -> None:
    server = _start(tmp_path, _env(IVR_DATABASE_URL=database_url), "2")
    try:
        _wait_healthy(server)
        for n in range(AT_MAIN + IN_GUIDANCE):
            root = _twiml(server, "/voice")
            if n >= AT_MAIN:
                _press(server, "/voice", root, "4")
    finally:
        assert server.stop() == 0, server.log()  # SIGTERM: each worker writes its last counts
    data = _report(database_url)
    assert data["ended_in_menu"] == {"main": AT_MAIN, "guidance": IN_GUIDANCE}
    assert data["totals"]["calls"] == AT_MAIN + IN_GUIDANCE
