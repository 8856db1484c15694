"""The Twilio number's voice settings against what this service needs: a list of findings for
`ivr twilio check`, and the changes that `ivr twilio setup` would make.

Pure: no HTTP, no Twilio client. `twilio_api` reads the number, the dialling permissions and
the fallback's answer; this module only compares. Misconfigured numbers are the commonest way a
line goes silent (no fallback URL, GET instead of POST, a TwiML App or SIP trunk that takes the
calls elsewhere), so every setting that decides where a call goes is looked at."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

OK, WRONG, INFO = "ok", "WRONG", "info"
VOICE_PATH, FALLBACK_PATH = "/voice", "/fallback"
# The EU's harmonised numbers of social value (116 000, 116 111, 116 123...) follow the country
# code; Twilio counts them as special numbers that need the country's special-number permission.
HARMONISED_PREFIX = "116"


@dataclass(frozen=True)
class NumberSettings:
    """What Twilio's REST API tells about a number's voice side (IncomingPhoneNumber)."""

    sid: str
    phone_number: str
    voice_url: str | None = None
    voice_method: str | None = None
    voice_fallback_url: str | None = None
    voice_fallback_method: str | None = None
    status_callback: str | None = None
    status_callback_method: str | None = None
    voice_application_sid: str | None = None  # a TwiML App set here takes the calls instead
    trunk_sid: str | None = None  # so does a SIP trunk
    voice_caller_id_lookup: bool | None = None  # CNAM: sends the caller's name to the webhooks
    voice_receive_mode: str | None = None  # "voice" or "fax"


@dataclass(frozen=True)
class Expected:
    voice_url: str
    fallback_url: str

    @classmethod
    def under(cls, public_url: str) -> Expected:
        base = public_url.rstrip("/")
        return cls(base + VOICE_PATH, base + FALLBACK_PATH)


@dataclass(frozen=True)
class FallbackAnswer:
    """How the fallback URL answered a request made as Twilio would make it."""

    url: str
    problem: str | None  # None: 200 with a TwiML <Response>


@dataclass(frozen=True)
class CountryPermission:
    """The account's Voice Dialing Permissions for one country."""

    iso_code: str
    name: str
    country_code: str  # the calling code that matched, e.g. "+49"
    low_risk_enabled: bool | None
    special_enabled: bool | None  # high-risk special numbers
    special_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    status: str  # OK | WRONG | INFO
    subject: str
    text: str

    def line(self) -> str:
        return f"{self.status:<5}  {self.subject}: {self.text}"


@dataclass(frozen=True)
class Change:
    """One parameter of Twilio's IncomingPhoneNumber update."""

    param: str  # the twilio library's keyword, e.g. "voice_url"
    label: str
    current: str | bool | None
    new: str | bool

    def line(self) -> str:
        return f"{self.label}: {_value(self.current)} -> {_value(self.new)}"


def shown_url(url: str | None) -> str:
    """A URL as it may be printed: a password in it (https://user:secret@host/) is masked."""
    if not url:
        return "(not set)"
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _value(value: str | bool | None) -> str:
    if value is None or value == "":
        return "(not set)"
    if isinstance(value, bool):
        return "on" if value else "off"
    return shown_url(value) if "://" in value else value


def _is_post(method: str | None) -> bool:
    return (method or "").upper() == "POST"


def number_findings(number: NumberSettings, expected: Expected,
                    fallback: FallbackAnswer) -> list[Finding]:
    """The number's own settings, one finding each, in the order a call meets them."""
    found: list[Finding] = []

    def add(status: str, subject: str, text: str) -> None:
        found.append(Finding(status, subject, text))

    if number.voice_receive_mode and number.voice_receive_mode != "voice":
        add(WRONG, "receive mode", f"{number.voice_receive_mode}; calls need \"voice\"")
    if number.trunk_sid:
        add(WRONG, "SIP trunk", f"{number.trunk_sid} takes the calls; the voice URL is not used")
    if number.voice_application_sid:
        add(WRONG, "TwiML App", f"{number.voice_application_sid} takes the calls; "
                                "the voice URL is not used")
    if number.voice_url == expected.voice_url:
        add(OK, "voice URL", shown_url(number.voice_url))
    else:
        add(WRONG, "voice URL", f"{shown_url(number.voice_url)}; expected {expected.voice_url}")
    if _is_post(number.voice_method):
        add(OK, "voice method", "POST")
    else:
        add(WRONG, "voice method", f"{_value(number.voice_method)}; expected POST")
    if number.voice_fallback_url == expected.fallback_url:
        add(OK, "fallback URL", shown_url(number.voice_fallback_url))
    else:
        add(WRONG, "fallback URL",
            f"{shown_url(number.voice_fallback_url)}; expected {expected.fallback_url}")
    if _is_post(number.voice_fallback_method):
        add(OK, "fallback method", "POST")
    else:
        add(WRONG, "fallback method", f"{_value(number.voice_fallback_method)}; expected POST")
    if fallback.problem is None:
        add(OK, "fallback answers", f"{shown_url(fallback.url)} answered 200 with TwiML")
    else:
        add(WRONG, "fallback answers", f"{shown_url(fallback.url)} {fallback.problem}")
    if number.voice_caller_id_lookup:
        add(WRONG, "caller name lookup", "on: Twilio sends each caller's name to the webhooks; "
                                         "the service needs none")
    else:
        add(OK, "caller name lookup", "off")
    if number.status_callback:
        add(INFO, "status callback", f"{shown_url(number.status_callback)} "
                                     f"({_value(number.status_callback_method)}); the service "
                                     "does not use it")
    else:
        add(INFO, "status callback", "not set; not needed until counts are taken from it")
    # The number has no recording setting in the API (a trunk has, and is reported above);
    # recording is asked for in TwiML, and the service's TwiML never does.
    add(INFO, "recording", "not a setting of the number; the service's TwiML never records")
    return found


def needs_special_permission(phone: str, country: CountryPermission) -> bool:
    """True for a special number: one of the country's listed high-risk special prefixes, or
    a harmonised 116 number (116 111 among them)."""
    return (phone.startswith(country.country_code + HARMONISED_PREFIX)
            or any(phone.startswith(prefix) for prefix in country.special_prefixes))


def dialling_findings(targets: Sequence[tuple[str, str]],
                      permissions: Mapping[str, CountryPermission | str]) -> list[Finding]:
    """One finding per hotline (line id, phone): may the account dial it? `permissions` maps a
    phone to its country's permissions, or to why the API could not tell (reported as info)."""
    found: list[Finding] = []
    for line_id, phone in targets:
        subject = f"dialling {line_id} ({phone})"
        country = permissions.get(phone, "no country found for the number")
        if isinstance(country, str):
            found.append(Finding(INFO, subject, f"cannot tell: {country}"))
            continue
        special = needs_special_permission(phone, country)
        kind = "high-risk special numbers" if special else "low-risk numbers"
        enabled = country.special_enabled if special else country.low_risk_enabled
        where = f"{country.name} ({country.iso_code})"
        if enabled:
            found.append(Finding(OK, subject, f"allowed ({kind} of {where})"))
        elif enabled is None:
            found.append(Finding(INFO, subject, f"cannot tell: the API does not say whether "
                                                f"{kind} of {where} may be dialled"))
        else:
            found.append(Finding(WRONG, subject, f"the account may not dial {kind} of {where}; "
                                                 "enable them under Voice > Settings > "
                                                 "Geo Permissions"))
    return found


def _same(current: str | bool | None, new: str | bool) -> bool:
    if isinstance(new, bool):
        return bool(current) == new
    if new == "POST":  # Twilio answers methods upper-case, but accepts them in any case
        return isinstance(current, str) and _is_post(current)
    return (current or "") == new


def changes(number: NumberSettings, expected: Expected) -> list[Change]:
    """What `ivr twilio setup` sets so that the number's calls reach this service."""
    wanted: list[tuple[str, str, str | bool | None, str | bool]] = [
        ("voice_receive_mode", "receive mode", number.voice_receive_mode, "voice"),
        ("trunk_sid", "SIP trunk", number.trunk_sid, ""),
        ("voice_application_sid", "TwiML App", number.voice_application_sid, ""),
        ("voice_url", "voice URL", number.voice_url, expected.voice_url),
        ("voice_method", "voice method", number.voice_method, "POST"),
        ("voice_fallback_url", "fallback URL", number.voice_fallback_url, expected.fallback_url),
        ("voice_fallback_method", "fallback method", number.voice_fallback_method, "POST"),
        ("voice_caller_id_lookup", "caller name lookup", number.voice_caller_id_lookup, False),
    ]
    result: list[Change] = []
    for param, label, current, new in wanted:
        if param == "voice_receive_mode" and not current:
            continue  # not reported by the API for this number: nothing to compare
        if not _same(current, new):
            result.append(Change(param, label, current, new))
    return result
