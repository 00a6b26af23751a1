"""boto3 clients, built once per process (DESIGN §7) and on first use."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

# AWS error codes that mean "try again later" (throttling, a busy or failing service).
TRANSIENT_AWS_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalFailure",
        "TransactionInProgressException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)

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
