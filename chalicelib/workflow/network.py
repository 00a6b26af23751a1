"""Connecting an environment's VPC to the ALB's: peering, routes both ways, ingress on 443.

Each function observes what exists, makes only what is missing, and returns what it made, so a
retry or a re-run makes nothing twice (DESIGN §4, §8 "observe → plan → apply").

`where` says on which side a call acts: `HERE` is the ALB's account and region (the service's
own); an environment's `Location` may be a member account, reached through its member role.
A peering across accounts is requested here (with the peer's owner id) and accepted there; the
environment's side gets its routes, its ingress rule (referencing the ALB's security group in
the ALB's account) and tags on the peering made with its own credentials. A route entry of the
record names its account (`account_id`) when it lives in a member account.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws_clients import Location

from . import tags
from .errors import NetworkConflict, TransientAwsError, aws_call, error_code

HTTPS = 443
NOT_FOUND = {
    "InvalidRoute.NotFound",
    "InvalidVpcPeeringConnectionID.NotFound",
    "InvalidVpcPeeringConnectionId.NotFound",
    "InvalidPermission.NotFound",
    "InvalidSecurityGroupRuleId.NotFound",
    "InvalidGroup.NotFound",
    "InvalidRouteTableID.NotFound",
}
LIVE_PEERING = {"initiating-request", "pending-acceptance", "provisioning", "active"}
HERE = Location()


@dataclass(frozen=True)
class Vpc:
    id: str
    cidrs: tuple[str, ...]


def vpc(vpc_id: str, where: Location = HERE) -> Vpc:
    with aws_call("ec2:DescribeVpcs"):
        found = where.ec2().describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    cidrs = [
        block["CidrBlock"]
        for block in found.get("CidrBlockAssociationSet", [])
        if block.get("CidrBlockState", {}).get("State", "associated") == "associated"
    ] or [found["CidrBlock"]]
    return Vpc(found["VpcId"], tuple(cidrs))


def vpc_of_subnets(subnet_ids: Iterable[str], where: Location = HERE) -> Vpc:
    with aws_call("ec2:DescribeSubnets"):
        subnets = where.ec2().describe_subnets(SubnetIds=list(subnet_ids))["Subnets"]
    vpc_ids = {subnet["VpcId"] for subnet in subnets}
    if len(vpc_ids) != 1:
        raise NetworkConflict(f"the environment's subnets span VPCs {sorted(vpc_ids)}")
    return vpc(vpc_ids.pop(), where)


def overlapping(first: Iterable[str], second: Iterable[str]) -> list[tuple[str, str]]:
    return [
        (a, b)
        for a in first
        for b in second
        if ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))
    ]


def route_tables(vpc_id: str, subnet_ids: Iterable[str], where: Location = HERE) -> list[str]:
    """The route table of each subnet: its explicit association, else the VPC's main table."""
    ec2 = where.ec2()
    subnet_ids = list(subnet_ids)
    with aws_call("ec2:DescribeRouteTables"):
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "RouteTables"
        ]
    explicit: dict[str, str] = {}
    main = None
    for table in tables:
        for association in table.get("Associations", []):
            if association.get("Main"):
                main = table["RouteTableId"]
            elif association.get("SubnetId"):
                explicit[association["SubnetId"]] = table["RouteTableId"]
    chosen = []
    for subnet_id in subnet_ids:
        table_id = explicit.get(subnet_id, main)
        if table_id and table_id not in chosen:
            chosen.append(table_id)
    return chosen


# --- peering -----------------------------------------------------------------------------------


def find_peering(alb_vpc: str, environment_vpc: str) -> dict[str, Any] | None:
    """The live peering between the two VPCs, whoever made it (AWS allows only one)."""
    ec2 = HERE.ec2()
    found: list[dict[str, Any]] = []
    for requester, accepter in ((alb_vpc, environment_vpc), (environment_vpc, alb_vpc)):
        with aws_call("ec2:DescribeVpcPeeringConnections"):
            found += ec2.describe_vpc_peering_connections(
                Filters=[
                    {"Name": "requester-vpc-info.vpc-id", "Values": [requester]},
                    {"Name": "accepter-vpc-info.vpc-id", "Values": [accepter]},
                ]
            )["VpcPeeringConnections"]
    live = [p for p in found if p.get("Status", {}).get("Code") in LIVE_PEERING]
    return live[0] if live else None


def tagged_peerings(environment: str) -> list[dict[str, Any]]:
    """Live peerings this service requested for `environment` (tagged in the ALB's account)."""
    with aws_call("ec2:DescribeVpcPeeringConnections"):
        found = HERE.ec2().describe_vpc_peering_connections(Filters=tags.ec2_filters(environment))[
            "VpcPeeringConnections"
        ]
    return [p for p in found if p.get("Status", {}).get("Code") in LIVE_PEERING]


def ensure_peering(
    environment: str, alb_vpc: str, environment_vpc: str, where: Location = HERE
) -> tuple[str, bool]:
    """An active peering ALB VPC → environment VPC; (its id, whether made now).

    Requested in the ALB's account (with the peer's owner id when `where` is another account),
    accepted on the environment's side. Environments in one VPC share the peering: the first
    one makes it (tagged), the others use it; it is removed with the last of them (teardown
    counts its users).
    """
    ec2 = HERE.ec2()
    peering = find_peering(alb_vpc, environment_vpc)
    made = False
    if peering is None:
        request: dict[str, Any] = {
            "VpcId": alb_vpc,
            "PeerVpcId": environment_vpc,
            "TagSpecifications": tags.ec2_specification("vpc-peering-connection", environment),
        }
        if where.other_account:
            request["PeerOwnerId"] = where.account_id
        if where.other_region:
            request["PeerRegion"] = where.region
        with aws_call("ec2:CreateVpcPeeringConnection"):
            peering = ec2.create_vpc_peering_connection(**request)["VpcPeeringConnection"]
        made = True
    peering_id = peering["VpcPeeringConnectionId"]
    status = peering.get("Status", {}).get("Code")
    if status in ("initiating-request", "provisioning"):
        with aws_call("ec2:DescribeVpcPeeringConnections"):
            status = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[peering_id])[
                "VpcPeeringConnections"
            ][0]["Status"]["Code"]
    if status == "pending-acceptance":
        with aws_call("ec2:AcceptVpcPeeringConnection"):
            where.ec2().accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
    elif status != "active":
        # Still being set up: the state machine retries this step until it can be accepted.
        raise TransientAwsError(f"peering {peering_id} is {status}; waiting for it")
    if where.other_account and (made or tags.made_here(peering.get("Tags"))):
        # Tags are per account: the accepter's side sees none of the requester's.
        with aws_call("ec2:CreateTags"):
            where.ec2().create_tags(Resources=[peering_id], Tags=tags.key_value_list(environment))
    return peering_id, made


def delete_peering(peering_id: str) -> None:
    """Delete a peering from the ALB's side (the requester may delete it, whoever accepted)."""
    with aws_call("ec2:DeleteVpcPeeringConnection"):
        try:
            HERE.ec2().delete_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
        except ClientError as error:
            if error_code(error) not in NOT_FOUND:
                raise


# --- routes ------------------------------------------------------------------------------------


def route(
    table_id: str, destination: str, peering_id: str, where: Location = HERE
) -> dict[str, str]:
    """A route as the record keeps it (`created.routes`), with its account when it is in a
    member account."""
    entry = {
        "route_table_id": table_id,
        "destination": destination,
        "peering_connection_id": peering_id,
    }
    if where.account_id and where.other_account:
        entry["account_id"] = where.account_id
    return entry


def side(entry: dict[str, str]) -> Location:
    """Where a recorded route lives."""
    return Location(entry.get("account_id") or None)


def route_key(entry: dict[str, str]) -> tuple[str, str, str]:
    return (entry["route_table_id"], entry["destination"], entry.get("peering_connection_id", ""))


@dataclass(frozen=True)
class RoutePlan:
    """Routes through one peering: what to create, what to repoint, what is there already."""

    peering_id: str
    create: tuple[dict[str, str], ...]
    replace: tuple[dict[str, str], ...]
    present: tuple[dict[str, str], ...]

    @property
    def to_make(self) -> list[dict[str, str]]:
        return [*self.create, *self.replace]


def plan_routes(
    table_ids: Iterable[str], destinations: Iterable[str], peering_id: str, where: Location = HERE
) -> RoutePlan:
    """Observe the tables and plan a route to each destination through the peering in each;
    a route to another live target is a conflict."""
    table_ids, destinations = list(table_ids), list(destinations)
    with aws_call("ec2:DescribeRouteTables"):
        tables = where.ec2().describe_route_tables(RouteTableIds=table_ids)["RouteTables"]
    create, replace, present = [], [], []
    for table in tables:
        existing = {r.get("DestinationCidrBlock"): r for r in table.get("Routes", [])}
        for destination in destinations:
            current = existing.get(destination)
            entry = route(table["RouteTableId"], destination, peering_id, where)
            if current is None:
                create.append(entry)
            elif current.get("VpcPeeringConnectionId") == peering_id:
                present.append(entry)
            elif current.get("State") == "blackhole" and current.get("VpcPeeringConnectionId"):
                # Left by a peering that no longer exists (an earlier attempt): repoint it.
                replace.append(entry)
            else:
                target = next(
                    (
                        value
                        for key, value in current.items()
                        if key.endswith("Id") and key != "DestinationPrefixListId"
                    ),
                    "another target",
                )
                raise NetworkConflict(
                    f"route table {table['RouteTableId']} already routes {destination} to "
                    f"{target}; remove that route or use a VPC whose CIDR does not clash"
                )
    return RoutePlan(peering_id, tuple(create), tuple(replace), tuple(present))


def apply_routes(plan: RoutePlan) -> None:
    """Make the planned routes (a route made meanwhile through the same peering is fine)."""
    for entry in plan.create:
        with aws_call("ec2:CreateRoute"):
            try:
                side(entry).ec2().create_route(
                    RouteTableId=entry["route_table_id"],
                    DestinationCidrBlock=entry["destination"],
                    VpcPeeringConnectionId=plan.peering_id,
                )
            except ClientError as error:
                if error_code(error) != "RouteAlreadyExists" or not _routes_via(
                    entry, plan.peering_id
                ):
                    raise
    for entry in plan.replace:
        with aws_call("ec2:ReplaceRoute"):
            side(entry).ec2().replace_route(
                RouteTableId=entry["route_table_id"],
                DestinationCidrBlock=entry["destination"],
                VpcPeeringConnectionId=plan.peering_id,
            )


def _routes_via(entry: dict[str, str], peering_id: str) -> bool:
    return bool(still_routed([{**entry, "peering_connection_id": peering_id}]))


def still_routed(routes: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """Those of `routes` that exist and still go through the peering they name."""
    routes = list(routes)
    table_sides = {r["route_table_id"]: side(r) for r in routes}
    if not table_sides:
        return []
    found: dict[tuple[str, str], str | None] = {}
    for table_id, where in sorted(table_sides.items(), key=lambda item: item[0]):
        with aws_call("ec2:DescribeRouteTables"):
            try:
                tables = where.ec2().describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
            except ClientError as error:
                if error_code(error) in NOT_FOUND:
                    continue
                raise
        for table in tables:
            for current in table.get("Routes", []):
                found[(table["RouteTableId"], current.get("DestinationCidrBlock"))] = current.get(
                    "VpcPeeringConnectionId"
                )
    return [
        r
        for r in routes
        if found.get((r["route_table_id"], r["destination"])) == r.get("peering_connection_id")
    ]


def delete_routes(routes: Iterable[dict[str, str]]) -> None:
    """Delete the given routes, each only while it still goes through the peering it names."""
    for route in routes:
        ec2 = side(route).ec2()
        with aws_call("ec2:DescribeRouteTables"):
            try:
                table = ec2.describe_route_tables(RouteTableIds=[route["route_table_id"]])[
                    "RouteTables"
                ][0]
            except ClientError as error:
                if error_code(error) in NOT_FOUND:
                    continue
                raise
        current = next(
            (
                r
                for r in table.get("Routes", [])
                if r.get("DestinationCidrBlock") == route["destination"]
            ),
            None,
        )
        if current is None or current.get("VpcPeeringConnectionId") != route.get(
            "peering_connection_id"
        ):
            continue
        with aws_call("ec2:DeleteRoute"):
            try:
                ec2.delete_route(
                    RouteTableId=route["route_table_id"],
                    DestinationCidrBlock=route["destination"],
                )
            except ClientError as error:
                if error_code(error) not in NOT_FOUND:
                    raise


# --- ingress -----------------------------------------------------------------------------------


def _ingress_rules(group_id: str, where: Location) -> list[dict[str, Any]]:
    with aws_call("ec2:DescribeSecurityGroupRules"):
        return where.ec2().describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group_id]}]
        )["SecurityGroupRules"]


def ensure_ingress(
    environment: str,
    group_id: str,
    source_group_ids: Iterable[str],
    where: Location = HERE,
    source_account: str | None = None,
) -> list[dict[str, str]]:
    """HTTPS from each ALB security group into the environment's group; the rules it added.

    In another account the source is referenced with its owner (`source_account`), across the
    peering, as AWS requires."""
    rules = _ingress_rules(group_id, where)
    added = []
    for source in source_group_ids:
        present = any(
            not rule.get("IsEgress")
            and rule.get("IpProtocol") in ("tcp", "6")
            and rule.get("FromPort") == HTTPS
            and rule.get("ToPort") == HTTPS
            and (rule.get("ReferencedGroupInfo") or {}).get("GroupId") == source
            for rule in rules
        )
        if present:
            continue
        pair = {"GroupId": source, "Description": f"mwaa-gate ALB to {environment}"}
        if source_account:
            pair["UserId"] = source_account
        with aws_call("ec2:AuthorizeSecurityGroupIngress"):
            made = where.ec2().authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": HTTPS,
                        "ToPort": HTTPS,
                        "UserIdGroupPairs": [pair],
                    }
                ],
                TagSpecifications=tags.ec2_specification("security-group-rule", environment),
            )
        for rule in made.get("SecurityGroupRules", []):
            added.append({"group_id": group_id, "rule_id": rule["SecurityGroupRuleId"]})
    return added


def tagged_ingress(
    environment: str | None = None, group_id: str | None = None, where: Location = HERE
) -> list[dict[str, str]]:
    """Ingress rules this service made: for an environment, or any of this deployment's in a
    security group (which the environments using that group share)."""
    filters = tags.ec2_filters(environment) if environment else tags.deployment_filters()
    if group_id:
        filters = [*filters, {"Name": "group-id", "Values": [group_id]}]
    with aws_call("ec2:DescribeSecurityGroupRules"):
        rules = where.ec2().describe_security_group_rules(Filters=filters)["SecurityGroupRules"]
    return [{"group_id": r["GroupId"], "rule_id": r["SecurityGroupRuleId"]} for r in rules]


def revoke_ingress(rules: Iterable[dict[str, str]], where: Location = HERE) -> None:
    for rule in rules:
        with aws_call("ec2:RevokeSecurityGroupIngress"):
            try:
                where.ec2().revoke_security_group_ingress(
                    GroupId=rule["group_id"], SecurityGroupRuleIds=[rule["rule_id"]]
                )
            except ClientError as error:
                if error_code(error) not in NOT_FOUND:
                    raise
