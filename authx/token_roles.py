"""Where a sign-in goes in AWS: the environment's account, region and MWAA name, and the token
role authX assumes there for an Airflow role (DESIGN §4 "Other accounts and regions", §5).

Token roles are `<DEPLOYMENT_NAME>-airflow-<Role>` in every account, so one setting forms them
all: `RBAC_ROLE_ARN_PATTERN`, e.g. `arn:aws:iam::{account}:role/mwaa-gate-prod-airflow-{role}`.
Without it, `RBAC_ROLE_ARNS` (Airflow role → ARN) still serves environments of the account those
ARNs are in, as before; an environment in another account is then a configuration error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authx.errors import Misconfigured

# The pattern's account field is exactly `{account}`; `{role}` once, in the role name.
PATTERN = re.compile(
    r"^arn:(aws[a-z-]*):iam::\{account\}:role/([\w+=,.@/-]*)\{role\}([\w+=,.@/-]*)$"
)
ACCOUNT = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")
MWAA_NAME = re.compile(r"^[A-Za-z][0-9A-Za-z_-]{0,79}$")


@dataclass(frozen=True)
class RbacRole:
    """The IAM role assumed to log in as one Airflow role, and where it lives."""

    arn: str
    partition: str
    account: str


@dataclass(frozen=True)
class Target:
    """The MWAA environment behind an mwaa-gate environment record."""

    name: str  # the environment's name in mwaa-gate (the record's key)
    mwaa_name: str  # its name in MWAA
    account: str | None  # None: the account of RBAC_ROLE_ARNS (records older than accounts)
    region: str


def check_pattern(raw: str) -> str:
    if not PATTERN.fullmatch(raw):
        raise Misconfigured(
            "RBAC_ROLE_ARN_PATTERN must be an IAM role ARN with {account} as its account and "
            "{role} in its name, e.g. arn:aws:iam::{account}:role/mwaa-gate-airflow-{role}"
        )
    return raw


def target(record: Mapping[str, Any], name: str, default_region: str) -> Target:
    """Where `record` (an environments-table item) says its MWAA environment is."""
    account = record.get("account_id") or None
    region = record.get("region") or default_region
    mwaa_name = record.get("mwaa_name") or name
    if account is not None and not (isinstance(account, str) and ACCOUNT.fullmatch(account)):
        raise Misconfigured(f"The environment {name!r} names no valid AWS account.")
    if not (isinstance(region, str) and REGION.fullmatch(region)):
        raise Misconfigured(f"The environment {name!r} names no valid AWS region.")
    if not (isinstance(mwaa_name, str) and MWAA_NAME.fullmatch(mwaa_name)):
        raise Misconfigured(f"The environment {name!r} names no valid MWAA environment.")
    return Target(name=name, mwaa_name=mwaa_name, account=account, region=region)


def role_for(
    pattern: str | None, explicit: Mapping[str, RbacRole], account: str | None, role: str
) -> RbacRole:
    """The token role for the Airflow `role` in `account`: from the pattern when it is set;
    else from RBAC_ROLE_ARNS, which holds roles of one account only."""
    if pattern is not None and account is not None:
        match = PATTERN.fullmatch(pattern)
        partition = match.group(1) if match else "aws"
        arn = pattern.replace("{account}", account).replace("{role}", role)
        return RbacRole(arn=arn, partition=partition, account=account)
    explicit_role = explicit.get(role)
    if explicit_role is None:
        raise Misconfigured(f"No IAM role is configured for the Airflow role {role}.")
    if account is not None and explicit_role.account != account:
        raise Misconfigured(
            f"No token role is configured for account {account}: set RBAC_ROLE_ARN_PATTERN so "
            "that authX can sign in to environments of every account."
        )
    return explicit_role
