"""Fixtures of the authX tests: the ALB key service and signing key, authX's configuration,
a recorder of every AWS call authX makes, and devstack AWS with an onboarded MWAA environment."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from authx_support import (
    ENV,
    ENVIRONMENTS_TABLE,
    GRANTS_TABLE,
    RBAC_ROLE_ARNS,
    REGION,
    AwsCalls,
    World,
    create_mwaa_environment,
    create_token_roles,
)

import devstack
from authx import aws, environments, keys
from devstack.alb import ALB_ARN, KeyServer, SigningKey
from devstack.landscape import create_tables


@pytest.fixture(scope="session")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _session_signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def signing_key(key_server: KeyServer, _session_signing_key: SigningKey) -> SigningKey:
    """The ALB's current key, published on the key server; the fetch log starts empty."""
    key_server.publish(_session_signing_key)
    key_server.fetches.clear()
    return _session_signing_key


@pytest.fixture
def aws_calls() -> AwsCalls:
    """authX's AWS session starts fresh, with a recorder of every API call made on it."""
    aws.reset()
    recorder = AwsCalls()
    aws.session().register("before-parameter-build", recorder)
    return recorder


@pytest.fixture(autouse=True)
def authx_environment(
    monkeypatch: pytest.MonkeyPatch, key_server: KeyServer, aws_calls: AwsCalls
) -> None:
    """authX configured as DESIGN §5 says, against the local key server; its caches emptied."""
    monkeypatch.setenv("GRANTS_TABLE", GRANTS_TABLE)
    monkeypatch.setenv("ENVIRONMENTS_TABLE", ENVIRONMENTS_TABLE)
    monkeypatch.setenv("ALB_ARNS", f"{ALB_ARN}, arn:aws:elasticloadbalancing:eu-west-1:1:x")
    monkeypatch.setenv("ALB_PUBLIC_KEY_URL", key_server.url)
    monkeypatch.setenv("RBAC_ROLE_ARNS", json.dumps(RBAC_ROLE_ARNS))
    for name in (
        "USER_CLAIM",
        "GROUPS_CLAIM",
        "IDP_LOGOUT_URL",
        "ALB_COOKIE_NAME",
        "AIRFLOW_PATHS",
    ):
        monkeypatch.delenv(name, raising=False)
    keys.clear()
    environments.clear()


@pytest.fixture(scope="module")
def _module_world() -> Iterator[World]:
    """devstack AWS for a whole test module: tables and one AVAILABLE MWAA environment (ENV).

    Made once per module (EC2 and MWAA set-up is the slow part); `world` wipes the per-test
    state before each test.
    """
    with devstack.aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(dynamodb, ENVIRONMENTS_TABLE, GRANTS_TABLE)
        create_token_roles(boto3.client("iam", region_name=REGION))
        host = create_mwaa_environment(ENV)
        yield World(
            dynamodb=dynamodb, mwaa=boto3.client("mwaa", region_name=REGION), login_host=host
        )


@pytest.fixture
def world(_module_world: World) -> World:
    """A clean world: no grants, ENV recorded READY at its web server host, no STS sessions."""
    _module_world.reset()
    return _module_world
