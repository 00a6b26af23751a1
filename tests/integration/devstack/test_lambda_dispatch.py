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


def test_a_functions_settings_are_seen_by_its_own_thread_only() -> None:
    import threading

    from devstack.lambdas import LayeredEnviron, layered_environ

    environ = layered_environ()
    assert isinstance(os.environ, LayeredEnviron)
    seen_elsewhere: list[str | None] = []
    inside = threading.Event()
    done = threading.Event()

    def other_thread() -> None:
        inside.wait()
        seen_elsewhere.append(os.environ.get("GREETING"))
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with environ.layered({"GREETING": "bonjour"}):
        assert os.environ["GREETING"] == "bonjour"
        assert "GREETING" in dict(os.environ.items())
        inside.set()
        done.wait(5)
    worker.join()

    assert seen_elsewhere == [None]
    assert "GREETING" not in os.environ


def test_vpc_peering_filters_select_what_they_name(stack: Stack) -> None:
    ec2 = stack.client("ec2")
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(3)]
    tagged = ec2.create_vpc_peering_connection(
        VpcId=vpcs[0],
        PeerVpcId=vpcs[1],
        TagSpecifications=[
            {"ResourceType": "vpc-peering-connection", "Tags": [{"Key": "k", "Value": "v"}]}
        ],
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    other = ec2.create_vpc_peering_connection(VpcId=vpcs[0], PeerVpcId=vpcs[2])[
        "VpcPeeringConnection"
    ]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=tagged)

    def ids(*filters: dict) -> list[str]:
        found = ec2.describe_vpc_peering_connections(Filters=list(filters))
        return [p["VpcPeeringConnectionId"] for p in found["VpcPeeringConnections"]]

    assert ids({"Name": "tag:k", "Values": ["v"]}) == [tagged]
    assert ids({"Name": "status-code", "Values": ["active"]}) == [tagged]
    assert ids(
        {"Name": "requester-vpc-info.vpc-id", "Values": [vpcs[0]]},
        {"Name": "accepter-vpc-info.vpc-id", "Values": [vpcs[2]]},
    ) == [other]
    assert ids({"Name": "vpc-peering-connection-id", "Values": [other]}) == [other]


def test_a_deployed_function_whose_handler_is_project_code_runs_with_its_configuration(
    stack: Stack,
) -> None:
    lam = stack.client("lambda")
    role = stack.client("iam").create_role(
        RoleName="sample", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    lam.create_function(
        FunctionName="sample-echo",
        Runtime="python3.11",
        Role=role,
        Handler="sample_handlers.echo.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Environment={"Variables": {"COLOUR": "teal"}},
    )

    response = lam.invoke(FunctionName="sample-echo", Payload=json.dumps({"say": "hi"}))

    assert json.loads(response["Payload"].read()) == {"said": "hi", "colour": "teal"}


@pytest.mark.parametrize("stack", ["server"], indirect=True)
def test_server_lambdas_get_stage_settings_given_at_runtime(stack: Stack, servers: dict) -> None:
    stack.client("mwaa").create_environment(**create_params("env", stack.network()))
    servers["0"].set_stage_settings({"RUNTIME_SETTING": "from-the-landscape"})
    try:
        response = stack.client("lambda").invoke(
            FunctionName="sample-local-describe", Payload=json.dumps({"name": "env"})
        )
    finally:
        servers["0"].set_stage_settings({})

    assert json.loads(response["Payload"].read())["runtime"] == "from-the-landscape"
