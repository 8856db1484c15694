"""The console under attack, on SQLite and PostgreSQL: guesses at once and over hours, floods
with random names, kept cookies, name enumeration, log floods, hostile input, headers on every
answer. Each test is a row of issue 14's table."""
from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert

from ivr.cli.main import main
from ivr.console import accounts, throttle, web
from ivr.console.refusals import RefusalLog
from ivr.console.settings import ConsoleOff, ConsoleSettings, client_address, proxies
from ivr.store import closures
from ivr.store.database import StoreSettings, make_engine
from ivr.store.schema import closure_log
from test_console import (KEY, PASSWORD, PINNED, _app, _login, _text, _token, app, config, db,  # noqa: F401
                          editor, fresh_login_budget)

WRONG = "not the password"
NOW = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.timezone.utc)


def _from(address: str) -> dict[str, str]:
    """Headers of a request that deploy/'s nginx (on 127.0.0.1, trusted) passes on for `address`."""
    return {"X-Forwarded-For": address}


def _post_login(client: FlaskClient, name: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return client.post("/console/login", data={"username": name, "password": password,
                                               "csrf_token": _token(client)}, headers=_from(address))


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords that were checked against a hash (counted, still checked)."""
    seen: list[str] = []
    real = accounts.check_password_hash
    lock = threading.Lock()

    def counted(hashed: str, password: str) -> bool:
        with lock:
            seen.append(password)
        return real(hashed, password)
    monkeypatch.setattr(accounts, "check_password_hash", counted)
    return seen


# -- 30 wrong passwords at once --------------------------------------------------------------

def test_thirty_tries_at_once_are_counted_as_thirty(engine: Engine) -> None:
    roomy = throttle.Policy(free=100, first_delay=30, max_delay=900)
    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(lambda _: throttle.admit(engine, "account:anna", roomy, NOW), range(30)))
    assert results == [None] * 30
    assert throttle.tries(engine, "account:anna") == 30


def test_thirty_wrong_passwords_at_once_check_five_and_the_sixth_waits(engine: Engine, checks: list[str]) -> None:
    accounts.add(engine, "anna", "editor", PASSWORD, by="tests", now=NOW)
    checks.clear()

    def guess(n: int) -> accounts.LoginResult:  # 30 addresses: only the account's budget binds
        return accounts.login(engine, "anna", WRONG, NOW, accounts.Client(f"203.0.113.{n}"))
    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(guess, range(30)))
    assert len(checks) == throttle.ACCOUNT.free == 5
    assert sum(r.retry_at is None for r in results) == 5  # checked: "wrong name or password"
    first_wait = NOW + throttle.ACCOUNT.wait(5)
    assert [r.retry_at for r in results if r.retry_at is not None] == [first_wait] * 25
    assert throttle.tries(engine, "account:anna") == 5
    # the right password, from another unknown browser: it waits too, then it works
    stranger = accounts.Client("198.51.100.7")
    assert accounts.login(engine, "anna", PASSWORD, NOW, stranger).retry_at == first_wait
    assert accounts.login(engine, "anna", PASSWORD, first_wait, stranger).operator is not None
    assert throttle.tries(engine, "account:anna") == 0  # the good password cleared it


def test_bursts_of_thirty_every_ten_seconds_get_six_checks_in_120_guesses(engine: Engine, checks: list[str]) -> None:
    """The issue's attack: 30 at once, every 10 s; the 120th guess is the right password."""
    accounts.add(engine, "anna", "editor", PASSWORD, by="tests", now=NOW)
    checks.clear()
    results = []
    for burst in range(4):
        at = NOW + dt.timedelta(seconds=10 * burst)
        with ThreadPoolExecutor(30) as pool:
            results += list(pool.map(lambda n: accounts.login(engine, "anna", WRONG, at,
                                                              accounts.Client(f"203.0.113.{n}")),
                                     range(30 if burst < 3 else 29)))
    last = accounts.login(engine, "anna", PASSWORD, NOW + dt.timedelta(seconds=31), accounts.Client("203.0.113.99"))
    assert len(checks) == 5 + 1  # five at once, then one when the first wait (30 s) was over
    assert all(r.operator is None for r in results)
    assert last.operator is None and last.retry_at == NOW + dt.timedelta(seconds=30 + 60)  # the wait doubled
    assert throttle.tries(engine, "account:anna") == 6


def test_the_waits_grow_and_never_exceed_the_longest() -> None:
    waits = [throttle.ACCOUNT.wait(n).total_seconds() for n in range(12)]
    assert waits == [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]


# -- floods and slow guessing ----------------------------------------------------------------

def test_a_flood_of_random_names_never_refuses_the_editor(app: Flask, checks: list[str]) -> None:
    flood, usual = app.test_client(), app.test_client()
    statuses, editor_answers = [], []
    for n in range(300):
        statuses.append(_post_login(flood, f"guess{n}", WRONG, "203.0.113.9").status_code)
        if n % 20 == 19:  # the editor at her usual browser, from her office
            editor_answers.append(_post_login(usual, "erika", PASSWORD, "198.51.100.7").status_code)
    # and once at a browser she never used
    editor_answers.append(_post_login(app.test_client(), "erika", PASSWORD, "198.51.100.8").status_code)
    assert editor_answers == [302] * 16
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    assert len(checks) == 10 + 16  # the flood's passwords stopped being checked after its free tries


def test_a_forwarded_address_counts_only_from_a_trusted_proxy() -> None:
    trusted = proxies("127.0.0.1, 10.0.0.0/8")
    assert client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, trusted) == "203.0.113.9"
    # a client writes what it likes on the left; the trusted proxy appends the peer it saw
    assert client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9"},
                          trusted) == "203.0.113.9"
    assert client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9, 10.1.2.3"},
                          trusted) == "203.0.113.9"
    assert client_address({"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, trusted) == "192.0.2.1"
    assert client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, proxies("")) == "127.0.0.1"
    with pytest.raises(ConsoleOff) as bad:
        ConsoleSettings.from_env(dev=True, env={"IVR_TRUSTED_PROXIES": "127.0.0.1,nginx"})
    assert str(bad.value) == ("IVR_TRUSTED_PROXIES: 'nginx' is not an address or network; expected addresses "
                              "or networks separated by commas, e.g. 127.0.0.1,10.0.0.0/8")


def test_an_untrusted_client_cannot_spread_its_tries_over_made_up_addresses(config, db: Engine) -> None:  # type: ignore[no-untyped-def]
    app = create_console_app(config, db, trusted="10.9.9.9")  # the peer (127.0.0.1) is no proxy
    client = app.test_client()
    answers = [_post_login(client, f"guess{n}", WRONG, f"203.0.113.{n}").status_code for n in range(12)]
    assert answers == [401] * 10 + [429] * 2


def create_console_app(config, engine: Engine, trusted: str) -> Flask:  # type: ignore[no-untyped-def]
    from ivr.config.settings import Settings
    from ivr.serve.web import create_app
    return create_app(config, Settings.from_env({}), clock=lambda: PINNED,
                      console=ConsoleSettings(KEY, secure_cookies=False, trusted_proxies=proxies(trusted)))


def test_five_wrong_passwords_every_five_minutes_never_lock_the_editor_out(engine: Engine) -> None:
    accounts.add(engine, "anna", "editor", PASSWORD, by="tests", now=NOW)
    attacker = accounts.Client("203.0.113.9")
    known = accounts.Client("198.51.100.7", device="anna-laptop")  # she signed in on it before
    for round_ in range(36):  # three hours
        at = NOW + dt.timedelta(minutes=5 * round_)
        for second in range(5):
            accounts.login(engine, "anna", WRONG, at + dt.timedelta(seconds=second), attacker)
        assert accounts.login(engine, "anna", PASSWORD, at + dt.timedelta(seconds=10), known).operator is not None
    # at a browser she never used, the wait is at most the longest, then she is in
    at = NOW + dt.timedelta(minutes=5 * 36)
    new_browser = accounts.Client("198.51.100.7")
    refused = accounts.login(engine, "anna", PASSWORD, at, new_browser)
    assert refused.retry_at is not None and refused.retry_at - at <= dt.timedelta(seconds=throttle.ACCOUNT.max_delay)
    assert accounts.login(engine, "anna", PASSWORD, refused.retry_at, new_browser).operator is not None


def test_a_browser_that_signed_in_keeps_a_device_cookie_with_its_own_budget(app: Flask) -> None:
    browser = app.test_client()
    assert _post_login(browser, "erika", PASSWORD, "198.51.100.7").status_code == 302
    stranger = app.test_client()
    assert [_post_login(stranger, "erika", WRONG, f"203.0.113.{n}").status_code for n in range(7)] == [401] * 5 + [429] * 2
    assert _post_login(browser, "erika", PASSWORD, "198.51.100.7").status_code == 302
    cookie = browser.get_cookie(web.DEVICE_COOKIE, path="/console")
    assert cookie is not None and cookie.http_only and cookie.path == "/console"
    # the cookie names its operator: for another name it is an unknown browser
    assert _post_login(browser, "victor", WRONG, "198.51.100.7").status_code == 401


# -- enumeration -----------------------------------------------------------------------------

def test_unknown_and_known_names_get_the_same_answers(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "real_now", lambda: NOW)
    answers = {}
    for name, address in (("erika", "203.0.113.1"), ("nobody", "203.0.113.2")):
        client = app.test_client()
        answers[name] = [(r.status_code, _text(r)) for r in
                         (_post_login(client, name, WRONG, address) for _ in range(8))]
    assert answers["erika"] == answers["nobody"]
    assert [status for status, _ in answers["erika"]] == [401] * 5 + [429] * 3
    assert "Name oder Passwort stimmen nicht." in answers["nobody"][0][1]
    assert "Bitte ab 10:30:30 Uhr noch einmal versuchen." in answers["nobody"][-1][1]


# -- sessions --------------------------------------------------------------------------------

def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("ivr_console", path="/console")
    assert cookie is not None
    return cookie.value


def test_a_cookie_kept_from_before_the_logout_is_refused(editor: FlaskClient, app: Flask, db: Engine) -> None:
    token = _token(editor, "/console/")
    kept = _session_cookie(editor)  # with its CSRF token
    editor.post("/console/logout", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("ivr_console", kept, path="/console")
    assert thief.get("/console/").status_code == 302
    thief.set_cookie("ivr_console", kept, path="/console")
    response = thief.post("/console/close", data={"line_id": "hateaid", "reason": "kept cookie", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/login")
    assert closures.active(db, PINNED) == ()


def test_a_session_ends_eight_hours_after_the_login_however_it_is_used(app: Flask,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [NOW]
    monkeypatch.setattr(web, "real_now", lambda: clock[0])
    client = app.test_client()
    assert _login(client).status_code == 302
    ends = NOW + dt.timedelta(hours=web.SESSION_HOURS)
    for minutes in (60, 240, 479):
        clock[0] = NOW + dt.timedelta(minutes=minutes)
        assert client.get("/console/").status_code == 200
        cookie = client.get_cookie("ivr_console", path="/console")
        assert cookie is not None and cookie.expires == ends  # use does not extend it
    clock[0] = ends + dt.timedelta(seconds=1)
    assert client.get("/console/").status_code == 302


# -- the log ---------------------------------------------------------------------------------

def test_refused_logins_are_summed_up_in_a_few_lines(app: Flask, caplog: pytest.LogCaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "refusals", RefusalLog(web.log))  # this process's first refusal
    caplog.set_level(logging.INFO, logger="ivr.console")
    client = app.test_client()
    for n in range(60):
        _post_login(client, f"01769988{n:03d}", WRONG, "203.0.113.9")
    for n in range(30):  # a script that does not bother with the form's token
        assert client.post("/console/login", data={"username": f"x{n}", "password": WRONG}).status_code == 400
    assert not any("0176" in r.getMessage() for r in caplog.records)  # the names tried never
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert lines == ["console logins and forms refused: 1 since the last such line (1 wrong name or password); "
                     "at most one such line every 60 s"]


def test_the_refusal_summary_counts_what_came_between_its_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="test.refusals")
    clock = [0.0]
    refusals = RefusalLog(logging.getLogger("test.refusals"), interval=60, clock=lambda: clock[0])
    for n in range(500):
        clock[0] = n * 0.3  # 150 s of refusals
        refusals.refused("wrong" if n < 20 else "waiting" if n < 300 else "csrf")
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "console logins and forms refused: 1 since the last such line (1 wrong name or password)",
        "console logins and forms refused: 200 since the last such line (19 wrong name or password, "
        "181 tried before its wait was over)",
        "console logins and forms refused: 200 since the last such line (99 tried before its wait was over, "
        "101 forms without a valid CSRF token)"]


# -- hostile input ---------------------------------------------------------------------------

@pytest.mark.parametrize("next_", ["/console/\r\nSet-Cookie: x=1", "/console/%0d%0a", "/console/\n"])
def test_a_next_with_line_breaks_is_a_clear_400(app: Flask, next_: str) -> None:
    client = app.test_client()
    token = _token(client)
    for response in (client.get("/console/login", query_string={"next": next_}),
                     client.post("/console/login", data={"username": "erika", "password": PASSWORD,
                                                         "csrf_token": token, "next": next_}),
                     client.get("/console/lang/en", query_string={"next": next_})):
        if "%0d" in next_:  # percent signs are just characters: a path inside the console, harmless
            assert response.status_code in (200, 302)
            continue
        assert response.status_code == 400
        assert "Steuerzeichen" in _text(response)


@pytest.mark.parametrize("method, path, data, message", [
    ("POST", "/console/try", {"transcript": '{"a": 1}', "key": "1"}, "Der Verlauf des Probeanrufs ist beschädigt."),
    ("POST", "/console/try", {"transcript": "7", "key": "1"}, "Der Verlauf des Probeanrufs ist beschädigt."),
    ("POST", "/console/try", {"transcript": '[["key", 1]]', "key": "1"}, "Der Verlauf des Probeanrufs ist beschädigt."),
    ("GET", "/console/demand?to=0001-01-05", None, "Dieses Datum kann die Konsole nicht zeigen"),
    ("GET", "/console/demand?from=9999-12-31&to=9999-12-31", None, "Dieses Datum kann die Konsole nicht zeigen"),
    ("GET", "/console/report?month=9999-12", None, "Dieses Datum kann die Konsole nicht zeigen"),
    ("GET", "/console/report.csv?month=0001-01", None, "Dieses Datum kann die Konsole nicht zeigen"),
    ("POST", "/console/close", {"line_id": "hateaid", "reason": "ill", "until": "9999-12-31T23:59-23:59"},
     "Nicht geschlossen: '9999-12-31T23:59-23:59' lies beyond the year 9999 in UTC"),
])
def test_input_that_crashed_a_page_is_a_clear_400(editor: FlaskClient, method: str, path: str,
                                                  data: dict | None, message: str) -> None:
    if method == "POST":
        response = editor.post(path, data={**(data or {}), "csrf_token": _token(editor, "/console/")})
    else:
        response = editor.get(path)
    assert response.status_code == 400
    assert message in _text(response)


def test_control_characters_leave_a_closure_reason_when_stored_and_when_printed(
        editor: FlaskClient, db: Engine, tmp_path: Path) -> None:
    hostile = "ill\x1b[2J\x1b]0;owned\x07 \u202eevil\r\nnext"
    response = editor.post("/console/close", data={"line_id": "hateaid", "reason": hostile,
                                                   "csrf_token": _token(editor, "/console/")})
    assert response.status_code == 302
    (stored,) = closures.active(db, dt.datetime.now(dt.timezone.utc))
    assert stored.reason == "ill[2J]0;owned evil next"
    with db.begin() as connection:  # a row written before this rule, by hand or by an older version
        connection.execute(insert(closure_log).values(at=dt.datetime(2026, 11, 30, 8), action="close",
                                                      line_id="kids-line", until=None, reason="old\x1b[31mred",
                                                      operator="by\x1b[0m"))
    printed = CliRunner().invoke(main, ["closures", "--log"])
    assert printed.exit_code == 0, printed.output
    assert "\x1b" not in printed.output and "\u202e" not in printed.output
    assert "ill[2J]0;owned evil next" in printed.output and "old[31mred" in printed.output


# -- headers on every console answer -------------------------------------------------------

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Cache-Control", "X-Content-Type-Options")


@pytest.mark.parametrize("path", ["/console/nope", "/console/static/nope.css", "/console", "/console/login"])
def test_every_console_answer_carries_its_headers(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    for header in SECURITY_HEADERS:
        if header == "Cache-Control" and "/static/" in path:
            continue
        assert header in response.headers, (path, response.status_code, header)
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_console_off_answer_carries_its_headers_and_the_webhooks_none(config) -> None:  # type: ignore[no-untyped-def]
    from ivr.config.settings import Settings
    from ivr.serve.web import create_app
    client = create_app(config, Settings.from_env({}), clock=lambda: PINNED).test_client()
    off = client.get("/console/nope")
    assert off.status_code == 503 and off.headers["X-Frame-Options"] == "DENY"
    assert "X-Frame-Options" not in client.get("/health").headers


# -- the SQLite file ---------------------------------------------------------------------------

def test_the_sqlite_file_is_made_readable_by_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        engine = make_engine(StoreSettings.from_env({"IVR_STATE_DIR": str(tmp_path / "state")}))
        from ivr.store import migrate
        migrate.upgrade(engine)
        with engine.connect() as connection:  # WAL: the -wal and -shm files exist while connected
            connection.exec_driver_sql("SELECT 1")
            files = sorted(p.name for p in (tmp_path / "state").iterdir())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "state").iterdir()}
        engine.dispose()
    finally:
        os.umask(old)
    assert "ivr.sqlite3" in files
    assert modes == {name: 0o600 for name in files}, modes
