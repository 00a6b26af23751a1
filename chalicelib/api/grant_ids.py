"""Grant ids: opaque, URL-safe names of a (principal, environment) pair.

base64url, without padding, of the JSON array `[principal, environment]`.
"""

from __future__ import annotations

import base64
import binascii
import json

from authx.roles import ALL_ENVIRONMENTS, GROUP_PREFIX, USER_PREFIX

from .errors import BadRequestError
from .validation import email_problem, environment_name_problem, group_problem

MAX_ID_CHARS = 1024


def encode(principal: str, environment: str) -> str:
    raw = json.dumps([principal, environment], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(grant_id: str) -> tuple[str, str]:
    """(principal, environment) of an id made by `encode`; 400 for anything else."""
    bad = BadRequestError("grant_id: not a grant id")
    if not grant_id or len(grant_id) > MAX_ID_CHARS or not grant_id.isascii():
        raise bad
    try:
        raw = base64.urlsafe_b64decode(grant_id + "=" * (-len(grant_id) % 4))
        pair = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise bad from error
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise bad
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
        raise bad
    return principal, environment
