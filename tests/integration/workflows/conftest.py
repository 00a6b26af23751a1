"""End-to-end workflow fixtures: the real ASL on devstack, started through the admin API.

The app runs under `chalice.test.Client` (stage `local`); the state machines are the real
definitions of statemachines/ with their placeholders filled with the step Lambdas' ARNs, which
devstack runs in process with the local stage's settings plus the landscape's (listener, OIDC).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import BotoCoreError

os.environ.setdefault("API_AUTHORIZER", "none")  # as the local stage; app.py reads it at import

from chalice.test import Client

import devstack
from app import app
from chalicelib import aws_clients
from chalicelib.records import ddb
from devstack import landscape

PROJECT_DIR = Path(__file__).resolve().parents[3]
LOCAL = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["local"]
LOCAL_ENV = LOCAL["environment_variables"]
TABLE = LOCAL_ENV["ENVIRONMENTS_TABLE"]
TAG = "mwaa-gate:environment"
TERMINAL = ("READY", "FAILED", "OFFBOARDED")


def aws(service: str) -> Any:
    return boto3.client(service, region_name=landscape.REGION)


class World:
    """One embedded AWS with the platform in place; helpers that act like an admin would."""

    def __init__(self, stack: devstack.aws, client: Client, alb: dict[str, Any]):
        self.stack = stack
        self.client = client
        self.alb = alb
        self._hooks: list[tuple[Any, Any]] = []
        self.calls: list[str] = []

    # --- admin actions -----------------------------------------------------------------

    # The test client swaps os.environ around each request; in-process Lambdas must not run
    # meanwhile (in AWS the API and each Lambda are processes of their own).

    def onboard(self, name: str, mode: str = "attach", **body: Any) -> Any:
        with devstack.exclusive_environment():
            return self.client.http.post(
                "/environments",
                headers={"Content-Type": "application/json"},
                body=json.dumps({"name": name, "mode": mode, **body}).encode(),
            )

    def offboard(self, name: str, delete_environment: bool = False) -> Any:
        query = "?delete_environment=true" if delete_environment else ""
        with devstack.exclusive_environment():
            return self.client.http.delete(f"/environments/{name}{query}")

    def get(self, path: str) -> Any:
        with devstack.exclusive_environment():
            return self.client.http.get(path)

    def record(self, name: str) -> dict[str, Any]:
        # moto serialises an item while a workflow thread may be writing it (AWS reads are
        # atomic; moto's dict copy is not): read again when that race shows.
        for _ in range(5):
            try:
                item = aws("dynamodb").get_item(
                    TableName=TABLE, Key={"name": {"S": name}}, ConsistentRead=True
                )
                return ddb.deserialize(item.get("Item")) or {}
            except RuntimeError:
                time.sleep(0.05)
        raise AssertionError(f"could not read the record of {name}")

    def wait(self, name: str, until: tuple[str, ...] = TERMINAL, timeout: float = 90) -> dict:
        """The record once its status is one of `until` and its execution has stopped."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.record(name)
            if current.get("status") in until and self.execution(current)["status"] != "RUNNING":
                return current
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name} stuck: {current.get('status')}, {current.get('error')}"
                )
            time.sleep(0.1)

    def execution(self, current: dict[str, Any]) -> dict[str, Any]:
        return aws("stepfunctions").describe_execution(executionArn=current["execution_arn"])

    def history(self, current: dict[str, Any]) -> list[dict[str, Any]]:
        return aws("stepfunctions").get_execution_history(
            executionArn=current["execution_arn"], maxResults=1000
        )["events"]

    # --- landscape -----------------------------------------------------------------------

    def network(self, cidr: str = "10.1") -> dict[str, Any]:
        return landscape.environment_network(aws, cidr)

    def network_in_alb_vpc(self) -> dict[str, Any]:
        return landscape.alb_network(self.alb, aws)

    def existing_environment(self, name: str, net: dict[str, Any], **params: Any) -> dict:
        """An MWAA environment the platform team already runs (to attach)."""
        aws("mwaa").create_environment(**create_parameters(net, Name=name, **params))
        return aws("mwaa").get_environment(Name=name)["Environment"]

    def tagged(self, name: str) -> dict[str, list[Any]]:
        """Everything in AWS that carries this environment's tag (live resources only)."""
        ec2, elbv2 = aws("ec2"), aws("elbv2")
        flt = [{"Name": f"tag:{TAG}", "Values": [name]}]
        peerings = [
            p["VpcPeeringConnectionId"]
            for p in ec2.describe_vpc_peering_connections(Filters=flt)["VpcPeeringConnections"]
            if p["Status"]["Code"] not in ("deleted", "rejected", "failed")
        ]
        rules = [
            r["SecurityGroupRuleId"]
            for r in ec2.describe_security_group_rules(Filters=flt)["SecurityGroupRules"]
        ]
        arns = [g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]]
        arns += [
            r["RuleArn"]
            for r in elbv2.describe_rules(ListenerArn=self.alb["listener_arn"])["Rules"]
            if not r["IsDefault"]
        ]
        tagged_elb = []
        for start in range(0, len(arns), 20):
            for d in elbv2.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]:
                if any(t["Key"] == TAG and t["Value"] == name for t in d["Tags"]):
                    tagged_elb.append(d["ResourceArn"])
        environments = [
            n
            for n in aws("mwaa").list_environments()["Environments"]
            if aws("mwaa").get_environment(Name=n)["Environment"]["Tags"].get(TAG) == name
        ]
        return {
            "peerings": peerings,
            "security_group_rules": rules,
            "elb": tagged_elb,
            "mwaa": environments,
        }

    # --- faults --------------------------------------------------------------------------

    def fail(
        self,
        service: str,
        operation: str,
        code: str,
        times: int | None = None,
        after: int = 0,
        matching: bytes | None = None,
        raising: type[BotoCoreError] | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> None:
        """Make the app's `service` client answer `operation` with `code` (every call, or
        the first `times`; only calls whose request holds `matching`, when given), or raise
        the botocore error `raising` as a timeout or a lost connection does; with
        `account_id`/`region`, its client for that place (the member role's in another
        account)."""
        if account_id or region:
            client = aws_clients.client_in(service, account_id, region)
        else:
            client = getattr(aws_clients, service)()
        remaining = [times]
        passed = [after]  # calls to let through first
        lock = threading.Lock()
        status = 400 if "Throttl" in code or "Throughput" in code else 403

        def answer(model: Any, params: Any = None, **_: Any) -> Any:
            if model.name != operation:
                return None
            if matching is not None and matching not in _body(params):
                return None
            with lock:
                if passed[0] > 0:
                    passed[0] -= 1
                    return None
                if remaining[0] is not None:
                    if remaining[0] <= 0:
                        return None
                    remaining[0] -= 1
            self.calls.append(f"{service}:{operation}:{raising.__name__ if raising else code}")
            if raising is not None:
                raise raising(endpoint_url=f"https://{service}.fault.invalid", error="injected")
            response = AWSResponse("https://fault.invalid", status, {}, None)
            parsed = {
                "Error": {"Code": code, "Message": f"injected {code} for {operation}"},
                "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "fault"},
            }
            return response, parsed

        client.meta.events.register("before-call", answer)
        self._hooks.append((client, answer))

    def clear_faults(self) -> None:
        for client, answer in self._hooks:
            client.meta.events.unregister("before-call", answer)
        self._hooks.clear()


def _body(params: Any) -> bytes:
    body = (params or {}).get("body") or b""
    if isinstance(body, dict):  # query protocols (EC2, ELBv2) keep the fields as a dict
        return json.dumps(body).encode()
    return body if isinstance(body, bytes) else str(body).encode()


def create_parameters(net: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    params = {
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/mwaa-execution",
        "SourceBucketArn": "arn:aws:s3:::dags-bucket",
        "DagS3Path": "dags",
        "NetworkConfiguration": {
            "SubnetIds": net["subnet_ids"],
            "SecurityGroupIds": [net["security_group_id"]],
        },
        "WebserverAccessMode": "PRIVATE_ONLY",
    }
    params.update(overrides)
    return params


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # Member-role clients are per embedded AWS (its credentials); named as the stage names them.
    aws_clients.forget_member_clients()
    monkeypatch.setenv("DEPLOYMENT_NAME", landscape.DEPLOYMENT_NAME)
    with devstack.aws() as stack:
        landscape.install_workflows(aws)
        alb = landscape.build(aws)
        stack.project.extra_env.update(landscape.stage_settings(alb))
        original = os.environ
        with Client(app, stage_name="local", project_dir=str(PROJECT_DIR)) as client:
            current = World(stack, client, alb)
            try:
                yield current
            finally:
                current.clear_faults()
                aws_clients.forget_member_clients()
        os.environ = original  # noqa: B003 - the test client swaps os.environ; put ours back
