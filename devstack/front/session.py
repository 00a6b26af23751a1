"""The ALB's authentication session: an encrypted cookie, sharded above 4 KB.

The ALB keeps a signed-in user's claims and tokens in `<SessionCookieName>-0`, `-1`, … (one
shard per 4 KB of value, at most four: 16 KB); what a cookie holds is encrypted with a key
only the load balancer has. Here: AES-GCM with a key made when the front starts, so a
restarted front has forgotten every session, like a session key the ALB rotated.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SHARD_SIZE = 4000  # characters of value per cookie (browsers keep 4096 bytes with the name)
MAX_SHARDS = 4  # the ALB supports session cookies up to 16 KB
EXPIRED = "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"


class SessionTooLarge(Exception):
    """The claims do not fit in four shards."""


@dataclass(frozen=True)
class Session:
    claims: dict[str, Any]  # the IdP's userinfo answer
    access_token: str
    expires_at: float  # the session timeout, counted from sign-in

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at


class Sealer:
    """Authenticated encryption of small JSON documents (sessions, OIDC `state`)."""

    def __init__(self, key: bytes | None = None):
        self._aead = AESGCM(key or AESGCM.generate_key(bit_length=256))

    def seal(self, value: Mapping[str, Any], purpose: str) -> str:
        nonce = os.urandom(12)
        data = json.dumps(value, separators=(",", ":")).encode()
        sealed = self._aead.encrypt(nonce, data, purpose.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, text: str, purpose: str) -> dict[str, Any] | None:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = self._aead.decrypt(raw[:12], raw[12:], purpose.encode())
            value = json.loads(data)
        except (ValueError, InvalidTag, TypeError):
            return None
        return value if isinstance(value, dict) else None


def _shard_names(cookie_name: str, cookies: Mapping[str, str]) -> list[str]:
    pattern = re.compile(rf"^{re.escape(cookie_name)}-(\d{{1,3}})$")
    return [name for name in cookies if pattern.fullmatch(name)]


def encode(sealer: Sealer, session: Session, cookie_name: str) -> list[tuple[str, str]]:
    """(cookie name, value) of every shard, `<name>-0` first."""
    value = sealer.seal(
        {"claims": session.claims, "access_token": session.access_token, "exp": session.expires_at},
        cookie_name,
    )
    chunks = [value[i : i + SHARD_SIZE] for i in range(0, len(value), SHARD_SIZE)]
    if len(chunks) > MAX_SHARDS:
        raise SessionTooLarge(f"the session needs {len(chunks)} cookies; the ALB allows 4")
    return [(f"{cookie_name}-{index}", chunk) for index, chunk in enumerate(chunks)]


def decode(sealer: Sealer, cookies: Mapping[str, str], cookie_name: str) -> Session | None:
    """The session the shards carry, or None when absent, incomplete, tampered with."""
    parts = []
    for index in range(MAX_SHARDS):
        chunk = cookies.get(f"{cookie_name}-{index}")
        if chunk is None:
            break
        parts.append(chunk)
    if not parts:
        return None
    opened = sealer.open("".join(parts), cookie_name)
    if opened is None:
        return None
    claims, token, expires = opened.get("claims"), opened.get("access_token"), opened.get("exp")
    if not isinstance(claims, dict) or not isinstance(token, str):
        return None
    if not isinstance(expires, int | float):
        return None
    return Session(claims=claims, access_token=token, expires_at=float(expires))


def set_cookie_headers(
    shards: Iterable[tuple[str, str]],
    carried: Mapping[str, str],
    cookie_name: str,
    expires_at: float,
) -> list[str]:
    """Set-Cookie values for the new shards, and expiry of any older shard left over."""
    expires = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(expires_at))
    headers, written = [], set()
    for name, value in shards:
        headers.append(f"{name}={value}; Expires={expires}; Path=/; Secure; HttpOnly")
        written.add(name)
    for name in _shard_names(cookie_name, carried):
        if name not in written:
            headers.append(f"{name}=; {EXPIRED}; Path=/; Secure; HttpOnly")
    return headers


def parse_cookies(headers: Iterable[str]) -> dict[str, str]:
    """Name → value of every `Cookie` header (the first of a repeated name wins)."""
    cookies: dict[str, str] = {}
    for header in headers:
        for pair in header.split(";"):
            name, sep, value = pair.strip().partition("=")
            if sep and name and name not in cookies:
                cookies[name] = value
    return cookies
