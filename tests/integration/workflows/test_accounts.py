"""Environments in other accounts and regions (DESIGN §4 "Other accounts and regions"), end to
end on devstack: a member account that ran templates/member-account.yaml, the real ASL."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from devstack import landscape

from .conftest import World, aws, create_parameters

MEMBER = landscape.MEMBER_ACCOUNT
SERVICE = landscape.SERVICE_ACCOUNT
TAG = "mwaa-gate:environment"
LIVE = ("initiating-request", "pending-acceptance", "provisioning", "active")


@pytest.fixture
def member(world: World) -> dict[str, Any]:
    return landscape.member_account(aws)


def member_environment(member: dict[str, Any], name: str, **params: Any) -> dict[str, Any]:
    mwaa = member["client"]("mwaa")
    mwaa.create_environment(
        **create_parameters(
            member,
            Name=name,
            ExecutionRoleArn=f"arn:aws:iam::{member['account_id']}:role/mwaa-execution",
            **params,
        )
    )
    return mwaa.get_environment(Name=name)["Environment"]


def routes(ec2: Any, table_id: str) -> dict[str, str | None]:
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return {r["DestinationCidrBlock"]: r.get("VpcPeeringConnectionId") for r in table["Routes"]}


def leftovers(world: World, member: dict[str, Any], name: str) -> dict[str, Any]:
    """What is left of an environment in either account (empty lists: nothing)."""
    found: dict[str, Any] = {"service": world.tagged(name)}
    ec2 = member["client"]("ec2")
    flt = [{"Name": f"tag:{TAG}", "Values": [name]}]
    found["member_peerings"] = [
        p["VpcPeeringConnectionId"]
        for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
        if p["Status"]["Code"] in LIVE
    ]
    found["member_tagged_rules"] = [
        r["SecurityGroupRuleId"]
        for r in ec2.describe_security_group_rules(Filters=flt)["SecurityGroupRules"]
    ]
    found["member_ingress"] = [
        r["SecurityGroupRuleId"]
        for r in ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [member["security_group_id"]]}]
        )["SecurityGroupRules"]
        if not r["IsEgress"]
    ]
    found["member_routes"] = [
        (table, cidr)
        for table in member["route_table_ids"]
        for cidr, peering in routes(ec2, table).items()
        if peering
    ]
    found["alb_routes"] = [
        cidr for cidr, peering in routes(aws("ec2"), world.alb["route_table_id"]).items() if peering
    ]
    return found


NOTHING = {
    "service": {"peerings": [], "security_group_rules": [], "elb": [], "mwaa": []},
    "member_peerings": [],
    "member_tagged_rules": [],
    "member_ingress": [],
    "member_routes": [],
    "alb_routes": [],
}


def test_private_environment_in_a_member_account_is_onboarded_and_offboarded(
    world: World, member: dict[str, Any]
) -> None:
    member_environment(member, "Analytics")
    member_ec2 = member["client"]("ec2")

    response = world.onboard("Analytics", account_id=MEMBER)
    assert response.status_code == 202
    record = world.wait("Analytics")

    assert record["status"] == "READY", record.get("error")
    assert (record["account_id"], record["region"], record["mwaa_name"]) == (
        MEMBER,
        landscape.REGION,
        "Analytics",
    )
    # Peering requested in the ALB's account, accepted in the member account.
    peering = aws("ec2").describe_vpc_peering_connections(
        VpcPeeringConnectionIds=[record["peering_connection_id"]]
    )["VpcPeeringConnections"][0]
    assert peering["Status"]["Code"] == "active"
    assert (peering["RequesterVpcInfo"]["OwnerId"], peering["RequesterVpcInfo"]["VpcId"]) == (
        SERVICE,
        world.alb["vpc_id"],
    )
    assert (peering["AccepterVpcInfo"]["OwnerId"], peering["AccepterVpcInfo"]["VpcId"]) == (
        MEMBER,
        member["vpc_id"],
    )
    # Routes on both sides.
    assert (
        routes(aws("ec2"), world.alb["route_table_id"])[member["cidr"]]
        == peering["VpcPeeringConnectionId"]
    )
    for table in member["route_table_ids"]:
        assert routes(member_ec2, table)[world.alb["cidr"]] == peering["VpcPeeringConnectionId"]
    # HTTPS from the ALB's group, referenced with its account across the peering, tagged there.
    (rule,) = [
        r
        for r in member_ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [member["security_group_id"]]}]
        )["SecurityGroupRules"]
        if not r["IsEgress"]
    ]
    assert (rule["FromPort"], rule["ToPort"]) == (443, 443)
    assert rule["ReferencedGroupInfo"]["GroupId"] == world.alb["security_group_id"]
    assert {"Key": TAG, "Value": "Analytics"} in rule["Tags"]
    # Targets: the member account's endpoint IPs, registered in zone "all" (peered VPC).
    health = aws("elbv2").describe_target_health(TargetGroupArn=record["target_group_arn"])
    registered = sorted(d["Target"]["Id"] for d in health["TargetHealthDescriptions"])
    assert registered == sorted(record["endpoint_ips"])
    assert all(ip.startswith("10.20.") for ip in registered)
    assert {d["Target"]["AvailabilityZone"] for d in health["TargetHealthDescriptions"]} == {"all"}
    assert world.get("/environments/Analytics").json_body["account_id"] == MEMBER

    assert world.offboard("Analytics").status_code == 202
    assert world.wait("Analytics")["status"] == "OFFBOARDED"
    assert leftovers(world, member, "Analytics") == NOTHING
    assert (
        member_ec2.describe_vpc_peering_connections(
            VpcPeeringConnectionIds=[peering["VpcPeeringConnectionId"]]
        )["VpcPeeringConnections"][0]["Status"]["Code"]
        == "deleted"
    )


def test_created_in_a_member_account_and_deleted_there_on_offboarding(
    world: World, member: dict[str, Any]
) -> None:
    parameters = create_parameters(
        member, ExecutionRoleArn=f"arn:aws:iam::{MEMBER}:role/mwaa-execution"
    )

    world.onboard("Made", mode="create", create=parameters, account_id=MEMBER)
    record = world.wait("Made")

    assert record["status"] == "READY", record.get("error")
    made = member["client"]("mwaa").get_environment(Name="Made")["Environment"]
    assert made["Tags"][TAG] == "Made"
    assert aws("mwaa").list_environments()["Environments"] == []
    world.offboard("Made", delete_environment=True)
    assert world.wait("Made")["status"] == "OFFBOARDED"
    assert member["client"]("mwaa").list_environments()["Environments"] == []
    assert leftovers(world, member, "Made") == NOTHING


def test_public_environment_in_another_region_is_ready_at_its_web_server(world: World) -> None:
    def in_ireland(service: str) -> Any:
        return boto3.client(service, region_name="eu-west-1")

    member = landscape.member_account(aws)
    ireland = landscape.in_account(in_ireland, MEMBER)
    net = landscape.environment_network(ireland, "10.30", region="eu-west-1")
    ireland("mwaa").create_environment(
        **create_parameters(
            net,
            Name="Reports",
            ExecutionRoleArn=f"arn:aws:iam::{MEMBER}:role/mwaa-execution",
            WebserverAccessMode="PUBLIC_ONLY",
        )
    )
    webserver = ireland("mwaa").get_environment(Name="Reports")["Environment"]["WebserverUrl"]

    world.onboard("Reports", account_id=MEMBER, region="eu-west-1")
    record = world.wait("Reports")

    assert record["status"] == "READY", record.get("error")
    assert (record["region"], record["access_mode"]) == ("eu-west-1", "PUBLIC_ONLY")
    assert record["login_host"] == webserver
    assert leftovers(world, member, "Reports") == NOTHING


def test_private_environment_in_another_region_is_refused_clearly(world: World) -> None:
    net = landscape.environment_network(
        lambda service: boto3.client(service, region_name="eu-west-1"), "10.31", "eu-west-1"
    )
    boto3.client("mwaa", region_name="eu-west-1").create_environment(
        **create_parameters(net, Name="Faraway")
    )

    world.onboard("Faraway", region="eu-west-1")
    record = world.wait("Faraway")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "UnsupportedEnvironment"
    assert "PRIVATE_ONLY in eu-west-1" in record["error"]["cause"]
    assert "ALB is in us-east-1" in record["error"]["cause"]
    assert world.tagged("Faraway") == NOTHING["service"]


def test_a_member_account_without_the_template_fails_clearly_and_leaves_nothing(
    world: World,
) -> None:
    member = landscape.member_account(aws, template=False)
    member_environment(member, "Orphan")

    world.onboard("Orphan", account_id=MEMBER)
    record = world.wait("Orphan")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "MemberAccountUnavailable"
    cause = record["error"]["cause"]
    assert "templates/member-account.yaml" in cause
    assert f"arn:aws:iam::{MEMBER}:role/mwaa-gate-local-member" in cause
    assert "AccessDenied" in cause
    assert "compensation" not in record["error"]
    assert leftovers(world, member, "Orphan") == NOTHING


def test_two_same_named_environments_in_two_accounts_under_two_names(
    world: World, member: dict[str, Any]
) -> None:
    world.existing_environment("prod", world.network("10.5"))
    member_environment(member, "prod")

    world.onboard("prod-main", mwaa_name="prod")
    world.onboard("prod-team", mwaa_name="prod", account_id=MEMBER)
    main, team = world.wait("prod-main"), world.wait("prod-team")

    assert (main["status"], team["status"]) == ("READY", "READY"), (main, team)
    assert main["login_host"] != team["login_host"]
    assert main["target_group_arn"] != team["target_group_arn"]
    assert main["endpoint_ips"] != team["endpoint_ips"]
    assert all(ip.startswith("10.5.") for ip in main["endpoint_ips"])
    assert all(ip.startswith("10.20.") for ip in team["endpoint_ips"])
    world.offboard("prod-team")
    assert world.wait("prod-team")["status"] == "OFFBOARDED"
    assert world.record("prod-main")["status"] == "READY"
    assert leftovers(world, member, "prod-team")["member_ingress"] == []


# (the member-side client, the operation refused, the step that makes that call)
MEMBER_CALLS = [
    ("mwaa", "GetEnvironment", "onboard_validate"),
    ("ec2", "DescribeSubnets", "onboard_validate"),
    ("ec2", "AcceptVpcPeeringConnection", "onboard_connect_network"),
    ("ec2", "CreateTags", "onboard_connect_network"),
    ("ec2", "CreateRoute", "onboard_connect_network"),
    ("ec2", "AuthorizeSecurityGroupIngress", "onboard_connect_network"),
    ("ec2", "DescribeVpcEndpoints", "onboard_register_targets"),
    ("ec2", "DescribeNetworkInterfaces", "onboard_register_targets"),
]


@pytest.mark.parametrize(("service", "operation", "step"), MEMBER_CALLS)
def test_a_refused_member_side_call_compensates_in_both_accounts(
    world: World, member: dict[str, Any], service: str, operation: str, step: str
) -> None:
    member_environment(member, "Broken")
    world.fail(service, operation, "AccessDenied", account_id=MEMBER)

    world.onboard("Broken", account_id=MEMBER)
    record = world.wait("Broken")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "AwsCallFailed"
    assert f"{operation} failed: AccessDenied" in record["error"]["cause"]
    assert "compensation" not in record["error"]
    assert f"{service}:{operation}:AccessDenied" in world.calls
    world.clear_faults()
    assert leftovers(world, member, "Broken") == NOTHING
    # and the same environment onboards once the fault is gone
    assert world.onboard("Broken", account_id=MEMBER).status_code == 200
    assert world.wait("Broken")["status"] == "READY"


def _member_role_actions() -> set[str]:
    """The actions templates/member-account.yaml allows its member role (read from the file)."""
    from cfnlint.decode import decode

    template, problems = decode(str(landscape.MEMBER_TEMPLATE))
    assert not problems
    role = template["Resources"]["MemberRole"]["Properties"]
    actions: set[str] = set()
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            action = statement["Action"]
            actions |= {action} if isinstance(action, str) else set(action)
    return actions


def test_the_member_template_allows_every_call_made_with_the_member_role(
    world: World, member: dict[str, Any]
) -> None:
    """A whole create-onboard-offboard-delete run in the member account: every call the member
    role makes (and ec2:CreateTags for the tags set at creation) is one the template allows."""
    from chalicelib import aws_clients

    seen: set[str] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        seen.add(f"{model.service_model.signing_name}:{model.name}")
        if params.get("TagSpecifications"):
            seen.add("ec2:CreateTags")

    clients = [aws_clients.client_in(s, MEMBER) for s in ("ec2", "mwaa")]
    for client in clients:
        client.meta.events.register("before-call", record)
    try:
        parameters = create_parameters(
            member, ExecutionRoleArn=f"arn:aws:iam::{MEMBER}:role/mwaa-execution"
        )
        world.onboard("Audited", mode="create", create=parameters, account_id=MEMBER)
        assert world.wait("Audited")["status"] == "READY"
        world.offboard("Audited", delete_environment=True)
        assert world.wait("Audited")["status"] == "OFFBOARDED"
    finally:
        for client in clients:
            client.meta.events.unregister("before-call", record)

    assert {
        "airflow:CreateEnvironment",
        "airflow:DeleteEnvironment",
        "ec2:AcceptVpcPeeringConnection",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateRoute",
        "ec2:RevokeSecurityGroupIngress",
    } <= seen
    assert seen - _member_role_actions() == set()
