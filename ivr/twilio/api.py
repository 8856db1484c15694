"""The thin edge to Twilio's REST API for `ivr twilio check/setup`: read and update the number,
read the account's dialling permissions, and request the fallback URL as Twilio would.

Everything that can go wrong on the way (refused credentials, an unknown number, a timeout, no
connection) becomes an ApiError with a one-line message. No message carries a credential or
the request's URL (it holds the Account SID); only the API's host is named."""
from __future__ import annotations

import json
import logging
import os
import socket
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any, Iterator, Mapping, Sequence
from urllib.parse import urlencode, urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from ivr.twilio.number import (
    Change,
    CountryPermission,
    Expected,
    FallbackAnswer,
    Finding,
    NumberSettings,
    dialling_findings,
    number_findings,
)

DEFAULT_TIMEOUT = 10.0  # seconds, for each request
_CREDENTIALS = ("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID with "
                "TWILIO_API_KEY and TWILIO_API_SECRET")
# The library logs every request at INFO; a CLI has no use for it.
_quiet = logging.getLogger("ivr.twilio_api.http")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


class ApiError(Exception):
    """A failure talking to Twilio, as one line for the operator."""


@dataclass(frozen=True)
class ApiAccess:
    """Who talks to the API and where: from TWILIO_* and IVR_TWILIO_API_BASE."""

    account_sid: str
    username: str  # the Account SID, or an API key's SID
    password: str  # the auth token, or the API key's secret
    auth_token: str | None  # signs the fallback probe, as Twilio signs its requests
    api_base: str | None  # another origin for https://*.twilio.com: a local stand-in

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiAccess:
        env = os.environ if env is None else env
        sid, token = env.get("TWILIO_ACCOUNT_SID") or "", env.get("TWILIO_AUTH_TOKEN") or ""
        key, secret = env.get("TWILIO_API_KEY") or "", env.get("TWILIO_API_SECRET") or ""
        if not sid:
            raise ApiError(f"TWILIO_ACCOUNT_SID is not set: {_CREDENTIALS}")
        if bool(key) != bool(secret):
            raise ApiError("TWILIO_API_KEY and TWILIO_API_SECRET go together: set both or neither")
        if not (key or token):
            raise ApiError(f"no credentials for the Twilio API: {_CREDENTIALS}")
        base = (env.get("IVR_TWILIO_API_BASE") or "").rstrip("/") or None
        if base:
            _check_base(base)
        return cls(sid, key or sid, secret or token, token or None, base)


def _check_base(base: str) -> None:
    """Credentials travel with every request: in clear text only to this machine."""
    parts = urlsplit(base)
    if parts.scheme == "https" and parts.hostname:
        return
    try:
        loopback = parts.scheme == "http" and ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    if not loopback:
        raise ApiError(f"IVR_TWILIO_API_BASE={base!r}: expected https://HOST, or "
                       "http:// to a loopback address (a local stand-in)")


def rebased(url: str, base: str) -> str:
    """`url` on https://<product>.twilio.com, moved to `base` with the same path and query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "twilio.com" and not host.endswith(".twilio.com"):
        return url
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


class _RebasedHttpClient(TwilioHttpClient):
    """The library's own HTTP client, sending to another origin: its documented extension
    point, so that pagination's absolute next-page URLs are moved too."""

    def __init__(self, base: str, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self._base = base

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, rebased(url, self._base), *args, **kwargs)


class NumberApi:
    """The few REST calls `ivr twilio` makes."""

    def __init__(self, access: ApiAccess, timeout: float = DEFAULT_TIMEOUT) -> None:
        http = (_RebasedHttpClient(access.api_base, timeout) if access.api_base
                else TwilioHttpClient(timeout=timeout, logger=_quiet))
        self._client = Client(access.username, access.password, access.account_sid,
                              http_client=http)
        self._access = access
        self._host = access.api_base or "https://api.twilio.com"
        self._timeout = timeout
        self._countries: dict[str, CountryPermission | None] = {}  # calling code -> country

    def number(self, phone: str) -> NumberSettings:
        """The account's number `phone` (E.164)."""
        with self._errors(f"reading {phone}"):
            found = self._client.incoming_phone_numbers.list(phone_number=phone, limit=2)
            exact = [n for n in found if n.phone_number == phone]
        if not exact:
            raise ApiError(f"{phone} is not a number of this Twilio account "
                           "(check --number and TWILIO_ACCOUNT_SID)")
        return _settings(exact[0])

    def update(self, number: NumberSettings, todo: list[Change]) -> NumberSettings:
        with self._errors(f"updating {number.phone_number}"):
            updated = self._client.incoming_phone_numbers(number.sid).update(
                **{change.param: change.new for change in todo})
        return _settings(updated)

    def permission(self, phone: str) -> CountryPermission | str:
        """The dialling permissions of the country `phone` belongs to, or why they are unknown
        (not every account or key may read them; that does not stop the other checks)."""
        digits = phone.lstrip("+")
        try:
            # The calling code is the longest prefix Twilio knows as a country's code.
            for length in range(min(4, len(digits)), 0, -1):
                country = self._country("+" + digits[:length], phone)
                if country is not None:
                    return country
        except ApiError as exc:
            return str(exc)
        return f"Twilio lists no country for the calling code of {phone}"

    def _country(self, code: str, phone: str) -> CountryPermission | None:
        if code not in self._countries:
            permissions = self._client.voice.v1.dialing_permissions.countries
            with self._errors(f"reading the dialling permissions for {phone}"):
                found = permissions.list(country_code=code, limit=1)
                country = None
                if found:
                    c = found[0]
                    prefixes = tuple(p.prefix for p in permissions(c.iso_code)
                                     .highrisk_special_prefixes.list() if p.prefix)
                    country = CountryPermission(c.iso_code or "?", c.name or "?", code,
                                                c.low_risk_numbers_enabled,
                                                c.high_risk_special_numbers_enabled, prefixes)
            self._countries[code] = country
        return self._countries[code]

    def _redact(self, message: str) -> str:
        """The API's own words, without the account's or key's SID (the 404 names the path)."""
        for sid in {self._access.account_sid, self._access.username}:
            message = message.replace(sid, sid[:2] + "...")
        return message

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except TwilioRestException as exc:
            raise ApiError(_rest_error(doing, exc.status, exc.code, self._redact(exc.msg))) from None
        except TwilioException as exc:
            # A list page that is not 200 comes as TwilioException("Unable to fetch page", response)
            response = next((a for a in exc.args if isinstance(a, Response)), None)
            if response is None:
                raise ApiError(f"{doing}: {exc}") from None
            code, message = _error_body(response.text)
            raise ApiError(_rest_error(doing, response.status_code, code,
                                       self._redact(message))) from None
        except requests.Timeout:
            raise ApiError(f"{doing}: no answer from the Twilio API at {self._host} within "
                           f"{self._timeout:g} s") from None
        except requests.ConnectionError:
            raise ApiError(f"{doing}: cannot connect to the Twilio API at {self._host}") from None
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise ApiError(f"{doing}: unexpected answer from the Twilio API at {self._host} "
                           f"({type(exc).__name__})") from None


def _error_body(text: str) -> tuple[int | None, str]:
    try:
        body = json.loads(text)
        return body.get("code"), str(body.get("message") or "")
    except (ValueError, AttributeError):
        return None, ""


def _rest_error(doing: str, status: int, code: int | None, message: str) -> str:
    detail = f"HTTP {status}" + (f", error {code}" if code else "") + (f": {message}" if message else "")
    if status == 401:
        return f"{doing}: Twilio refused the credentials ({detail}); {_CREDENTIALS}"
    if status == 403:
        return f"{doing}: the credentials may not do this ({detail})"
    if status == 404:
        return f"{doing}: not found ({detail}); check --number and TWILIO_ACCOUNT_SID"
    return f"{doing}: the Twilio API answered {detail}"


def _settings(n: Any) -> NumberSettings:
    return NumberSettings(
        sid=n.sid, phone_number=n.phone_number, voice_url=n.voice_url or None,
        voice_method=n.voice_method or None, voice_fallback_url=n.voice_fallback_url or None,
        voice_fallback_method=n.voice_fallback_method or None,
        status_callback=n.status_callback or None,
        status_callback_method=n.status_callback_method or None,
        voice_application_sid=n.voice_application_sid or None, trunk_sid=n.trunk_sid or None,
        voice_caller_id_lookup=n.voice_caller_id_lookup,
        voice_receive_mode=n.voice_receive_mode or None)


def ask_fallback(url: str, method: str | None, auth_token: str | None,
                 timeout: float = DEFAULT_TIMEOUT) -> FallbackAnswer:
    """Request the fallback URL as Twilio would when the voice URL fails (signed, when the
    auth token is known), with no caller's fields, and judge the answer: 200 and TwiML."""
    method = "GET" if (method or "").upper() == "GET" else "POST"
    fields = {"ErrorCode": "11200"}  # Twilio's "HTTP retrieval failure", no caller data
    target = f"{url}{'&' if '?' in url else '?'}{urlencode(fields)}" if method == "GET" else url
    headers = {"User-Agent": "ivr-twilio-check"}
    body = None if method == "GET" else urlencode(fields).encode()
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if auth_token:
        signed = RequestValidator(auth_token).compute_signature(
            target, {} if method == "GET" else fields)
        headers["X-Twilio-Signature"] = signed
    try:
        request = urllib.request.Request(target, data=body, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (our URL)
            status, text = answer.status, answer.read(256 * 1024)
    except urllib.error.HTTPError as exc:
        return FallbackAnswer(url, f"answered HTTP {exc.code}; expected 200 with TwiML")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
            return FallbackAnswer(url, f"did not answer within {timeout:g} s")
        return FallbackAnswer(url, f"cannot be reached ({_reason(reason)})")
    if status != 200:
        return FallbackAnswer(url, f"answered HTTP {status}; expected 200 with TwiML")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return FallbackAnswer(url, "answered 200, but not XML; expected TwiML")
    if root.tag != "Response":
        return FallbackAnswer(url, f"answered 200 with <{root.tag}>; expected a TwiML <Response>")
    if len(root) == 0:
        return FallbackAnswer(url, "answered 200 with an empty <Response>; expected TwiML that "
                                   "says something")
    return FallbackAnswer(url, None)


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "its host name does not resolve"
    return str(reason) or type(reason).__name__


def check(api: NumberApi, phone: str, expected: Expected, hotlines: Sequence[tuple[str, str]],
          auth_token: str | None, timeout: float = DEFAULT_TIMEOUT) -> list[Finding]:
    """Everything `ivr twilio check` reports: the number's settings, whether its fallback
    answers (the one it has, else the one it should have), and whether each hotline may be
    dialled. ApiError when the number itself cannot be read."""
    number = api.number(phone)
    answer = ask_fallback(number.voice_fallback_url or expected.fallback_url,
                          number.voice_fallback_method, auth_token, timeout)
    permissions = {hotline: api.permission(hotline) for _, hotline in hotlines}
    return number_findings(number, expected, answer) + dialling_findings(hotlines, permissions)
