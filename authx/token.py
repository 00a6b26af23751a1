"""Verification of the ALB's signed user-claims token (`x-amzn-oidc-data`), as AWS documents it.

Checks, in order, each failing with its own `TokenRefused` error (HTTP 401) before any AWS call:
the header is decoded safely; `kid` matches the strict pattern; `signer` is one of `ALB_ARNS`;
`alg` is ES256 (pinned here, never taken from the token); the header's `exp` (which the ALB sets
and no library checks) has not passed; the key comes from the configured key service (cached);
the signature verifies with ES256 only (R||S over the segments as sent, with `cryptography`:
the header is parsed once, here, not again by a JWT library); the payload's `exp` has not
passed; with `USER_CLAIM=email`, `email_verified` is not false; the user claim is a valid user
id (`roles.user_id`); the groups claim is a list of strings or a string. A field of the wrong
JSON type fails its check (a 401, never a 500); `exp` must be a finite number; `crit` (no
extension is understood) and an unencoded payload (`b64`) are refused. ALB tokens are base64url
*with* padding (which PyJWT 2.14.0 and 2.15.0 rejected): both forms are accepted, and tests keep
a padded token.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from authx import keys
from authx.errors import (
    AlgorithmRejected,
    ClaimInvalid,
    EmailUnverified,
    KidRejected,
    OriginRejected,
    SignatureInvalid,
    SignerRejected,
    TokenExpired,
    TokenMalformed,
    TokenMissing,
    UserClaimInvalid,
    UserClaimMissing,
)
from authx.roles import MAX_GROUP_ID, IdentityRefused, ascii_lower, identity_problem, user_id
from authx.settings import Settings

ALGORITHM = "ES256"
LEEWAY_SECONDS = 5
MAX_TOKEN_LENGTH = 16384
MAX_USER_LENGTH = 256
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_ES256 = ec.ECDSA(hashes.SHA256())


@dataclass(frozen=True)
class Identity:
    """Who the verified token says the user is: the user id (`roles.user_id`) and group ids."""

    user: str
    groups: tuple[str, ...]


def _b64url(segment: str) -> bytes:
    """A base64url segment, padded (as the ALB writes it) or not, decoded."""
    stripped = segment.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as error:
        raise TokenMalformed("The sign-in token is malformed.") from error


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url(segment))
    except (ValueError, RecursionError) as error:  # not JSON or UTF-8, too deep, too long
        raise TokenMalformed("The sign-in token is malformed.") from error
    if not isinstance(value, dict):
        raise TokenMalformed("The sign-in token is malformed.")
    return value


def split(token: str) -> tuple[str, str, str]:
    """The three segments of a compact JWS, each checked to be base64url (padding allowed)."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_LENGTH or len(parts) != 3:
        raise TokenMalformed("The sign-in token is malformed.")
    if not all(_SEGMENT.fullmatch(part) for part in parts):
        raise TokenMalformed("The sign-in token is malformed.")
    return parts[0], parts[1], parts[2]


def _check_origin(header: dict[str, Any], settings: Settings) -> None:
    """`iss` and `client`: the IdP and app client of this deployment's sign-in action, when set.

    `signer` names the load balancer only; another authenticate rule on it (another IdP, or a
    Cognito client open to self sign-up) gets tokens signed by the same ALB.
    """
    for field, allowed in (("iss", settings.token_issuers), ("client", settings.token_clients)):
        value = header.get(field)
        if allowed and (not isinstance(value, str) or value not in allowed):
            raise OriginRejected("The sign-in token was not issued for this service.")


def _check_header(header: dict[str, Any]) -> None:
    """Header fields authX does not use but must not ignore (RFC 7515 §4.1.11, RFC 7797)."""
    if "crit" in header:  # authX understands no critical extension, so it must refuse any
        raise TokenMalformed("The sign-in token asks for an extension authX does not support.")
    if header.get("b64", True) is not True:  # an unencoded payload: never what the ALB sends
        raise TokenMalformed("The sign-in token's payload is not base64url encoded.")


def _verify_signature(key: ec.EllipticCurvePublicKey, token: str, signature: str) -> None:
    """ES256 (RFC 7518 §3.4): a 64-byte R||S over the header and payload segments as sent."""
    raw = _b64url(signature)
    if len(raw) != 64:
        raise SignatureInvalid("The sign-in token's signature is not valid.")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    signing_input = token[: token.rindex(".")].encode("ascii")  # ASCII: checked by `split`
    try:
        key.verify(der, signing_input, _ES256)
    except InvalidSignature as error:
        raise SignatureInvalid("The sign-in token's signature is not valid.") from error


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
    `a,b` or `[a, b]` (Azure AD through Cognito). Empty ids, ids longer than `MAX_GROUP_ID` and
    ids that hold control or format characters (no grant can name them; a very long one would
    also fail DynamoDB's key size and so every sign-in of that user) are left out. Any other
    JSON type is a defect of the token: `ClaimInvalid`.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        items = _split_group_string(value)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise ClaimInvalid("The sign-in token's groups claim is not a list of group names.")
    return tuple(
        dict.fromkeys(
            item for item in items if len(item) <= MAX_GROUP_ID and identity_problem(item) is None
        )
    )


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
    header_segment, payload_segment, signature = split(token)
    header = _json_object(header_segment)  # nothing in it is trusted yet
    kid = header.get("kid")
    if not isinstance(kid, str) or not keys.KID_PATTERN.fullmatch(kid):
        raise KidRejected("The sign-in token names an invalid key.")
    signer = header.get("signer")
    if not isinstance(signer, str) or signer not in settings.alb_arns:
        raise SignerRejected("The sign-in token was not issued by this load balancer.")
    _check_origin(header, settings)
    if header.get("alg") != ALGORITHM:  # pinned; a str compare, so any other JSON type fails
        raise AlgorithmRejected("The sign-in token is not signed with ES256.")
    _check_header(header)
    _check_exp(header.get("exp"), now)
    _verify_signature(keys.public_key(settings.public_key_url, kid), token, signature)
    claims = _json_object(payload_segment)
    _check_exp(claims.get("exp"), now)
    for name in ("sub", "jti"):  # unused, but a token that misstates them is not well formed
        if name in claims and not isinstance(claims[name], str):
            raise TokenMalformed(f"The sign-in token's {name} claim is not a string.")
    if settings.user_claim == "email" and settings.require_verified_email:
        _check_email_verified(claims)
    return Identity(
        user=_user(claims, settings.user_claim),
        groups=parse_groups(claims.get(settings.groups_claim)),
    )
