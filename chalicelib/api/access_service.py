"""GET /access/{email}: what a user may open, by the rule authX's portal applies (`authx.access`).

Reads: every grant of the user's principals (a Query each), then only the environment records
those grants can match (BatchGetItem by name), or every record when an active `*` grant applies.
"""

from __future__ import annotations

from typing import Any

from authx import access as access_rule
from authx.roles import principals
from chalicelib.records import clock, environments_repo, grants_repo

from .environments_service import login_url
from .settings import Settings


def access(settings: Settings, email: str, groups: list[str]) -> dict[str, Any]:
    grants = grants_repo.for_principals(settings.grants_table, principals(email, groups))
    now = clock.now()
    if access_rule.needs_every_environment(grants, now):
        records = environments_repo.all_records(settings.environments_table)
    else:
        named = access_rule.named_environments(grants, now)
        found = environments_repo.get_many(settings.environments_table, named) if named else {}
        records = list(found.values())
    environments = []
    for entry in access_rule.effective_access(email, groups, grants, records, now):
        item: dict[str, Any] = {
            "environment": entry.environment,
            "rbac_role": entry.rbac_role,
            "status": entry.status,
        }
        url = login_url({"status": entry.status, "login_host": entry.login_host})
        if url:
            item["login_url"] = url
        environments.append(item)
    return {"user": email, "groups": groups, "environments": environments}
