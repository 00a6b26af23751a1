"""The one classification of AWS errors for the workflow steps, and the state machines'
Retry lists that act on it."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from chalicelib import state_machines
from chalicelib.workflow import errors

# What AWS recommends retrying when a Task invokes Lambda (Step Functions' best practices).
LAMBDA_TRANSIENT = {
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def client_error(code: str, status: int = 400, operation: str = "UpdateItem") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
        "TransactionConflictException",
    ],
)
def test_throttling_and_busy_services_are_transient(code: str) -> None:
    error = errors.classify(client_error(code))
    assert isinstance(error, errors.TransientAwsError)
    assert str(error) == f"UpdateItem failed: {code}: m"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_statuses_that_mean_try_later_are_transient_whatever_the_code(status: int) -> None:
    assert isinstance(errors.classify(client_error("Odd", status)), errors.TransientAwsError)


@pytest.mark.parametrize(
    "code",
    ["AccessDenied", "AccessDeniedException", "ValidationException", "LimitExceededException"],
)
def test_refusals_are_not_retried(code: str) -> None:
    error = errors.classify(client_error(code), "dynamodb:UpdateItem")
    assert type(error) is errors.AwsCallFailed
    assert str(error).startswith("dynamodb:UpdateItem failed: ")


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://x"),
        ConnectTimeoutError(endpoint_url="https://x"),
        EndpointConnectionError(endpoint_url="https://x"),
        CredentialRetrievalError(provider="container-role", error_msg="timed out"),
    ],
)
def test_timeouts_and_lost_connections_are_transient(error: Exception) -> None:
    assert isinstance(errors.classify(error, "mwaa:GetEnvironment"), errors.TransientAwsError)


@pytest.mark.parametrize(
    "error", [ParamValidationError(report="bad"), NoCredentialsError()], ids=["param", "creds"]
)
def test_botocore_errors_that_a_retry_cannot_fix_are_not_retried(error: Exception) -> None:
    assert type(errors.classify(error)) is errors.AwsCallFailed


def test_an_aws_error_escaping_a_step_is_classified_with_its_operation() -> None:
    @errors.classified
    def step(event: dict) -> dict:
        raise client_error("ProvisionedThroughputExceededException", operation="GetItem")

    with pytest.raises(errors.TransientAwsError, match="GetItem failed"):
        step({})


def test_every_step_function_classifies_what_escapes_it() -> None:
    from chalicelib.workflow import steps

    for name in set().union(*(state_machines.placeholders(n) for n in state_machines.NAMES)):
        assert getattr(steps, name).__wrapped__, name  # functools.wraps of `classified`


@pytest.mark.parametrize("machine", state_machines.NAMES)
def test_every_task_retries_transient_errors_and_lambdas_own(machine: str) -> None:
    definition = json.loads(state_machines.template(machine))
    tasks = {k: s for k, s in definition["States"].items() if s["Type"] == "Task"}
    assert tasks
    for name, task in tasks.items():
        retried = {error for retry in task["Retry"] for error in retry["ErrorEquals"]}
        assert retried >= {"TransientAwsError", *LAMBDA_TRANSIENT}, name
        assert "States.ALL" not in retried, name  # refusals are caught, never retried
        assert all(retry["JitterStrategy"] == "FULL" for retry in task["Retry"]), name
        assert [c["ErrorEquals"] for c in task["Catch"]] == [["States.ALL"]], name
