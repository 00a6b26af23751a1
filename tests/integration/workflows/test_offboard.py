"""Offboarding: the reverse of onboarding for what this service made; nothing tagged is left."""

from __future__ import annotations

from .conftest import World, aws, create_parameters

NOTHING = {"peerings": [], "security_group_rules": [], "elb": [], "mwaa": []}


def test_offboarding_an_attached_environment_removes_everything_but_the_environment(
    world: World,
) -> None:
    net = world.network("10.1")
    world.existing_environment("Attached", net)
    world.onboard("Attached")
    ready = world.wait("Attached")
    assert ready["status"] == "READY"

    assert world.offboard("Attached").status_code == 202
    record = world.wait("Attached")

    assert record["status"] == "OFFBOARDED", record.get("error")
    assert world.tagged("Attached") == NOTHING
    rules = aws("elbv2").describe_rules(ListenerArn=world.alb["listener_arn"])["Rules"]
    assert [r for r in rules if not r["IsDefault"]] == []
    assert aws("elbv2").describe_target_groups()["TargetGroups"] == []
    tables = aws("ec2").describe_route_tables(
        RouteTableIds=[world.alb["route_table_id"], *net["route_table_ids"]]
    )["RouteTables"]
    assert all("VpcPeeringConnectionId" not in r for t in tables for r in t["Routes"])
    assert (
        aws("ec2").describe_vpc_peering_connections(
            Filters=[{"Name": "status-code", "Values": ["active"]}]
        )["VpcPeeringConnections"]
        == []
    )
    # The platform team's environment is theirs: it stays.
    assert aws("mwaa").get_environment(Name="Attached")["Environment"]["Status"] == "AVAILABLE"
    # The slot is free again: the next private environment gets the same priorities.
    world.existing_environment("Next", world.network("10.2"))
    world.onboard("Next")
    assert world.wait("Next")["status"] == "READY"
    rules = aws("elbv2").describe_rules(ListenerArn=world.alb["listener_arn"])["Rules"]
    assert sorted(int(r["Priority"]) for r in rules if not r["IsDefault"]) == [1001, 20001]


def test_offboarding_with_delete_removes_the_environment_this_service_created(
    world: World, monkeypatch
) -> None:
    monkeypatch.setenv("DEVSTACK_MWAA_DELETE_SECONDS", "2")
    world.onboard("Made", mode="create", create=create_parameters(world.network("10.3")))
    assert world.wait("Made")["status"] == "READY"

    assert world.offboard("Made", delete_environment=True).status_code == 202
    record = world.wait("Made")

    assert record["status"] == "OFFBOARDED", record.get("error")
    assert world.tagged("Made") == NOTHING
    assert aws("mwaa").list_environments()["Environments"] == []
    polls = [
        e
        for e in world.history(record)
        if e["type"] == "TaskStateEntered"
        and e["stateEnteredEventDetails"]["name"] == "Poll deletion"
    ]
    assert polls  # DELETING for a while, polled until gone


def test_offboarding_without_delete_keeps_a_created_environment(world: World) -> None:
    world.onboard("Keep", mode="create", create=create_parameters(world.network("10.4")))
    assert world.wait("Keep")["status"] == "READY"

    world.offboard("Keep")
    record = world.wait("Keep")

    assert record["status"] == "OFFBOARDED"
    assert aws("mwaa").get_environment(Name="Keep")["Environment"]["Status"] == "AVAILABLE"
    assert world.tagged("Keep")["peerings"] == []
    assert world.tagged("Keep")["elb"] == []


def test_environments_in_one_vpc_share_the_peering_until_the_last_leaves(world: World) -> None:
    net = world.network("10.5")
    group = net["security_group_id"]
    for name in ("First", "Second"):
        world.existing_environment(name, net)
        world.onboard(name)
        assert world.wait(name)["status"] == "READY"
    first, second = world.record("First"), world.record("Second")
    assert first["peering_connection_id"] == second["peering_connection_id"]

    def ingress() -> list:
        return [
            r
            for r in aws("ec2").describe_security_group_rules(
                Filters=[{"Name": "group-id", "Values": [group]}]
            )["SecurityGroupRules"]
            if not r["IsEgress"]
        ]

    assert len(ingress()) == 1

    world.offboard("First")
    assert world.wait("First")["status"] == "OFFBOARDED"

    peering = aws("ec2").describe_vpc_peering_connections(
        VpcPeeringConnectionIds=[second["peering_connection_id"]]
    )["VpcPeeringConnections"][0]
    assert peering["Status"]["Code"] == "active"  # Second still needs it
    assert len(ingress()) == 1
    assert len(world.tagged("Second")["elb"]) == 3

    world.offboard("Second")
    assert world.wait("Second")["status"] == "OFFBOARDED"
    assert ingress() == []
    assert (
        aws("ec2").describe_vpc_peering_connections(
            Filters=[{"Name": "status-code", "Values": ["active"]}]
        )["VpcPeeringConnections"]
        == []
    )
