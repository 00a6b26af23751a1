"""The environment's web server as ALB targets: endpoint IPs (from the API, not DNS) in an IP
target group (HTTPS 443, a health check on its Airflow version's path that accepts MWAA's 302)."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws_clients

from . import settings, tags
from .errors import AwsCallFailed, EnvironmentUnavailable, aws_call, error_code

HEALTHY_CODES = "200,302"  # MWAA's web server answers an unauthenticated check with a redirect


def endpoint_ips(
    environment: dict[str, Any], vpc_id: str, where: aws_clients.Location | None = None
) -> list[str]:
    """Private IPs of the web server's VPC endpoint: service → endpoint → network interfaces,
    read where the environment lives (its account's VPC)."""
    service = environment.get("WebserverVpcEndpointService")
    if not service:
        raise EnvironmentUnavailable(
            f"environment {environment.get('Name')} has no web server VPC endpoint service"
        )
    ec2 = (where or aws_clients.Location()).ec2()
    with aws_call("ec2:DescribeVpcEndpoints"):
        endpoints = ec2.describe_vpc_endpoints(
            Filters=[
                {"Name": "service-name", "Values": [service]},
                {"Name": "vpc-id", "Values": [vpc_id]},
            ]
        )["VpcEndpoints"]
    interface_ids = [
        eni
        for endpoint in endpoints
        if endpoint.get("State", "available").lower() not in ("deleted", "deleting", "failed")
        for eni in endpoint.get("NetworkInterfaceIds", [])
    ]
    if not interface_ids:
        raise EnvironmentUnavailable(
            f"no VPC endpoint for {service} in {vpc_id}: the web server cannot be reached"
        )
    with aws_call("ec2:DescribeNetworkInterfaces"):
        interfaces = ec2.describe_network_interfaces(NetworkInterfaceIds=interface_ids)[
            "NetworkInterfaces"
        ]
    return sorted({eni["PrivateIpAddress"] for eni in interfaces}, key=ipaddress.ip_address)


def target_group_name(environment: str) -> str:
    """Deterministic and within ELBv2's 32 characters: `mwaa-gate-` + 22 hex digits."""
    digest = hashlib.sha256(f"{settings.deployment()}/{environment}".encode()).hexdigest()
    return "mwaa-gate-" + digest[:22]


def find_target_group(environment: str) -> dict[str, Any] | None:
    elbv2 = aws_clients.elbv2()
    with aws_call("elasticloadbalancing:DescribeTargetGroups"):
        try:
            groups = elbv2.describe_target_groups(Names=[target_group_name(environment)])
        except ClientError as error:
            if error_code(error) == "TargetGroupNotFound":
                return None
            raise
    group = groups["TargetGroups"][0]
    with aws_call("elasticloadbalancing:DescribeTags"):
        described = elbv2.describe_tags(ResourceArns=[group["TargetGroupArn"]])
    if not tags.carries(described["TagDescriptions"][0].get("Tags"), environment):
        raise AwsCallFailed(
            f"target group {group['TargetGroupName']} exists but was not made for {environment}"
        )
    return group


def ensure_health_check(group: dict[str, Any], path: str) -> bool:
    """The group's health check on `path` (its Airflow version's); whether it was changed."""
    if group.get("HealthCheckPath") == path:
        return False
    with aws_call("elasticloadbalancing:ModifyTargetGroup"):
        aws_clients.elbv2().modify_target_group(
            TargetGroupArn=group["TargetGroupArn"],
            HealthCheckPath=path,
            Matcher={"HttpCode": HEALTHY_CODES},
        )
    return True


def ensure_target_group(environment: str, vpc_id: str, health_check_path: str) -> tuple[str, bool]:
    """The environment's IP target group in the ALB's VPC, its health check on
    `health_check_path`; (its ARN, whether made now)."""
    existing = find_target_group(environment)
    if existing is not None:
        ensure_health_check(existing, health_check_path)
        return existing["TargetGroupArn"], False
    with aws_call("elasticloadbalancing:CreateTargetGroup"):
        made = aws_clients.elbv2().create_target_group(
            Name=target_group_name(environment),
            Protocol="HTTPS",
            ProtocolVersion="HTTP1",
            Port=443,
            VpcId=vpc_id,
            TargetType="ip",
            HealthCheckEnabled=True,
            HealthCheckProtocol="HTTPS",
            HealthCheckPort="traffic-port",
            HealthCheckPath=health_check_path,
            Matcher={"HttpCode": HEALTHY_CODES},
            Tags=tags.key_value_list(environment),
        )
    return made["TargetGroups"][0]["TargetGroupArn"], True


def sync_targets(
    group_arn: str, ips: Iterable[str], local_cidrs: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Register exactly `ips` on 443; an IP outside the ALB's VPC (peered) goes in zone `all`.
    (registered, deregistered)."""
    elbv2 = aws_clients.elbv2()
    wanted = set(ips)
    networks = [ipaddress.ip_network(cidr) for cidr in local_cidrs]
    with aws_call("elasticloadbalancing:DescribeTargetHealth"):
        current = {
            description["Target"]["Id"]
            for description in elbv2.describe_target_health(TargetGroupArn=group_arn)[
                "TargetHealthDescriptions"
            ]
        }
    missing = sorted(wanted - current)
    if missing:
        targets = []
        for ip in missing:
            target: dict[str, Any] = {"Id": ip, "Port": 443}
            if not any(ipaddress.ip_address(ip) in network for network in networks):
                target["AvailabilityZone"] = "all"
            targets.append(target)
        with aws_call("elasticloadbalancing:RegisterTargets"):
            elbv2.register_targets(TargetGroupArn=group_arn, Targets=targets)
    stale = sorted(current - wanted)
    if stale:
        with aws_call("elasticloadbalancing:DeregisterTargets"):
            elbv2.deregister_targets(
                TargetGroupArn=group_arn, Targets=[{"Id": ip, "Port": 443} for ip in stale]
            )
    return missing, stale


def delete_target_group(group_arn: str) -> None:
    with aws_call("elasticloadbalancing:DeleteTargetGroup"):
        try:
            aws_clients.elbv2().delete_target_group(TargetGroupArn=group_arn)
        except ClientError as error:
            if error_code(error) != "TargetGroupNotFound":
                raise
