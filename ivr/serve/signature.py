"""Twilio's webhook signature (X-Twilio-Signature), checked in one pass.

Twilio signs the URL it requested followed by every POST field as name + value, sorted, with
HMAC-SHA1 keyed by the account's auth token, and sends it base64-encoded. Where a Webhook Rule
applies, it signs with a SharedKey's secret instead, with the algorithm it names in
X-Twilio-Webhooks-Signature-Settings (HMAC_SHA1 or HMAC_SHA256); only the hash changes. This is the same
computation as `twilio.request_validator.RequestValidator`, which tests hold it to, without the
per-field lookups and the second HMAC that validator always pays for: the URL is tried as
requested first, and only on a mismatch with its port added or removed (Twilio is not
consistent about default ports). Pure: no Flask."""
from __future__ import annotations

import binascii
import hmac
from typing import Iterable
from urllib.parse import urlsplit, urlunsplit

SHA1, SHA256 = "sha1", "sha256"
_ALGORITHMS = {"HMAC_SHA1": SHA1, "HMAC_SHA256": SHA256}


def algorithm_named(settings_header: str) -> str | None:
    """The hash named by X-Twilio-Webhooks-Signature-Settings ("key=...,algorithm=HMAC_SHA256");
    SHA1 when it names none, as Twilio's libraries read it; None for an algorithm unknown here."""
    for part in settings_header.split(","):
        name, equals, value = part.partition("=")
        if equals and name.strip() == "algorithm" and value.strip():
            return _ALGORITHMS.get(value.strip().upper())
    return SHA1


def compute_signature(token: bytes, url: str, fields: Iterable[tuple[str, str]],
                      algorithm: str = SHA1) -> str:
    """The X-Twilio-Signature value for a request to `url` with these form fields."""
    return _sign(token, url, _signed_fields(fields), algorithm)


def is_valid(token: bytes, url: str, fields: Iterable[tuple[str, str]], signature: str,
             algorithm: str = SHA1) -> bool:
    """True when `signature` signs this request, for the URL as given or with its port toggled."""
    if not signature:
        return False
    signed_fields = _signed_fields(fields)
    wanted = signature.encode("utf-8", "replace")
    if hmac.compare_digest(_sign(token, url, signed_fields, algorithm).encode("ascii"), wanted):
        return True
    other = port_toggled(url)
    return other is not None and hmac.compare_digest(
        _sign(token, other, signed_fields, algorithm).encode("ascii"), wanted)


def _signed_fields(fields: Iterable[tuple[str, str]]) -> str:
    # Sorted by name, then value; a repeated pair counts once, as in Twilio's validator.
    # (Sorting first and then dropping repeats is the cheap order: Twilio sends fields sorted.)
    return "".join([name + value for name, value in dict.fromkeys(sorted(fields))])


def _sign(token: bytes, url: str, signed_fields: str, algorithm: str) -> str:
    digest = hmac.digest(token, (url + signed_fields).encode("utf-8"), algorithm)
    return binascii.b2a_base64(digest, newline=False).decode("ascii")


def port_toggled(url: str) -> str | None:
    """The other spelling Twilio's own validator accepts: without the port if one is written,
    else with the scheme's default port. None when the URL has no readable host or port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed port: there is no other spelling to try
        return None
    if not parts.netloc:
        return None
    if port is not None:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{443 if parts.scheme == 'https' else 80}"))
