"""Removing what this service made for an environment, in reverse order of onboarding.

Used by the onboarding compensation and by offboarding. Each kind of resource is found both in
the record and by tag, so a crash between making a thing and writing it down leaves nothing
behind. Routes are found by their target: any route through a peering this service made is
this service's. A peering or ingress rule shared with another live environment stays.

For an environment in another account, its side (ingress rules, routes) is found and removed
there, with the member role; the peering is deleted from the ALB's side, which requested it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws_clients
from chalicelib.aws_clients import Location

from . import network, record, routing, settings, tags, targets
from .errors import (
    ConfigurationError,
    MemberAccountUnavailable,
    StepError,
    aws_call,
    classify,
)

HERE = Location()


def _listener() -> str | None:
    try:
        return settings.alb().listener_arn
    except ConfigurationError:
        return None


def remove_routing(name: str, created: dict[str, Any]) -> None:
    """Listener rules, then the target group (a group in use by a rule cannot be deleted)."""
    listener = _listener()
    rule_arns = set(created.get("rule_arns") or [])
    if listener:
        rule_arns |= {rule["RuleArn"] for rule in routing.tagged_rules(listener, name)}
    for rule_arn in sorted(rule_arns):
        routing.delete_rule(rule_arn)
    group_arns = {created["target_group_arn"]} if created.get("target_group_arn") else set()
    found = targets.find_target_group(name)
    if found:
        group_arns.add(found["TargetGroupArn"])
    for group_arn in sorted(group_arns):
        targets.delete_target_group(group_arn)


LIVE = ("ONBOARDING", "READY", "DEGRADED", "OFFBOARDING")


def _other_users(name: str) -> list[dict[str, Any]]:
    """The other environments that are live and may share a peering or a security group."""
    return [other for other in record.others(name) if other.get("status") in LIVE]


def _describe_peerings(ids: set[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    with aws_call("ec2:DescribeVpcPeeringConnections"):
        return aws_clients.ec2().describe_vpc_peering_connections(
            Filters=[{"Name": "vpc-peering-connection-id", "Values": sorted(ids)}]
        )["VpcPeeringConnections"]


def _routes_through(peerings: list[dict[str, Any]], side: Location) -> list[dict[str, str]]:
    """Routes through these peerings in the route tables `side` sees (its own VPCs)."""
    ids = {p["VpcPeeringConnectionId"] for p in peerings}
    vpc_ids = {
        (p.get(side) or {}).get("VpcId")
        for p in peerings
        for side in ("RequesterVpcInfo", "AccepterVpcInfo")
    } - {None}
    if not vpc_ids:
        return []
    with aws_call("ec2:DescribeRouteTables"):
        tables = side.ec2().describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": sorted(vpc_ids)}]
        )["RouteTables"]
    return [
        network.route(
            t["RouteTableId"], r["DestinationCidrBlock"], r["VpcPeeringConnectionId"], side
        )
        for t in tables
        for r in t.get("Routes", [])
        if r.get("VpcPeeringConnectionId") in ids and r.get("DestinationCidrBlock")
    ]


def remove_network(name: str, current: dict[str, Any]) -> None:
    """Ingress rules, the routes this service added (`created.routes`, whatever peering they go
    through, and every route through a peering it made), then the peerings it made — each only
    once no other live environment uses it (environments in one VPC share the peering and its
    routes, and environments with one security group share the ingress rule)."""
    created = current.get("created") or {}
    where: Location | None = Location.of(current)
    if not _reachable(Location.of(current), current):
        where = None  # nothing of ours can be on its side: it was never reached
    others = _other_users(name)
    shared_groups = {o.get("ingress_group_id") for o in others} - {None}
    rules = {(r["group_id"], r["rule_id"]) for r in created.get("ingress") or []}
    if where is not None:
        rules |= {(r["group_id"], r["rule_id"]) for r in network.tagged_ingress(name, None, where)}
        if current.get("ingress_group_id"):
            found = network.tagged_ingress(group_id=current["ingress_group_id"], where=where)
            rules |= {(r["group_id"], r["rule_id"]) for r in found}
        network.revoke_ingress(
            (
                {"group_id": group, "rule_id": rule}
                for group, rule in sorted(rules)
                if group not in shared_groups
            ),
            where,
        )
    ids = {p["VpcPeeringConnectionId"] for p in network.tagged_peerings(name)}
    ids |= {current.get("peering_connection_id"), created.get("peering_connection_id")} - {None}
    in_use = {o.get("peering_connection_id") for o in others} - {None}
    removable = [
        p
        for p in _describe_peerings(ids - in_use)
        if tags.made_here(p.get("Tags")) and p.get("Status", {}).get("Code") != "deleted"
    ]
    needed_by_others = {
        network.route_key(entry)
        for other in others
        for entry in (other.get("created") or {}).get("routes") or []
    }
    routes = [
        entry
        for entry in created.get("routes") or []
        if network.route_key(entry) not in needed_by_others
    ]
    elsewhere = where is not None and (where.other_account or where.other_region)
    sides = [HERE, where] if elsewhere and where is not None else [HERE]
    found = [entry for side in sides for entry in _routes_through(removable, side)]
    network.delete_routes([*routes, *found])
    for peering in removable:
        network.delete_peering(peering["VpcPeeringConnectionId"])


def _reachable(where: Location, current: dict[str, Any]) -> bool:
    """Whether the environment's side can be searched. A member role that cannot be assumed
    means nothing was made there (every change there needs it) unless the record says
    otherwise, in which case the failure is reported."""
    try:
        where.check()
    except aws_clients.MemberAccountUnavailable as error:
        created = current.get("created") or {}
        if created.get("ingress") or created.get("peering_connection_id"):
            raise MemberAccountUnavailable(str(error)) from error
        return False
    return True


def remove_all(name: str, current: dict[str, Any]) -> list[StepError]:
    """Everything but the MWAA environment, in reverse order; problems met (empty = clean).

    Every part is attempted even when an earlier one fails, so a compensation removes as much
    as it can; offboarding retries its step when a problem is transient and fails otherwise.
    """
    problems = []
    table = settings.environments_table()
    created = current.get("created") or {}
    for part in (
        lambda: remove_routing(name, created),
        lambda: remove_network(name, current),
        lambda: routing.release_slot(table, name, created.get("slot")),
    ):
        try:
            part()
        except StepError as error:
            problems.append(error)
        except (ClientError, BotoCoreError) as error:
            problems.append(classify(error))
        except aws_clients.MemberAccountUnavailable as error:
            problems.append(MemberAccountUnavailable(str(error)))
    return problems
