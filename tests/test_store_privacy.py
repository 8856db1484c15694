"""Nothing stored can identify a caller: whatever From, Caller, CallSid and AccountSid a call
carries, and whatever the caller does, no cell of any table (nor, for SQLite, any byte of the
database files) holds them afterwards."""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import Engine, MetaData, select

from ivr.store.live import Live
from twiml_helpers import bundled_config, dial, gather, make_app, parse, redirect, twilio_form

ZONE = bundled_config().directory.timezone
TIMES = ("2026-11-24T15:30", "2026-11-28T22:00", "2026-11-23T08:30", "2026-11-28T15:00")
ACTIONS = ("0", "1", "2", "3", "4", "5", "9", "*", "#", "-", "busy", "no-answer", "failed", "completed")

numbers = st.from_regex(r"\+49(15|16|17)[0-9]{8,9}", fullmatch=True)
sids = lambda prefix: st.from_regex(rf"{prefix}[0-9a-f]{{32}}", fullmatch=True)


def _walk(client, actions: list[str], fields: dict[str, str]) -> None:
    form = lambda **extra: twilio_form(**fields, **extra)
    root = parse(client.post("/voice", data=form()))
    for action in actions:
        element = dial(root)
        if element is not None:
            status = action if action in ("busy", "no-answer", "failed", "completed") else "completed"
            root = parse(client.post(element.get("action"), data=form(DialCallStatus=status,
                                                                      DialCallDuration="93")))
        elif gather(root) is not None:
            if action == "-" or len(action) > 1:
                root = parse(client.post(redirect(root), data=form()))
            else:
                root = parse(client.post(gather(root).action, data=form(Digits=action)))
        else:
            break  # the call has ended


def _dump(engine: Engine) -> list[str]:
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        return [str(value) for table in tables.sorted_tables
                for row in connection.execute(select(table)) for value in row]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(caller=numbers, account=sids("AC"), call=sids("CA"), at=st.sampled_from(TIMES),
       actions=st.lists(st.sampled_from(ACTIONS), max_size=6))
def test_no_request_identifier_is_stored(engine: Engine, caller: str, account: str, call: str, at: str,
                                         actions: list[str]) -> None:
    live = Live(engine, ZONE, clock=lambda: dt.datetime.fromisoformat(at).replace(tzinfo=ZONE))
    app = make_app(at, token=None)
    app.extensions["ivr.live"] = live
    _walk(app.test_client(), actions, {"From": caller, "Caller": caller, "CallSid": call, "AccountSid": account})
    assert live.flush() > 0  # the call was counted
    secrets = (caller, caller[1:], caller[-8:], call, call[2:], account, account[2:])
    cells = _dump(engine)
    assert cells, "nothing was stored: the test would prove nothing"
    for secret in secrets:
        assert not [cell for cell in cells if secret in cell], secret
    url = engine.url
    if url.get_backend_name() == "sqlite":
        engine.dispose()  # write the WAL back into the file, then read every byte
        for path in Path(url.database).parent.glob("ivr.sqlite3*"):
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, (path.name, secret)
