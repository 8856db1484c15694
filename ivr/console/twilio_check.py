"""The Twilio number check on the Health page: `ivr twilio check` for the number named by
IVR_TWILIO_NUMBER, run when an operator asks (it talks to Twilio's API and requests the fallback
URL, so never on a plain page view)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from ivr.config.settings import Settings
from ivr.directory.directory import Line

TIMEOUT = 5.0  # seconds per request: the page waits for it
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class Outcome:
    number: str
    lines: tuple[tuple[str, str, str], ...] = ()  # (status, subject, text) as `ivr twilio check`
    problem: str | None = None  # why the check could not run


def configured(env: Mapping[str, str] | None = None) -> str | None:
    """The service's number when the console may check it, else None."""
    env = os.environ if env is None else env
    number = (env.get("IVR_TWILIO_NUMBER") or "").strip()
    return number if _E164.match(number) and env.get("TWILIO_ACCOUNT_SID") else None


def run(number: str, settings: Settings, lines: Sequence[Line]) -> Outcome:
    from ivr.twilio.api import ApiAccess, ApiError, NumberApi, check
    from ivr.twilio.number import Expected
    if not settings.public_url:
        return Outcome(number, problem="IVR_PUBLIC_URL is not set: the check compares the number's "
                                       "URLs with it")
    try:
        access = ApiAccess.from_env()
        findings = check(NumberApi(access, TIMEOUT), number, Expected.under(settings.public_url),
                         [(line.id, line.phone) for line in lines], access.auth_token, TIMEOUT)
    except ApiError as error:  # its message names no credential
        return Outcome(number, problem=str(error))
    return Outcome(number, tuple((f.status, f.subject, f.text) for f in findings))
