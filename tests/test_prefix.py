"""A public URL with a path (https://ngo.example.org/helpline) and the unsigned fallback.

Twilio resolves every URL in the TwiML against the URL it requested, so the Gather actions,
Redirects and Dial actions are relative to the webhook; these tests walk whole calls the way
Twilio does (urljoin on the URL just requested) through a WSGI mount (SCRIPT_NAME), through a
proxy with a prefixed IVR_PUBLIC_URL (with and without passing the prefix on), through a real
`ivr serve` mounted with SCRIPT_NAME, and through `ivr call --url http://host:port/helpline`. Every request is signed, so a wrong
reconstruction of the requested URL would fail as a 403. Then /fallback: answered without a
signature (static public information), and from its cache.
"""
from __future__ import annotations

import threading
import urllib.request
import xml.etree.ElementTree as ET
from typing import Callable, Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from click.testing import CliRunner
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from ivr.cli.main import main
from ivr.serve.terminal_call import run_call
from ivr.serve.web import requested_url
from test_reload import _env, config_copy, start_server  # noqa: F401 (fixtures)
from twiml_helpers import (PHONE, TOKEN, Call, dial, gather, make_app, parse, redirect, sign,
                           twilio_form, verbs)

TUE = "2026-11-24T15:30"  # a Tuesday afternoon in Berlin: every line is open
PUBLIC = "https://ngo.example.org/helpline"
INTERNAL = "http://10.0.0.7:8000"  # where the proxy forwards to: what the app sees


def mounted(app, prefix: str = "/helpline") -> Client:
    """The app mounted under `prefix` as a WSGI server or middleware does: SCRIPT_NAME=prefix,
    PATH_INFO the rest; anything outside the prefix is 404."""
    return Client(DispatcherMiddleware(NotFound(), {prefix: app}))


def walk(call: Call) -> list[str]:
    """A whole call that leans only on rules every menu keeps (0 connects to a person; busy tries
    the next open line): the greeting, silence once (its Redirect), 0 unless silence already
    connected, then every dial busy until the call stops dialling. Returns the paths requested."""
    call.start()
    call.silence()
    if gather(call.root) is not None:
        call.press("0")
    dialled = []
    while dial(call.root) is not None and len(dialled) < 10:
        dialled.append((dial(call.root).find("Number").text or "").strip())
        assert_relative(call.root)
        call.dial_ends("busy")
    assert_dialled_in_turn(dialled)
    return [urlsplit(url).path for url, _ in call.history]


def assert_dialled_in_turn(dialled: list[str]) -> None:
    """Busy led on to other hotlines (all are open on TUE), each dialled once."""
    assert len(dialled) >= 2 and len(set(dialled)) == len(dialled), dialled
    assert set(dialled) <= set(PHONE.values()), dialled


def assert_under(prefix: str, paths: list[str]) -> None:
    """The call started at the prefix's /voice and every request after it stayed below it, on the
    menu and dial webhooks."""
    assert paths[0] == f"{prefix}/voice", paths
    assert {path.rsplit("/", 1)[0] for path in paths} == {prefix}, paths
    assert {path.rsplit("/", 1)[1] for path in paths[1:]} == {"menu", "dialed"}, paths


def assert_relative(root: ET.Element) -> None:
    """Every URL in the answer is relative to the webhook: no scheme, no leading '/'."""
    info, again, element = gather(root), redirect(root), dial(root)
    urls = [u for u in (info and info.action, again, element is not None and element.get("action")) if u]
    assert urls, verbs(root)
    for url in urls:
        assert not url.startswith("/") and "://" not in url, url


# -- section 2: a whole call under a path prefix ---------------------------------------------

def test_a_whole_call_through_a_wsgi_mount_stays_under_the_prefix() -> None:
    """Mounted at /helpline (SCRIPT_NAME), no public URL: the requested URL includes the mount."""
    call = Call(mounted(make_app(TUE)), base="http://localhost/helpline/")
    assert_under("/helpline", walk(call))


@pytest.mark.parametrize("proxy", ["strips the prefix", "passes the prefix on"])
def test_a_whole_call_through_a_proxy_with_a_prefixed_public_url(proxy: str) -> None:
    """TLS and the prefix end at a proxy; Twilio signed https://ngo.example.org/helpline/...
    The proxy forwards either to the app at its root, or with the prefix to the app mounted
    under it (SCRIPT_NAME): IVR_PUBLIC_URL names the same public root in both cases."""
    app = make_app(TUE, extra_env={"IVR_PUBLIC_URL": PUBLIC})
    if proxy == "strips the prefix":
        client, forward = app.test_client(), lambda url: INTERNAL + url[len(PUBLIC):]
    else:
        client, forward = mounted(app), lambda url: INTERNAL + url[len("https://ngo.example.org"):]
    call = Call(client, base=PUBLIC + "/", forward=forward)
    assert_under("/helpline", walk(call))
    assert all(url.startswith(PUBLIC + "/") for url, _ in call.history)


@pytest.mark.parametrize("signed_for", [
    INTERNAL + "/menu?n=main&l=de",  # what the app sees
    "https://ngo.example.org/menu?n=main&l=de",  # the prefix dropped, as root-relative URLs did
    "https://ngo.example.org/helpline/helpline/menu?n=main&l=de",  # the prefix twice
])
@pytest.mark.parametrize("mount", ["", "/helpline"])
def test_a_signature_for_any_other_url_is_refused(mount: str, signed_for: str) -> None:
    app = make_app(TUE, extra_env={"IVR_PUBLIC_URL": PUBLIC})
    client = mounted(app) if mount else app.test_client()
    form = twilio_form(Digits="1")
    received = f"{INTERNAL}{mount}/menu?n=main&l=de"
    good = client.post(received, data=form, headers={"X-Twilio-Signature": sign(PUBLIC + "/menu?n=main&l=de", form)})
    assert good.status_code == 200
    bad = client.post(received, data=form, headers={"X-Twilio-Signature": sign(signed_for, form)})
    assert bad.status_code == 403


@pytest.mark.parametrize("environ, public_url, expected", [
    ({"SCRIPT_NAME": "/helpline", "RAW_URI": "/helpline/menu?n=main&l=de"}, None,
     "http://localhost/helpline/menu?n=main&l=de"),
    ({"SCRIPT_NAME": "/helpline", "RAW_URI": "/helpline/menu?n=main&l=de"}, PUBLIC,
     PUBLIC + "/menu?n=main&l=de"),
    ({"SCRIPT_NAME": "", "RAW_URI": "/menu?n=main&l=de"}, PUBLIC, PUBLIC + "/menu?n=main&l=de"),
    ({"SCRIPT_NAME": "/helpline", "RAW_URI": "/helpline?x=1"}, PUBLIC, PUBLIC + "?x=1"),
    ({"SCRIPT_NAME": "/hilfe telefon", "RAW_URI": "/hilfe%20telefon/voice"}, PUBLIC, PUBLIC + "/voice"),
    # a mount that is not a whole path segment of the raw path is not cut off
    ({"SCRIPT_NAME": "/help", "RAW_URI": "/helpline/voice"}, "https://ngo.example.org", "https://ngo.example.org/helpline/voice"),
    # an absolute-form request line: as sent without a public URL, its path below the mount with one
    ({"SCRIPT_NAME": "/helpline", "RAW_URI": INTERNAL + "/helpline/menu?n=main"}, None,
     INTERNAL + "/helpline/menu?n=main"),
    ({"SCRIPT_NAME": "/helpline", "RAW_URI": INTERNAL + "/helpline/menu?n=main"}, PUBLIC, PUBLIC + "/menu?n=main"),
    ({"SCRIPT_NAME": "", "RAW_URI": INTERNAL + "?n=main"}, PUBLIC, PUBLIC + "?n=main"),
    # no raw URI from the server: SCRIPT_NAME, PATH_INFO and the query, as the WSGI spec has them
    ({"SCRIPT_NAME": "/helpline", "PATH_INFO": "/dialed", "QUERY_STRING": "t=a%2Cb"}, None,
     "http://localhost/helpline/dialed?t=a%2Cb"),
    ({"SCRIPT_NAME": "/helpline", "PATH_INFO": "/dialed", "QUERY_STRING": "t=a%2Cb"}, PUBLIC,
     PUBLIC + "/dialed?t=a%2Cb"),
])
def test_requested_url(environ: dict[str, str], public_url: str | None, expected: str) -> None:
    env = EnvironBuilder(base_url="http://localhost/").get_environ()
    for key in ("RAW_URI", "REQUEST_URI", "QUERY_STRING"):
        env.pop(key, None)
    env.update(environ)
    assert requested_url(Request(env), public_url) == expected


@pytest.fixture
def prefixed_server() -> Iterator[str]:
    """The app over real HTTP (werkzeug's server in a thread), mounted at /helpline."""
    app = make_app(TUE)
    server = make_server("127.0.0.1", 0, DispatcherMiddleware(NotFound(), {"/helpline": app}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/helpline"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.parametrize("spelling", ["", "/"])
def test_ivr_call_follows_relative_urls_under_a_prefix(prefixed_server: str, spelling: str) -> None:
    result = CliRunner().invoke(main, ["call", "--url", prefixed_server + spelling, "--keys", "0,busy"],
                                env={"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": None, "IVR_NOW": None},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    dialled = [line for line in result.output.splitlines() if line.startswith("(dialling ")]
    assert_dialled_in_turn([line.split()[1].rstrip(",") for line in dialled])


def test_ivr_serve_under_script_name_behind_a_proxy_that_passes_the_prefix_on(config_copy, start_server) -> None:  # noqa: F811
    """gunicorn with SCRIPT_NAME=/helpline and the prefixed public URL: a whole call over real
    HTTP, each request signed for the public URL Twilio requested and forwarded with the prefix."""
    data, prompts = config_copy
    server = start_server(_env(data, prompts, TWILIO_AUTH_TOKEN=TOKEN, SCRIPT_NAME="/helpline",
                               IVR_PUBLIC_URL=PUBLIC), "--workers", "1")
    server.wait_until("/helpline/health", lambda: server.request("GET", "/helpline/health")[0] == 200)
    internal = f"http://127.0.0.1:{server.port}"
    requested: list[str] = []

    class Proxied:
        base = PUBLIC + "/"

        def post(self, url: str, form: dict[str, str]) -> str:
            requested.append(url)
            forwarded = internal + url[len("https://ngo.example.org"):]
            request = urllib.request.Request(forwarded, data=urlencode(form).encode(),
                                             headers={"X-Twilio-Signature": sign(url, form, TOKEN)})
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.read().decode()

    turns = run_call(Proxied(), iter(["0", "busy"]), lambda line: None)
    assert_dialled_in_turn([turn.dial_number for turn in turns if turn.dial_number])
    assert_under("/helpline", [urlsplit(url).path for url in requested])
    form = {"To": "+4930123456789", "Digits": "1"}
    assert server.post("/helpline/menu?n=main&l=de", list(form.items()),
                       sign(internal + "/helpline/menu?n=main&l=de", form, TOKEN))[0] == 403


# -- section 3: the fallback answers unsigned, from its cache --------------------------------

@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_fallback_answers_when_the_public_url_is_wrong(method: str) -> None:
    """A wrong IVR_PUBLIC_URL turns every webhook into 403; the fallback still helps."""
    app = make_app(TUE, extra_env={"IVR_PUBLIC_URL": "https://wrong.example.org"})
    client = app.test_client()
    form = twilio_form()
    assert client.post("/voice", data=form, headers={"X-Twilio-Signature": sign("http://localhost/voice", form)}
                       ).status_code == 403
    for headers in ({}, {"X-Twilio-Signature": "forged"}):
        response = client.open("/fallback", method=method, data=form if method == "POST" else None,
                               headers=headers)
        root = parse(response)
        assert verbs(root)[-1] == "Hangup"
        assert response.get_data(as_text=True) == app.extensions["ivr.service"].renderer.fallback()


def test_the_fallback_is_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(TUE)
    renderer = app.extensions["ivr.service"].renderer
    calls: list[object] = []
    original: Callable = renderer.say
    monkeypatch.setattr(renderer, "say", lambda *args: calls.append(args) or original(*args))
    first = app.test_client().post("/fallback").get_data(as_text=True)
    rendered = len(calls)
    assert rendered > 0
    for _ in range(3):
        assert app.test_client().post("/fallback").get_data(as_text=True) == first
    assert len(calls) == rendered  # served from the cache, not rendered again
