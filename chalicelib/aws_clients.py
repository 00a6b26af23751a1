"""boto3 clients, built once per process (DESIGN §7) and on first use.

The service's own clients (`dynamodb()`, `ec2()`…) act in its account and region. Where an
environment lives elsewhere (DESIGN §4 "Other accounts and regions"), `Location(account_id,
region)` gives its clients: the member role `<DEPLOYMENT_NAME>-member` of that account, assumed
once and renewed before its credentials expire, or the own credentials in another region.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError

# AWS error codes that mean "try again later" (throttling, a busy or failing service): botocore's
# own throttling and transient lists (retries/standard.py) and the codes EC2, ELBv2, MWAA and
# DynamoDB use for the same. Not `LimitExceededException`: most services mean a quota by it.
TRANSIENT_AWS_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Unavailable",
        "InternalServerError",
        "InternalServerException",
        "InternalError",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionInProgressException",
        "TransactionConflictException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
# HTTP statuses that mean the same whatever the code: too many requests, a server-side failure.
TRANSIENT_HTTP_STATUSES = frozenset({429, 500, 502, 503, 504})

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=10
)


@functools.cache
def dynamodb() -> Any:
    return boto3.client("dynamodb", config=_CONFIG)


@functools.cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions", config=_CONFIG)


@functools.cache
def ec2() -> Any:
    return boto3.client("ec2", config=_CONFIG)


@functools.cache
def elbv2() -> Any:
    return boto3.client("elbv2", config=_CONFIG)


@functools.cache
def mwaa() -> Any:
    return boto3.client("mwaa", config=_CONFIG)


@functools.cache
def secretsmanager() -> Any:
    return boto3.client("secretsmanager", config=_CONFIG)


# --- the environment's side: another account and/or region (DESIGN §4) ----------------------

MEMBER_ROLE_SUFFIX = "-member"
MEMBER_TEMPLATE = "templates/member-account.yaml"
MEMBER_SESSION_SECONDS = 3600


class MemberAccountUnavailable(Exception):
    """The member role of an account could not be assumed: the account has not run the member
    template (or runs it for another deployment or service account)."""

    def __init__(self, account_id: str, role_arn: str, code: str, message: str):
        self.account_id, self.role_arn, self.code = account_id, role_arn, code
        super().__init__(
            f"mwaa-gate cannot work in account {account_id}: assuming {role_arn} failed "
            f"({code}: {message}). Deploy the member-account template {MEMBER_TEMPLATE} in that "
            "account (one stack, or a StackSet over the organisation) with this deployment's "
            "name and service account id"
        )


def deployment_name() -> str:
    return os.environ.get("DEPLOYMENT_NAME", "").strip() or "mwaa-gate"


@functools.cache
def own_identity() -> tuple[str, str]:
    """(account id, partition) of the service's own credentials; asked once per process."""
    arn = sts().get_caller_identity()["Arn"]
    _, partition, _, _, account, _ = arn.split(":", 5)
    return account, partition


def own_region() -> str:
    return str(ec2().meta.region_name)


@functools.cache
def sts() -> Any:
    return boto3.client("sts", config=_CONFIG)


def member_role_arn(account_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:role/{deployment_name()}{MEMBER_ROLE_SUFFIX}"


_lock = threading.Lock()
_sessions: dict[tuple[str, str], boto3.Session] = {}
_clients: dict[tuple[str, str, str, str], Any] = {}


def _member_session(account_id: str) -> boto3.Session:
    """A session on the member role of `account_id`, its credentials refreshed before they
    expire (botocore's RefreshableCredentials): one AssumeRole per hour, not per call."""
    _, partition = own_identity()
    role_arn = member_role_arn(account_id, partition)
    key = (account_id, role_arn)
    with _lock:
        found = _sessions.get(key)
    if found is not None:
        return found

    def assume() -> dict[str, str]:
        try:
            answer = sts().assume_role(
                RoleArn=role_arn,
                RoleSessionName=f"{deployment_name()}-steps"[:64],
                DurationSeconds=MEMBER_SESSION_SECONDS,
            )
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code", ""))
            if code in TRANSIENT_AWS_CODES:
                raise
            raise MemberAccountUnavailable(
                account_id, role_arn, code, str(details.get("Message", ""))
            ) from error
        credentials = answer["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    refreshable = RefreshableCredentials.create_from_metadata(
        metadata=assume(), refresh_using=assume, method="sts-assume-role"
    )
    core = botocore.session.get_session()
    core._credentials = refreshable  # the usual way to give a session renewing credentials
    session = boto3.Session(botocore_session=core)
    with _lock:
        return _sessions.setdefault(key, session)


def client_in(service: str, account_id: str | None = None, region: str | None = None) -> Any:
    """A client for `service` where an environment lives: the service's own credentials in its
    own account (any region), the member role in another account. Made once per process per
    (account, region, service) and kept: the credentials renew themselves."""
    own_account = own_identity()[0] if account_id else None
    member = account_id if account_id and account_id != own_account else None
    place = region or own_region()
    if member is None and place == own_region():
        return _OWN[service]()
    key = (member or "", place, service, deployment_name())
    with _lock:
        found = _clients.get(key)
    if found is not None:
        return found
    if member is None:
        made = boto3.client(service, region_name=place, config=_CONFIG)
    else:
        made = _member_session(member).client(service, region_name=place, config=_CONFIG)
    with _lock:
        return _clients.setdefault(key, made)


@dataclass(frozen=True)
class Location:
    """Where an environment lives: `account_id` and `region`, None meaning the service's own."""

    account_id: str | None = None
    region: str | None = None

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Location:
        return cls(record.get("account_id") or None, record.get("region") or None)

    def ec2(self) -> Any:
        return client_in("ec2", self.account_id, self.region)

    def mwaa(self) -> Any:
        return client_in("mwaa", self.account_id, self.region)

    def check(self) -> None:
        """Assume the member role now (if another account), so a missing template is named
        before anything is made."""
        if self.account_id and self.account_id != own_identity()[0]:
            _member_session(self.account_id)

    @property
    def other_account(self) -> bool:
        return bool(self.account_id) and self.account_id != own_identity()[0]

    @property
    def other_region(self) -> bool:
        return bool(self.region) and self.region != own_region()


_OWN = {"ec2": ec2, "mwaa": mwaa, "elbv2": elbv2}


def forget_member_clients() -> None:
    """Drop member sessions and clients (tests: each embedded AWS issues its own credentials)."""
    with _lock:
        _sessions.clear()
        _clients.clear()
    own_identity.cache_clear()
