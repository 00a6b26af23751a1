"""The identity and Airflow role rules of DESIGN §2, in one place.

Used by the authX Lambda at login and by the admin API (through `vendor/authx`), so both answer
the same question the same way: which principal a user claim or a group id is (`user_id`,
`user_principal`, `group_principal`, `identity_problem`, `group_id_problem`), which STS names a
user gets (`iam_name`), and which Airflow role grants give (`effective_role`). Pure functions over
plain values: no AWS, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

# Highest first: Admin > Op > User > Viewer > Public.
ROLES: tuple[str, ...] = ("Admin", "Op", "User", "Viewer", "Public")
ALL_ENVIRONMENTS = "*"
USER_PREFIX = "user#"
# The longest group id a grant may name (the API refuses longer ones; authX leaves them out).
MAX_GROUP_ID = 256
GROUP_PREFIX = "group#"

_RANK = {role: len(ROLES) - index for index, role in enumerate(ROLES)}
_CANONICAL = {role.lower(): role for role in ROLES}  # ASCII names: lower() is ASCII here


def canonical_role(name: object) -> str | None:
    """The canonical spelling of an Airflow role name, matched exactly but case-insensitively.

    Never by substring: ``"admin"`` → ``"Admin"``; ``"Administrator"``, ``"op "`` → ``None``.
    """
    if not isinstance(name, str):
        return None
    return _CANONICAL.get(ascii_lower(name))


def rank(role: str) -> int:
    """Position of a canonical role in the order; higher is more powerful."""
    return _RANK[role]


def highest(roles: Iterable[str]) -> str | None:
    """The most powerful of some canonical roles, or None when there are none."""
    best: str | None = None
    for role in roles:
        if best is None or _RANK[role] > _RANK[best]:
            best = role
    return best


def allows(effective: str | None, asked: str) -> bool:
    """Whether a user whose effective role is `effective` may log in as `asked`."""
    return effective is not None and _RANK[asked] <= _RANK[effective]


# --- Identity (DESIGN §2): one user, one principal; one group id, one principal. ---

# Characters an identity may never hold: controls (Cc), format characters (Cf: bidi overrides,
# zero-width joiners, BOM…), lone surrogates (Cs: not valid Unicode) and the line and paragraph
# separators (Zl, Zp). They are refused, never removed: removing them would merge two claims.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ASCII_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_UPPER_TO_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


class IdentityRefused(ValueError):
    """A user claim or group id that cannot be an identity; the message is safe to show."""


def forbidden_character(text: str) -> int | None:
    """The index of the first character an identity may not hold, or None when there is none."""
    if text.isascii():
        found = _ASCII_FORBIDDEN.search(text)
        return found.start() if found else None
    for index, char in enumerate(text):
        if unicodedata.category(char) in FORBIDDEN_CATEGORIES:
            return index
    return None


def identity_problem(text: str) -> str | None:
    """Why `text` cannot be a user id or a group id, or None when it can.

    The API answers 400 with this message; authX refuses the login (401). Lone surrogates
    (strings that are not valid Unicode) are among the refused characters.
    """
    if not text:
        return "must not be empty"
    index = forbidden_character(text)
    if index is not None:
        return (
            "must not contain control or format characters "
            f"(U+{ord(text[index]):04X} at position {index})"
        )
    return None


def group_id_problem(group: str) -> str | None:
    """`identity_problem`, and the API's rule for new grants: no leading/trailing whitespace.

    A group id is exact (never stripped): `" ops "` could never match `ops` at login, so the API
    refuses it rather than store a grant that cannot apply.
    """
    problem = identity_problem(group)
    if problem is None and (group[0].isspace() or group[-1].isspace()):
        problem = "must not start or end with whitespace"
    return problem


def ascii_lower(text: str) -> str:
    """`text` with A-Z lower-cased and every other character exactly as it is.

    Never `str.lower()` on non-ASCII text: it folds U+212A KELVIN SIGN to `k` (and U+0130 to
    `i̇`), so another address would become a granted user's.
    """
    return text.lower() if text.isascii() else text.translate(_ASCII_UPPER_TO_LOWER)


def user_id(claim: str) -> str:
    """The user id of a user claim: lower-cased in ASCII only, otherwise kept exactly.

    No stripping, no Unicode case folding, no normalisation: two claims give the same id only
    when they differ in the case of ASCII letters. Raises `IdentityRefused` for an empty claim
    or one holding control or format characters.
    """
    problem = identity_problem(claim)
    if problem is not None:
        raise IdentityRefused(f"The user id {problem}.")
    return ascii_lower(claim)


def user_principal(user: str) -> str:
    """`user#<user id>` (the user id rule is applied, so a raw claim or email may be given)."""
    return USER_PREFIX + user_id(user)


def group_principal(group_id: str) -> str:
    """`group#<group id>`, the group id exactly as given; `IdentityRefused` when it is not one."""
    problem = identity_problem(group_id)
    if problem is not None:
        raise IdentityRefused(f"The group id {problem}.")
    return GROUP_PREFIX + group_id


def principals(user: str, groups: Iterable[str]) -> list[str]:
    """The grant principals of a user and their groups, without repeats, user first.

    Groups that cannot be group ids (empty, control or format characters) are left out: no
    grant can name them.
    """
    seen: dict[str, None] = {user_principal(user): None}
    for group in groups:
        if identity_problem(group) is None:
            seen.setdefault(GROUP_PREFIX + group, None)
    return list(seen)


# --- STS names derived from a user id (RoleSessionName and SourceIdentity). ---

IAM_NAME_PATTERN = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_IAM_UNSAFE = re.compile(r"[^\w+=,.@-]", re.ASCII)
_IAM_NAME_MAX = 64
_DIGEST_CHARS = 26  # base32 of SHA-256, 130 bits
_HASHED_SUFFIX = re.compile(rf"-[a-z2-7]{{{_DIGEST_CHARS}}}$")


def iam_name(user: str) -> str:
    """The `RoleSessionName` and `SourceIdentity` of a user id: `[\\w+=,.@-]{2,64}`, injective.

    A user id that already fits (2-64 characters of that set) and does not end like a hashed name
    is used as it is, so CloudTrail shows the address. Any other id becomes its characters with
    every one outside the set replaced by `-`, cut to fit, then `-` and 26 base32 characters of
    the SHA-256 of the exact id (UTF-8, surrogates escaped). Kept names never end in `-<26
    base32>`, hashed names always do, so the two never meet; two hashed names meet only if
    SHA-256 collides on 130 bits. User ids are ASCII lower-cased, so STS's case-insensitive
    comparisons of these names do not merge two users either.
    """
    if IAM_NAME_PATTERN.fullmatch(user) and not _HASHED_SUFFIX.search(user):
        return user
    raw = hashlib.sha256(user.encode("utf-8", "surrogatepass")).digest()
    digest = base64.b32encode(raw).decode("ascii").lower()[:_DIGEST_CHARS]
    safe = _IAM_UNSAFE.sub("-", user)[: _IAM_NAME_MAX - _DIGEST_CHARS - 1]
    return f"{safe or 'u'}-{digest}"


def grant_keys(user: str, groups: Iterable[str], environment: str) -> list[dict[str, str]]:
    """Every GRANTS_TABLE key that can match this user on this environment (and on `*`)."""
    environments = [environment] if environment == ALL_ENVIRONMENTS else [environment, "*"]
    return [
        {"principal": principal, "environment": env}
        for principal in principals(user, groups)
        for env in environments
    ]


def is_active(grant: Mapping[str, Any], now: float) -> bool:
    """A grant counts until its `expires_at` (epoch seconds) has passed; no expiry = forever."""
    expires_at = grant.get("expires_at")
    return expires_at is None or float(expires_at) > now


def effective_role(grants: Iterable[Mapping[str, Any]], now: float) -> str | None:
    """Highest role among the active grants given (already matched to user/groups/environment).

    Grants whose `rbac_role` is not a known role are ignored rather than trusted.
    """
    return highest(
        role
        for grant in grants
        if is_active(grant, now) and (role := canonical_role(grant.get("rbac_role"))) is not None
    )
