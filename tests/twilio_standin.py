"""A stand-in for the few endpoints of Twilio's REST API that `ivr twilio` uses, served over real
HTTP on loopback by a thread, so the twilio library's own client talks to it as to Twilio:

- GET  /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PhoneNumber=...
- POST /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{PN...}.json   (the update)
- GET  /v1/DialingPermissions/Countries?CountryCode=...
- GET  /v1/DialingPermissions/Countries/{ISO}/HighRiskSpecialPrefixes   (paged)

Answers are shaped as Twilio's (list envelopes, error bodies with code and message); Basic auth
is checked. Other paths answer what `pages` holds: stand-ins for a fallback URL. Imported by
name (pytest puts tests/ on sys.path)."""
from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "standin-auth-token-7f3a"
API_KEY, API_SECRET = "SK" + "0" * 31 + "2", "standin-api-secret-91cd"
NUMBER_SID = "PN" + "0" * 31 + "3"

_NUMBERS = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers\.json$")
_NUMBER = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers/(PN\w+)\.json$")
_COUNTRIES = "/v1/DialingPermissions/Countries"
_PREFIXES = re.compile(r"^/v1/DialingPermissions/Countries/([A-Z]{2})/HighRiskSpecialPrefixes$")
# The update's form names -> the resource's fields
_FIELDS = {"VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
           "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
           "VoiceApplicationSid": "voice_application_sid", "TrunkSid": "trunk_sid",
           "VoiceCallerIdLookup": "voice_caller_id_lookup", "VoiceReceiveMode": "voice_receive_mode",
           "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method"}


def number_resource(phone: str, **fields: Any) -> dict[str, Any]:
    """An IncomingPhoneNumber as the API returns it; unset voice settings as Twilio leaves them."""
    return {
        "account_sid": ACCOUNT_SID, "sid": NUMBER_SID, "phone_number": phone,
        "friendly_name": phone, "api_version": "2010-04-01", "beta": False,
        "capabilities": {"voice": True, "sms": False, "mms": False, "fax": False},
        "voice_url": "", "voice_method": "POST", "voice_fallback_url": "",
        "voice_fallback_method": "POST", "status_callback": "", "status_callback_method": "POST",
        "voice_application_sid": "", "trunk_sid": None, "voice_caller_id_lookup": False,
        "voice_receive_mode": "voice", "sms_url": "", "sms_method": "POST",
        "date_created": "Mon, 16 Nov 2026 10:00:00 +0000",
        "date_updated": "Mon, 16 Nov 2026 10:00:00 +0000", "status": "in-use",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{NUMBER_SID}.json",
        **fields,
    }


def germany(low_risk: bool = True, special: bool = True) -> dict[str, Any]:
    return {"iso_code": "DE", "name": "Germany", "continent": "EUROPE", "country_codes": ["+49"],
            "low_risk_numbers_enabled": low_risk, "high_risk_special_numbers_enabled": special,
            "high_risk_tollfraud_numbers_enabled": False,
            "url": "https://voice.twilio.com/v1/DialingPermissions/Countries/DE", "links": {}}


@dataclass
class Asked:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    user: str | None  # the Basic auth user name


@dataclass
class StandIn:
    credentials: dict[str, str] = field(default_factory=lambda: {ACCOUNT_SID: AUTH_TOKEN,
                                                                 API_KEY: API_SECRET})
    account_sid: str = ACCOUNT_SID
    numbers: list[dict[str, Any]] = field(default_factory=list)
    countries: list[dict[str, Any]] = field(default_factory=lambda: [germany()])
    special_prefixes: dict[str, list[str]] = field(default_factory=dict)
    prefix_page_size: int = 50  # the most prefixes per page, whatever PageSize asks for
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)  # path -> answer
    delay: float = 0.0  # seconds before every API answer
    ignore_updates: bool = False  # answer an update with the number unchanged
    forced: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # path prefix -> answer
    asked: list[Asked] = field(default_factory=list)
    url: str = ""

    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin._handle(self)

            def do_POST(self) -> None:
                standin._handle(self)

            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def api_calls(self) -> list[tuple[str, str]]:
        return [(a.method, a.path) for a in self.asked if a.path.startswith(("/2010-04-01", "/v1"))]

    # -- the endpoints ---------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        form = dict(parse_qsl(body.decode())) if body else {}
        query = dict(parse_qsl(parts.query))
        user, password = _basic_auth(h.headers.get("Authorization"))
        self.asked.append(Asked(h.command, parts.path, query, form, user))
        if parts.path in self.pages:
            status, content_type, content = self.pages[parts.path]
            return _send(h, status, content, content_type)
        if self.delay and self._stopping.wait(self.delay):
            return
        forced = next((a for p, a in self.forced.items() if parts.path.startswith(p)), None)
        if forced:
            return _send_json(h, *forced)
        if user is None or self.credentials.get(user) != password:
            return _send_json(h, 401, _error(20003, "Authenticate", 401))
        status, payload = self._route(h.command, parts.path, query, form)
        _send_json(h, status, payload)

    def _route(self, method: str, path: str, query: dict[str, str],
               form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (m := _NUMBERS.match(path)) and method == "GET" and m.group(1) == self.account_sid:
            found = [n for n in self.numbers if n["phone_number"] == query.get("PhoneNumber")]
            return 200, {"incoming_phone_numbers": found, "start": 0, "end": max(len(found) - 1, 0),
                         "page": 0, "page_size": int(query.get("PageSize", 50)),
                         "first_page_uri": path, "next_page_uri": None,
                         "previous_page_uri": None, "uri": path}
        if (m := _NUMBER.match(path)) and method == "POST" and m.group(1) == self.account_sid:
            number = next((n for n in self.numbers if n["sid"] == m.group(2)), None)
            if number is not None:
                for name, value in ({} if self.ignore_updates else form).items():
                    if name in _FIELDS:
                        number[_FIELDS[name]] = (value == "true" if name == "VoiceCallerIdLookup"
                                                 else value)
                return 200, number
        if path == _COUNTRIES and method == "GET":
            found = [c for c in self.countries if query.get("CountryCode") in c["country_codes"]]
            return 200, _v1_page("content", path, found, query, 50)
        if (m := _PREFIXES.match(path)) and method == "GET":
            found = [{"prefix": p} for p in self.special_prefixes.get(m.group(1), [])]
            return 200, _v1_page("content", path, found, query, self.prefix_page_size)
        return 404, _error(20404, f"The requested resource {path} was not found", 404)


def _v1_page(key: str, path: str, records: list[dict[str, Any]], query: dict[str, str],
             most: int) -> dict[str, Any]:
    """A v1 list page; its next page is an absolute URL on voice.twilio.com, as Twilio gives."""
    size = min(int(query.get("PageSize", 50)), most)
    page = int(query.get("Page", 0))
    base = f"https://voice.twilio.com{path}"
    more = (page + 1) * size < len(records)
    next_url = f"{base}?{urlencode({'PageSize': size, 'Page': page + 1})}" if more else None
    return {key: records[page * size:(page + 1) * size],
            "meta": {"key": key, "page": page, "page_size": size,
                     "first_page_url": f"{base}?PageSize={size}&Page=0",
                     "previous_page_url": None, "next_page_url": next_url,
                     "url": f"{base}?PageSize={size}&Page={page}"}}


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _basic_auth(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.startswith("Basic "):
        return None, None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


def _send_json(h: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    _send(h, status, json.dumps(payload).encode(), "application/json")


def _send(h: BaseHTTPRequestHandler, status: int, content: bytes, content_type: str) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(content)))
    h.end_headers()
    h.wfile.write(content)


# -- Twilio's side of calls: webhooks, as Twilio sends them while callers dial in ------------------

CALLER = "+4917612398745"  # a caller's number, as Twilio sends it in From


@dataclass
class CallLoad:
    """Whole calls against a server's webhooks, as Twilio makes them for callers who press 0 for
    a person and talk 4 minutes: POST /voice, the Gather's action with Digits=0, the Dial's
    action with the outcome. One thread, `rate` calls a second, each request under a 5 s limit.
    Records the number each call dialled, the slowest answer, and what went wrong."""
    port: int
    to: str
    rate: float = 10.0
    dialled: list[str] = field(default_factory=list)  # one per completed call, in order
    slowest: float = 0.0  # seconds: the slowest single webhook answer
    errors: list[str] = field(default_factory=list)

    def start(self) -> CallLoad:
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> CallLoad:
        self._stopping.set()
        self._thread.join(timeout=30)
        return self

    def call(self) -> str:
        """One whole call; returns the number dialled, and adds it to `dialled` (raises on anything
        unexpected)."""
        import xml.etree.ElementTree as ET
        from urllib.parse import urljoin
        sid = "CA" + "%032x" % len(self.dialled)
        gather = ET.fromstring(self._post("/voice", {})).find("Gather")
        menu = urljoin("/voice", gather.get("action"))
        dial = ET.fromstring(self._post(menu, {"Digits": "0"})).find("Dial")
        number = (dial.find("Number").text or "").strip()
        end = ET.fromstring(self._post(urljoin(menu, dial.get("action")),
                                       {"DialCallStatus": "completed", "DialCallDuration": "240"}))
        if [child.tag for child in end][-1] != "Hangup":
            raise AssertionError(f"call {sid} did not end with Hangup: {[c.tag for c in end]}")
        self.dialled.append(number)
        return number

    def _post(self, path: str, fields: dict[str, str]) -> bytes:
        import http.client
        import time
        body = urlencode({"To": self.to, "From": CALLER, "CallSid": "CA" + "7" * 32, **fields})
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("POST", path, body=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        self.slowest = max(self.slowest, time.monotonic() - started)
        if response.status != 200 or not response.getheader("Content-Type", "").startswith("text/xml"):
            raise AssertionError(f"{path}: {response.status} {content[:200]!r}")
        return content

    def _run(self) -> None:
        import time
        next_at = time.monotonic()
        while not self._stopping.is_set():
            try:
                self.call()
            except Exception as error:  # recorded for the test to report
                self.errors.append(f"{type(error).__name__}: {error}")
            next_at += 1 / self.rate
            self._stopping.wait(max(0.0, next_at - time.monotonic()))


@dataclass
class PhoneNetwork:
    """Twilio's voice side, standing in for it over real HTTP: a call arrives (POST /voice with
    Twilio's fields), keys are pressed at each <Gather>, and each <Dial> ends as the number
    dialled behaves here (`answers`: number -> (DialCallStatus, DialCallDuration); a number not
    listed talks for 300 s). Every URL is resolved against the one last requested, as Twilio
    does. `dialled` lists each <Dial>'s number in the order they came."""

    answers: dict[str, tuple[str, int]] = field(default_factory=dict)
    to: str = "+4930123456789"
    dialled: list[str] = field(default_factory=list)

    def call(self, base_url: str, keys: str = "0", max_dials: int = 10) -> list[str]:
        """One call: presses `keys` one by one at the menus, then lets every Dial end as the
        numbers behave, until a talk or the call's end. Returns the numbers this call dialled."""
        import xml.etree.ElementTree as ET
        from urllib.parse import urljoin
        from urllib.request import Request, urlopen

        def post(url: str, **fields: str) -> ET.Element:
            form = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "5" * 32, "To": self.to, "Called": self.to,
                    "From": CALLER, "Caller": CALLER, "CallStatus": "in-progress",
                    "Direction": "inbound", "ApiVersion": "2010-04-01", **fields}
            with urlopen(Request(url, urlencode(form).encode(), method="POST"), timeout=10) as response:
                return ET.fromstring(response.read())

        url = urljoin(base_url, "voice")
        root, dialled, pressed = post(url), [], list(keys)
        while True:
            gather, dial = root.find("Gather"), root.find("Dial")
            if gather is not None and pressed:
                url = urljoin(url, gather.get("action"))
                root = post(url, Digits=pressed.pop(0))
            elif dial is not None and len(dialled) < max_dials:
                number = (dial.findtext("Number") or "").strip()
                dialled.append(number)
                self.dialled.append(number)
                status, seconds = self.answers.get(number, ("completed", 300))
                url = urljoin(url, dial.get("action"))
                root = post(url, DialCallStatus=status, DialCallDuration=str(seconds))
                if status == "completed" and seconds >= 30:
                    return dialled
            else:
                return dialled
