"""Fixtures that run the same test against devstack in process and through its server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

import devstack

SAMPLE_PROJECT = Path(__file__).parent / "sample_project"
REGION = "us-east-1"
ACCOUNT = "123456789012"
DELAY_VARIABLES = (
    "DEVSTACK_MWAA_CREATE_SECONDS",
    "DEVSTACK_MWAA_UPDATE_SECONDS",
    "DEVSTACK_MWAA_DELETE_SECONDS",
)


@dataclass
class Stack:
    """One embedded AWS under test: clients that reach it, whichever way it runs."""

    mode: str
    url: str | None = None

    def client(self, service: str, *, validate: bool = True, **kwargs: Any) -> Any:
        config = Config(parameter_validation=validate, retries={"max_attempts": 1})
        if self.url:
            config = config.merge(Config(inject_host_prefix=False))
            kwargs.setdefault("endpoint_url", self.url)
        return boto3.client(service, region_name=REGION, config=config, **kwargs)

    def network(self, cidr: str = "10.20") -> dict[str, Any]:
        """A VPC with two subnets in two zones and a security group."""
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24", AvailabilityZone=f"{REGION}{zone}"
            )["Subnet"]
            for i, zone in ((1, "a"), (2, "b"), (3, "c"))
        ]
        group = ec2.create_security_group(GroupName="mwaa", Description="mwaa", VpcId=vpc)
        return {
            "vpc": vpc,
            "subnets": [s["SubnetId"] for s in subnets[:2]],
            "spare_subnet": subnets[2]["SubnetId"],
            "cidrs": {s["SubnetId"]: s["CidrBlock"] for s in subnets},
            "security_group": group["GroupId"],
        }


def create_params(name: str, network: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    params = {
        "Name": name,
        "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/mwaa-execution",
        "SourceBucketArn": "arn:aws:s3:::dags-bucket",
        "DagS3Path": "dags",
        "NetworkConfiguration": {
            "SubnetIds": network["subnets"],
            "SecurityGroupIds": [network["security_group"]],
        },
        "WebserverAccessMode": "PRIVATE_ONLY",
    }
    params.update(overrides)
    return params


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, devstack.Server]]:
    """Servers started for this session, one per delay setting; stopped at the end."""
    started: dict[str, devstack.Server] = {}
    yield started
    for server in started.values():
        server.stop()


def _stack(
    mode: str, delay: str, servers: dict[str, devstack.Server], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stack]:
    if mode == "server":
        if delay not in servers:
            env = dict.fromkeys(DELAY_VARIABLES, delay)
            servers[delay] = devstack.server(project_dir=SAMPLE_PROJECT, env=env)
        server = servers[delay]
        requests.post(f"{server.url}/moto-api/reset", timeout=10).raise_for_status()
        yield Stack(mode, server.url)
        assert "AWS_ENDPOINT_URL" not in os.environ
        return
    for variable in DELAY_VARIABLES:
        monkeypatch.setenv(variable, delay)
    with devstack.aws(project_dir=SAMPLE_PROJECT):
        yield Stack(mode)


@pytest.fixture(params=["in-process", "server"])
def stack(
    request: pytest.FixtureRequest,
    servers: dict[str, devstack.Server],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    """devstack with instant MWAA transitions."""
    yield from _stack(request.param, "0", servers, monkeypatch)


@pytest.fixture(params=["in-process", "server"])
def slow_stack(
    request: pytest.FixtureRequest,
    servers: dict[str, devstack.Server],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    """devstack whose MWAA creations, updates and deletions take one second."""
    yield from _stack(request.param, "1", servers, monkeypatch)
