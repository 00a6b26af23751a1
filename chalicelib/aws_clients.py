"""boto3 clients, built once per process (DESIGN §7) and on first use."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

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
