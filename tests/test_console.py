"""The console through Flask's test client, on SQLite and PostgreSQL: login and its throttle,
sessions' cookie flags, CSRF, roles, closures and the audit trail, the pages, simulated calls
that are never counted, and the webhooks untouched by the console."""
from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from console_fixtures import seed_counts
from ivr.cli.main import main
from ivr.config.settings import Settings
from ivr.console import accounts
from ivr.console.settings import ConsoleOff, ConsoleSettings
from ivr.config.loading import load_config
from ivr.store import closures, report
from ivr.store.database import StoreSettings, make_engine
from ivr.store.live import Live
from ivr.serve.web import create_app

BERLIN = ZoneInfo("Europe/Berlin")
PINNED = dt.datetime(2026, 11, 30, 10, 30, tzinfo=BERLIN)  # Monday: abuse-helpline first for key 0
PASSWORD = "correct horse battery"
KEY = "s" * 40


@pytest.fixture(autouse=True)
def fresh_login_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with this process's password-check budget unspent, and hashes new
    passwords with scrypt at a small cost (the stored hash names its own parameters)."""
    monkeypatch.setattr(accounts, "budget", accounts._Budget())
    monkeypatch.setattr(accounts, "HASH_METHOD", "scrypt:1024:8:1")


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    settings = Settings.from_env({})
    return load_config(settings.data_dir, settings.prompts_dir)


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)
    monkeypatch.setenv("IVR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("IVR_REPORT_MIN_COUNT", raising=False)
    engine = make_engine(StoreSettings.from_env())
    for name, role in (("erika", "editor"), ("victor", "viewer")):
        accounts.add(engine, name, role, PASSWORD, by="tests", now=PINNED)
    yield engine
    engine.dispose()


def _app(config, engine: Engine, live: Live | None = None, secure: bool = False,  # type: ignore[no-untyped-def]
         token: str | None = None) -> Flask:
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": token} if token else {})
    return create_app(config, settings, clock=lambda: PINNED, live=live,
                      console=ConsoleSettings(KEY, secure_cookies=secure))


@pytest.fixture
def app(config, db: Engine) -> Flask:  # type: ignore[no-untyped-def]
    return _app(config, db)


def _token(client: FlaskClient, path: str = "/console/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def _login(client: FlaskClient, name: str = "erika", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/console/login", data={"username": name, "password": password,
                                               "csrf_token": _token(client)})


@pytest.fixture
def editor(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert _login(client).status_code == 302
    return client


def _text(response) -> str:  # type: ignore[no-untyped-def]
    body = response if isinstance(response, str) else response.get_data(as_text=True)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


# -- signing in ---------------------------------------------------------------------------

def test_every_page_needs_a_login(app: Flask) -> None:
    client = app.test_client()
    for path in ("/console/", "/console/coverage", "/console/report.csv", "/console/try"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/console/login?next={path}"


def test_login_sets_a_fresh_signed_session_cookie_with_its_flags(config, db: Engine) -> None:  # type: ignore[no-untyped-def]
    client = _app(config, db, secure=True).test_client()
    response = _login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    cookies = sorted(response.headers.getlist("Set-Cookie"))
    assert [c.split("=")[0] for c in cookies] == ["ivr_console", "ivr_console_device"]  # the session; the browser's
    for cookie in cookies:
        assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/console"} <= {part.strip() for part in cookie.split(";")}


def test_login_goes_back_to_the_page_asked_for_but_never_elsewhere(app: Flask) -> None:
    client = app.test_client()
    token = _token(client)
    for target, expected in (("/console/coverage", "/console/coverage"), ("https://evil.example/", "/console/"),
                             ("//evil.example/console/", "/console/"), ("/voice", "/console/")):
        response = client.post("/console/login", data={"username": "erika", "password": PASSWORD,
                                                       "csrf_token": token, "next": target})
        assert response.headers["Location"] == expected, target
        token = _token(client)


def test_a_wrong_password_is_refused_and_after_five_the_next_try_waits(app: Flask, db: Engine) -> None:
    client = app.test_client()
    for _ in range(5):
        response = _login(client, password="wrong password!")
        assert response.status_code == 401
        assert "Name oder Passwort stimmen nicht." in _text(response)
    response = _login(client)  # the right password, before the wait is over (tests/test_console_attacks.py: after)
    assert response.status_code == 429
    assert "Zu viele Versuche ohne das richtige Passwort. Bitte ab" in _text(response)
    assert _login(client, "victor").status_code == 302  # per account: the other account is not slowed


def test_a_flood_of_logins_from_many_addresses_is_cut_off_before_any_password_is_checked(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "BUDGET_CHECKS", 3)
    checked = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: checked.append(1) or real(*a))
    client = app.test_client()
    assert [client.post("/console/login", headers={"X-Forwarded-For": f"203.0.113.{n}"},
                        data={"username": f"nobody{n}", "password": "x", "csrf_token": _token(client)}).status_code
            for n in range(3)] == [401, 401, 401]
    response = _login(client)  # the right password at a new browser, but the process has checked enough just now
    assert response.status_code == 429 and "sehr viele Anmeldeversuche" in _text(response)
    assert len(checked) == 3


def test_an_unknown_name_is_refused_like_a_wrong_password(app: Flask) -> None:
    response = _login(app.test_client(), "nobody")
    assert response.status_code == 401 and "Name oder Passwort stimmen nicht." in _text(response)


def test_logout_ends_the_session(editor: FlaskClient) -> None:
    response = editor.post("/console/logout", data={"csrf_token": _token(editor, "/console/")})
    assert response.headers["Location"] == "/console/login"
    assert editor.get("/console/").status_code == 302


def test_a_removed_account_is_logged_out_at_its_next_request(editor: FlaskClient, db: Engine) -> None:
    assert editor.get("/console/").status_code == 200
    accounts.remove(db, "erika", by="tests", now=PINNED)
    assert editor.get("/console/").status_code == 302


def test_a_session_does_not_carry_over_to_a_new_account_of_the_same_name(editor: FlaskClient, db: Engine) -> None:
    accounts.remove(db, "erika", by="tests", now=PINNED)
    accounts.add(db, "erika", "viewer", PASSWORD, by="tests", now=PINNED + dt.timedelta(minutes=1))
    assert editor.get("/console/").status_code == 302


# -- CSRF and roles -----------------------------------------------------------------------

def test_a_form_without_a_valid_csrf_token_is_refused(editor: FlaskClient, db: Engine) -> None:
    for token in (None, "", "forged-token"):
        data = {"line_id": "hateaid", "reason": "ill"} | ({"csrf_token": token} if token is not None else {})
        response = editor.post("/console/close", data=data)
        assert response.status_code == 400
        assert "Das Formular ist abgelaufen" in _text(response)
    assert closures.active(db, PINNED) == ()


def test_a_token_from_another_session_is_refused(app: Flask, editor: FlaskClient, db: Engine) -> None:
    other = app.test_client()
    foreign = _token(other)
    response = editor.post("/console/close", data={"line_id": "hateaid", "reason": "ill", "csrf_token": foreign})
    assert response.status_code == 400
    assert closures.active(db, PINNED) == ()


def test_the_login_form_itself_needs_its_token(app: Flask) -> None:
    client = app.test_client()
    client.get("/console/login")
    response = client.post("/console/login", data={"username": "erika", "password": PASSWORD})
    assert response.status_code == 400


def test_a_viewer_cannot_close_or_reopen(app: Flask, db: Engine) -> None:
    viewer = app.test_client()
    _login(viewer, "victor")
    page = viewer.get("/console/").get_data(as_text=True)
    assert 'action="/console/close"' not in page
    token = _token(viewer, "/console/")
    response = viewer.post("/console/close", data={"line_id": "hateaid", "reason": "ill", "csrf_token": token})
    assert response.status_code == 403
    assert "Nur Konten mit der Rolle „bearbeiten“" in _text(response)
    closures.close(db, "hateaid", by="erika", now=dt.datetime.now(dt.timezone.utc))
    assert viewer.post("/console/reopen", data={"line_id": "hateaid", "csrf_token": token}).status_code == 403
    assert [c.line_id for c in closures.active(db, PINNED)] == ["hateaid"]


def test_an_editor_closes_and_reopens_and_both_go_to_the_audit_trail(editor: FlaskClient, db: Engine) -> None:
    token = _token(editor, "/console/")
    response = editor.post("/console/close", data={"line_id": "hateaid", "reason": " Krankheit  im Team ",
                                                   "until": "2099-01-01T18:00", "csrf_token": token})
    assert response.status_code == 302
    [closed] = closures.active(db, PINNED)
    assert (closed.line_id, closed.closed_by, closed.reason) == ("hateaid", "erika", "Krankheit im Team")
    assert closed.until == dt.datetime(2099, 1, 1, 17, 0, tzinfo=dt.timezone.utc)
    row = _text(editor.get("/console/"))
    assert "von Hand geschlossen von erika, bis" in row and "Krankheit im Team" in row
    assert editor.post("/console/reopen", data={"line_id": "hateaid", "csrf_token": token}).status_code == 302
    assert closures.active(db, PINNED) == ()
    log = closures.log(db)
    assert [(e.action, e.line_id, e.operator) for e in log] == [("reopen", "hateaid", "erika"), ("close", "hateaid", "erika")]


@pytest.mark.parametrize("form,message", [
    ({"line_id": "hateaid", "reason": "  "}, "Nicht geschlossen: Bitte einen Grund angeben."),
    ({"line_id": "hateaid", "reason": "ill", "until": "morgen"}, "Nicht geschlossen: 'morgen' is not a time"),
    ({"line_id": "hateaid", "reason": "ill", "until": "2020-01-01T10:00"}, "Nicht geschlossen: --until 2020-01-01"),
])
def test_a_close_that_cannot_be_made_says_why(editor: FlaskClient, db: Engine, form: dict, message: str) -> None:
    response = editor.post("/console/close", data=form | {"csrf_token": _token(editor, "/console/")})
    assert response.status_code == 400
    assert message in _text(response)
    page = response.get_data(as_text=True)  # the Now page again, the message beside the form it came from
    beside = re.search(r'<p class="problem" id="problem-hateaid">([^<]*)</p>', page)
    assert beside and message in html.unescape(beside.group(1))
    assert re.search(r'<input id="reason-hateaid" name="reason"[^>]* aria-invalid="true"', page)
    assert "Wer ist jetzt erreichbar?" in page
    assert closures.active(db, PINNED) == ()


def test_an_unknown_line_is_refused(editor: FlaskClient) -> None:
    response = editor.post("/console/close", data={"line_id": "nope", "reason": "x",
                                                   "csrf_token": _token(editor, "/console/")})
    assert response.status_code == 400 and "400 Bad Request" in _text(response)
    assert editor.get("/console/nowhere").status_code == 404


# -- the pages ----------------------------------------------------------------------------

def test_the_now_page_names_the_audiences_with_nobody(config, db: Engine) -> None:  # type: ignore[no-untyped-def]
    night = dt.datetime(2026, 11, 30, 22, 0, tzinfo=BERLIN)
    app = create_app(config, Settings.from_env({}), clock=lambda: night, console=ConsoleSettings(KEY, False))
    client = app.test_client()
    _login(client)
    client.get("/console/lang/en")
    text = _text(client.get("/console/"))
    for audience in ("Young people under 18", "Parents and relatives", "Adults affected", "Supporters"):
        assert audience in text
    # one date style per language, never "1/12"; names, not ids; the audit trail dated
    assert "Parents and relatives : reachable again Tue 1 Dec 09:00 (Nummer gegen Kummer – parents' helpline)" in text
    assert "Mon 30 Nov 10:30 account added victor (viewer)" in text
    client.get("/console/lang/de")
    text = _text(client.get("/console/"))
    assert "Eltern und Angehörige : wieder erreichbar Di 1.12. 09:00 (Nummer gegen Kummer – Elterntelefon)" in text
    assert "Stand Mo 30.11. 22:00 (Europe/Berlin)" in text
    assert "Mo 30.11. 10:30 Konto angelegt victor (ansehen)" in text
    for line_id in ("kids-line", "parents-line", "hateaid", "abuse-helpline", "viewer", "editor"):
        assert line_id not in text


@pytest.mark.parametrize("until, parents_row, next_for_parents", [
    # closed until reopened: never named as the next to open
    (None, "when reopened by hand", "reachable again Tue 1 Dec 15:00 (Sexual abuse helpline)"),
    # closed until Tuesday noon: its first open minute after that, not its regular 09:00
    (dt.datetime(2026, 12, 1, 12, 0, tzinfo=BERLIN), "Tue 1 Dec 12:00",
     "reachable again Tue 1 Dec 12:00 (Nummer gegen Kummer – parents' helpline)"),
])
def test_the_now_page_never_names_a_line_closed_by_hand_as_next_before_its_closure_ends(
        config, db: Engine, until: dt.datetime | None, parents_row: str,  # type: ignore[no-untyped-def]
        next_for_parents: str) -> None:
    night = dt.datetime(2026, 11, 30, 22, 0, tzinfo=BERLIN)
    closures.close(db, "parents-line", by="erika", now=night, until=until, reason="ill")
    app = create_app(config, Settings.from_env({}), clock=lambda: night, console=ConsoleSettings(KEY, False))
    client = app.test_client()
    _login(client)
    client.get("/console/lang/en")
    text = _text(client.get("/console/"))
    start = text.index("Nummer gegen Kummer – parents' helpline Parents")
    row = text[start:text.index("HateAid – counselling", start)]
    assert f": ill {parents_row} Reopen " in row, row
    assert "Tue 1 Dec 09:00" not in text  # the parents' line's regular opening
    assert f"Parents and relatives : {next_for_parents}" in text


def test_every_page_answers_in_both_languages_with_its_security_headers(editor: FlaskClient, db: Engine) -> None:
    seed_counts(db, dt.date(2026, 10, 1), dt.date(2026, 11, 29))
    for lang, heading in (("de", "Wer ist jetzt erreichbar?"), ("en", "Who can be reached now?")):
        editor.get(f"/console/lang/{lang}")
        assert heading in _text(editor.get("/console/"))
        for path in ("/console/coverage", "/console/demand", "/console/outcomes", "/console/report",
                     "/console/health", "/console/try"):
            response = editor.get(path)
            assert response.status_code == 200, path
            assert f'<html lang="{lang}">' in response.get_data(as_text=True)
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Cache-Control"] == "no-store"


def test_the_report_csv_is_the_store_report_suppressed(editor: FlaskClient, db: Engine) -> None:
    seed_counts(db, dt.date(2026, 10, 1), dt.date(2026, 11, 29))
    response = editor.get("/console/report.csv?month=2026-10")
    assert response.headers["Content-Disposition"] == 'attachment; filename="helpline-report-2026-10.csv"'
    built = report.build(db, dt.date(2026, 10, 1), dt.date(2026, 10, 31),
                         ["kids-line", "parents-line", "hateaid", "abuse-helpline"])
    assert response.get_data(as_text=True) == report.to_csv(built, 5)
    assert ",<5\n" in response.get_data(as_text=True)  # small counts leave suppressed
    page = editor.get("/console/report?month=2026-10").get_data(as_text=True)
    assert f"<td>{report.to_json(built, 5)['totals']['calls']}</td>" in page


def test_the_demand_heatmap_shows_small_counts_suppressed(editor: FlaskClient, db: Engine) -> None:
    from ivr.store.schema import counts_hourly
    from sqlalchemy import insert
    with db.begin() as connection:
        connection.execute(insert(counts_hourly), [
            {"hour": dt.datetime(2026, 11, 23, 22), "event": "unmet", "dimension": "adult/later", "count": 3, "seconds": 0},
            {"hour": dt.datetime(2026, 11, 24, 9), "event": "call", "dimension": "started", "count": 12, "seconds": 0}])
    page = editor.get("/console/demand?from=2026-11-01&to=2026-11-29").get_data(as_text=True)
    assert "<title>Mo 22:00: &lt;5</title>" in page  # Monday 22:00, three unmet: shown as <5
    assert "<title>Di 09:00: 12</title>" in page
    assert editor.get("/console/demand?from=2026-11-29&to=2026-11-01").status_code == 400


def test_health_shows_the_check_and_the_generation(editor: FlaskClient) -> None:
    text = _text(editor.get("/console/health"))
    assert "In Ordnung: 4 Leitungen" in text
    # the languages not yet checked by a native-speaking counsellor (reviewed: false)
    assert ("Noch nicht von einer Beraterin oder einem Berater mit dieser Muttersprache geprüft "
            "(reviewed: false): tr, ar, ru, uk, pl.") in text
    assert "Fassung (1 beim Start, +1 je Neuladen) 1 " in text
    assert "inhaltlich wie geladen" in text


# -- try a call ---------------------------------------------------------------------------

def _try(client: FlaskClient, **form: str) -> str:
    return client.post("/console/try", data={"csrf_token": _token(client, "/console/try"), **form}).get_data(as_text=True)


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    return found.group(1).replace("&amp;", "&") if found else ""


def test_a_simulated_call_follows_the_webhooks_skips_a_closed_line_and_is_never_counted(
        config, db: Engine) -> None:  # type: ignore[no-untyped-def]
    live = Live(db, BERLIN, clock=lambda: PINNED)
    client = _app(config, db, live=live).test_client()
    _login(client)
    page = _try(client, restart="1", at="2026-11-30T10:30")
    assert "110" in _text(page)
    dialled = _try(client, at="2026-11-30T10:30", key="0", gather_url=_field(page, "gather_url"))
    assert "Würde +498002255530 wählen" in dialled  # abuse-helpline, first for key 0 at this hour
    closures.close(db, "abuse-helpline", by="erika", now=dt.datetime.now(dt.timezone.utc), reason="ill")
    skipped = _try(client, at="2026-11-30T10:30", key="0", gather_url=_field(page, "gather_url"))
    assert "Würde +493025208838 wählen" in skipped  # hateaid, the next best open line
    busy = _try(client, at="2026-11-30T10:30", status="busy", dial_url=_field(skipped, "dial_url"))
    # after a busy hateaid nobody is left who serves every caller: never the parents' line
    assert "Würde" not in busy and "Ich konnte Sie gerade leider nicht verbinden" in _text(busy)
    assert live.buffer.take() == {}  # nothing simulated was counted
    client.post("/voice", data={"To": "+4930123456"})  # a real webhook is, as a control
    assert any(key[1] == "call" for key in live.buffer.take())


@pytest.mark.parametrize("lang, key, voice, direction", [
    ("tr", "1", "tr-TR", "ltr"), ("ar", "2", "arb", "rtl"), ("ru", "3", "ru-RU", "ltr"),
    ("uk", "4", "uk-UA", "ltr"), ("pl", "5", "pl-PL", "ltr")])
def test_a_simulated_call_reaches_each_language_and_shows_arabic_right_to_left(
        editor: FlaskClient, lang: str, key: str, voice: str, direction: str) -> None:
    start = _try(editor, restart="1", at="2026-11-30T10:30")
    menu = _try(editor, at="2026-11-30T10:30", key="8", gather_url=_field(start, "gather_url"))
    page = _try(editor, at="2026-11-30T10:30", key=key, gather_url=_field(menu, "gather_url"))
    said = re.findall(r'<li class="say" lang="(\w+)" dir="(\w+)" data-lang="([\w-]+)">', page)
    assert said[0] == (lang[:2], direction, voice)  # the greeting, in the language's own voice
    assert ("de", "ltr", "de-DE") in said and ("en", "ltr", "en-GB") in said  # German, English offered
    dialled = _try(editor, at="2026-11-30T10:30", key="0", gather_url=_field(page, "gather_url"))
    assert "Würde +498002255530 wählen" in dialled


def test_a_step_that_is_not_the_calls_is_refused(editor: FlaskClient) -> None:
    page = _try(editor, at="2026-11-30T10:30", key="1", gather_url="/console/close")
    assert "is not a step of the call" in _text(page)


# -- the console beside the webhooks ------------------------------------------------------

def test_webhooks_still_need_their_signature_and_never_get_a_console_cookie(config, db: Engine) -> None:  # type: ignore[no-untyped-def]
    client = _app(config, db, token="secret-token").test_client()
    assert client.post("/voice", data={"To": "+4930123456"}).status_code == 403
    assert client.get("/console/login").status_code == 200  # the console has its own login
    client.set_cookie("ivr_console", "garbage")
    response = client.post("/voice", data={"To": "+4930123456"})
    assert response.status_code == 403 and "Set-Cookie" not in response.headers


def test_without_its_settings_the_console_says_it_is_off(config) -> None:  # type: ignore[no-untyped-def]
    client = create_app(config, Settings.from_env({})).test_client()
    for path in ("/console/", "/console/login"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.get_data(as_text=True).startswith("The operators' console is off: start `ivr serve` with IVR_SECRET_KEY")
    assert client.post("/voice", data={"To": "+4930123456"}).status_code == 200


def test_console_settings_need_a_secret_unless_dev() -> None:
    with pytest.raises(ConsoleOff) as off:
        ConsoleSettings.from_env(False, {})
    assert str(off.value).startswith("IVR_SECRET_KEY is not set: the console signs its sessions with it.")
    with pytest.raises(ConsoleOff) as short:
        ConsoleSettings.from_env(False, {"IVR_SECRET_KEY": "short"})
    assert str(short.value).startswith("IVR_SECRET_KEY has 5 characters; expected at least 32")
    assert ConsoleSettings.from_env(False, {"IVR_SECRET_KEY": KEY}) == ConsoleSettings(KEY, True)
    dev = ConsoleSettings.from_env(True, {})
    assert len(dev.secret_key) == 64 and dev.secure_cookies is False


# -- ivr user -----------------------------------------------------------------------------

def test_ivr_user_add_list_remove_with_the_audit_trail(db: Engine) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["user", "add", "paula", "--role", "editor", "--password-stdin", "--by", "admin"],
                         input=PASSWORD + "\n")
    assert made.exit_code == 0 and made.output == "added paula (editor)\n"
    assert accounts.login(db, "paula", PASSWORD, PINNED, accounts.Client("127.0.0.1")).operator is not None
    for _ in range(3):
        accounts.login(db, "erika", "not her password", PINNED, accounts.Client("203.0.113.9"))
    listed = runner.invoke(main, ["user", "list"])
    assert listed.output.splitlines() == ["erika  editor  since 2026-11-30  3 tries without the right password "
                                          "from unknown browsers", "paula  editor  since "
                                          + dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
                                          "victor  viewer  since 2026-11-30"]
    again = runner.invoke(main, ["user", "add", "paula", "--role", "viewer", "--password-stdin"], input=PASSWORD + "\n")
    assert again.exit_code == 2 and "an operator named 'paula' exists already" in again.output
    short = runner.invoke(main, ["user", "add", "kurt", "--role", "viewer", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "the password has 5 characters; expected at least 10" in short.output
    role = runner.invoke(main, ["user", "add", "kurt", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n")
    assert role.exit_code == 2 and "'admin' is not one of 'viewer', 'editor'" in role.output
    removed = runner.invoke(main, ["user", "remove", "paula", "--by", "admin"])
    assert removed.exit_code == 0 and removed.output == "removed paula\n"
    gone = runner.invoke(main, ["user", "remove", "paula"])
    assert gone.exit_code == 2 and "no operator is named 'paula'" in gone.output
    assert [(e.action, e.name, e.role, e.operator) for e in accounts.log(db)][:2] == [
        ("user_remove", "paula", "editor", "admin"), ("user_add", "paula", "editor", "admin")]


def test_a_stored_password_is_a_salted_scrypt_hash(db: Engine) -> None:
    from ivr.console.schema import operators
    from sqlalchemy import select
    with db.connect() as connection:
        hashes = [row.password_hash for row in connection.execute(select(operators))]
    assert len(hashes) == 2 and len(set(hashes)) == 2  # same password, different salts
    assert all(h.startswith("scrypt:") and PASSWORD not in h for h in hashes)


def test_the_cli_offers_exactly_the_roles_accounts_know() -> None:
    from ivr.console import cli
    assert cli.ROLES == accounts.ROLES


def test_ivr_user_add_asks_for_the_password_twice(db: Engine) -> None:
    runner = CliRunner()
    differ = runner.invoke(main, ["user", "add", "paula", "--role", "viewer"],
                           input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert differ.exit_code == 0, differ.output
    assert "Error: The two entered values do not match." in differ.output
    assert PASSWORD not in differ.output  # never echoed
    assert accounts.login(db, "paula", PASSWORD, PINNED, accounts.Client("127.0.0.1")).operator is not None


@pytest.mark.parametrize("outcome", ["completed", "completed-short", "busy", "no-answer", "failed"])
def test_every_dial_outcome_plays_on_and_an_unknown_one_is_refused(editor: FlaskClient, outcome: str) -> None:
    start = _try(editor, restart="1", at="2026-11-30T10:30")
    dial = _try(editor, at="2026-11-30T10:30", key="0", gather_url=_field(start, "gather_url"))
    after = _try(editor, at="2026-11-30T10:30", status=outcome, dial_url=_field(dial, "dial_url"))
    assert "Verbindung endete:" in _text(after) and "is not" not in _text(after)
    refused = _try(editor, at="2026-11-30T10:30", status="hung-up", dial_url=_field(dial, "dial_url"))
    assert "'hung-up' is not a dial outcome; expected one of completed, completed-short" in _text(refused)


def test_ivr_serve_without_a_secret_serves_calls_but_not_the_console(tmp_path: Path) -> None:
    from console_fixtures import ivr_env
    from test_reload import Server
    server = Server(tmp_path, ivr_env(tmp_path / "state", TWILIO_AUTH_TOKEN="t0ken"), "--workers", "1")
    try:
        server.wait_healthy()
        status, _, body = server.request("GET", "/console/")
        assert status == 503 and body.startswith(b"The operators' console is off")
        assert "the operators' console is off: IVR_SECRET_KEY is not set" in server.log()
        assert server.post("/voice", [("To", "+4930123456")])[0] == 403  # the webhooks: signed as ever
    finally:
        server.stop()


def test_health_sees_files_changed_or_broken_since_they_were_loaded(db: Engine, tmp_path: Path) -> None:
    import shutil
    from ivr.config.settings import bundled_dir
    data, prompts = tmp_path / "data", tmp_path / "prompts"
    shutil.copytree(bundled_dir("data"), data)
    shutil.copytree(bundled_dir("prompts"), prompts)
    settings = Settings.from_env({"IVR_DATA_DIR": str(data), "IVR_PROMPTS_DIR": str(prompts)})
    app = create_app(load_config(data, prompts), settings, clock=lambda: PINNED, generation=3,
                     console=ConsoleSettings(KEY, False))
    client = app.test_client()
    _login(client)
    hotlines = data / "hotlines.yaml"
    original = hotlines.read_text(encoding="utf-8")
    hotlines.write_text("# a comment changes nothing\n" + original, encoding="utf-8")
    text = _text(client.get("/console/health"))
    assert "Fassung (1 beim Start, +1 je Neuladen) 3 " in text and "inhaltlich wie geladen" in text
    hotlines.write_text(original.replace('mon-sat: "14:00-20:00"', 'mon-sat: "14:00-21:00"', 1), encoding="utf-8")
    assert "geändert: zum Übernehmen den Dienst neu laden (SIGHUP)" in _text(client.get("/console/health"))
    hotlines.write_text(original.replace("timezone: Europe/Berlin", "timezone: Mars/Olympus"), encoding="utf-8")
    text = _text(client.get("/console/health"))
    assert "Die Dateien auf der Platte haben Fehler" in text and "Mars/Olympus" in text
    assert "fehlerhaft (siehe oben); es gilt weiter die geladene Fassung" in text


def test_health_checks_the_twilio_number_only_when_asked(config, db: Engine,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from twilio_standin import ACCOUNT_SID, AUTH_TOKEN, StandIn, number_resource
    standin = StandIn().start()
    try:
        public = standin.url  # the stand-in also answers the fallback URL the number names
        fallback = b'<?xml version="1.0" encoding="UTF-8"?><Response><Say language="de-DE">x</Say></Response>'
        standin.pages["/fallback"] = (200, "text/xml", fallback)
        standin.numbers.append(number_resource("+4930123456", voice_url=f"{public}/wrong", voice_method="POST",
                                               voice_fallback_url=f"{public}/fallback",
                                               voice_fallback_method="POST"))
        for name, value in (("IVR_TWILIO_NUMBER", "+4930123456"), ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
                            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN), ("IVR_TWILIO_API_BASE", standin.url)):
            monkeypatch.setenv(name, value)
        app = create_app(config, Settings.from_env({"IVR_PUBLIC_URL": public}), clock=lambda: PINNED,
                         console=ConsoleSettings(KEY, False))
        client = app.test_client()
        _login(client)
        page = client.get("/console/health").get_data(as_text=True)
        assert "+4930123456 jetzt prüfen" in _text(page) and standin.api_calls() == []  # a view asks nobody
        text = _text(client.post("/console/health", data={"csrf_token": _token(client, "/console/health")}))
        assert f"WRONG voice URL {public}/wrong; expected {public}/voice" in text
        assert "ok voice method" in text
        assert AUTH_TOKEN not in text and standin.api_calls()
    finally:
        standin.stop()


def test_without_its_settings_the_twilio_check_says_what_to_set(editor: FlaskClient) -> None:
    assert "Nicht eingerichtet: IVR_TWILIO_NUMBER" in _text(editor.get("/console/health"))


def test_outcomes_show_where_calls_ended_in_the_menus_with_names(editor: FlaskClient, db: Engine) -> None:
    from ivr.store import counts
    hour = dt.datetime(2026, 11, 24, 9)
    counts.write(db, {(hour, "entered", "main"): [40, 0], (hour, "left", "main"): [33, 0],
                      (hour, "entered", "guidance"): [12, 0], (hour, "left", "guidance"): [6, 0],
                      (hour, "entered", "guide_act"): [6, 0], (hour, "left", "guide_act"): [4, 0]})
    page = editor.get("/console/outcomes").get_data(as_text=True)
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>', page)
    flow = [row for row in rows if row[0] in ("Hauptmenü", "Hinweise (Auswahl)", "Hinweise: Was tun?")]
    assert [tuple(html.unescape(cell) for cell in row) for row in flow] == [
        ("Hauptmenü", "40", "33", "7"), ("Hinweise (Auswahl)", "12", "6", "6"), ("Hinweise: Was tun?", "6", "<5", "<5")]
    assert 'aria-labelledby="flow-title flow-desc"' in page and "<title>Hauptmenü: endete hier 7</title>" in page
    assert ">40 erreicht, 7 endeten hier</text>" in page
    assert "guide_act" not in _text(editor.get("/console/outcomes"))  # names, not ids
    editor.get("/console/lang/en")
    assert "<title>Main menu: ended here 7</title>" in editor.get("/console/outcomes").get_data(as_text=True)


def test_the_report_says_what_the_numbers_say_with_the_callers_choices(editor: FlaskClient, db: Engine) -> None:
    from ivr.store import counts
    hour = dt.datetime(2026, 11, 21, 22)  # a Saturday night
    counts.write(db, {(hour, "call", "started"): [126, 0], (hour, "dial_outcome", "hateaid/completed"): [109, 0],
                      (hour, "unmet", "adult/later"): [17, 0], (hour, "entered", "closed"): [17, 0],
                      (hour, "left", "closed"): [5, 0], (hour, "no_connection", "nothing_open"): [5, 0],
                      (hour, "main_choice", "0"): [50, 0], (hour, "main_choice", "1"): [30, 0],
                      (hour, "main_choice", "other"): [6, 0], (hour, "audience", "young_person"): [30, 0]})
    text = _text(editor.get("/console/report?month=2026-11"))
    assert "Monatsbericht November 2026" in text and "Zeitraum 1.11.2026 bis 30.11.2026" in text
    assert "17 von 126 Anrufen endeten ohne Gespräch mit einer Stelle." in text
    assert "keine Stelle offen 5 aufgelegt im Menü „Ansage: gerade niemand offen“ 12" in text
    assert "Keine." not in text.split("Warum Anrufe ohne Verbindung endeten")[1]
    assert ("Tasten im Hauptmenü (jedes Mal, wenn jemand dort war) Taste 0 (sofort ein Gespräch) 50 "
            "Taste 1 (Junge Menschen unter 18) 30 eine Taste ohne Bedeutung 6") in text
    assert "Wer anruft (nach eigener Angabe) Junge Menschen unter 18 30" in text
    page = editor.get("/console/report?month=2026-11").get_data(as_text=True)
    assert '<table class="heat">' not in page  # the weekday x hour numbers: the non-zero ones, as text
    assert "<li>Sa 22:00: 17</li>" in page
    text = _text(editor.get("/console/report?month=2026-10"))  # nothing counted: nothing to explain
    assert "Jeder Anruf in diesem Zeitraum führte zu einem Gespräch." not in text
    assert "Warum Anrufe ohne Verbindung endeten Keine." in text


def test_the_now_page_names_a_line_tried_last_after_dials_without_a_talk(editor: FlaskClient, db: Engine) -> None:
    from ivr.store import dead_lines
    tally = dead_lines.DialTally()
    tally.add([("dial_outcome", "hateaid/no_answer")], PINNED - dt.timedelta(minutes=28))
    tally.add([("dial_outcome", "hateaid/busy")] * 3 + [("dial_outcome", "kids-line/busy")] * 4, PINNED)
    dead_lines.write(db, tally.take(), PINNED)
    assert "Anwahlen in Folge" not in _text(editor.get("/console/"))  # four: not yet
    tally.add([("dial_outcome", "hateaid/failed")] * 2, PINNED)
    dead_lines.write(db, tally.take(), PINNED)
    banners = re.findall(r'<p class="banner" role="status"[^>]*>([^<]*)</p>', editor.get("/console/").get_data(as_text=True))
    assert [html.unescape(b) for b in banners] == [
        "HateAid – Beratung für Betroffene digitaler Gewalt: 6 Anwahlen in Folge ohne Gespräch, seit 10:02; "
        "wird zuletzt versucht, bis dort wieder jemand abnimmt."]


def test_coverage_folds_repeating_gaps_and_names_lines(editor: FlaskClient) -> None:
    page = editor.get("/console/coverage").get_data(as_text=True)
    gaps = [html.unescape(item) for item in re.findall(r"<li>([^<]*)</li>", page.split('id="gaps-h"')[1].split("</section>")[0])]
    assert len(gaps) == 14  # fourteen days for four audiences: folded, not one bullet per night
    assert gaps[:3] == ["jeden Mo, Mi und Fr: 20 Uhr bis 14 Uhr am nächsten Tag",
                        "jeden Di und Do: 20 Uhr bis 9 Uhr am nächsten Tag", "jeden Sa: 20 Uhr bis Mo 9 Uhr"]
    text = _text(page)
    assert "Nummer gegen Kummer – Kinder- und Jugendtelefon" in text
    for line_id in ("kids-line", "parents-line", "hateaid", "abuse-helpline"):
        assert line_id not in text
    editor.get("/console/lang/en")
    assert "every Tue and Thu: 20:00 to 09:00 the next day" in _text(editor.get("/console/coverage"))


def _stripping_proxy(app, prefix: str = "/helpline"):  # type: ignore[no-untyped-def]
    """A proxy that takes the prefix off before the app sees the request."""
    def proxy(environ, start_response):  # type: ignore[no-untyped-def]
        path = environ["PATH_INFO"]
        if not path.startswith(prefix):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"outside the prefix"]
        environ["PATH_INFO"] = path[len(prefix):] or "/"
        return app(environ, start_response)
    return proxy


@pytest.mark.parametrize("proxy", ["passes the prefix on", "strips the prefix"])
def test_the_console_works_below_a_path_prefix(config, db: Engine, proxy: str) -> None:  # type: ignore[no-untyped-def]
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.test import Client
    settings = Settings.from_env({"IVR_PUBLIC_URL": "https://ngo.example.org/helpline"})
    app = create_app(config, settings, clock=lambda: PINNED, console=ConsoleSettings(KEY, secure_cookies=False))
    wsgi = DispatcherMiddleware(NotFound(), {"/helpline": app}) if proxy == "passes the prefix on" else _stripping_proxy(app)
    browser = Client(wsgi)
    first = browser.get("/helpline/console/outcomes")
    assert first.status_code == 302 and first.headers["Location"] == "/helpline/console/login?next=/console/outcomes"
    page = browser.get("/helpline/console/login?next=/console/outcomes").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert 'action="/helpline/console/login"' in page
    response = browser.post("/helpline/console/login", data={"username": "erika", "password": PASSWORD,
                                                              "csrf_token": token, "next": "/console/outcomes"})
    assert response.status_code == 302 and response.headers["Location"] == "/helpline/console/outcomes"
    assert "Path=/helpline/console" in response.headers["Set-Cookie"]
    page = browser.get("/helpline/console/").get_data(as_text=True)  # the cookie came back: logged in
    assert "Wer ist jetzt erreichbar?" in page
    links = re.findall(r'(?:href|src|action)="(/[^"]*)"', page)
    assert links and all(link.startswith("/helpline/console/") for link in links), links
    assert browser.get("/helpline/console/static/console.css").status_code == 200
    switched = browser.get("/helpline/console/lang/en?next=/console/coverage")
    assert switched.headers["Location"] == "/helpline/console/coverage"
    assert browser.post("/helpline/voice", data={"To": "+4930123456789"}).status_code == 200  # the calls too


def test_dates_read_one_way_per_language_on_the_demand_page(editor: FlaskClient) -> None:
    page = editor.get("/console/demand?from=2026-11-01&to=2026-11-29").get_data(as_text=True)
    assert "Anrufe je Wochentag und Stunde, 1.11.2026 bis 29.11.2026;" in page
    editor.get("/console/lang/en")
    page = editor.get("/console/demand?from=2026-11-01&to=2026-11-29").get_data(as_text=True)
    assert "1 Nov 2026" in page and "29 Nov 2026" in page and "2026-11-01 " not in page
