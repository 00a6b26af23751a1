"""Sign-in to environments in other accounts and regions (DESIGN §4, §5): the token role of the
environment's account, formed from RBAC_ROLE_ARN_PATTERN, MWAA in the environment's region and
under its MWAA name; still three AWS calls; the session policy names exactly that environment."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
from authx_support import ENV, ENVIRONMENTS_TABLE, REGION, AwsCalls, World, login, web_token
from moto.sts.models import sts_backends

from authx import settings as authx_settings
from authx.errors import Misconfigured
from devstack import landscape
from devstack.alb import SigningKey, mint
from devstack.mwaa import mwaa_backends

MEMBER = landscape.MEMBER_ACCOUNT
DEPLOYMENT = landscape.DEPLOYMENT_NAME
PATTERN = f"arn:aws:iam::{{account}}:role/{DEPLOYMENT}-airflow-{{role}}"


@pytest.fixture(scope="module")
def member(_module_world: World) -> dict[str, Any]:
    """A member account that ran the member template, with environments in two regions: the
    private `prod` here and the public `reports` in eu-west-1."""
    account = landscape.member_account(lambda s: boto3.client(s, region_name=REGION))
    hosts = {}
    for name, region, cidr in (("prod", REGION, "10.40"), ("reports", "eu-west-1", "10.41")):
        client = landscape.in_account(lambda s, r=region: boto3.client(s, region_name=r), MEMBER)
        net = landscape.environment_network(client, cidr, region=region)
        client("mwaa").create_environment(
            Name=name,
            ExecutionRoleArn=f"arn:aws:iam::{MEMBER}:role/mwaa-execution",
            SourceBucketArn="arn:aws:s3:::dags",
            DagS3Path="dags",
            NetworkConfiguration={
                "SubnetIds": net["subnet_ids"],
                "SecurityGroupIds": [net["security_group_id"]],
            },
            WebserverAccessMode="PUBLIC_ONLY",
        )
        hosts[name] = client("mwaa").get_environment(Name=name)["Environment"]["WebserverUrl"]
    return {**account, "hosts": hosts}


@pytest.fixture
def pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RBAC_ROLE_ARN_PATTERN", PATTERN)


def onboarded(world: World, name: str, login_host: str, **where: str) -> None:
    """The record the workflow leaves for an environment elsewhere."""
    item = {
        "name": {"S": name},
        "status": {"S": "READY"},
        "mode": {"S": "attach"},
        "access_mode": {"S": "PUBLIC_ONLY"},
        "login_host": {"S": login_host},
        "version": {"N": "1"},
        **{key: {"S": value} for key, value in where.items()},
    }
    world.dynamodb.put_item(TableName=ENVIRONMENTS_TABLE, Item=item)


def member_sessions() -> list[Any]:
    return sts_backends[MEMBER]["aws"].assumed_roles


@pytest.fixture(autouse=True)
def _fresh_member_sessions() -> None:
    if MEMBER in sts_backends:
        member_sessions().clear()


def test_sign_in_to_a_member_account_environment_assumes_its_token_role(
    world: World,
    member: dict[str, Any],
    pattern: None,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
) -> None:
    host = member["hosts"]["prod"]
    onboarded(world, "prod-team", host, account_id=MEMBER, region=REGION, mwaa_name="prod")
    world.grant("user#alice@example.com", "prod-team", "Op")

    assert web_token(login(mint(signing_key), env="prod-team"), host)

    assert [operation for _, operation, _ in aws_calls.calls] == [
        "BatchGetItem",
        "AssumeRole",
        "CreateWebLoginToken",
    ]
    (sent,) = aws_calls.of("AssumeRole")
    assert sent["RoleArn"] == f"arn:aws:iam::{MEMBER}:role/{DEPLOYMENT}-airflow-Op"
    assert sent["SourceIdentity"] == "alice@example.com"
    assert json.loads(sent["Policy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Action": "airflow:CreateWebLoginToken",
            "Resource": f"arn:aws:airflow:{REGION}:{MEMBER}:role/prod/Op",
        }
    ]
    assert aws_calls.of("CreateWebLoginToken") == [{"Name": "prod"}]
    # The token came from the member account's MWAA, for the member's token role.
    (session,) = member_sessions()
    assert session.source_identity == "alice@example.com"
    web_login = mwaa_backends[MEMBER][REGION].web_logins[-1]
    assert web_login["iam_identity"] == f"assumed-role/{DEPLOYMENT}-airflow-Op/alice@example.com"
    assert web_login["role"] == "Op"


def test_sign_in_to_a_public_environment_in_another_region_calls_mwaa_there(
    world: World,
    member: dict[str, Any],
    pattern: None,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
) -> None:
    host = member["hosts"]["reports"]
    onboarded(world, "reports", host, account_id=MEMBER, region="eu-west-1")
    world.grant("user#alice@example.com", "reports", "Viewer")

    assert web_token(login(mint(signing_key), env="reports"), host)

    (sent,) = aws_calls.of("AssumeRole")
    assert json.loads(sent["Policy"])["Statement"][0]["Resource"] == (
        f"arn:aws:airflow:eu-west-1:{MEMBER}:role/reports/Viewer"
    )
    assert mwaa_backends[MEMBER]["eu-west-1"].web_logins[-1]["role"] == "Viewer"


def test_two_same_named_environments_sign_in_to_their_own_account(
    world: World,
    member: dict[str, Any],
    pattern: None,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
) -> None:
    # ENV (the service's own account) and the member's `prod`, both served as "prod-*".
    onboarded(world, "prod-main", world.login_host, mwaa_name=ENV)
    onboarded(world, "prod-team", member["hosts"]["prod"], account_id=MEMBER, mwaa_name="prod")
    world.grant("user#alice@example.com", "*", "Viewer")

    assert web_token(login(mint(signing_key), env="prod-main"), world.login_host)
    assert web_token(login(mint(signing_key), env="prod-team"), member["hosts"]["prod"])

    main, team = aws_calls.of("AssumeRole")
    assert main["RoleArn"] == f"arn:aws:iam::{landscape.SERVICE_ACCOUNT}:role/mwaa-gate-viewer"
    assert team["RoleArn"] == f"arn:aws:iam::{MEMBER}:role/{DEPLOYMENT}-airflow-Viewer"


def test_an_account_without_the_template_is_a_clear_configuration_error(
    world: World, pattern: None, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    onboarded(world, "orphan", "orphan.example.com", account_id="999988887777", region=REGION)
    world.grant("user#alice@example.com", "orphan", "Viewer")

    response = login(mint(signing_key), env="orphan")

    assert response["statusCode"] == 500
    assert "authX may not assume the IAM role for the Airflow role Viewer." in response["body"]
    assert aws_calls.of("CreateWebLoginToken") == []


def test_without_the_pattern_another_account_is_refused_without_calling_aws(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    onboarded(world, "elsewhere", "elsewhere.example.com", account_id=MEMBER)
    world.grant("user#alice@example.com", "elsewhere", "Viewer")

    response = login(mint(signing_key), env="elsewhere")

    assert response["statusCode"] == 500
    assert aws_calls.of("AssumeRole") == []


@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:iam::123456789012:role/x-{role}",  # a fixed account
        "arn:aws:iam::{account}:role/x",  # no role
        "arn:aws:iam::{account}:role/x-{role}-{other}",
        "arn:aws:iam::{account.__class__}:role/{role}",
        "arn:aws:sts::{account}:role/{role}",
        "arn:aws:iam::{account}:user/{role}",
    ],
)
def test_a_malformed_pattern_is_refused_at_configuration(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("RBAC_ROLE_ARN_PATTERN", bad)

    with pytest.raises(Misconfigured):
        authx_settings.from_environ(dict(os.environ))


def test_the_pattern_alone_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RBAC_ROLE_ARN_PATTERN", PATTERN)
    monkeypatch.delenv("RBAC_ROLE_ARNS")

    config = authx_settings.from_environ(dict(os.environ))

    assert config.rbac_role_pattern == PATTERN
    assert config.rbac_roles == {}
