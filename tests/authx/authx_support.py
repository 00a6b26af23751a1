"""Helpers of the authX tests: the AWS world they run in, ALB events, and reading responses."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto.sts.models import sts_backends

from authx.handler import lambda_handler
from devstack.alb import alb_event

REGION = "us-east-1"
ACCOUNT = "123456789012"
GRANTS_TABLE = "authx-test-grants"
ENVIRONMENTS_TABLE = "authx-test-environments"
ENV = "Env1"
LOGIN_PATH = "/aws_mwaa/aws-console-sso"
RBAC_ROLE_ARNS = {
    role: f"arn:aws:iam::{ACCOUNT}:role/mwaa-gate-{role.lower()}"
    for role in ("Admin", "Op", "User", "Viewer", "Public")
}


def create_token_roles(iam: Any) -> None:
    """The IAM roles of RBAC_ROLE_ARNS (STS refuses to assume a role that does not exist)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            }
        ],
    }
    for arn in RBAC_ROLE_ARNS.values():
        iam.create_role(RoleName=arn.rsplit("/", 1)[1], AssumeRolePolicyDocument=json.dumps(trust))


@dataclass
class AwsCalls:
    """Every AWS API call authX makes, as (service, operation, params), in order."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        self.calls.append((model.service_model.service_name, model.name, params))

    def services(self) -> list[str]:
        return [service for service, _, _ in self.calls]

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for _, name, params in self.calls if name == operation]


@dataclass
class World:
    """devstack AWS with the tables and one AVAILABLE MWAA environment, ENV, onboarded READY."""

    dynamodb: Any
    mwaa: Any
    login_host: str

    def reset(self) -> None:
        for table, key in (
            (GRANTS_TABLE, ("principal", "environment")),
            (ENVIRONMENTS_TABLE, ("name",)),
        ):
            for item in self.dynamodb.scan(TableName=table)["Items"]:
                self.dynamodb.delete_item(TableName=table, Key={k: item[k] for k in key})
        self.environment(ENV, login_host=self.login_host)
        sts_backends[ACCOUNT]["aws"].assumed_roles.clear()

    def grant(
        self, principal: str, environment: str, role: str, expires_at: float | None = None
    ) -> None:
        item = {
            "principal": {"S": principal},
            "environment": {"S": environment},
            "rbac_role": {"S": role},
            "created_at": {"S": "2025-01-01T00:00:00Z"},
            "created_by": {"S": f"arn:aws:iam::{ACCOUNT}:user/admin"},
        }
        if expires_at is not None:
            item["expires_at"] = {"N": str(int(expires_at))}
        self.dynamodb.put_item(TableName=GRANTS_TABLE, Item=item)

    def environment(self, name: str, status: str = "READY", login_host: str | None = None) -> None:
        self.dynamodb.put_item(
            TableName=ENVIRONMENTS_TABLE,
            Item={
                "name": {"S": name},
                "status": {"S": status},
                "mode": {"S": "attach"},
                "access_mode": {"S": "PUBLIC_ONLY"},
                "login_host": {"S": login_host or f"{name.lower()}.mwaa.example.com"},
                "version": {"N": "1"},
            },
        )


def create_mwaa_environment(name: str) -> str:
    """An AVAILABLE MWAA environment made through plain boto3; returns its web server host."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.20.1.0/24", "us-east-1a"), ("10.20.2.0/24", "us-east-1b"))
    ]
    group = ec2.create_security_group(GroupName=f"{name}-sg", Description="mwaa", VpcId=vpc)
    mwaa = boto3.client("mwaa", region_name=REGION)
    mwaa.create_environment(
        Name=name,
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
        SourceBucketArn="arn:aws:s3:::b",
        DagS3Path="dags",
        NetworkConfiguration={"SubnetIds": subnets, "SecurityGroupIds": [group["GroupId"]]},
        WebserverAccessMode="PUBLIC_ONLY",
    )
    deadline = time.monotonic() + 10
    while True:
        environment = mwaa.get_environment(Name=name)["Environment"]
        if environment["Status"] == "AVAILABLE":
            return environment["WebserverUrl"]
        assert time.monotonic() < deadline, f"MWAA environment stuck in {environment['Status']}"
        time.sleep(0.05)


def login(
    token: str | None,
    env: str | None = ENV,
    role: str | None = None,
    headers: dict[str, str | list[str]] | None = None,
) -> dict[str, Any]:
    """Call the handler as the ALB would for a login; returns the ALB response dictionary."""
    query: dict[str, str | list[str]] = {}
    if env is not None:
        query["mwaa_env"] = env
    if role is not None:
        query["rbac_role"] = role
    all_headers: dict[str, str | list[str]] = dict(headers or {})
    if token is not None:
        all_headers["x-amzn-oidc-data"] = token
    return lambda_handler(alb_event(query=query, headers=all_headers), None)


def header(response: dict[str, Any], name: str) -> str | None:
    """The one value of a response header (None when absent); fails if it is repeated."""
    values = response["multiValueHeaders"].get(name)
    assert values is None or len(values) == 1, f"{name} given {len(values)} times"
    return values[0] if values else None


def web_token(response: dict[str, Any], login_host: str) -> str:
    """The web token of a successful login redirect (checks the redirect's shape)."""
    assert response["statusCode"] == 302, response["body"]
    location = header(response, "Location")
    assert location is not None
    prefix = f"https://{login_host}{LOGIN_PATH}?login=true#"
    assert location.startswith(prefix), location
    token = location[len(prefix) :]
    assert token
    return token


def mwaa_answers(status: int, code: str, message: str = "refused"):
    """A before-call handler making MWAA's CreateWebLoginToken answer with an AWS error."""

    def answer(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        http = AWSResponse("https://airflow.example", status, {}, None)
        return http, {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    return answer
