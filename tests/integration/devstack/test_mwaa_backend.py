"""devstack's MWAA backend, driven through boto3 in process and through the server."""

from __future__ import annotations

import ipaddress
import json
import time

import pytest
from botocore.exceptions import ClientError

from .conftest import ACCOUNT, REGION, Stack, create_params


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def wait_for(stack: Stack, name: str, status: str, timeout: float = 10) -> dict:
    mwaa = stack.client("mwaa")
    deadline = time.monotonic() + timeout
    while True:
        environment = mwaa.get_environment(Name=name)["Environment"]
        if environment["Status"] == status or time.monotonic() > deadline:
            return environment
        time.sleep(0.1)


def test_create_then_get_returns_a_consistent_private_environment(stack: Stack) -> None:
    network = stack.network()
    mwaa = stack.client("mwaa")

    arn = mwaa.create_environment(**create_params("Env-1", network, Tags={"team": "data"}))["Arn"]
    environment = mwaa.get_environment(Name="Env-1")["Environment"]

    assert arn == f"arn:aws:airflow:{REGION}:{ACCOUNT}:environment/Env-1"
    assert environment["Arn"] == arn
    assert environment["Status"] == "AVAILABLE"
    assert environment["Name"] == "Env-1"
    assert environment["WebserverAccessMode"] == "PRIVATE_ONLY"
    assert environment["NetworkConfiguration"] == {
        "SubnetIds": network["subnets"],
        "SecurityGroupIds": [network["security_group"]],
    }
    assert environment["WebserverUrl"].endswith(
        f"-vpce.{environment['WebserverUrl'].split('.')[1]}.{REGION}.airflow.amazonaws.com"
    )
    assert environment["WebserverVpcEndpointService"].startswith(
        f"com.amazonaws.vpce.{REGION}.vpce-svc-"
    )
    assert environment["Tags"] == {"team": "data"}
    assert environment["LastUpdate"]["Status"] == "SUCCESS"
    assert environment["ExecutionRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/mwaa-execution"


def test_private_environment_has_a_web_server_endpoint_with_one_eni_per_subnet(
    stack: Stack,
) -> None:
    network = stack.network()
    mwaa, ec2 = stack.client("mwaa"), stack.client("ec2")
    mwaa.create_environment(**create_params("private", network))
    service = mwaa.get_environment(Name="private")["Environment"]["WebserverVpcEndpointService"]

    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "service-name", "Values": [service]}])[
        "VpcEndpoints"
    ]
    assert len(endpoints) == 1
    assert endpoints[0]["VpcId"] == network["vpc"]
    assert endpoints[0]["VpcEndpointType"] == "Interface"
    interfaces = ec2.describe_network_interfaces(
        NetworkInterfaceIds=endpoints[0]["NetworkInterfaceIds"]
    )["NetworkInterfaces"]

    assert sorted(eni["SubnetId"] for eni in interfaces) == sorted(network["subnets"])
    for eni in interfaces:
        subnet = ipaddress.ip_network(network["cidrs"][eni["SubnetId"]])
        assert ipaddress.ip_address(eni["PrivateIpAddress"]) in subnet
        assert eni["VpcId"] == network["vpc"]
    assert len({eni["PrivateIpAddress"] for eni in interfaces}) == 2


def test_public_environment_has_no_web_server_endpoint(stack: Stack) -> None:
    network = stack.network()
    mwaa = stack.client("mwaa")
    mwaa.create_environment(**create_params("public", network, WebserverAccessMode="PUBLIC_ONLY"))

    environment = mwaa.get_environment(Name="public")["Environment"]

    assert "WebserverVpcEndpointService" not in environment
    assert "-vpce." not in environment["WebserverUrl"]
    assert environment["WebserverUrl"].endswith(f".{REGION}.airflow.amazonaws.com")


def test_creation_stays_creating_for_the_configured_delay(slow_stack: Stack) -> None:
    network = slow_stack.network()
    mwaa = slow_stack.client("mwaa")
    mwaa.create_environment(**create_params("slow", network))

    assert mwaa.get_environment(Name="slow")["Environment"]["Status"] == "CREATING"
    assert wait_for(slow_stack, "slow", "AVAILABLE")["Status"] == "AVAILABLE"


def test_update_moves_through_updating_to_available(slow_stack: Stack) -> None:
    network = slow_stack.network()
    mwaa = slow_stack.client("mwaa")
    mwaa.create_environment(**create_params("upd", network))
    wait_for(slow_stack, "upd", "AVAILABLE")

    mwaa.update_environment(Name="upd", MaxWorkers=4, EnvironmentClass="mw1.medium")

    updating = mwaa.get_environment(Name="upd")["Environment"]
    assert updating["Status"] == "UPDATING"
    assert updating["LastUpdate"]["Source"] == "UPDATE"
    available = wait_for(slow_stack, "upd", "AVAILABLE")
    assert available["MaxWorkers"] == 4
    assert available["EnvironmentClass"] == "mw1.medium"


def test_update_while_creating_is_refused(slow_stack: Stack) -> None:
    network = slow_stack.network()
    mwaa = slow_stack.client("mwaa")
    mwaa.create_environment(**create_params("busy", network))

    with pytest.raises(ClientError) as excinfo:
        mwaa.update_environment(Name="busy", MaxWorkers=3)
    assert error_code(excinfo) == "ValidationException"


def test_delete_moves_through_deleting_to_gone_and_removes_endpoints(slow_stack: Stack) -> None:
    network = slow_stack.network()
    mwaa, ec2 = slow_stack.client("mwaa"), slow_stack.client("ec2")
    mwaa.create_environment(**create_params("doomed", network))
    wait_for(slow_stack, "doomed", "AVAILABLE")
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"]

    mwaa.delete_environment(Name="doomed")
    assert mwaa.get_environment(Name="doomed")["Environment"]["Status"] == "DELETING"
    time.sleep(1.2)

    with pytest.raises(ClientError) as excinfo:
        mwaa.get_environment(Name="doomed")
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []
    assert mwaa.list_environments()["Environments"] == []


def test_a_test_can_make_creation_end_create_failed(stack: Stack) -> None:
    network = stack.network()
    mwaa, ec2 = stack.client("mwaa"), stack.client("ec2")
    mwaa.create_environment(
        **create_params("broken", network, Tags={"devstack:create-outcome": "CREATE_FAILED"})
    )

    environment = mwaa.get_environment(Name="broken")["Environment"]

    assert environment["Status"] == "CREATE_FAILED"
    assert environment["LastUpdate"]["Status"] == "FAILED"
    assert environment["LastUpdate"]["Error"]["ErrorCode"] == "INCORRECT_CONFIGURATION"
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []


def test_customer_managed_private_endpoints_leave_the_environment_pending(stack: Stack) -> None:
    network = stack.network()
    mwaa, ec2 = stack.client("mwaa"), stack.client("ec2")
    mwaa.create_environment(**create_params("custom", network, EndpointManagement="CUSTOMER"))

    environment = mwaa.get_environment(Name="custom")["Environment"]

    assert environment["Status"] == "PENDING"
    assert environment["WebserverVpcEndpointService"]
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []


def test_list_environments_pages(stack: Stack) -> None:
    network = stack.network()
    mwaa = stack.client("mwaa")
    for name in ("a1", "b2", "c3"):
        mwaa.create_environment(**create_params(name, network))

    first = mwaa.list_environments(MaxResults=2)
    second = mwaa.list_environments(MaxResults=2, NextToken=first["NextToken"])
    paginated = [
        name
        for page in mwaa.get_paginator("list_environments").paginate(
            PaginationConfig={"PageSize": 1}
        )
        for name in page["Environments"]
    ]

    assert first["Environments"] == ["a1", "b2"]
    assert second["Environments"] == ["c3"]
    assert "NextToken" not in second
    assert paginated == ["a1", "b2", "c3"]


@pytest.mark.parametrize("max_results", [0, 26])
def test_list_environments_rejects_page_sizes_outside_1_to_25(
    stack: Stack, max_results: int
) -> None:
    mwaa = stack.client("mwaa", validate=False)
    with pytest.raises(ClientError) as excinfo:
        mwaa.list_environments(MaxResults=max_results)
    assert error_code(excinfo) == "ValidationException"


def test_web_login_token_is_fresh_and_names_the_web_server(stack: Stack) -> None:
    network = stack.network()
    mwaa = stack.client("mwaa")
    mwaa.create_environment(**create_params("tok", network))
    hostname = mwaa.get_environment(Name="tok")["Environment"]["WebserverUrl"]

    first = mwaa.create_web_login_token(Name="tok")
    second = mwaa.create_web_login_token(Name="tok")
    cli = mwaa.create_cli_token(Name="tok")

    assert first["WebServerHostname"] == hostname
    assert len(first["WebToken"]) > 64
    assert first["WebToken"] != second["WebToken"]
    assert cli["WebServerHostname"] == hostname
    assert cli["CliToken"] not in (first["WebToken"], second["WebToken"])


def test_tokens_are_refused_for_unknown_and_unavailable_environments(slow_stack: Stack) -> None:
    network = slow_stack.network()
    mwaa = slow_stack.client("mwaa")
    mwaa.create_environment(**create_params("young", network))

    with pytest.raises(ClientError) as unknown:
        mwaa.create_web_login_token(Name="ghost")
    with pytest.raises(ClientError) as creating:
        mwaa.create_web_login_token(Name="young")
    with pytest.raises(ClientError) as cli:
        mwaa.create_cli_token(Name="ghost")

    assert error_code(unknown) == "ResourceNotFoundException"
    assert error_code(creating) == "ValidationException"
    assert error_code(cli) == "ResourceNotFoundException"


def _session_policy(environment: str, role: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "airflow:CreateWebLoginToken",
                    "Resource": f"arn:aws:airflow:{REGION}:{ACCOUNT}:role/{environment}/{role}",
                }
            ],
        }
    )


def _role(stack: Stack, name: str) -> None:
    """A token role as the member template or platform setup makes it (STS needs it to exist)."""
    stack.client("iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                    }
                ],
            }
        ),
    )


def test_web_login_follows_the_session_policy_of_an_assumed_role(stack: Stack) -> None:
    network = stack.network()
    _role(stack, "mwaa-gate-viewer")
    stack.client("mwaa").create_environment(**create_params("scoped", network))
    credentials = stack.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/mwaa-gate-viewer",
        RoleSessionName="alice",
        SourceIdentity="alice@example.com",
        Policy=_session_policy("scoped", "Viewer"),
    )["Credentials"]
    as_alice = stack.client(
        "mwaa",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )

    token = as_alice.create_web_login_token(Name="scoped")

    assert token["IamIdentity"] == "assumed-role/mwaa-gate-viewer/alice"
    assert token["AirflowIdentity"].startswith("viewer:")


def test_web_login_is_denied_outside_the_session_policy(stack: Stack) -> None:
    network = stack.network()
    mwaa = stack.client("mwaa")
    mwaa.create_environment(**create_params("granted", network))
    mwaa.create_environment(**create_params("other", network))
    _role(stack, "mwaa-gate-admin")
    credentials = stack.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/mwaa-gate-admin",
        RoleSessionName="bob",
        Policy=_session_policy("granted", "Admin"),
    )["Credentials"]
    as_bob = stack.client(
        "mwaa",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )

    with pytest.raises(ClientError) as excinfo:
        as_bob.create_web_login_token(Name="other")

    assert error_code(excinfo) == "AccessDeniedException"
    assert as_bob.create_web_login_token(Name="granted")["AirflowIdentity"].startswith("admin:")


def test_sts_rejects_a_malformed_source_identity(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client("sts", validate=False).assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
            RoleSessionName="s",
            SourceIdentity="has spaces and/slash",
        )
    assert error_code(excinfo) == "ValidationError"


def test_tags_can_be_added_listed_and_removed(stack: Stack) -> None:
    network = stack.network()
    mwaa = stack.client("mwaa")
    arn = mwaa.create_environment(**create_params("tagged", network, Tags={"a": "1"}))["Arn"]

    mwaa.tag_resource(ResourceArn=arn, Tags={"b": "2", "mwaa-gate:environment": "tagged"})
    mwaa.untag_resource(ResourceArn=arn, tagKeys=["a"])

    assert mwaa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {
        "b": "2",
        "mwaa-gate:environment": "tagged",
    }


def test_tagging_an_unknown_environment_is_not_found(stack: Stack) -> None:
    mwaa = stack.client("mwaa")
    with pytest.raises(ClientError) as excinfo:
        mwaa.list_tags_for_resource(
            ResourceArn=f"arn:aws:airflow:{REGION}:{ACCOUNT}:environment/ghost"
        )
    assert error_code(excinfo) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("get_environment", {"Name": "ghost"}),
        ("delete_environment", {"Name": "ghost"}),
        ("update_environment", {"Name": "ghost", "MaxWorkers": 2}),
        ("create_web_login_token", {"Name": "ghost"}),
    ],
)
def test_unknown_environment_is_resource_not_found(
    stack: Stack, operation: str, kwargs: dict
) -> None:
    with pytest.raises(ClientError) as excinfo:
        getattr(stack.client("mwaa"), operation)(**kwargs)
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


BAD_CREATES = {
    "name starts with a digit": {"Name": "1env"},
    "name with a space": {"Name": "my env"},
    "name of 81 characters": {"Name": "e" * 81},
    "one subnet": {"subnets": 1},
    "three subnets": {"subnets": 3},
    "the same subnet twice": {"subnets": "twice"},
    "unknown subnet": {"subnets": "unknown"},
    "no security group": {"NetworkConfiguration.SecurityGroupIds": []},
    "six security groups": {"NetworkConfiguration.SecurityGroupIds": ["sg-1"] * 6},
    "unknown security group": {"NetworkConfiguration.SecurityGroupIds": ["sg-0000000000"]},
    "bad execution role": {"ExecutionRoleArn": "arn:aws:iam::12:role/x"},
    "bad bucket": {"SourceBucketArn": "my-bucket"},
    "unknown access mode": {"WebserverAccessMode": "OPEN"},
    "unknown environment class": {"EnvironmentClass": "mw9.huge"},
    "unknown create outcome": {"Tags": {"devstack:create-outcome": "MAYBE"}},
    "missing dag path": {"DagS3Path": None},
}


@pytest.mark.parametrize("case", list(BAD_CREATES))
def test_bad_create_environment_input_is_a_validation_exception(stack: Stack, case: str) -> None:
    network = stack.network()
    params = create_params("good", network)
    change = dict(BAD_CREATES[case])
    subnets = change.pop("subnets", None)
    if subnets == 1:
        params["NetworkConfiguration"]["SubnetIds"] = network["subnets"][:1]
    elif subnets == 3:
        params["NetworkConfiguration"]["SubnetIds"] = [*network["subnets"], network["spare_subnet"]]
    elif subnets == "twice":
        params["NetworkConfiguration"]["SubnetIds"] = [network["subnets"][0]] * 2
    elif subnets == "unknown":
        params["NetworkConfiguration"]["SubnetIds"] = ["subnet-0000000000", network["subnets"][0]]
    for key, value in change.items():
        if key.startswith("NetworkConfiguration."):
            params["NetworkConfiguration"][key.split(".", 1)[1]] = value
        elif value is None:
            params.pop(key)
        else:
            params[key] = value
    mwaa = stack.client("mwaa", validate=False)

    with pytest.raises(ClientError) as excinfo:
        mwaa.create_environment(**params)

    assert error_code(excinfo) == "ValidationException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert mwaa.list_environments()["Environments"] == []


def test_creating_an_existing_name_is_a_validation_exception(stack: Stack) -> None:
    network = stack.network()
    mwaa = stack.client("mwaa")
    mwaa.create_environment(**create_params("twin", network))

    with pytest.raises(ClientError) as excinfo:
        mwaa.create_environment(**create_params("twin", network))

    assert error_code(excinfo) == "ValidationException"
    assert "already exists" in excinfo.value.response["Error"]["Message"]
