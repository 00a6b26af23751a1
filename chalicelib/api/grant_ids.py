"""Grant ids: opaque, URL-safe names of a (principal, environment) pair.

base64url, without padding, of the JSON array `[principal, environment]`.
"""

from __future__ import annotations

import base64
import binascii
import json

from authx.roles import ALL_ENVIRONMENTS, GROUP_PREFIX, USER_PREFIX

from .errors import BadRequestError, NotFoundError
from .validation import (
    MAX_ENVIRONMENT_NAME,
    MAX_GROUP_ID,
    email_problem,
    environment_name_problem,
    group_problem,
)


def encode(principal: str, environment: str) -> str:
    raw = json.dumps([principal, environment], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Sized from the largest (principal, environment) the API accepts, so every id it issues is
# accepted back: a group id of MAX_GROUP_ID characters of 4 UTF-8 bytes each (no character of
# a valid group id takes more in this JSON: `"` and `\\` take 2, control characters are
# refused) and the longest environment name. Users are ASCII emails of at most 254.
MAX_ID_CHARS = len(encode(GROUP_PREFIX + "\U0010ffff" * MAX_GROUP_ID, "E" * MAX_ENVIRONMENT_NAME))


_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def decode(grant_id: str) -> tuple[str, str]:
    """(principal, environment) of an id made by `encode`.

    400 when it is not of the form of an id (base64url, at most MAX_ID_CHARS); 404 when it is
    but names no grant this service could have made (docs/openapi.yaml `GrantId`).
    """
    if not grant_id or len(grant_id) > MAX_ID_CHARS or not set(grant_id) <= _ID_CHARS:
        raise BadRequestError(f"grant_id: not a grant id (base64url, 1-{MAX_ID_CHARS} characters)")
    unknown = NotFoundError("no grant with this id")
    try:
        raw = base64.urlsafe_b64decode(grant_id + "=" * (-len(grant_id) % 4))
        pair = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise unknown from error
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise unknown
    principal, environment = pair
    if principal.startswith(USER_PREFIX):
        subject_ok = email_problem(principal[len(USER_PREFIX) :]) is None
    elif principal.startswith(GROUP_PREFIX):
        subject_ok = group_problem(principal[len(GROUP_PREFIX) :]) is None
    else:
        subject_ok = False
    environment_ok = (
        environment == ALL_ENVIRONMENTS or environment_name_problem(environment) is None
    )
    if not (subject_ok and environment_ok) or encode(principal, environment) != grant_id:
        raise unknown
    return principal, environment
