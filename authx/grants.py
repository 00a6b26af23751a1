"""The grant lookup of DESIGN §2: one BatchGetItem for the environment and every matching grant.

Keys are the user's and each group's principal on the environment and on `*` (from
`authx.roles.grant_keys`), plus the environment's own record, all in one request; past
BatchGetItem's 100 keys they are split into as few requests as the limit allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authx import dynamo, roles
from authx.settings import Settings
from authx.token import Identity

_GRANT_ATTRIBUTES = ["principal", "environment", "rbac_role", "expires_at"]
# where the MWAA environment is (DESIGN §2): its account, region and name in MWAA; and its
# Airflow version (which web login path to send the browser to)
_ENVIRONMENT_ATTRIBUTES = [
    "name",
    "status",
    "login_host",
    "account_id",
    "region",
    "mwaa_name",
    "airflow_version",
]


@dataclass(frozen=True)
class Lookup:
    environment: dict[str, Any] | None
    grants: list[dict[str, Any]]


def lookup(settings: Settings, environment: str, identity: Identity) -> Lookup:
    """The environment's record and every grant that can apply to this user on it."""
    keys = [(settings.environments_table, {"name": environment})]
    keys.extend(
        (settings.grants_table, key)
        for key in roles.grant_keys(identity.user, identity.groups, environment)
    )
    found = dynamo.batch_get(
        settings.region,
        keys,
        {
            settings.environments_table: _ENVIRONMENT_ATTRIBUTES,
            settings.grants_table: _GRANT_ATTRIBUTES,
        },
    )
    records = [
        r for r in found.get(settings.environments_table, []) if r.get("name") == environment
    ]
    return Lookup(
        environment=records[0] if records else None,
        grants=found.get(settings.grants_table, []),
    )
