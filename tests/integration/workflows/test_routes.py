"""Routes through a peering the platform team made: the service records the routes it adds
(`created.routes`) and removes exactly those, by offboarding or by rollback; the peering and
the routes the platform team made stay."""

from __future__ import annotations

from typing import Any

from .conftest import World, aws


def platform_peering(world: World, net: dict[str, Any]) -> str:
    """A peering the platform team made and accepted themselves (no mwaa-gate tags)."""
    ec2 = aws("ec2")
    peering = ec2.create_vpc_peering_connection(VpcId=world.alb["vpc_id"], PeerVpcId=net["vpc_id"])[
        "VpcPeeringConnection"
    ]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
    return peering


def routes_through(world: World, net: dict[str, Any], peering: str) -> set[tuple[str, str]]:
    tables = aws("ec2").describe_route_tables(
        RouteTableIds=[world.alb["route_table_id"], *net["route_table_ids"]]
    )["RouteTables"]
    return {
        (t["RouteTableId"], r["DestinationCidrBlock"])
        for t in tables
        for r in t["Routes"]
        if r.get("VpcPeeringConnectionId") == peering
    }


def peering_status(peering: str) -> str:
    return aws("ec2").describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering])[
        "VpcPeeringConnections"
    ][0]["Status"]["Code"]


def expected_routes(world: World, net: dict[str, Any]) -> set[tuple[str, str]]:
    return {(world.alb["route_table_id"], net["cidr"])} | {
        (table, world.alb["cidr"]) for table in net["route_table_ids"]
    }


def test_offboarding_removes_the_routes_added_through_a_platform_peering(world: World) -> None:
    net = world.network("10.1")
    peering = platform_peering(world, net)
    world.existing_environment("Peered", net)

    world.onboard("Peered")
    ready = world.wait("Peered")

    assert ready["status"] == "READY", ready.get("error")
    assert ready["peering_connection_id"] == peering
    assert "peering_connection_id" not in ready["created"]  # not ours
    assert routes_through(world, net, peering) == expected_routes(world, net)
    recorded = {(r["route_table_id"], r["destination"]) for r in ready["created"]["routes"]}
    assert recorded == expected_routes(world, net)
    assert {r["peering_connection_id"] for r in ready["created"]["routes"]} == {peering}

    world.offboard("Peered")
    record = world.wait("Peered")

    assert record["status"] == "OFFBOARDED", record.get("error")
    assert routes_through(world, net, peering) == set()
    assert peering_status(peering) == "active"  # the platform team's peering stays
    assert "routes" not in record["created"]


def test_a_route_the_platform_team_made_is_used_and_stays(world: World) -> None:
    net = world.network("10.2")
    peering = platform_peering(world, net)
    theirs = (world.alb["route_table_id"], net["cidr"])
    aws("ec2").create_route(
        RouteTableId=theirs[0], DestinationCidrBlock=theirs[1], VpcPeeringConnectionId=peering
    )
    world.existing_environment("Theirs", net)

    world.onboard("Theirs")
    ready = world.wait("Theirs")

    assert ready["status"] == "READY", ready.get("error")
    recorded = {(r["route_table_id"], r["destination"]) for r in ready["created"]["routes"]}
    assert recorded == expected_routes(world, net) - {theirs}

    world.offboard("Theirs")
    assert world.wait("Theirs")["status"] == "OFFBOARDED"
    assert routes_through(world, net, peering) == {theirs}


def test_rollback_removes_the_routes_added_through_a_platform_peering(world: World) -> None:
    net = world.network("10.3")
    peering = platform_peering(world, net)
    world.existing_environment("Rolled", net)
    world.fail("elbv2", "CreateTargetGroup", "AccessDenied")

    world.onboard("Rolled")
    record = world.wait("Rolled")

    assert record["status"] == "FAILED"
    assert "compensation" not in record["error"]
    assert routes_through(world, net, peering) == set()
    assert peering_status(peering) == "active"
    assert record["created"] == {}


def test_routes_shared_by_two_environments_stay_until_the_last_leaves(world: World) -> None:
    net = world.network("10.4")
    peering = platform_peering(world, net)
    for name in ("One", "Two"):
        world.existing_environment(name, net)
        world.onboard(name)
        assert world.wait(name)["status"] == "READY"
    # The second found the routes the service made for the first, and shares them.
    first, second = world.record("One"), world.record("Two")
    assert first["created"]["routes"] == second["created"]["routes"]

    world.offboard("One")
    assert world.wait("One")["status"] == "OFFBOARDED"
    assert routes_through(world, net, peering) == expected_routes(world, net)

    world.offboard("Two")
    assert world.wait("Two")["status"] == "OFFBOARDED"
    assert routes_through(world, net, peering) == set()
    assert peering_status(peering) == "active"
