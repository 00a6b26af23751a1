"""Verification of the ALB's signed user-claims token (`x-amzn-oidc-data`), as AWS documents it.

Checks, in order, each failing with its own `TokenRefused` error (HTTP 401) before any AWS call:
the header is decoded safely; `kid` matches the strict pattern; `signer` is one of `ALB_ARNS`;
`alg` is ES256 (pinned here, never taken from the token); the header's `exp` (which the ALB sets
and no library checks) has not passed; the key comes from the configured key service (cached);
the signature verifies with ES256 only; the payload's `exp` has not passed; with `USER_CLAIM=email`,
`email_verified` is not false; the user claim is a valid user id (`roles.user_id`); the groups
claim is a list of strings or a string. A field of the wrong JSON type fails its check (a 401,
never a 500); `exp` must be a finite number. ALB tokens are base64url *with* padding: PyJWT
2.15.1 accepts them.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import jwt

from authx import keys
from authx.errors import (
    AlgorithmRejected,
    ClaimInvalid,
    EmailUnverified,
    KidRejected,
    SignatureInvalid,
    SignerRejected,
    TokenExpired,
    TokenMalformed,
    TokenMissing,
    UserClaimInvalid,
    UserClaimMissing,
)
from authx.roles import IdentityRefused, ascii_lower, identity_problem, user_id
from authx.settings import Settings

ALGORITHM = "ES256"
LEEWAY_SECONDS = 5
MAX_TOKEN_LENGTH = 16384
MAX_USER_LENGTH = 256
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


@dataclass(frozen=True)
class Identity:
    """Who the verified token says the user is: the user id (`roles.user_id`) and group ids."""

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
    # A finite number only: `json` reads NaN and Infinity, and neither ever "passes".
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        raise TokenMalformed("The sign-in token has no valid expiry.")
    if exp + LEEWAY_SECONDS <= now:
        raise TokenExpired("Your sign-in has expired; reload the page to sign in again.")


def _split_group_string(text: str) -> list[str]:
    """`a,b` or `[a, b]`: split on commas, ASCII spaces trimmed around the separators only.

    A string that is a JSON list of strings (`["a", "b"]`) gives those strings exactly.
    """
    text = text.strip(" ")
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return parsed
        text = text[1:-1]
    return [part.strip(" ") for part in text.split(",")]


def parse_groups(value: Any) -> tuple[str, ...]:
    """Group ids from the groups claim, exact (DESIGN §2), without repeats.

    A JSON list of strings is taken as it is: never stripped, never case-folded. A string is
    `a,b` or `[a, b]` (Azure AD through Cognito). Empty ids, and ids that hold control or format
    characters (no grant can name them), are left out. Any other JSON type is a defect of the
    token: `ClaimInvalid`.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        items = _split_group_string(value)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise ClaimInvalid("The sign-in token's groups claim is not a list of group names.")
    return tuple(dict.fromkeys(item for item in items if identity_problem(item) is None))


def _user(claims: dict[str, Any], claim: str) -> str:
    value = claims.get(claim)
    if not isinstance(value, str) or not value.strip():
        raise UserClaimMissing(f"The sign-in token has no {claim!r} claim.")
    if len(value) > MAX_USER_LENGTH:
        raise UserClaimInvalid(f"The sign-in token's {claim!r} claim is too long.")
    try:
        return user_id(value)
    except IdentityRefused as error:
        raise UserClaimInvalid(
            f"The sign-in token's {claim!r} claim is not a valid user id."
        ) from error


def _check_email_verified(claims: dict[str, Any]) -> None:
    """`email_verified` false (a boolean, or the string Cognito sends, any case) is refused.

    Absent (Entra does not send it) or null: accepted. Any other type is a defect of the token.
    """
    verified = claims.get("email_verified")
    if isinstance(verified, str):
        verified = {"true": True, "false": False}.get(ascii_lower(verified), verified)
    if verified is None or verified is True:
        return
    if verified is False:
        raise EmailUnverified("Your identity provider has not verified your email address.")
    raise ClaimInvalid("The sign-in token's email_verified claim is not a boolean.")


def verify(token: str | None, settings: Settings, now: float) -> Identity:
    """Verify an ALB token and return the identity it carries, or raise a `TokenRefused`."""
    if not token:
        raise TokenMissing("You are not signed in.")
    header = unverified_header(token)
    kid = header.get("kid")
    if not isinstance(kid, str) or not keys.KID_PATTERN.fullmatch(kid):
        raise KidRejected("The sign-in token names an invalid key.")
    signer = header.get("signer")
    if not isinstance(signer, str) or signer not in settings.alb_arns:
        raise SignerRejected("The sign-in token was not issued by this load balancer.")
    if header.get("alg") != ALGORITHM:  # a str compare: any other JSON type is refused
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
    if settings.user_claim == "email" and settings.require_verified_email:
        _check_email_verified(claims)
    return Identity(
        user=_user(claims, settings.user_claim),
        groups=parse_groups(claims.get(settings.groups_claim)),
    )
