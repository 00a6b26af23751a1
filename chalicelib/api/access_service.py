"""GET /access/{email}: what a user may open, by the same rule authX applies at login.

The grants that match a user on an environment are selected with `authx.roles.grant_keys`
(the keys authX reads in its BatchGetItem) and ranked with `authx.roles.effective_role`.
"""

from __future__ import annotations

from typing import Any

from authx.roles import ALL_ENVIRONMENTS, effective_role, grant_keys, principals
from chalicelib.records import clock, environments_repo, grants_repo

from .environments_service import OFFBOARDED, login_url
from .grants_service import stored_expiry
from .settings import Settings


def access(settings: Settings, email: str, groups: list[str]) -> dict[str, Any]:
    found = grants_repo.for_principals(settings.grants_table, principals(email, groups))
    # expiries as numbers (an unreadable one counts as expired): stored data never fails this
    grants = [{**grant, "expires_at": stored_expiry(grant)} for grant in found]
    by_key = {(g["principal"], g["environment"]): g for g in grants}
    if any(g["environment"] == ALL_ENVIRONMENTS for g in grants):
        records = environments_repo.all_records(settings.environments_table)
    else:
        named = {g["environment"] for g in grants}
        found = environments_repo.get_many(settings.environments_table, named) if named else {}
        records = list(found.values())
    now = clock.now()
    environments = []
    for record in sorted(records, key=lambda r: r["name"]):
        if record.get("status") == OFFBOARDED:
            continue
        matched = [
            by_key[(key["principal"], key["environment"])]
            for key in grant_keys(email, groups, record["name"])
            if (key["principal"], key["environment"]) in by_key
        ]
        role = effective_role(matched, now)
        if role is None:
            continue
        entry: dict[str, Any] = {
            "environment": record["name"],
            "rbac_role": role,
            "status": record.get("status"),
        }
        url = login_url(record)
        if url:
            entry["login_url"] = url
        environments.append(entry)
    return {"user": email, "groups": groups, "environments": environments}
