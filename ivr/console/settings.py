"""What the console needs from the environment, decided once in the master process (so that
every worker signs sessions with the same key)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Mapping

MIN_SECRET = 32


class ConsoleOff(Exception):
    """The console cannot be served; the message says why and what to set."""


@dataclass(frozen=True)
class ConsoleSettings:
    secret_key: str
    secure_cookies: bool  # False only with --dev: plain http on loopback

    @classmethod
    def from_env(cls, dev: bool, env: Mapping[str, str] | None = None) -> ConsoleSettings:
        env = os.environ if env is None else env
        key = env.get("IVR_SECRET_KEY") or ""
        if key and len(key) < MIN_SECRET:
            raise ConsoleOff(f"IVR_SECRET_KEY has {len(key)} characters; expected at least {MIN_SECRET} "
                             "(e.g. from `python3 -c 'import secrets; print(secrets.token_hex(32))'`)")
        if not key:
            if not dev:
                raise ConsoleOff("IVR_SECRET_KEY is not set: the console signs its sessions with it. "
                                 "Set it (at least 32 characters, e.g. from `python3 -c 'import secrets; "
                                 "print(secrets.token_hex(32))'`) or pass --dev")
            key = secrets.token_hex(32)  # dev: sessions last as long as this server
        return cls(key, secure_cookies=not dev)
