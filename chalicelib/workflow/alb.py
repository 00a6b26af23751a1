"""The load balancer behind the stage's listener: its VPC, subnets, security groups, quotas."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from chalicelib import aws_clients

from .errors import ConfigurationError, aws_call

RULES_QUOTA = "rules-per-application-load-balancer"
DEFAULT_RULES_QUOTA = 100


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


@functools.lru_cache(maxsize=8)
def behind(listener_arn: str) -> LoadBalancer:
    """The ALB a listener belongs to (cached: an ALB does not move between VPCs)."""
    elbv2 = aws_clients.elbv2()
    with aws_call("elasticloadbalancing:DescribeListeners"):
        listeners = elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"]
    if not listeners:
        raise ConfigurationError(f"ALB_LISTENER_ARN {listener_arn} does not exist")
    with aws_call("elasticloadbalancing:DescribeLoadBalancers"):
        balancer = elbv2.describe_load_balancers(
            LoadBalancerArns=[listeners[0]["LoadBalancerArn"]]
        )["LoadBalancers"][0]
    if not balancer.get("SecurityGroups"):
        raise ConfigurationError("the ALB has no security group to allow into MWAA")
    return LoadBalancer(
        arn=balancer["LoadBalancerArn"],
        vpc_id=balancer["VpcId"],
        subnet_ids=tuple(zone["SubnetId"] for zone in balancer["AvailabilityZones"]),
        security_group_ids=tuple(balancer["SecurityGroups"]),
    )


def rules_quota() -> int:
    with aws_call("elasticloadbalancing:DescribeAccountLimits"):
        limits = aws_clients.elbv2().describe_account_limits()["Limits"]
    for limit in limits:
        if limit.get("Name") == RULES_QUOTA:
            return int(limit["Max"])
    return DEFAULT_RULES_QUOTA


def rules(listener_arn: str) -> list[dict]:
    """The listener's rules, every page, without the default rule."""
    elbv2 = aws_clients.elbv2()
    found: list[dict] = []
    marker = None
    while True:
        kwargs = {"ListenerArn": listener_arn, "PageSize": 400}
        if marker:
            kwargs["Marker"] = marker
        with aws_call("elasticloadbalancing:DescribeRules"):
            page = elbv2.describe_rules(**kwargs)
        found.extend(rule for rule in page["Rules"] if not rule.get("IsDefault"))
        marker = page.get("NextMarker")
        if not marker:
            return found
