"""Typed step failures. A step raises one; Lambda reports its class name as the error type,
which the state machine matches: `TransientAwsError` is retried with backoff and jitter,
anything else is caught, compensated and recorded on the environment as `error`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws_clients
from chalicelib.aws_clients import TRANSIENT_AWS_CODES


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


@contextmanager
def aws_call(what: str) -> Iterator[None]:
    """Name an AWS call in its failure and sort the failure into transient or not."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        text = f"{what} failed: {code}: {message}"
        if code in TRANSIENT_AWS_CODES or status >= 500:
            raise TransientAwsError(text) from error
        raise AwsCallFailed(text) from error
    except BotoCoreError as error:
        raise TransientAwsError(f"{what} failed: {error}") from error
    except aws_clients.MemberAccountUnavailable as error:
        raise MemberAccountUnavailable(str(error)) from error


@contextmanager
def member_account() -> Iterator[None]:
    """A member role that cannot be assumed, as the step error that names the template."""
    try:
        yield
    except aws_clients.MemberAccountUnavailable as error:
        raise MemberAccountUnavailable(str(error)) from error


class MemberAccountUnavailable(StepError):
    """The environment's account has not run the member template: its member role cannot be
    assumed (the message names the template and the role)."""


class UnsupportedEnvironment(StepError):
    """The environment uses something this service does not serve (e.g. PUBLIC_AND_PRIVATE)."""


class TeardownIncomplete(StepError):
    """Offboarding could not remove everything; the message lists what is left."""
