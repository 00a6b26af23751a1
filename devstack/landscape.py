"""A sample AWS landscape for tests and the demo: what a platform team already has.

- the ALB's VPC (10.0.0.0/16): two public subnets with their own route table, a security
  group, an internet-facing ALB with an HTTPS listener (ACM certificate) whose default action
  answers 404, and the OIDC client secret in Secrets Manager;
- `environment_network()`: a VPC for MWAA environments, two private subnets in two zones,
  each with its own route table, and a security group;
- `member_account()`: another account of the organisation (moto keeps one world per account)
  that has run the member template — deployed from `templates/member-account.yaml` itself by
  CloudFormation — with a VPC for its environments; `in_account()` gives clients that act as
  that account's administrator.

`stage_settings()` turns it into the stage variables the workflow steps read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

REGION = "us-east-1"
BASE_DOMAIN = "airflow.example.com"
SERVICE_ACCOUNT = "123456789012"  # moto's default account: where mwaa-gate runs
MEMBER_ACCOUNT = "111122223333"
DEPLOYMENT_NAME = "mwaa-gate-local"
MEMBER_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "member-account.yaml"
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


def environment_network(
    client: ClientFactory, cidr: str = "10.1", region: str = REGION
) -> dict[str, Any]:
    """A VPC with two private subnets (own route tables) and a security group, for MWAA."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnets, tables = [], []
    for i, zone in ((1, "a"), (2, "b")):
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24", AvailabilityZone=f"{region}{zone}"
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


def _act_as(account_id: str, request: Any, **_: Any) -> None:
    request.headers["x-moto-account-id"] = account_id


def in_account(client: ClientFactory, account_id: str) -> ClientFactory:
    """Clients of `client` (which must make a new client per call) acting as an administrator
    of `account_id`: moto's `x-moto-account-id` header, in process and in its server alike."""

    def make(service: str) -> Any:
        made = client(service)
        made.meta.events.register("before-sign", functools.partial(_act_as, account_id))
        return made

    return make


def deploy_member_template(
    client: ClientFactory,
    service_account: str = SERVICE_ACCOUNT,
    deployment: str = DEPLOYMENT_NAME,
    stack_name: str = "mwaa-gate-member",
) -> dict[str, str]:
    """Run the member template, the file the project ships, as a CloudFormation stack of the
    account `client` acts in (use `in_account`); its outputs."""
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=MEMBER_TEMPLATE.read_text(),
        Parameters=[
            {"ParameterKey": "ServiceAccountId", "ParameterValue": service_account},
            {"ParameterKey": "DeploymentName", "ParameterValue": deployment},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"the member template stack is {stack['StackStatus']}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def member_account(
    client: ClientFactory,
    account_id: str = MEMBER_ACCOUNT,
    cidr: str = "10.20",
    *,
    template: bool = True,
    deployment: str = DEPLOYMENT_NAME,
) -> dict[str, Any]:
    """A member account: the member template run there (unless `template=False`, an account
    that has not onboarded) and a VPC for its MWAA environments; `client` makes clients of the
    service's account, this acts in `account_id`."""
    member = in_account(client, account_id)
    outputs = deploy_member_template(member, deployment=deployment) if template else {}
    return {
        "account_id": account_id,
        "client": member,
        "template_outputs": outputs,
        **environment_network(member, cidr),
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
        "DEPLOYMENT_NAME": DEPLOYMENT_NAME,
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
