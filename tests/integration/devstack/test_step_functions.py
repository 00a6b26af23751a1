"""Real ASL on devstack: aws-sdk MWAA tasks, a Wait/poll loop, and a Chalice Lambda task."""

from __future__ import annotations

import json
import time
from typing import Any

from .conftest import ACCOUNT, REGION, SAMPLE_PROJECT, Stack

ASL = (SAMPLE_PROJECT / "create_and_describe.asl.json").read_text()


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sample-local-{name}"


def run(stack: Stack, definition: str, execution_input: dict[str, Any]) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="under-test",
        definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/states",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))
    deadline = time.monotonic() + 60
    while True:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


def test_create_poll_until_available_then_invoke_a_chalice_function(slow_stack: Stack) -> None:
    network = slow_stack.network()
    definition = ASL.replace("${DescribeFunctionArn}", function_arn("describe"))

    execution = run(
        slow_stack,
        definition,
        {
            "name": "from-asl",
            "subnets": network["subnets"],
            "security_groups": [network["security_group"]],
            "polls": {"count": 0},
        },
    )

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    # The environment was CREATING for a second, so the loop went round at least once.
    assert output["polls"]["count"] >= 1
    assert output["poll"] == {"status": "AVAILABLE"}
    assert output["result"]["described"] == {
        "name": "from-asl",
        "status": "AVAILABLE",
        "greeting": "bonjour",  # the function's own stage setting wins over the app's
        "stage_only": "local-value",
        "runtime": None,
        "function_name": "sample-local-describe",
    }
    environment = slow_stack.client("mwaa").get_environment(Name="from-asl")["Environment"]
    assert environment["Status"] == "AVAILABLE"


def test_a_raising_function_fails_the_task_with_its_error_type(stack: Stack) -> None:
    definition = json.dumps(
        {
            "StartAt": "Explode",
            "States": {
                "Explode": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": function_arn("explode"), "Payload.$": "$"},
                    "Catch": [
                        {"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Caught"}
                    ],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            },
        }
    )

    execution = run(stack, definition, {"what": "the truth"})

    assert execution["status"] == "SUCCEEDED"
    caught = json.loads(execution["output"])["error"]
    assert caught["Error"] == "ValueError"
    assert json.loads(caught["Cause"])["errorMessage"] == "cannot handle the truth"


def test_an_aws_sdk_error_reaches_the_state_machine_as_mwaa_error(stack: Stack) -> None:
    definition = json.dumps(
        {
            "StartAt": "Get",
            "States": {
                "Get": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:mwaa:getEnvironment",
                    "Parameters": {"Name": "ghost"},
                    "End": True,
                }
            },
        }
    )

    execution = run(stack, definition, {})

    assert execution["status"] == "FAILED"
    assert execution["error"] == "Mwaa.ResourceNotFoundException"
