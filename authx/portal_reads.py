"""The DynamoDB reads behind a portal page (and nothing else: no STS, no MWAA).

1. Every grant of the user's principals: one Query per principal (the user and each group;
   one page each unless a principal holds about a megabyte of grants), run up to
   `MAX_PARALLEL_QUERIES` at a time.
2. The environment records those grants can match: a BatchGetItem per 100 names, or, when an
   active `*` grant applies, a projected Scan of the environments table (one call per
   megabyte of table).

So a user with G groups whose grants name E environments costs (1 + G) + ⌈E / 100⌉ calls:
53 for 50 groups and 200 environments (`bench/portal.py` prints the figure).
"""

from __future__ import annotations

from typing import Any

from authx import access, aws, dynamo, roles
from authx.settings import Settings
from authx.token import Identity

GRANT_ATTRIBUTES = ["principal", "environment", "rbac_role", "expires_at"]
ENVIRONMENT_ATTRIBUTES = ["name", "status", "login_host", access.CLAIM_OF]
MAX_PARALLEL_QUERIES = 8


def grants(settings: Settings, principals: list[str]) -> list[dict[str, Any]]:
    """Every grant of these principals, on any environment."""

    def of(principal: str) -> list[dict[str, Any]]:
        return dynamo.query(
            settings.region, settings.grants_table, "principal", principal, GRANT_ATTRIBUTES
        )

    if len(principals) <= 1:
        return [grant for principal in principals for grant in of(principal)]
    from concurrent.futures import ThreadPoolExecutor  # only the portal pays for the import

    aws.client("dynamodb", settings.region)  # made once, here, not raced for by the threads

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_QUERIES, len(principals))) as pool:
        return [grant for found in pool.map(of, principals) for grant in found]


def environments(
    settings: Settings, grants: list[dict[str, Any]], now: float
) -> list[dict[str, Any]]:
    """The environment records the grants can match (none read when no grant is active)."""
    table = settings.environments_table
    if access.needs_every_environment(grants, now):
        return dynamo.scan(settings.region, table, ENVIRONMENT_ATTRIBUTES)
    names = sorted(access.named_environments(grants, now))
    if not names:
        return []
    found = dynamo.batch_get(
        settings.region,
        [(table, {"name": name}) for name in names],
        {table: ENVIRONMENT_ATTRIBUTES},
    )
    return found.get(table, [])


def for_identity(settings: Settings, identity: Identity, now: float) -> list[access.Access]:
    """What the signed-in user may open, by the `GET /access` rule."""
    found = grants(settings, roles.principals(identity.user, identity.groups))
    records = environments(settings, found, now)
    return access.effective_access(identity.user, identity.groups, found, records, now)
