"""In-process Lambda dispatch: by name or ARN, stage settings applied, errors like Lambda's."""

from __future__ import annotations

import json
import os

import pytest
from botocore.exceptions import ClientError

import devstack
from devstack.lambdas import ChaliceProject

from .conftest import ACCOUNT, REGION, SAMPLE_PROJECT, Stack, create_params


@pytest.mark.parametrize(
    "function_name",
    [
        "sample-local-describe",
        f"{ACCOUNT}:function:sample-local-describe",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sample-local-describe",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sample-local-describe:$LATEST",
    ],
)
def test_function_is_found_by_name_and_arn(stack: Stack, function_name: str) -> None:
    stack.client("mwaa").create_environment(**create_params("env", stack.network()))

    response = stack.client("lambda").invoke(
        FunctionName=function_name, Payload=json.dumps({"name": "env"})
    )

    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["status"] == "AVAILABLE"


def test_raising_function_answers_a_lambda_error_payload(stack: Stack) -> None:
    response = stack.client("lambda").invoke(
        FunctionName="sample-local-explode", Payload=json.dumps({"what": "x"})
    )

    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "cannot handle x"


def test_other_functions_are_left_to_moto(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client("lambda").invoke(FunctionName="not-a-chalice-function", Payload=b"{}")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_stage_settings_are_applied_only_during_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GREETING", raising=False)
    project = ChaliceProject(SAMPLE_PROJECT, "local")

    assert project.environment("describe") == {"GREETING": "bonjour", "STAGE_ONLY": "local-value"}
    assert project.environment("explode") == {"GREETING": "hello", "STAGE_ONLY": "local-value"}
    with devstack.aws(project_dir=SAMPLE_PROJECT):
        import boto3

        boto3.client("lambda", region_name=REGION).invoke(
            FunctionName="sample-local-explode", Payload=b"{}"
        )
    assert "GREETING" not in os.environ


def test_in_process_devstack_refuses_to_start_with_an_endpoint_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    with pytest.raises(RuntimeError, match="AWS_ENDPOINT_URL"), devstack.aws():
        pass


def test_server_settings_stay_in_the_server_process(stack: Stack) -> None:
    # Whatever mode ran, the test process itself never points at an endpoint.
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert "MOTO_PORT" not in os.environ
    assert "AWS_DISABLE_HOST_PREFIX_INJECTION" not in os.environ
