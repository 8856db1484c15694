"""What the console needs from the environment, decided once in the master process (so that
every worker signs sessions with the same key)."""
from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

MIN_SECRET = 32
# The proxies whose X-Forwarded-For names the client: deploy/'s nginx on the same host.
DEFAULT_PROXIES = "127.0.0.1,::1"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConsoleOff(Exception):
    """The console cannot be served; the message says why and what to set."""


@dataclass(frozen=True)
class ConsoleSettings:
    secret_key: str
    secure_cookies: bool  # False only with --dev: plain http on loopback
    trusted_proxies: tuple[Network, ...] = tuple(ipaddress.ip_network(p) for p in DEFAULT_PROXIES.split(","))

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
        return cls(key, secure_cookies=not dev,
                   trusted_proxies=proxies(env.get("IVR_TRUSTED_PROXIES", DEFAULT_PROXIES)))


def proxies(text: str) -> tuple[Network, ...]:
    """IVR_TRUSTED_PROXIES: addresses or networks, comma-separated; empty trusts none."""
    found = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConsoleOff(f"IVR_TRUSTED_PROXIES: {part!r} is not an address or network; expected "
                             "addresses or networks separated by commas, e.g. 127.0.0.1,10.0.0.0/8") from None
    return tuple(found)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(environ: Mapping[str, Any], trusted: tuple[Network, ...]) -> str:
    """The address a login came from: the peer, or, while the peer is a trusted proxy, the
    address that proxy appended to X-Forwarded-For (read from the right: the left is the
    client's to write)."""
    address = str(environ.get("REMOTE_ADDR") or "unknown")
    hops = [h.strip() for h in str(environ.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    while hops and _trusted(address, trusted):
        address = hops.pop()
    return address[:45]
