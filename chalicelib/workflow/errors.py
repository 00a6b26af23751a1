"""Typed step failures, and the one place where AWS errors are sorted into them.

A step raises a `StepError`; Lambda reports its class name as the error type, which the state
machine matches: `TransientAwsError` is retried with backoff and jitter, anything else is
caught, compensated and recorded on the environment as `error`.

Every AWS error of every step goes through `classify`: `aws_call` names the call where a step
makes it, and `classified` (around every step function) sorts whatever still escapes — a
DynamoDB record read or write, a call made outside an `aws_call` — so that no `ClientError` or
`BotoCoreError` ever reaches the state machine unsorted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    IncompleteReadError,
)

from chalicelib import aws_clients
from chalicelib.aws_clients import TRANSIENT_AWS_CODES, TRANSIENT_HTTP_STATUSES

# botocore errors that a later attempt can get past: connection failures and timeouts (after
# botocore's own retries), a response cut short, credentials that could not be fetched now.
TRANSIENT_BOTOCORE = (
    ConnectionError,
    HTTPClientError,
    IncompleteReadError,
    CredentialRetrievalError,
)


class StepError(Exception):
    """A failure with a message meant for the platform team."""


class TransientAwsError(StepError):
    """Throttling or a 5xx from AWS: the state machine retries the step."""


class AwsCallFailed(StepError):
    """AWS refused a call (AccessDenied, a limit, a bad parameter…): not retried."""


class ConfigurationError(StepError):
    """The stage's settings are missing or wrong."""


class WrongExecution(StepError):
    """The record belongs to another execution, or is not in the state this step expects."""


class EnvironmentUnavailable(StepError):
    """The MWAA environment is missing or not AVAILABLE (attach), or disappeared."""


class EnvironmentCreationFailed(StepError):
    """MWAA ended the creation in CREATE_FAILED/UNAVAILABLE (its reason is in the message)."""


class CreationTimedOut(StepError):
    """The environment did not become AVAILABLE before the workflow's deadline."""


class NetworkConflict(StepError):
    """Overlapping CIDRs, or a route table that already routes the CIDR elsewhere."""


class CapacityExhausted(StepError):
    """The ALB has no room for another private environment (target groups or rules)."""


class HostnameInUse(StepError):
    """Another environment holds the host this one would be served on."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def classify(error: ClientError | BotoCoreError, what: str | None = None) -> StepError:
    """The step error for an AWS error: transient (retried) or not. `what` names the call
    (`ec2:CreateRoute`); without it, the operation botocore reports is used."""
    if isinstance(error, ClientError):
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        text = f"{what or error.operation_name} failed: {code}: {message}"
        if code in TRANSIENT_AWS_CODES or status in TRANSIENT_HTTP_STATUSES or status >= 500:
            return TransientAwsError(text)
        return AwsCallFailed(text)
    text = f"{what + ' failed: ' if what else ''}{type(error).__name__}: {error}"
    if isinstance(error, TRANSIENT_BOTOCORE):
        return TransientAwsError(text)
    return AwsCallFailed(text)


@contextmanager
def aws_call(what: str) -> Iterator[None]:
    """Name an AWS call in its failure and sort the failure into transient or not."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise classify(error, what) from error
    except aws_clients.MemberAccountUnavailable as error:
        raise MemberAccountUnavailable(str(error)) from error


Step = TypeVar("Step", bound=Callable[..., Any])


def classified(step: Step) -> Step:
    """Around a step function: any AWS error that escapes it is sorted by `classify`, and a
    member role that cannot be assumed becomes the error that names the member template."""

    @functools.wraps(step)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return step(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise classify(error) from error
        except aws_clients.MemberAccountUnavailable as error:
            raise MemberAccountUnavailable(str(error)) from error

    return run  # type: ignore[return-value]


class MemberAccountUnavailable(StepError):
    """The environment's account has not run the member template: its member role cannot be
    assumed (the message names the template and the role)."""


class UnsupportedEnvironment(StepError):
    """The environment uses something this service does not serve (e.g. PUBLIC_AND_PRIVATE)."""


class TeardownIncomplete(StepError):
    """Offboarding could not remove everything; the message lists what is left."""
