"""Settings from the environment (IVR_*, TWILIO_*). Nothing is read at import."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo


_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # ivr/, two up from ivr/config/settings.py


def bundled_dir(name: str) -> Path:
    """The bundled `data/` or `prompts/`: inside the installed package (a `pip install .` puts
    them at ivr/data, ivr/prompts), or beside it in a source checkout or editable install."""
    installed = _PACKAGE_DIR / name
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / name


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    prompts_dir: Path
    auth_token: str | None
    public_url: str | None  # e.g. https://helpline.example.org, when behind a proxy
    now: str | None  # IVR_NOW: pins the clock for demos and tests
    # TWILIO_WEBHOOK_SHARED_KEY: the secret of a Twilio SharedKey, for webhooks that a Webhook
    # Rule signs with it (they carry X-Twilio-Webhooks-Signature-Settings) instead of the token
    shared_key: str | None = None
    metrics_token: str | None = None  # IVR_METRICS_TOKEN: GET /metrics is off without it
    log_format: str = "text"  # IVR_LOG_FORMAT: text or json (ivr/serve/logs.py checks it)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            data_dir=Path(env["IVR_DATA_DIR"]) if env.get("IVR_DATA_DIR") else bundled_dir("data"),
            prompts_dir=Path(env["IVR_PROMPTS_DIR"]) if env.get("IVR_PROMPTS_DIR") else bundled_dir("prompts"),
            auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            public_url=(env.get("IVR_PUBLIC_URL") or "").rstrip("/") or None,
            now=env.get("IVR_NOW") or None,
            shared_key=env.get("TWILIO_WEBHOOK_SHARED_KEY") or None,
            metrics_token=env.get("IVR_METRICS_TOKEN") or None,
            log_format=(env.get("IVR_LOG_FORMAT") or "text").strip().lower(),
        )


class TimeFormatError(ValueError):
    pass


def parse_instant(text: str, zone: ZoneInfo) -> dt.datetime:
    """ISO 8601 with offset or Z; a naive time is read as wall time in `zone` (the directory's)."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise TimeFormatError(
            f"{text!r} is not a time; expected ISO 8601 like 2026-11-24T15:30, "
            "2026-11-24T15:30+01:00 or 2026-11-24T14:30Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:
        value.astimezone(dt.timezone.utc)
    except OverflowError:  # 9999-12-31T23:59-23:59 is past the last instant Python can hold in UTC
        raise TimeFormatError(f"{text!r} lies beyond the year 9999 in UTC; expected a time "
                              "like 2026-11-24T15:30") from None
    return value
