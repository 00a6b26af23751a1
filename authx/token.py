"""Verification of the ALB's signed user-claims token (`x-amzn-oidc-data`), as AWS documents it.

Checks, in order, each failing with its own `TokenRefused` error (HTTP 401) before any AWS call:
the header is decoded safely; `kid` matches the strict pattern; `signer` is one of `ALB_ARNS`;
`alg` is ES256 (pinned here, never taken from the token); the header's `exp` (which the ALB sets
and no library checks) has not passed; the key comes from the configured key service (cached);
the signature verifies with ES256 only; the payload's `exp` has not passed; the user claim is
present. ALB tokens are base64url *with* padding: PyJWT 2.15.1 accepts them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import jwt

from authx import keys
from authx.errors import (
    AlgorithmRejected,
    KidRejected,
    SignatureInvalid,
    SignerRejected,
    TokenExpired,
    TokenMalformed,
    TokenMissing,
    UserClaimMissing,
)
from authx.settings import Settings

ALGORITHM = "ES256"
LEEWAY_SECONDS = 5
MAX_TOKEN_LENGTH = 16384
MAX_USER_LENGTH = 256
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Identity:
    """Who the verified token says the user is: the user id (lower-cased) and their groups."""

    user: str
    groups: tuple[str, ...]


def _b64url_json(segment: str) -> Any:
    if not _SEGMENT.fullmatch(segment):
        raise TokenMalformed("The sign-in token is malformed.")
    try:
        raw = base64.urlsafe_b64decode(segment.rstrip("=") + "=" * (-len(segment.rstrip("=")) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise TokenMalformed("The sign-in token is malformed.") from error


def unverified_header(token: str) -> dict[str, Any]:
    """The token's header, decoded defensively; nothing in it is trusted yet."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_LENGTH or len(parts) != 3 or not all(parts):
        raise TokenMalformed("The sign-in token is malformed.")
    header = _b64url_json(parts[0])
    if not isinstance(header, dict):
        raise TokenMalformed("The sign-in token is malformed.")
    return header


def _check_exp(exp: Any, now: float) -> None:
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise TokenMalformed("The sign-in token has no valid expiry.")
    if exp + LEEWAY_SECONDS <= now:
        raise TokenExpired("Your sign-in has expired; reload the page to sign in again.")


def parse_groups(value: Any) -> tuple[str, ...]:
    """Groups from a JSON list, a string such as `[a, b]` (Azure AD via Cognito) or `a,b`."""
    if value is None:
        return ()
    items: list[Any]
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        text = value.strip()
        items = []
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                text = text[1:-1] if text.endswith("]") else text[1:]
            else:
                items = parsed if isinstance(parsed, list) else []
                text = ""
        if text:
            items = [part.strip().strip("\"'") for part in text.split(",")]
    else:
        return ()
    groups: dict[str, None] = {}
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)  # "[0]" is both JSON and a bracketed list: the same group either way
        if isinstance(item, str) and (group := item.strip()) and not _CONTROL.search(group):
            groups.setdefault(group, None)
    return tuple(groups)


def _user(claims: dict[str, Any], claim: str) -> str:
    value = claims.get(claim)
    if not isinstance(value, str):
        raise UserClaimMissing(f"The sign-in token has no {claim!r} claim.")
    user = value.strip().lower()
    if not user or len(user) > MAX_USER_LENGTH or _CONTROL.search(user):
        raise UserClaimMissing(f"The sign-in token has no valid {claim!r} claim.")
    return user


def verify(token: str | None, settings: Settings, now: float) -> Identity:
    """Verify an ALB token and return the identity it carries, or raise a `TokenRefused`."""
    if not token:
        raise TokenMissing("You are not signed in.")
    header = unverified_header(token)
    kid = header.get("kid")
    if not isinstance(kid, str) or not keys.KID_PATTERN.fullmatch(kid):
        raise KidRejected("The sign-in token names an invalid key.")
    if header.get("signer") not in settings.alb_arns:
        raise SignerRejected("The sign-in token was not issued by this load balancer.")
    if header.get("alg") != ALGORITHM:
        raise AlgorithmRejected("The sign-in token is not signed with ES256.")
    _check_exp(header.get("exp"), now)
    key = keys.public_key(settings.public_key_url, kid)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={
                "verify_exp": False,  # checked below against the same clock as the header
                "verify_aud": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidTokenError as error:
        raise SignatureInvalid("The sign-in token's signature is not valid.") from error
    _check_exp(claims.get("exp"), now)
    return Identity(
        user=_user(claims, settings.user_claim),
        groups=parse_groups(claims.get(settings.groups_claim)),
    )
