"""A sample AWS landscape for tests and the demo: what a platform team already has.

- the ALB's VPC (10.0.0.0/16): two public subnets with their own route table, a security
  group, an internet-facing ALB with an HTTPS listener (ACM certificate) whose default action
  answers 404, and the OIDC client secret in Secrets Manager;
- `environment_network()`: a VPC for MWAA environments, two private subnets in two zones,
  each with its own route table, and a security group.

`stage_settings()` turns it into the stage variables the workflow steps read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REGION = "us-east-1"
BASE_DOMAIN = "airflow.example.com"
ClientFactory = Callable[[str], Any]


def build(
    client: ClientFactory, alb_cidr: str = "10.0", base_domain: str = BASE_DOMAIN
) -> dict[str, Any]:
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock=f"{alb_cidr}.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{alb_cidr}.{i}.0/24", AvailabilityZone=f"{REGION}{zone}"
        )["Subnet"]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for subnet in subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    group = ec2.create_security_group(
        GroupName="mwaa-gate-alb", Description="mwaa-gate ALB", VpcId=vpc
    )["GroupId"]
    certificate = client("acm").request_certificate(DomainName=f"*.{base_domain}")["CertificateArn"]
    balancer = elbv2.create_load_balancer(
        Name="mwaa-gate",
        Subnets=subnets,
        SecurityGroups=[group],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {
                    "StatusCode": "404",
                    "ContentType": "text/plain",
                    "MessageBody": "Not found",
                },
            }
        ],
    )["Listeners"][0]
    secret = client("secretsmanager").create_secret(
        Name="mwaa-gate/oidc-client-secret",
        SecretString='{"client_secret": "devstack-oidc-secret"}',
    )["ARN"]
    return {
        "vpc_id": vpc,
        "cidr": f"{alb_cidr}.0.0/16",
        "subnet_ids": subnets,
        "route_table_id": table,
        "security_group_id": group,
        "load_balancer_arn": balancer["LoadBalancerArn"],
        "listener_arn": listener["ListenerArn"],
        "certificate_arn": certificate,
        "oidc_secret_arn": secret,
    }


def environment_network(client: ClientFactory, cidr: str = "10.1") -> dict[str, Any]:
    """A VPC with two private subnets (own route tables) and a security group, for MWAA."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnets, tables = [], []
    for i, zone in ((1, "a"), (2, "b")):
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24", AvailabilityZone=f"{REGION}{zone}"
        )["Subnet"]["SubnetId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        subnets.append(subnet)
        tables.append(table)
    group = ec2.create_security_group(GroupName="mwaa", Description="MWAA environment", VpcId=vpc)[
        "GroupId"
    ]
    return {
        "vpc_id": vpc,
        "cidr": f"{cidr}.0.0/16",
        "subnet_ids": subnets,
        "route_table_ids": tables,
        "security_group_id": group,
    }


def alb_network(landscape: dict[str, Any], client: ClientFactory) -> dict[str, Any]:
    """Private subnets for MWAA inside the ALB's own VPC (no peering needed)."""
    ec2 = client("ec2")
    prefix = landscape["cidr"].rsplit(".", 2)[0]
    subnets = [
        ec2.create_subnet(
            VpcId=landscape["vpc_id"],
            CidrBlock=f"{prefix}.{i}.0/24",
            AvailabilityZone=f"{REGION}{zone}",
        )["Subnet"]["SubnetId"]
        for i, zone in ((11, "a"), (12, "b"))
    ]
    group = ec2.create_security_group(
        GroupName="mwaa-in-alb-vpc", Description="MWAA", VpcId=landscape["vpc_id"]
    )["GroupId"]
    return {
        "vpc_id": landscape["vpc_id"],
        "cidr": landscape["cidr"],
        "subnet_ids": subnets,
        "route_table_ids": [],
        "security_group_id": group,
    }


def stage_settings(landscape: dict[str, Any], base_domain: str = BASE_DOMAIN) -> dict[str, str]:
    """The workflow's stage variables for this landscape (OIDC endpoints are placeholders)."""
    idp = "https://idp.example.com/oauth2"
    return {
        "ALB_LISTENER_ARN": landscape["listener_arn"],
        "BASE_DOMAIN": base_domain,
        "DEPLOYMENT_NAME": "mwaa-gate-local",
        "OIDC_ISSUER": "https://idp.example.com",
        "OIDC_AUTHORIZATION_ENDPOINT": f"{idp}/authorize",
        "OIDC_TOKEN_ENDPOINT": f"{idp}/token",
        "OIDC_USER_INFO_ENDPOINT": f"{idp}/userinfo",
        "OIDC_CLIENT_ID": "mwaa-gate",
        "OIDC_CLIENT_SECRET_ARN": landscape["oidc_secret_arn"],
    }


def local_stage(settings: dict[str, str] | None = None) -> Any:
    """The `local` stage's platform configuration, as `chalice deploy` and the landscape would
    make it: its step Lambdas at the ARNs devstack runs in process, plus `settings`."""
    from dataclasses import replace

    from chalicelib import state_machines
    from chalicelib.platform import config as stage_config

    stage = stage_config.load(stage_config.PROJECT_ROOT, "local", need_deployed=False)
    functions = set().union(*(state_machines.placeholders(n) for n in state_machines.NAMES))
    return replace(
        stage,
        variables={**stage.variables, **(settings or {})},
        function_arns=state_machines.local_function_arns(functions),
    )


def create_tables(dynamodb: Any, environments: str, grants: str) -> None:
    """The two tables (grants with TTL), made as platform setup makes them."""
    from chalicelib.platform import tables
    from chalicelib.platform.config import StageConfig
    from chalicelib.platform.report import Report

    stage = StageConfig(
        stage="local",
        app_name="mwaa-gate",
        variables={
            "ENVIRONMENTS_TABLE": environments,
            "GRANTS_TABLE": grants,
            "DEPLOYMENT_NAME": "mwaa-gate-local",
        },
        function_arns={},
    )
    tables.ensure(dynamodb, Report(echo=None), stage)


def install_workflows(client: ClientFactory) -> None:
    """The local stage's tables and its real state machines, made by platform setup's own
    parts (placeholders → the step Lambdas devstack runs in process)."""
    from chalicelib.platform import tables, workflows
    from chalicelib.platform.report import Report

    stage, report = local_stage(), Report(echo=None)
    tables.ensure(client("dynamodb"), report, stage)
    workflows.ensure(
        client("stepfunctions"),
        report,
        stage,
        "arn:aws:iam::123456789012:role/mwaa-gate-states",
        propagation_delay=0,
    )
