"""Failures: each step's AWS call refused → FAILED with the cause and nothing left behind;
throttling retried; a re-run after a failure or over a half-made setup makes no duplicates."""

from __future__ import annotations

import pytest

from .conftest import World, aws, create_parameters

NOTHING = {"peerings": [], "security_group_rules": [], "elb": [], "mwaa": []}

# (the app's client, the operation refused, the step that makes that call)
STEP_CALLS = [
    ("elbv2", "DescribeAccountLimits", "onboard_validate"),
    ("mwaa", "CreateEnvironment", "onboard_create_environment"),
    ("ec2", "CreateVpcPeeringConnection", "onboard_connect_network"),
    ("ec2", "CreateRoute", "onboard_connect_network"),
    ("ec2", "AuthorizeSecurityGroupIngress", "onboard_connect_network"),
    ("ec2", "DescribeNetworkInterfaces", "onboard_register_targets"),
    ("elbv2", "CreateTargetGroup", "onboard_register_targets"),
    ("elbv2", "RegisterTargets", "onboard_register_targets"),
    ("secretsmanager", "GetSecretValue", "onboard_route_host"),
    ("elbv2", "CreateRule", "onboard_route_host"),
]


def slots(world: World) -> list[str]:
    items = aws("dynamodb").scan(TableName="mwaa-gate-local-environments")["Items"]
    return [i["name"]["S"] for i in items if i["name"]["S"].startswith("slot#")]


@pytest.mark.parametrize(("service", "operation", "step"), STEP_CALLS)
def test_a_refused_call_fails_the_onboarding_and_leaves_nothing(
    world: World, service: str, operation: str, step: str
) -> None:
    net = world.network("10.4")
    world.fail(service, operation, "AccessDenied")

    world.onboard("Broken", mode="create", create=create_parameters(net))
    record = world.wait("Broken")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "AwsCallFailed"
    assert f"{operation} failed: AccessDenied" in record["error"]["cause"]
    assert "compensation" not in record["error"]
    assert world.execution(record)["status"] == "FAILED"
    assert world.execution(record)["error"] == "AwsCallFailed"
    failed_steps = {
        event["stateExitedEventDetails"]["name"]
        for event in world.history(record)
        if event["type"] == "TaskStateExited"
    }
    assert "Rollback" in failed_steps
    world.clear_faults()
    assert world.tagged("Broken") == NOTHING
    assert (
        aws("ec2").describe_vpc_peering_connections(
            Filters=[{"Name": "status-code", "Values": ["active", "pending-acceptance"]}]
        )["VpcPeeringConnections"]
        == []
    )
    routes = aws("ec2").describe_route_tables(RouteTableIds=net["route_table_ids"])["RouteTables"]
    assert all("VpcPeeringConnectionId" not in r for t in routes for r in t["Routes"])
    assert slots(world) == []


# GetEnvironment is called by several steps; these let the earlier calls through so the refusal
# lands in the step named (the test checks the step, so a change in call order shows up here).
LATER_CALLS = [
    ("create", 2, "Poll environment"),  # validate, create; then the first poll
    ("attach", 3, "Finish"),  # validate, connect network, register targets; then finish
]


@pytest.mark.parametrize(("mode", "after", "state"), LATER_CALLS)
def test_a_refusal_in_the_poll_or_finish_step_is_compensated_too(
    world: World, mode: str, after: int, state: str
) -> None:
    net = world.network("10.4")
    body = {"create": create_parameters(net)} if mode == "create" else {}
    if mode == "attach":
        world.existing_environment("Late", net)
    world.fail("mwaa", "GetEnvironment", "AccessDenied", times=1, after=after)

    world.onboard("Late", mode=mode, **body)
    record = world.wait("Late")

    assert record["status"] == "FAILED"
    assert "GetEnvironment failed: AccessDenied" in record["error"]["cause"]
    failed = [
        event["taskFailedEventDetails"]
        for event in world.history(record)
        if event["type"] == "TaskFailed"
    ]
    entered = [
        event["stateEnteredEventDetails"]["name"]
        for event in world.history(record)
        if event["type"] == "TaskStateEntered"
    ]
    assert failed and entered[-2] == state  # the step named failed, then Rollback ran
    assert entered[-1] == "Rollback"
    world.clear_faults()
    leftovers = world.tagged("Late")
    assert leftovers["peerings"] == leftovers["security_group_rules"] == leftovers["elb"] == []
    if mode == "create":
        assert leftovers["mwaa"] == []  # the environment this run created is deleted
    else:
        assert aws("mwaa").get_environment(Name="Late")["Environment"]["Status"] == "AVAILABLE"
    assert slots(world) == []


def test_a_compensation_that_is_refused_too_is_recorded_and_keeps_what_is_left(
    world: World,
) -> None:
    world.fail("elbv2", "CreateTargetGroup", "AccessDenied")
    world.fail("mwaa", "DeleteEnvironment", "AccessDenied")

    world.onboard("Stuck", mode="create", create=create_parameters(world.network("10.4")))
    record = world.wait("Stuck")

    assert record["status"] == "FAILED"
    assert "CreateTargetGroup failed: AccessDenied" in record["error"]["cause"]
    assert any("DeleteEnvironment failed" in p for p in record["error"]["compensation"])
    # What could not be removed stays on the record, so offboarding can remove it later.
    assert record["created"] == {"environment": True}
    world.clear_faults()
    assert world.tagged("Stuck")["mwaa"] == ["Stuck"]
    assert world.tagged("Stuck")["peerings"] == []

    world.offboard("Stuck", delete_environment=True)
    assert world.wait("Stuck")["status"] == "OFFBOARDED"
    assert world.tagged("Stuck")["mwaa"] == []


def test_throttling_once_is_retried_and_onboarding_completes(world: World) -> None:
    world.existing_environment("Busy", world.network("10.5"))
    world.fail("elbv2", "CreateTargetGroup", "ThrottlingException", times=1)

    world.onboard("Busy")
    record = world.wait("Busy")

    assert record["status"] == "READY", record.get("error")
    assert world.calls == ["elbv2:CreateTargetGroup:ThrottlingException"]
    assert len(aws("elbv2").describe_target_groups()["TargetGroups"]) == 1


def test_retry_after_a_failure_completes_without_duplicates(world: World) -> None:
    net = world.network("10.6")
    world.existing_environment("Again", net)
    world.fail("elbv2", "CreateRule", "AccessDenied")
    world.onboard("Again")
    assert world.wait("Again")["status"] == "FAILED"
    world.clear_faults()

    assert world.onboard("Again").status_code == 200  # same body: a new attempt
    record = world.wait("Again")

    assert record["status"] == "READY", record.get("error")
    assert record["attempt"] == 2
    tagged = world.tagged("Again")
    assert len(tagged["peerings"]) == 1
    assert len(tagged["security_group_rules"]) == 1
    assert len(tagged["elb"]) == 3  # target group + 2 rules
    assert slots(world) == ["slot#1"]


def test_onboarding_over_a_half_made_setup_reuses_what_exists(world: World) -> None:
    net = world.network("10.7")
    world.existing_environment("Half", net)
    ec2 = aws("ec2")
    # What a crashed earlier run left: a tagged peering, accepted, and one route through it.
    peering = ec2.create_vpc_peering_connection(
        VpcId=world.alb["vpc_id"],
        PeerVpcId=net["vpc_id"],
        TagSpecifications=[
            {
                "ResourceType": "vpc-peering-connection",
                "Tags": [
                    {"Key": "mwaa-gate:environment", "Value": "Half"},
                    {"Key": "mwaa-gate:deployment", "Value": "mwaa-gate-local"},
                ],
            }
        ],
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
    ec2.create_route(
        RouteTableId=world.alb["route_table_id"],
        DestinationCidrBlock=net["cidr"],
        VpcPeeringConnectionId=peering,
    )

    world.onboard("Half")
    record = world.wait("Half")

    assert record["status"] == "READY", record.get("error")
    assert record["peering_connection_id"] == peering
    assert world.tagged("Half")["peerings"] == [peering]


def test_a_conflicting_route_fails_with_a_clear_message(world: World) -> None:
    net = world.network("10.8")
    world.existing_environment("Clash", net)
    ec2 = aws("ec2")
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=world.alb["vpc_id"])
    ec2.create_route(
        RouteTableId=world.alb["route_table_id"],
        DestinationCidrBlock=net["cidr"],
        GatewayId=gateway,
    )

    world.onboard("Clash")
    record = world.wait("Clash")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "NetworkConflict"
    assert gateway in record["error"]["cause"]
    assert world.tagged("Clash") == NOTHING
