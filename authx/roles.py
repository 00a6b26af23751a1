"""The Airflow role rule of DESIGN §2, in one place.

Used by the authX Lambda at login and by the admin API (`GET /access/{email}`), so both answer
the same question the same way. Pure functions over plain values: no AWS, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Highest first: Admin > Op > User > Viewer > Public.
ROLES: tuple[str, ...] = ("Admin", "Op", "User", "Viewer", "Public")
ALL_ENVIRONMENTS = "*"
USER_PREFIX = "user#"
GROUP_PREFIX = "group#"

_RANK = {role: len(ROLES) - index for index, role in enumerate(ROLES)}
_CANONICAL = {role.lower(): role for role in ROLES}


def canonical_role(name: object) -> str | None:
    """The canonical spelling of an Airflow role name, matched exactly but case-insensitively.

    Never by substring: ``"admin"`` → ``"Admin"``; ``"Administrator"``, ``"op "`` → ``None``.
    """
    if not isinstance(name, str):
        return None
    return _CANONICAL.get(name.lower())


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


def user_principal(email: str) -> str:
    return USER_PREFIX + email.strip().lower()


def group_principal(group_id: str) -> str:
    return GROUP_PREFIX + group_id


def principals(email: str, groups: Iterable[str]) -> list[str]:
    """The grant principals of a user and their groups, without repeats, user first."""
    seen: dict[str, None] = {user_principal(email): None}
    for group in groups:
        if group:
            seen.setdefault(group_principal(group), None)
    return list(seen)


def grant_keys(email: str, groups: Iterable[str], environment: str) -> list[dict[str, str]]:
    """Every GRANTS_TABLE key that can match this user on this environment (and on `*`)."""
    environments = [environment] if environment == ALL_ENVIRONMENTS else [environment, "*"]
    return [
        {"principal": principal, "environment": env}
        for principal in principals(email, groups)
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
