"""The `GET /access` rule of DESIGN §3, in one place: what a user may open, and as what.

Pure functions over grant items and environment records (plain dictionaries, as DynamoDB holds
them): authX's portal and the admin API's `GET /access/{email}` both call `effective_access`, so
the page a user sees and the answer an administrator gets list the same environments with the
same roles. The rule: every environment that is not OFFBOARDED on which the user has an effective
role (`authx.roles`: the highest active grant of the user or one of their groups, on the
environment or on `*`); it can be opened only when READY. No AWS, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from authx.roles import (
    ALL_ENVIRONMENTS,
    ROLES,
    canonical_role,
    effective_role,
    grant_keys,
    is_active,
)

READY = "READY"
OFFBOARDED = "OFFBOARDED"
CLAIM_OF = "claim_of"  # hostname and slot claims share the environments table; never listed


@dataclass(frozen=True)
class Access:
    """One environment a user may open (or will, once it is READY)."""

    environment: str
    rbac_role: str
    status: str | None
    login_host: str | None  # set only when the environment is READY
    expires_at: int | None  # when the effective role ends (epoch seconds); None: no end

    @property
    def ready(self) -> bool:
        return self.status == READY and self.login_host is not None

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles the user may ask for here: the effective one, then each lower one."""
        return ROLES[ROLES.index(self.rbac_role) :]


def _principal_environment(grant: Mapping[str, Any]) -> tuple[Any, Any]:
    return grant.get("principal"), grant.get("environment")


def needs_every_environment(grants: Iterable[Mapping[str, Any]], now: float) -> bool:
    """Whether an active `*` grant applies, so every environment record must be read."""
    return any(g.get("environment") == ALL_ENVIRONMENTS and _counts(g, now) for g in grants)


def named_environments(grants: Iterable[Mapping[str, Any]], now: float) -> set[str]:
    """The environments that active grants name (without `*`): the records worth reading."""
    return {
        g["environment"]
        for g in grants
        if isinstance(g.get("environment"), str)
        and g["environment"] != ALL_ENVIRONMENTS
        and _counts(g, now)
    }


def _counts(grant: Mapping[str, Any], now: float) -> bool:
    return canonical_role(grant.get("rbac_role")) is not None and _active(grant, now)


def _active(grant: Mapping[str, Any], now: float) -> bool:
    try:
        return is_active(grant, now)
    except (TypeError, ValueError):  # an expiry that is not a number: the grant is not trusted
        return False


def _epoch(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None


def role_expiry(grants: Iterable[Mapping[str, Any]], role: str, now: float) -> int | None:
    """When `role` ends: the latest expiry among the active grants giving it; None if one of
    them never expires."""
    latest: int | None = None
    for grant in grants:
        if canonical_role(grant.get("rbac_role")) != role or not _active(grant, now):
            continue
        expires = _epoch(grant.get("expires_at"))
        if expires is None:
            return None
        latest = expires if latest is None else max(latest, expires)
    return latest


def effective_access(
    user: str,
    groups: Iterable[str],
    grants: Iterable[Mapping[str, Any]],
    records: Iterable[Mapping[str, Any]],
    now: float,
) -> list[Access]:
    """Each environment among `records` that the user may open, by name.

    `grants` are the grant items of the user's principals (others are ignored, as are grants
    with an unknown role or a bad expiry); `records` the environment records that may match
    (claim items and records without a name are skipped).
    """
    groups = list(groups)
    by_key = {_principal_environment(g): g for g in grants}
    found: list[Access] = []
    seen: set[str] = set()
    for record in records:
        name = record.get("name")
        if not isinstance(name, str) or CLAIM_OF in record or name in seen:
            continue
        seen.add(name)
        status = record.get("status")
        if status == OFFBOARDED:
            continue
        matched = [
            by_key[(key["principal"], key["environment"])]
            for key in grant_keys(user, groups, name)
            if (key["principal"], key["environment"]) in by_key
        ]
        matched = [g for g in matched if _active(g, now)]
        role = effective_role(matched, now)
        if role is None:
            continue
        host = record.get("login_host")
        ready = status == READY and isinstance(host, str) and bool(host)
        found.append(
            Access(
                environment=name,
                rbac_role=role,
                status=status if isinstance(status, str) else None,
                login_host=host if ready else None,
                expires_at=role_expiry(matched, role, now),
            )
        )
    return sorted(found, key=lambda access: access.environment)
